#pragma once
// Measured value ranges of activations: ReduceMin/ReduceMax inserted after each tensor inside the
// graph, run one frame at a time, so no tensor is copied out. `quant` measures every stage1
// activation with it; `check`/`split` measure the parts of every merge (Concat) on the NPU side,
// because one 8-bit scale for a tensor whose parts span different ranges costs the narrow parts
// their precision (rules/quant/hailo_quant.yaml: one_scale_per_output, mixed_range_ratio).
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "npusplit/ort/host_tensor.h"

namespace npusplit {

// rules/quant/hailo_quant.yaml mixed_range_ratio (a test keeps the two equal).
constexpr double kMixedRangeRatio = 4.0;  // parts of one tensor whose range widths differ more than this

// Min/max of the finite values, kept running over frames.
struct RunningRange {
  float lo = 0, hi = 0;
  bool seen = false;
  void add(const float* v, size_t n);
};

// A copy of M that outputs, for each of NAMES, its min and max over the whole tensor (ReduceMin /
// ReduceMax inside the graph, named range_output_names()): ranges without holding the tensors.
onnx::ModelProto expose_ranges(const onnx::ModelProto& m, const std::vector<std::string>& names);
std::pair<std::string, std::string> range_output_names(const std::string& tensor);
// M reduced to the nodes NAMES depend on (and the initializers those read), outputs cleared:
// measuring a few tensors then runs only the part of the model that computes them.
onnx::ModelProto prune_to(const onnx::ModelProto& m, const std::vector<std::string>& names);

// One session over M with the reductions; add() runs one frame and updates the running ranges.
class RangeMeter {
 public:
  // PRUNE: run only what NAMES need (check's probe); quant measures all of stage1 anyway.
  RangeMeter(const onnx::ModelProto& m, std::vector<std::string> names, bool prune);
  ~RangeMeter();
  RangeMeter(const RangeMeter&) = delete;
  RangeMeter& operator=(const RangeMeter&) = delete;
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  void add(const std::vector<HostTensor>& inputs);
  const std::map<std::string, RunningRange>& ranges() const { return ranges_; }
  int64_t frames() const { return frames_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_, outputs_;
  std::vector<TensorSpec> inputs_;
  std::map<std::string, RunningRange> ranges_;
  int64_t frames_ = 0;
};

struct RangePart {
  std::string tensor;
  float min = 0, max = 0;
};

struct MixedRange {
  std::string node, op;                 // the merge (Concat)
  std::vector<RangePart> parts;
  double ratio = 0;                     // widest part range / narrowest
};

// Ops that merge their inputs into one tensor, and the reshape-like ops after a merge that keep
// it one tensor (the merge is still what a crossing tensor "is").
// Concat, Where's two branches, Scatter's data and updates (without a reduction): each output
// element comes from one part, so the parts share the output's one scale.
bool is_merge_op(const std::string& op);
// The inputs of merge N whose values land in its output (indices; none for other ops).
std::vector<int> merged_inputs(const onnx::NodeProto& n);
bool is_layout_only_op(const std::string& op);
// The producer chain behind T through layout-only ops, ending at a merge (nullptr otherwise).
const onnx::NodeProto* merge_behind(const onnx::GraphProto& g, const std::string& t);
// N's measured parts when their range widths differ more than THRESHOLD (constants: not measured).
std::optional<MixedRange> mixed_range_of(const onnx::NodeProto& n, const std::map<std::string, RunningRange>& ranges,
                                         double threshold);

// Where check/split took the ranges of the merges from, and what they found.
struct RangeProbe {
  bool measured = false;
  std::string source;        // "synthetic" | "calibration"
  std::string description;   // e.g. "1 seeded random image (seed 0) through the preprocessing"
  std::string scope;         // "stage1" (every merge in it) | "cut" (those ending it)
  uint32_t seed = 0;
  int64_t frames = 0;
  int64_t tensors = 0;       // merge inputs measured
  double ratio = kMixedRangeRatio;
  double ms = 0;
  std::string skipped;       // why nothing was measured (no image input, ...)
  std::vector<MixedRange> merges;        // every mixed merge among the measured ones
  std::vector<std::string> moved;        // of them (and the reshape-like ops after), moved to the host by the cut
  std::vector<MixedRange> npu_merges;    // mixed merges left in stage1 (each has a quant-mixed-range finding)
};

}  // namespace npusplit
