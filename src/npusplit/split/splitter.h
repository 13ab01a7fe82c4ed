#pragma once
// Writes the two stage models from a resolved model and a partition.
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "npusplit/ir/graph.h"
#include "npusplit/partition/partitioner.h"

namespace npusplit {

struct StageModels {
  onnx::ModelProto stage1, stage2;
  // Crossing tensors: original name -> name at the cut, in the documented order.
  std::vector<std::pair<std::string, std::string>> renamed;
  std::vector<std::string> stage1_start_nodes, stage1_end_nodes;  // for `hailo parser`
  // Per crossing tensor (as `renamed`): the ONNX node that produces it, which HailoRT's
  // get_original_names_from_vstream_name() names for the HEF output that carries it.
  std::vector<std::string> crossing_end_nodes;
  // With --pack: where each part sits in the packed tensor (offset, count in elements).
  std::vector<std::pair<int64_t, int64_t>> pack_layout;
  std::string packed_name;
};

struct SplitNames {
  std::string feature = "hailo_stage1_feat";
  bool pack = false;
};

// The names used at the cut: NAME for one tensor, NAME_0..k for several (in partition order).
std::vector<std::string> cut_names(size_t count, const std::string& base);
StageModels build_stages(const onnx::ModelProto& resolved, const ShapeMap& shapes, const Partition& p,
                         const SplitNames& names);
// The same, moving the weights out of RESOLVED (left without its initializers): the large
// variants then never hold their weights three times.
StageModels build_stages(onnx::ModelProto&& resolved, const ShapeMap& shapes, const Partition& p,
                         const SplitNames& names);

}  // namespace npusplit
