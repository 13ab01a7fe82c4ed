#pragma once
// The platform cut's outputs (issue 14): the grep-able summary line of `check` and `split`,
// the `split --explain` frontier table, and the manifest's estimate -- from the typed results.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/analysis.h"
#include "npusplit/results/frontier.h"

namespace npusplit {

// One line, like the Edge TPU compiler's "operations that will run on ...":
//   npusplit: NPU 812 nodes 45.2G FLOPs (93.1%) | host 140 nodes 3.3G FLOPs | crossing 3 tensors 4.69 MiB (float32)
// with " | rpi5-hailo8: 23.4 fps, 61.2 ms latency (estimate)" when FRONTIER holds an estimate.
std::string summary_line(const Analysis& a, const Frontier* frontier = nullptr);

// The top TOP candidates with their figures, the chosen and baseline marked, the host model
// beside the measured written stage2.
std::string frontier_text(const Frontier& f, int top = 10);

// The manifest's "platform" object: profile, objective, the chosen cut's estimate and the baseline's.
nlohmann::json frontier_json(const Frontier& f, bool all_candidates = false);

}  // namespace npusplit
