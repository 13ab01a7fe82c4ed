#pragma once
// The family of candidate cuts the platform cut estimates (issue 14). Every candidate's stage1
// is a subset of the automatic cut's stage1 that is closed under ancestors (each stage1 node's
// activation inputs come from the model inputs or from stage1), so its crossing tensors are a
// valid --cut: manual_partition accepts them and gives the same stage1.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "npusplit/partition/partitioner.h"

namespace npusplit {

struct CandidateCut {
  std::string label;          // "auto", "before /model/decoder", "prefix 812/1004"
  std::vector<char> stage1;   // per node
};

// One topological prefix of the automatic cut's stage1 (its first K nodes in topo order).
struct PrefixStat {
  int k = 0;                  // stage1 nodes in the prefix
  int last_node = -1;         // the node that made it K
  int64_t stage1_flops = 0;
  int64_t wire_bytes = 0;     // crossing tensors at wire_bits (8 or 16 per element)
  int crossing = 0;           // crossing tensors
};

// Every prefix K = 1..N of BASELINE's stage1 nodes in topological order, in one pass (the
// crossing set is kept up to date as nodes join). BITS: bits per element per tensor (default 8).
std::vector<PrefixStat> prefix_stats(const PartitionInput& in, const Partition& baseline,
                                     const std::map<std::string, int>& bits);

// Stage1 of prefix K (the first K stage1 nodes of BASELINE in topological order).
std::vector<char> prefix_stage1(const PartitionInput& in, const Partition& baseline, int k);

// BASELINE pulled back before each named module: for every node-name scope ("/model/decoder",
// "/model/encoder/encoder.0", depth 1..MAX_DEPTH) that holds some but not all of BASELINE's stage1
// nodes, stage1 without the scope's nodes and everything downstream of them. Deduplicated.
std::vector<CandidateCut> scope_cuts(const PartitionInput& in, const Partition& baseline, int max_depth = 4);

// The prefixes whose wire bytes are the lowest within WINDOW prefixes either side (the
// low-byte antichains of the topological order), at most MAX of them (evenly spread).
std::vector<int> low_byte_prefixes(const std::vector<PrefixStat>& stats, int window, int max);

// Wire bytes of one tensor (numel x bits / 8; 0 when its shape is unknown).
int64_t wire_bytes_of(const ShapeMap& shapes, const std::string& tensor, const std::map<std::string, int>& bits);

}  // namespace npusplit
