#pragma once
// Stage1 (accelerator) -> stage2 (host) for one frame at a time, or overlapped: stage1 of frame
// n+1 runs while stage2 of frame n does. Also runs an unsplit model through the same interface,
// so `run` and `bench` treat both alike.
//
// Buffers: a Frame owns one frame's tensors: the model inputs the caller fills, the tensors that
// cross the cut (stage1 writes them, stage2 reads them in place) and the final outputs. Frames
// are made once and reused; the pipelined mode double-buffers by cycling two frames.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/runtime/stage.h"

namespace npusplit {

struct FrameTiming {
  double stage1_ms = 0, stage2_ms = 0;              // wall time of each stage's run()
  double stage1_inner_ms = 0, stage2_inner_ms = 0;  // of which inside the runtime's inference call
  double wait_ms = 0;                               // pipelined: stage1 end -> stage2 start
  double total_ms = 0;                              // stage1 start -> stage2 end
};

struct Frame {
  std::vector<HostTensor> inputs;   // TwoStagePipeline::inputs() order; the caller fills them
  std::vector<HostTensor> cut;      // stage1's outputs (empty when unsplit)
  std::vector<HostTensor> outputs;  // the final outputs, TwoStagePipeline::outputs() order
  FrameTiming timing;
  int64_t index = -1;               // pipelined: the frame number

  Frame() = default;
  Frame(Frame&&) = default;
  Frame& operator=(Frame&&) = default;
  Frame(const Frame&) = delete;     // the wiring below points into this frame's tensors
  Frame& operator=(const Frame&) = delete;

  HostTensor* input(const std::string& name);               // nullptr when absent
  const HostTensor* output(const std::string& name) const;  // nullptr when absent

  // Wiring, made by TwoStagePipeline::make_frame (pointers into the vectors above).
  std::vector<const HostTensor*> stage1_in, stage2_in;
};

class TwoStagePipeline {
 public:
  // A split model. Every stage2 input must be a stage1 output (same name, dtype and shape) or a
  // model input; the model inputs are stage1's inputs plus EXTRA_INPUTS (inputs only stage2 reads
  // and the caller fills, e.g. the official DETR layout's orig_target_sizes). Anything else is a
  // one-line npusplit::Error ("... (wrong stage order?)").
  TwoStagePipeline(std::unique_ptr<Stage> stage1, std::unique_ptr<Stage> stage2,
                   const std::vector<std::string>& extra_inputs = {});
  // An unsplit model: one stage.
  explicit TwoStagePipeline(std::unique_ptr<Stage> model);
  ~TwoStagePipeline();

  bool is_split() const { return stage2_ != nullptr; }
  Stage& stage1() { return *stage1_; }
  Stage* stage2() { return stage2_.get(); }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }    // what a frame needs filled
  const std::vector<TensorSpec>& outputs() const;
  const std::vector<TensorSpec>& cut() const;                         // stage1's outputs (split)

  Frame make_frame() const;

  // One frame, stage1 then stage2, on the calling thread; fills frame.timing.
  void run(Frame& frame);

  // FRAMES frames, overlapped on two threads with DEPTH frames of buffers (2 = double buffering).
  // FILL(frame) runs on the stage1 thread before stage1 (fill frame.inputs; return false to stop
  // early); DONE(frame) on the calling thread after stage2, in frame order. An exception in a
  // stage or a callback stops both threads and is rethrown here. Returns the wall time in ms.
  double run_pipelined(int64_t frames, const std::function<bool(Frame&)>& fill,
                       const std::function<void(Frame&)>& done, int depth = 2);

 private:
  std::unique_ptr<Stage> stage1_, stage2_;
  std::vector<TensorSpec> inputs_;
  // Where each stage input comes from: >= 0 a model input index, < 0 -(cut index) - 1.
  std::vector<int> stage1_src_, stage2_src_;
};

}  // namespace npusplit
