#pragma once
// Splits a graph in two: stage1 (the accelerator) and stage2 (the host). It knows nothing
// about Hailo: it sees, per node, "supported or not" and a cost (FLOPs; bytes per tensor).
#include <cstdint>
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"

namespace npusplit {

struct PartitionInput {
  const Graph& graph;
  const ShapeMap& shapes;
  std::vector<char> supported;   // per node
  std::vector<int64_t> flops;    // per node
  // Per node (empty: none): stage1 must not end on it. The automatic cut moves such a node to
  // the host while it would produce a crossing tensor. The caller says why (check: a merge of
  // parts with different value ranges, which one 8-bit scale would serve badly).
  std::vector<char> no_end = {};
};

struct Partition {
  std::vector<char> stage1;                 // per node
  std::vector<std::string> crossing;        // stage1 tensors stage2 reads, in topological order
  std::vector<std::string> stage2_inputs;   // original runtime inputs stage2 reads directly
  int64_t stage1_flops = 0, total_flops = 0;
  int64_t crossing_bytes = 0;
  int stage1_nodes = 0;
  std::vector<std::string> moved_to_host;   // frontier nodes the cost refinement moved back
  std::vector<std::string> moved_no_end;    // of them, those moved because of PartitionInput::no_end
  double npu_flops_share() const { return total_flops ? double(stage1_flops) / double(total_flops) : 0.0; }
};

// Data-movement ops do no arithmetic: the cost refinement may move them to the host freely.
bool is_data_movement(const std::string& op);

// The automatic cut: the largest supported prefix (every ancestor supported), then frontier
// nodes that cost no FLOPs are moved to the host while that lowers the bytes crossing, and
// no node marked no_end produces a crossing tensor (such a node leaves stage1 with its stage1
// descendants, to a fixed point).
Partition auto_partition(const PartitionInput& in);
// stage1 = everything needed to compute TENSORS from the inputs. Throws npusplit::Error when
// a tensor is unknown, when stage1 would hold an unsupported node, or when the cut does not
// separate the graph.
Partition manual_partition(const PartitionInput& in, const std::vector<std::string>& tensors,
                           const std::vector<std::string>& node_reasons);
// Removes SEEDS from STAGE1 and, to keep it ancestor-closed, every stage1 node that reads (or
// reads inside a subgraph) what a removed node produces.
void drop_with_descendants(const Graph& g, std::vector<char>& stage1, const std::vector<char>& seeds);
// A stage1 node set of the caller's (a candidate cut) that must not end on a no_end node: every
// such node whose output would cross leaves stage1 with all its stage1 descendants, to a fixed
// point, so the set stays ancestor-closed. Returns the names moved for that reason.
std::vector<std::string> pull_back_no_end(const PartitionInput& in, std::vector<char>& stage1);
// Recomputes crossing tensors and totals for a given stage1 node set.
void finish_partition(const PartitionInput& in, Partition& p);

}  // namespace npusplit
