#pragma once
// `npusplit calib`: the calibration set `hailo optimize` takes (a float32 NHWC [N,H,W,3] .npy),
// made from images, videos and folders, each frame preprocessed exactly as `run` does
// (detect/preprocess.h, with the split manifest's preprocess record).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/io/atomic_output.h"

namespace npusplit {

// The figure the DFC asks for ("calibset_size=1024" in the Model Zoo's YOLO scripts; its own
// warning below that number is easy to miss, ultralytics PR #25231).
constexpr int64_t kDfcCalibrationSize = 1024;

struct CalibOptions {
  std::vector<std::string> inputs;    // images, videos, folders, glob patterns
  PreprocessRecord preprocess;        // width, height and the per-pixel options
  int64_t count = 0;                  // 0: every frame available, at most kDfcCalibrationSize
  std::string count_option = "--count";  // how the caller's option is spelled, for its messages
  uint32_t seed = 0;                  // which images when there are more than needed
  // true: 0-255 pixel values, for a model script whose normalization layer does the rest
  // (what the HEF takes); false: the model's own input values.
  bool raw_pixels = true;
  std::filesystem::path out;
};

struct CalibResult {
  std::vector<int64_t> shape;         // [N,H,W,3] as written
  int64_t available = 0;              // frames the inputs hold
  int64_t wanted = 0;                 // frames asked for (after capping at `available`)
  int64_t images = 0, video_frames = 0;
  std::vector<std::string> skipped;   // one line per input that could not be read
  std::vector<std::string> warnings;
  float min = 0, max = 0;             // value range written
  double seconds = 0;
};

// Writes O.out atomically (nothing when no frame could be read: a one-line Error).
CalibResult write_calibration_set(const CalibOptions& o);
// Fails (one line) when none of INPUTS can be a calibration source (missing paths, empty
// folders, cameras only): what split --calib checks before any work. Images are not decoded here.
void require_calibration_inputs(const std::vector<std::string>& inputs);
// The same file added to FILES (written now, moved into place by the caller's commit).
CalibResult add_calibration_set(const CalibOptions& o, OutputSet& files);

// Which frames of a video of FRAMES frames are taken when K are wanted: evenly spaced, each
// the middle of its share (sorted, distinct).
std::vector<int64_t> evenly_spaced_frames(int64_t frames, int64_t k);

}  // namespace npusplit
