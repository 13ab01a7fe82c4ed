#include "npusplit/passes/editor.h"

#include <deque>
#include <unordered_map>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"

namespace npusplit {

void topo_sort(onnx::GraphProto& g) {
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& o : g.node(i).output()) producer[o] = i;
  std::vector<int> pending(g.node_size(), 0);
  std::vector<std::vector<int>> readers(g.node_size());
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input()) {
      auto it = producer.find(in);
      if (it == producer.end()) continue;
      ++pending[i];
      readers[it->second].push_back(i);
    }
  std::deque<int> ready;
  for (int i = 0; i < g.node_size(); ++i)
    if (!pending[i]) ready.push_back(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int r : readers[i])
      if (--pending[r] == 0) ready.push_back(r);
  }
  if (static_cast<int>(order.size()) != g.node_size()) fail("rewrite produced a cycle");
  google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
  for (int i : order) sorted.Add(std::move(*g.mutable_node(i)));
  g.mutable_node()->Swap(&sorted);
}

GraphEditor::GraphEditor(onnx::ModelProto& m, const ShapeMap& shapes)
    : m_(&m), g_(m.mutable_graph()), shapes_(shapes), idx_(m.graph()), removed_(m.graph().node_size(), 0) {
  for (const auto& n : g_->node()) {
    used_.insert(n.name());
    for (const auto& o : n.output()) used_.insert(o);
  }
  for (const auto& t : g_->initializer()) used_.insert(t.name());
  for (const auto& i : g_->input()) used_.insert(i.name());
}

const TensorInfo& GraphEditor::info(const std::string& t) const {
  static const TensorInfo unknown;
  auto it = shapes_.find(t);
  return it == shapes_.end() ? unknown : it->second;
}

std::string GraphEditor::fresh(const std::string& base) {
  std::string n = base;
  for (int k = 1; used_.count(n); ++k) n = base + "_" + std::to_string(k);
  used_.insert(n);
  return n;
}

std::string GraphEditor::add(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                             std::vector<Attr> attrs, std::vector<std::string> outputs) {
  ModelBuilder b;
  const std::string node_name = fresh(name);
  b.node_n(op, node_name, std::move(inputs), 1, std::move(attrs));
  onnx::NodeProto n = b.model().graph().node(0);
  n.clear_output();
  if (outputs.empty()) outputs.push_back(fresh(node_name + "_output_0"));
  for (const auto& o : outputs) {
    n.add_output(o);
    used_.insert(o);
  }
  added_.push_back(std::move(n));
  return outputs.front();
}

std::string GraphEditor::add_ints(const std::string& base, const std::vector<int64_t>& v) {
  onnx::TensorProto t;
  t.set_name(fresh(base));
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(static_cast<int64_t>(v.size()));
  for (auto x : v) t.add_int64_data(x);
  inits_.push_back(t);
  return t.name();
}

std::string GraphEditor::add_floats(const std::string& base, const std::vector<int64_t>& dims,
                                    const std::vector<float>& v) {
  if (checked_numel(dims) != std::optional<int64_t>(static_cast<int64_t>(v.size())))
    fail("{}: {} values for a constant of {}", base, v.size(), dims_str(dims));
  return add_floats(base, dims, [&](float* dst) { std::copy(v.begin(), v.end(), dst); });
}

std::string GraphEditor::add_floats(const std::string& base, const std::vector<int64_t>& dims,
                                    const std::function<void(float*)>& fill) {
  const auto n = checked_numel(dims);
  if (!n || *n > kMaxTensorBytes / int64_t{sizeof(float)}) fail("{}: constant of {} is too large", base, dims_str(dims));
  onnx::TensorProto& t = inits_.emplace_back();
  t.set_name(fresh(base));
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t.add_dims(d);
  std::string* raw = t.mutable_raw_data();
  raw->resize(static_cast<size_t>(*n) * sizeof(float));
  fill(reinterpret_cast<float*>(raw->data()));
  return t.name();
}

const Graph& GraphEditor::index() const {
  if (committed_) fail("internal error: a pass asked for the graph index after commit()");
  return idx_;
}

void GraphEditor::commit() {
  committed_ = true;
  keep_elements(*g_->mutable_node(), [&](int i) { return !removed_[size_t(i)]; });
  for (auto& n : added_) *g_->add_node() = std::move(n);
  for (auto& t : inits_) *g_->add_initializer() = std::move(t);
  added_.clear();
  inits_.clear();
  topo_sort(*g_);
}

std::string constant_content_key(const onnx::TensorProto& t) {
  std::string key = std::to_string(t.data_type()) + ":";
  for (auto d : t.dims()) key += std::to_string(d) + ",";
  if (!t.has_raw_data()) return key + "name:" + t.name();
  return key + std::to_string(std::hash<std::string>{}(t.raw_data())) + ":" + std::to_string(t.raw_data().size());
}

std::vector<float> constant_floats(const onnx::TensorProto& t) {
  auto d = tensor_to_double(t);
  return std::vector<float>(d.begin(), d.end());
}

}  // namespace npusplit
