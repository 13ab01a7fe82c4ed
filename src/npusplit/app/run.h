#pragma once
// The run recipe: the pipeline the models name, the inputs expanded (files, folders, globs,
// cameras), then every input through it, each reported as it finishes (report/run_report.h
// prints them).
#include <functional>
#include <string>
#include <vector>

#include "npusplit/media/bench.h"
#include "npusplit/results/run.h"

namespace npusplit {

struct RunRequest {
  PipelineSpec models;
  std::vector<std::string> inputs;
  RunOptions options;
};

// Called on the way, for output that streams: once before the first frame, then after each input.
struct RunEvents {
  std::function<void(const RunHeader&)> started;
  std::function<void(const InputReport&, bool split)> input_done;
};

RunResult run_detection(RunRequest q, const RunEvents& events = {});

}  // namespace npusplit
