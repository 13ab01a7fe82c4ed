#pragma once
// Shared plumbing for rewrite passes: add nodes and initializers with readable, unique names
// derived from the original node names, drop matched nodes, and commit (re-sorting the graph
// topologically, as the ONNX checker requires).
#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"

namespace npusplit {

void topo_sort(onnx::GraphProto& g);

class GraphEditor {
 public:
  GraphEditor(onnx::ModelProto& m, const ShapeMap& shapes);
  // The index over the graph as it was before commit(); after commit() it would describe nodes
  // that have moved (and view strings that may be gone), so asking for it is an error.
  const Graph& index() const;
  const onnx::GraphProto& graph() const { return *g_; }
  const TensorInfo& info(const std::string& t) const;
  const onnx::TensorProto* constant(const std::string& t) const { return idx_.initializer(t); }
  // Adds a node; OUTPUTS empty -> one fresh output named NAME + "_output_0".
  std::string add(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                  std::vector<Attr> attrs = {}, std::vector<std::string> outputs = {});
  std::string add_ints(const std::string& base, const std::vector<int64_t>& v);
  std::string add_floats(const std::string& base, const std::vector<int64_t>& dims, const std::vector<float>& v);
  // A float constant of DIMS whose values FILL writes in place: a large table exists once, in
  // the initializer, instead of as a vector, a string and a copy of the tensor.
  std::string add_floats(const std::string& base, const std::vector<int64_t>& dims,
                         const std::function<void(float*)>& fill);
  // Marks NODE for removal; its name becomes free, so a replacement added afterwards keeps it
  // (reports and `hailo parser --end-node-names` then still name the original node).
  void remove(int node) {
    removed_[node] = 1;
    used_.erase(g_->node(node).name());
  }
  bool is_removed(int node) const { return removed_[node] != 0; }
  std::string fresh(const std::string& base);
  const std::string& last_added_name() const { return added_.back().name(); }
  // Points every reader of FROM at TO (graph outputs keep their names: callers make the
  // replacement write the old name instead when the tensor is a graph output).
  void commit();

 private:
  onnx::ModelProto* m_;
  onnx::GraphProto* g_;
  const ShapeMap& shapes_;
  Graph idx_;
  std::vector<char> removed_;
  std::vector<onnx::NodeProto> added_;
  std::vector<onnx::TensorProto> inits_;
  std::unordered_set<std::string> used_;
  bool committed_ = false;
};

std::vector<float> constant_floats(const onnx::TensorProto& t);
// A key equal for constants with the same type, dims and values (the DINOv3-L/X exports compute
// the same RoPE table once per block: materialised copies are shared through this key).
std::string constant_content_key(const onnx::TensorProto& t);

}  // namespace npusplit
