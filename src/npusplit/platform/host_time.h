#pragma once
// Host time on this machine, measured with ONNX Runtime: per node once (a profile of the whole
// model), and for a written stage model (the session options `npusplit bench` gives stage2).
#include <filesystem>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "npusplit/ir/graph.h"

namespace npusplit {

struct NodeTimes {
  std::vector<double> ms;      // per graph node: its host time here (scaled, see scale_node_times)
  std::vector<double> raw_ms;  // per graph node: the median of ORT's profile (optimisations off)
  double model_ms = 0;         // the whole model, median run, bench's session options
  double profile_sum_ms = 0;   // the sum of raw_ms
  double stage1_scale = 1, stage2_scale = 1;  // what scale_node_times applied
  int runs = 0;
};

// ORT's per-node profile of MODEL (graph optimisations off, so every node keeps its name),
// median per node over RUNS, and the whole model timed with bench's options. ms = raw_ms
// scaled uniformly to model_ms until scale_node_times() is given a measured stage2.
NodeTimes measure_node_times(const onnx::ModelProto& model, const Graph& g, int runs = 3);

// ORT's fusions and npusplit's fused host ops do not save the same everywhere: the fused
// deformable attention makes the decoder several times faster, the backbone barely changes. So
// the per-node times are scaled per side of a measured cut: the nodes of BASE_STAGE1's stage2 to
// add up to STAGE2_MS (that stage2 timed with bench's options), the others to model_ms - STAGE2_MS.
// A candidate's host time is then the measured stage2 plus the scaled times of the nodes it
// moves from stage1 to the host.
void scale_node_times(NodeTimes& t, const std::vector<char>& base_stage1, double stage2_ms);

// Median wall time of one run of the model at PATH with `bench`'s stage2 session options
// (ORT_ENABLE_ALL, fused host ops, spinning stopped after each run); WARMUP runs first.
double measure_stage_ms(const std::filesystem::path& path, int runs = 5, int warmup = 2);
// The same for a model in memory (written to a temporary file first).
double measure_stage_ms(const onnx::ModelProto& model, int runs = 5, int warmup = 2);
// One model's time here: the median run, and the spread of the runs (interquartile range /
// median) that says how far a difference between two of them can be trusted.
struct StageTime {
  double ms = 0, spread = 0;
  int runs = 0;
};
// Several models timed side by side: all loaded, then run round-robin in blocks (the first run
// of each block, after another model, not counted), so a drift of the machine biases none of
// them and each is timed warm, as if alone; at least MIN_RUNS each and until each has run
// BUDGET_MS in total (at most 200 runs), so a 3 ms stage gets ~100 runs, not 9.
std::vector<StageTime> measure_stages_ms(const std::vector<const onnx::ModelProto*>& models, int min_runs = 9,
                                         double budget_ms = 300, int warmup = 2);

}  // namespace npusplit
