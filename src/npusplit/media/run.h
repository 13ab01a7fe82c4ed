#pragma once
// `npusplit run`'s loop: detections on images, videos and cameras through a TwoStagePipeline,
// the annotated image/video written as it comes and each frame handed to a FrameSink (the
// detections files: report/detections_report.h), a bad input reported and skipped, Ctrl-C
// ending after the current frame with everything so far written.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/detect/postprocess.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/media/inputs.h"
#include "npusplit/media/outputs.h"
#include "npusplit/pipeline/two_stage.h"

namespace npusplit {

// Fills a frame's inputs: the one image input float [1,3,H,W] and orig_target_sizes [N,2].
class Feeder {
 public:
  explicit Feeder(const TwoStagePipeline& p);  // a one-line Error for inputs it cannot fill
  ImageTransform fill(Frame& f, const cv::Mat& bgr, const PreprocessOptions& o) const;
  void fill_synthetic(Frame& f) const;  // bench: a fixed pseudo-random image of the input size
  int width() const { return w_; }
  int height() const { return h_; }

 private:
  int image_ = -1;
  std::vector<int> sizes_;
  int w_ = 0, h_ = 0;
};

enum class DetectionsFormat { json, jsonl };

struct RunOptions {
  std::filesystem::path out_dir = "npusplit_out";
  DecodeOptions decode;
  PreprocessOptions preprocess;
  int64_t max_frames = 0;        // videos and cameras (0: every frame; cameras: 100)
  bool frames_as_png = false;    // videos: one PNG per frame instead of an annotated video
  DetectionsFormat detections = DetectionsFormat::json;
  int save_every = 30;           // JSON: rewritten every N frames
  std::string model_label;       // for the detections header
};

// One frame as the loop hands it on: where it came from, what it cost, what was found.
struct FrameRecord {
  int64_t frame = 0;
  int width = 0, height = 0;        // of the source frame
  std::filesystem::path png;        // the annotated PNG, when frames are written as pictures
  double preprocess_ms = 0, stage1_ms = 0, stage2_ms = 0, pipeline_ms = 0, post_ms = 0;
  std::vector<Detection> detections;
};

// An input about to run: what it is, and the detections file the loop chose for it (a name
// beside the other outputs, checked not to be the input itself).
struct InputStart {
  std::string spec;
  std::filesystem::path detections_path;
  const RunOptions* options = nullptr;
};

// Where an input's frames go as they are done (report/detections_report.h writes them as the
// detections JSON or JSON Lines file): CLOSE(false) when the run was interrupted.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void add(const FrameRecord& f) = 0;
  virtual void close(bool complete) = 0;
};
using FrameSinks = std::function<std::unique_ptr<FrameSink>(const InputStart&)>;

struct InputReport {
  std::string spec;
  MediaKind kind = MediaKind::image;
  std::string error;             // set: failed (reported, skipped)
  int64_t frames = 0, detections = 0;
  bool interrupted = false;      // Ctrl-C stopped it after `frames`
  std::filesystem::path detections_path, annotated_path;  // annotated: image, video, or the PNG pattern
  std::string codec;             // of the annotated video
  double mean_preprocess_ms = 0, mean_stage1_ms = 0, mean_stage2_ms = 0, mean_pipeline_ms = 0, mean_post_ms = 0;
};

struct RunReport {
  std::vector<InputReport> inputs;
  bool interrupted = false;
  int64_t not_started = 0;       // inputs left when interrupted
  int failed() const;
  int succeeded() const;
  // 0 every input done; 1 some failed (the others done); 2 none could be read; 130 interrupted.
  int exit_code() const;
};

// Runs INPUTS in order through P, each input's frames into the sink SINKS makes for it. ON_INPUT
// (optional) is called after each input, for reports.
RunReport run_media(TwoStagePipeline& p, const std::vector<MediaInput>& inputs, const RunOptions& o,
                    const FrameSinks& sinks, const std::function<void(const InputReport&)>& on_input = {});


}  // namespace npusplit
