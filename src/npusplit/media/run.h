#pragma once
// `npusplit run`: detections on images, videos and cameras through a TwoStagePipeline, written
// as they come (annotated image/video, detections JSON or JSON Lines), a bad input reported and
// skipped, Ctrl-C ending after the current frame with everything so far written.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
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

struct RunOptions {
  std::filesystem::path out_dir = "npusplit_out";
  DecodeOptions decode;
  PreprocessOptions preprocess;
  int64_t max_frames = 0;        // videos and cameras (0: every frame; cameras: 100)
  bool frames_as_png = false;    // videos: one PNG per frame instead of an annotated video
  DetectionsWriter::Format detections = DetectionsWriter::Format::json;
  int save_every = 30;           // JSON: rewritten every N frames
  std::string model_label;       // for the detections header
};

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

// Runs INPUTS in order through P. ON_INPUT (optional) is called after each input, for reports.
RunReport run_media(TwoStagePipeline& p, const std::vector<MediaInput>& inputs, const RunOptions& o,
                    const std::function<void(const InputReport&)>& on_input = {});


}  // namespace npusplit
