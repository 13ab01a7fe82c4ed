#pragma once
// One stage of a split detector: a model that turns named host tensors into named host tensors.
// Stage1 runs on the accelerator (Hailo) or, for testing on any host, in ONNX Runtime; stage2 and
// the unsplit model run in ONNX Runtime on the CPU.
//
// Memory contract (what makes the two-stage pipeline copy-free):
//   - the caller owns every buffer: inputs are read in place, outputs are written in place into
//     tensors made once by allocate_outputs() and reused frame after frame;
//   - a stage may remember the buffers it saw (ONNX Runtime keeps one IoBinding per buffer set),
//     so the same buffers cost nothing to bind again; double-buffered callers simply alternate
//     between two sets;
//   - stage2 reads stage1's output tensors directly: no copy between stages.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/ort/host_tensor.h"

namespace onnx {
class ModelProto;
}

namespace npusplit {

// Time spent in the last run(): all of it, and the part inside the runtime's own inference call
// (Ort::Session::Run / ConfiguredInferModel::run). total - inner is the stage's own overhead:
// binding, checks, layout conversion.
struct StageTiming {
  double total_ms = 0;
  double inner_ms = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  Stage() = default;
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  // Static shapes (dynamic dims are fixed when the stage is made).
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;
  virtual std::string backend() const = 0;        // "onnxruntime-cpu", "hailort"
  virtual std::string description() const = 0;    // e.g. the model file

  // Runs one frame. IN holds one tensor per inputs() (same order, name, dtype and shape), OUT one
  // per outputs() (use allocate_outputs()). Neither is copied. Throws npusplit::Error on any
  // mismatch or runtime failure. Not re-entrant: one run() at a time per stage.
  virtual void run(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) = 0;

  const StageTiming& last_timing() const { return timing_; }
  // Subgraphs replaced by npusplit's fused host operators when the stage was loaded
  // (StageOptions::fuse_host_ops).
  virtual int fused_host_ops() const { return 0; }

  // Output tensors of the right specs, zero-filled.
  std::vector<HostTensor> allocate_outputs() const;
  std::vector<HostTensor> allocate_inputs() const;
  // Convenience: run on owned inputs and return fresh outputs (allocates; for tests and tools).
  std::vector<HostTensor> run_copy(const std::vector<HostTensor>& in);

 protected:
  // Checks IN/OUT against inputs()/outputs(); the first mismatch becomes a one-line Error.
  void check_io(const std::vector<const HostTensor*>& in, const std::vector<HostTensor>& out) const;
  StageTiming timing_;
};

struct StageOptions {
  int intra_threads = 0;          // 0 = ONNX Runtime's default (one per core)
  int inter_threads = 1;
  // 0 disable, 1 basic, 2 extended, 99 all (the values of GraphOptimizationLevel).
  int graph_optimization = 99;
  // Whether idle ONNX Runtime worker threads spin. Spinning lowers latency when the stage owns
  // the cores; turn it off when two stages run at once (pipelined) and share them.
  bool allow_spinning = true;
  // With spinning on: stop it as soon as run() returns (ORT's session.force_spinning_stop), so a
  // stage's idle pool does not spin through the other stage's turn in a sequential split.
  bool stop_spinning_after_run = false;
  // Replace the exported deformable-attention subgraphs by npusplit's fused operator
  // (host/fuse_msda.h) before ONNX Runtime sees the model: what `run`/`bench` do for stage2.
  bool fuse_host_ops = false;
  // Shapes for dynamic inputs (NAME -> dims); a dynamic batch defaults to 1.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Applied to the loaded model before ONNX Runtime sees it (e.g. prepend_pixel_normalization).
  std::function<void(onnx::ModelProto&)> edit_model;
};

// ONNX Runtime on the CPU. Loading errors (missing, corrupt, unsupported model) are one-line
// npusplit::Error. Output shapes are taken from the model, or, where the model leaves them
// dynamic, from one probe run on zero inputs at load time.
std::unique_ptr<Stage> make_ort_stage(const std::filesystem::path& model, const StageOptions& o = {});

// Formats "float [1,3,640,640]".
std::string spec_str(const TensorSpec& s);
bool same_spec(const TensorSpec& a, const TensorSpec& b);  // name, dtype and dims

#ifdef NPUSPLIT_WITH_HAILORT
struct HailoStageOptions {
  // What stage2 expects from stage1 (the ONNX stage1's outputs, or stage2's inputs): names,
  // dtype float and NCHW dims. HEF outputs are matched to these by OUTPUT_MAP, then by name
  // (exact, or the part after the last '/'), then by a unique shape; the stage reports its outputs
  // under these names, in this order, in NCHW (rank-4 outputs are transposed from HailoRT's NHWC).
  std::vector<TensorSpec> expected_outputs;
  std::map<std::string, std::string> output_map;  // HEF output name -> expected output name
  // The ONNX name and NCHW dims of the image input (dims empty: taken from the HEF).
  std::string input_name = "images";
  // Multiplies the float input before HailoRT quantizes it: 1 when the HEF was calibrated on the
  // same [0,1] floats the ONNX stage1 takes; 255 when normalisation was compiled into the HEF.
  float input_scale = 1.0f;
  // The HEF takes uint8 NHWC pixels (its model script has the normalization layer): the stage's
  // input is then uint8 [1,H,W,3]; wrap it in make_pixel_fed_stage() (runtime/hef_io.h).
  bool input_uint8 = false;
  // HEF output -> crossing tensor by HailoRT's original names (map_hef_outputs() in
  // runtime/hef_io.h); when given, no output is matched by shape.
  std::vector<std::pair<std::string, std::vector<std::string>>> crossing_end_nodes;
  std::string network_group;      // for HEFs with several network groups
  int timeout_ms = 10000;
};
std::unique_ptr<Stage> make_hailo_stage(const std::filesystem::path& hef, const HailoStageOptions& o = {});
#endif

}  // namespace npusplit
