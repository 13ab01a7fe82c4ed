#pragma once
// What `npusplit demo` did: the model and picture it built, the check, the split (with its
// verify), and the detections of the split pipeline beside the unsplit model's.
#include <filesystem>
#include <vector>

#include "npusplit/detect/postprocess.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/results/analysis.h"
#include "npusplit/results/split.h"

namespace npusplit {

struct DemoResult {
  std::filesystem::path model, picture, annotated, detections_json;
  Analysis check;
  SplitResult split;
  std::vector<Detection> detections;  // of the split pipeline
  bool split_equals_unsplit = false;  // same classes, scores and boxes from the unsplit model
  int blobs_drawn = 0, blobs_found = 0;
  FrameTiming split_timing, whole_timing;  // of the last of 21 runs each (the first 20 warm up)
  // 0 when the split verified and the two pipelines agree, 1 otherwise.
  int exit_code() const { return (split.verify && split.verify->ok && split_equals_unsplit) ? 0 : 1; }
};

}  // namespace npusplit
