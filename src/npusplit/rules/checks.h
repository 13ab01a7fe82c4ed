#pragma once
// The vocabulary of checks a rule file may use (docs/rules-schema.md). Each check looks at
// one node with its attributes, constant inputs and resolved shapes, and returns what is
// wrong ("axis 0 (batch)") or nothing.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"
#include "npusplit/ir/tensor_info.h"

namespace npusplit {

struct NodeContext {
  const Graph& graph;
  const ShapeMap& shapes;
  const onnx::NodeProto& node;
  const TensorInfo& info(const std::string& tensor) const;
  bool is_const(const std::string& tensor) const { return graph.is_constant(tensor); }
  // Constant input values (nullopt when the input is absent or not a constant).
  std::optional<std::vector<int64_t>> const_ints(int input) const;
};

using CheckResult = std::optional<std::string>;  // set = the check failed, with the detail

bool is_known_check(const std::string& name);
CheckResult run_check(const std::string& name, const NodeContext& ctx, const YAML::Node& params);

// Axis roles as the parser maps NCHW onto NHWC (see docs/rules-schema.md).
std::string axis_role(int rank, int axis);
// Reshape and transpose classification, exposed for the rewrite passes and tests.
std::string classify_reshape(const std::vector<int64_t>& in, const std::vector<int64_t>& out);
std::string classify_transpose(const std::vector<int64_t>& perm, const std::vector<int64_t>& in_dims);
// The feature axis of a tensor of RANK (-1 when none).
int feature_axis(int rank);

}  // namespace npusplit
