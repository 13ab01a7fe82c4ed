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
  std::vector<double> ms;      // per graph node: its share of the whole model's time (scaled)
  double model_ms = 0;         // the whole model, median run, bench's session options
  double profile_sum_ms = 0;   // the sum of the per-node medians of ORT's profile (unscaled)
  int runs = 0;
};

// ORT's per-node profile of MODEL (graph optimisations off, so every node keeps its name),
// median per node over RUNS; then each node's time is scaled so that they add up to the whole
// model timed with bench's options (optimisations on, the fused host ops). The scale says how
// much ORT's fusions and the fused host ops save, assumed the same everywhere in the graph.
NodeTimes measure_node_times(const onnx::ModelProto& model, const Graph& g, int runs = 3);

// Median wall time of one run of the model at PATH with `bench`'s stage2 session options
// (ORT_ENABLE_ALL, fused host ops, spinning stopped after each run); WARMUP runs first.
double measure_stage_ms(const std::filesystem::path& path, int runs = 5, int warmup = 2);
// The same for a model in memory (written to a temporary file first).
double measure_stage_ms(const onnx::ModelProto& model, int runs = 5, int warmup = 2);

}  // namespace npusplit
