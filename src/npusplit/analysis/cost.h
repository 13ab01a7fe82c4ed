#pragma once
// Cost figures the partitioner weighs: FLOPs per node (multiply-add = 2) and bytes per tensor.
#include <cstdint>
#include <vector>

#include "npusplit/ir/graph.h"

namespace npusplit {

int64_t node_flops(const Graph& g, const ShapeMap& shapes, int node);
std::vector<int64_t> graph_flops(const Graph& g, const ShapeMap& shapes);
int64_t tensor_bytes(const ShapeMap& shapes, const std::string& tensor);
int64_t parameter_count(const onnx::GraphProto& g);

}  // namespace npusplit
