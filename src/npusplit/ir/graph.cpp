#include "npusplit/ir/graph.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "npusplit/error.h"

namespace npusplit {

void collect_outer_refs(const onnx::GraphProto& sg, std::unordered_set<std::string>& refs);

Graph::Graph(const onnx::GraphProto& g) : g_(&g) {
  const int n = g.node_size();
  ids_.reserve(static_cast<size_t>(n) * 2 + static_cast<size_t>(g.initializer_size()));
  tensors_.reserve(static_cast<size_t>(n) * 2 + static_cast<size_t>(g.initializer_size()));
  by_name_.reserve(static_cast<size_t>(n));
  auto id_of = [&](std::string_view name) {
    auto [it, fresh] = ids_.try_emplace(name, static_cast<int>(tensors_.size()));
    if (fresh) tensors_.emplace_back();
    return it->second;
  };
  for (const auto& t : g.initializer()) tensors_[id_of(t.name())].init = &t;
  for (const auto& i : g.input()) {
    Tensor& t = tensors_[id_of(i.name())];
    t.flags |= kInput;
    if (!t.init) runtime_inputs_.push_back(i.name());
  }
  for (const auto& o : g.output()) {
    tensors_[id_of(o.name())].flags |= kOutput;
    output_names_.push_back(o.name());
  }
  // Each node's output ids, so that the topological sort below hashes no name again.
  std::vector<int> out_begin(n + 1, 0), out_ids;
  out_ids.reserve(static_cast<size_t>(n) * 2);
  for (int i = 0; i < n; ++i) {
    const auto& node = g.node(i);
    if (!node.name().empty()) by_name_.emplace(node.name(), i);
    for (const auto& o : node.output())
      if (!o.empty()) {
        const int id = id_of(o);
        tensors_[id].producer = i;  // the last writer wins
        out_ids.push_back(id);
      }
    out_begin[i + 1] = static_cast<int>(out_ids.size());
  }
  for (int i = 0; i < n; ++i)
    if (has_subgraphs(g.node(i))) implicit_[i] = subgraph_reads(g.node(i));
  // Edges (tensor id, reading node) in node order; a node waits for one count per edge whose
  // tensor some node produces.
  std::vector<std::pair<int, int>> edges;
  edges.reserve(static_cast<size_t>(n) * 3);
  std::vector<int> pending(n, 0);
  auto add_edge = [&](const std::string& in, int i) {
    if (in.empty()) return;
    const int id = id_of(in);
    edges.emplace_back(id, i);
    ++tensors_[id].consumer_count;
    if (tensors_[id].producer >= 0) ++pending[i];
  };
  for (int i = 0; i < n; ++i) {
    for (const auto& in : g.node(i).input()) add_edge(in, i);
    if (auto it = implicit_.find(i); it != implicit_.end())
      for (const auto& in : it->second) add_edge(in, i);
  }
  int offset = 0;
  for (auto& t : tensors_) {
    t.first_consumer = offset;
    offset += t.consumer_count;
    t.consumer_count = 0;
  }
  consumer_nodes_.resize(edges.size());
  for (const auto& [id, i] : edges) {
    Tensor& t = tensors_[id];
    consumer_nodes_[t.first_consumer + t.consumer_count++] = i;
  }
  // Kahn's algorithm; exports are usually sorted already, but edited graphs may not be.
  std::deque<int> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push_back(i);
  topo_.reserve(n);
  while (!ready.empty()) {
    const int i = ready.front();
    ready.pop_front();
    topo_.push_back(i);
    for (int k = out_begin[i]; k < out_begin[i + 1]; ++k) {
      const Tensor& t = tensors_[out_ids[k]];
      for (int c = t.first_consumer; c < t.first_consumer + t.consumer_count; ++c)
        if (--pending[consumer_nodes_[c]] == 0) ready.push_back(consumer_nodes_[c]);
    }
  }
  if (static_cast<int>(topo_.size()) != n) fail("graph has a cycle");
}

const Graph::Tensor* Graph::find(const std::string& name) const {
  auto it = ids_.find(std::string_view(name));
  return it == ids_.end() ? nullptr : &tensors_[it->second];
}

bool has_subgraphs(const onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size()) return true;
  return false;
}

std::vector<std::string> subgraph_reads(const onnx::NodeProto& n) {
  std::vector<std::string> v;
  for (const auto& a : n.attribute()) {
    std::unordered_set<std::string> refs;
    if (a.has_g()) collect_outer_refs(a.g(), refs);
    for (const auto& sg : a.graphs()) collect_outer_refs(sg, refs);
    for (const auto& r : refs)
      if (std::find(v.begin(), v.end(), r) == v.end()) v.push_back(r);
  }
  return v;
}

const std::vector<std::string>& Graph::implicit_inputs(int node) const {
  static const std::vector<std::string> none;
  auto it = implicit_.find(node);
  return it == implicit_.end() ? none : it->second;
}

void collect_outer_refs(const onnx::GraphProto& sg, std::unordered_set<std::string>& refs) {
  std::unordered_set<std::string> local;
  for (const auto& i : sg.input()) local.insert(i.name());
  for (const auto& t : sg.initializer()) local.insert(t.name());
  for (const auto& n : sg.node())
    for (const auto& o : n.output()) local.insert(o);
  for (const auto& n : sg.node()) {
    for (const auto& in : n.input())
      if (!in.empty() && !local.count(in)) refs.insert(in);
    for (const auto& a : n.attribute()) {
      std::unordered_set<std::string> inner;
      if (a.has_g()) collect_outer_refs(a.g(), inner);
      for (const auto& g2 : a.graphs()) collect_outer_refs(g2, inner);
      for (const auto& r : inner)
        if (!local.count(r)) refs.insert(r);
    }
  }
  for (const auto& o : sg.output())
    if (!local.count(o.name())) refs.insert(o.name());
}

int Graph::producer(const std::string& tensor) const {
  const Tensor* t = find(tensor);
  return t ? t->producer : -1;
}

std::span<const int> Graph::consumers(const std::string& tensor) const {
  const Tensor* t = find(tensor);
  if (!t) return {};
  return {consumer_nodes_.data() + t->first_consumer, static_cast<size_t>(t->consumer_count)};
}

const onnx::TensorProto* Graph::initializer(const std::string& name) const {
  const Tensor* t = find(name);
  return t ? t->init : nullptr;
}

int Graph::find_node(const std::string& name) const {
  auto it = by_name_.find(std::string_view(name));
  return it == by_name_.end() ? -1 : it->second;
}

std::vector<std::string> bypass_nodes(onnx::GraphProto& g, const std::function<bool(const onnx::NodeProto&)>& pred) {
  std::unordered_set<std::string> kept_names;  // graph outputs and what If/Loop bodies read
  for (const auto& o : g.output()) kept_names.insert(o.name());
  for (const auto& n : g.node())
    if (has_subgraphs(n))
      for (auto& t : subgraph_reads(n)) kept_names.insert(std::move(t));
  std::unordered_map<std::string, std::string> alias;
  std::unordered_set<int> drop;
  std::vector<std::string> names;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (n.input_size() < 1 || n.output_size() != 1 || kept_names.count(n.output(0)) || !pred(n))
      continue;
    alias[n.output(0)] = n.input(0);
    drop.insert(i);
    names.push_back(n.name());
  }
  if (drop.empty()) return names;
  // Aliases chain (Identity of Identity); a chain longer than the aliases is a cycle, which a
  // checked model never has (its nodes are in topological order).
  for (auto& [from, to] : alias) {
    size_t steps = 0;
    for (auto it = alias.find(to); it != alias.end(); it = alias.find(to))
      if (++steps > alias.size()) fail("graph has a cycle");
      else to = it->second;
  }
  keep_elements(*g.mutable_node(), [&](int i) { return !drop.count(i); });
  for (auto& n : *g.mutable_node())
    for (auto& x : *n.mutable_input())
      if (auto it = alias.find(x); it != alias.end()) x = it->second;
  return names;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : fallback;
}

float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
  const auto* a = find_attr(n, name);
  return a ? a->f() : fallback;
}

std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& fallback) {
  const auto* a = find_attr(n, name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<int64_t>> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attr(n, name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

namespace {
template <typename T>
std::vector<T> raw_as(const std::string& raw) {
  std::vector<T> v(raw.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), raw.data(), v.size() * sizeof(T));
  return v;
}

template <typename Out>
std::vector<Out> tensor_values(const onnx::TensorProto& t) {
  using TP = onnx::TensorProto;
  std::vector<Out> out;
  const bool raw = t.has_raw_data();
  auto take = [&](const auto& vec) { out.assign(vec.begin(), vec.end()); };
  switch (t.data_type()) {
    case TP::FLOAT: raw ? take(raw_as<float>(t.raw_data())) : take(t.float_data()); break;
    case TP::DOUBLE: raw ? take(raw_as<double>(t.raw_data())) : take(t.double_data()); break;
    case TP::INT64: raw ? take(raw_as<int64_t>(t.raw_data())) : take(t.int64_data()); break;
    case TP::INT32: raw ? take(raw_as<int32_t>(t.raw_data())) : take(t.int32_data()); break;
    case TP::INT8: raw ? take(raw_as<int8_t>(t.raw_data())) : take(t.int32_data()); break;
    case TP::UINT8: raw ? take(raw_as<uint8_t>(t.raw_data())) : take(t.int32_data()); break;
    case TP::BOOL: raw ? take(raw_as<uint8_t>(t.raw_data())) : take(t.int32_data()); break;
    case TP::UINT64: raw ? take(raw_as<uint64_t>(t.raw_data())) : take(t.uint64_data()); break;
    default: fail("constant '{}' has an element type npusplit cannot read ({})", t.name(), t.data_type());
  }
  return out;
}
}  // namespace

std::vector<int64_t> tensor_to_int64(const onnx::TensorProto& t) { return tensor_values<int64_t>(t); }
std::vector<double> tensor_to_double(const onnx::TensorProto& t) { return tensor_values<double>(t); }

TensorInfo tensor_info_of(const onnx::TensorProto& t) {
  TensorInfo info;
  info.dtype = t.data_type();
  info.has_rank = true;
  info.dims.assign(t.dims().begin(), t.dims().end());
  return info;
}

TensorInfo tensor_info_of(const onnx::TypeProto& t) {
  TensorInfo info;
  if (!t.has_tensor_type()) return info;
  info.dtype = t.tensor_type().elem_type();
  if (!t.tensor_type().has_shape()) return info;
  info.has_rank = true;
  for (const auto& d : t.tensor_type().shape().dim())
    info.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return info;
}

void set_value_info_type(onnx::ValueInfoProto& vi, const TensorInfo& t) {
  auto* tt = vi.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(t.dtype);
  if (!t.has_rank) {
    tt->clear_shape();
    return;
  }
  auto* s = tt->mutable_shape();
  s->clear_dim();
  for (auto d : t.dims) {
    auto* dim = s->add_dim();
    if (d >= 0) dim->set_dim_value(d);
  }
}

onnx::TensorProto make_int64_tensor(const std::string& name, const std::vector<int64_t>& v) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(static_cast<int64_t>(v.size()));
  for (auto x : v) t.add_int64_data(x);
  return t;
}

onnx::TensorProto make_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                    const std::vector<float>& v) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  return t;
}

}  // namespace npusplit
