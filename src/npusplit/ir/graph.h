#pragma once
// A read-only index over an onnx::GraphProto: who produces and who consumes each tensor,
// which tensors are constants, and a topological order. Passes edit the proto, then
// rebuild the index (cheap: linear in the node count). Its maps are keyed by views of the
// proto's own name strings (no copy of every name, 20-odd indexes per split): the proto must not
// change while an index over it is in use, and an index is moved, never copied.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "npusplit/ir/tensor_info.h"

namespace npusplit {

class Graph {
 public:
  explicit Graph(const onnx::GraphProto& g);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  const onnx::GraphProto& proto() const { return *g_; }
  int node_count() const { return g_->node_size(); }
  const onnx::NodeProto& node(int i) const { return g_->node(i); }

  // -1 when the tensor is a graph input, an initializer or unknown.
  int producer(const std::string& tensor) const;
  // The nodes reading TENSOR (a node reading it twice is listed twice), in node order.
  std::span<const int> consumers(const std::string& tensor) const;
  const onnx::TensorProto* initializer(const std::string& name) const;
  bool is_constant(const std::string& tensor) const { return initializer(tensor) != nullptr; }
  bool is_graph_input(const std::string& tensor) const { return has_flag(tensor, kInput); }
  bool is_graph_output(const std::string& tensor) const { return has_flag(tensor, kOutput); }
  // Graph inputs that are not initializers (the real runtime inputs), in declaration order.
  const std::vector<std::string>& runtime_inputs() const { return runtime_inputs_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  // Node indices in an order where every producer comes before its consumers.
  const std::vector<int>& topo_order() const { return topo_; }
  int find_node(const std::string& name) const;
  // Outer-scope tensors a node's subgraphs (If/Loop/Scan bodies) read without listing them as
  // inputs. They count as edges for consumers() and the topological order.
  const std::vector<std::string>& implicit_inputs(int node) const;
  bool has_subgraph(int node) const { return implicit_.count(node) > 0; }

 private:
  enum Flag : uint8_t { kInput = 1, kOutput = 2 };
  // Every tensor name the graph mentions gets one id, found with one hash lookup; what is known
  // of it sits in vectors by id (the consumer lists packed in one array), so an index over a
  // 4,000-node graph costs a few thousand allocations less than a map per fact.
  struct Tensor {
    int producer = -1;
    uint8_t flags = 0;
    const onnx::TensorProto* init = nullptr;
    int first_consumer = 0, consumer_count = 0;  // a range of consumer_nodes_
  };
  const Tensor* find(const std::string& name) const;
  bool has_flag(const std::string& name, uint8_t f) const {
    const Tensor* t = find(name);
    return t && (t->flags & f);
  }

  const onnx::GraphProto* g_;
  // Keys view the proto's strings (implicit_'s own strings for subgraph reads: its map nodes,
  // and so those strings, stay where they are when the index is moved).
  std::unordered_map<std::string_view, int> ids_;
  std::vector<Tensor> tensors_;
  std::vector<int> consumer_nodes_;
  std::vector<std::string> runtime_inputs_, output_names_;
  std::vector<int> topo_;
  std::unordered_map<std::string_view, int> by_name_;
  std::unordered_map<int, std::vector<std::string>> implicit_;
};

// Keeps the elements of FIELD whose index KEEP accepts, in their order, in place (pointer
// swaps, no copy or allocation); returns how many were removed.
template <typename T, typename Keep>
int keep_elements(google::protobuf::RepeatedPtrField<T>& field, Keep&& keep) {
  const int n = field.size();
  int w = 0;
  for (int i = 0; i < n; ++i)
    if (keep(i)) {
      if (w != i) field.SwapElements(w, i);
      ++w;
    }
  if (w < n) field.DeleteSubrange(w, n - w);
  return n - w;
}

// Whether N carries a subgraph (If/Loop/Scan bodies), and the outer-scope tensors those
// subgraphs read without listing them as N's inputs.
bool has_subgraphs(const onnx::NodeProto& n);
std::vector<std::string> subgraph_reads(const onnx::NodeProto& n);

// Removes the nodes PRED selects -- each must pass its first input through unchanged
// (Identity, a same-type Cast) -- and points their readers at that input. A node whose output
// is a graph output or is read by an If/Loop body is kept. Returns the removed nodes' names.
std::vector<std::string> bypass_nodes(onnx::GraphProto& g, const std::function<bool(const onnx::NodeProto&)>& pred);

// Attribute helpers (return the fallback when the attribute is absent).
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback);
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback);
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& fallback);
std::optional<std::vector<int64_t>> attr_ints(const onnx::NodeProto& n, const std::string& name);
const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name);

// Constant tensor values as int64/double (any numeric dtype, raw or typed storage).
std::vector<int64_t> tensor_to_int64(const onnx::TensorProto& t);
std::vector<double> tensor_to_double(const onnx::TensorProto& t);
TensorInfo tensor_info_of(const onnx::TensorProto& t);
TensorInfo tensor_info_of(const onnx::TypeProto& t);
void set_value_info_type(onnx::ValueInfoProto& vi, const TensorInfo& t);
// A 1-D int64 initializer (shapes, axes, starts/ends).
onnx::TensorProto make_int64_tensor(const std::string& name, const std::vector<int64_t>& v);
onnx::TensorProto make_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                    const std::vector<float>& v);

}  // namespace npusplit
