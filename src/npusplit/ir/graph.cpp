#include "npusplit/ir/graph.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "npusplit/error.h"

namespace npusplit {

void collect_outer_refs(const onnx::GraphProto& sg, std::unordered_set<std::string>& refs);

Graph::Graph(const onnx::GraphProto& g) : g_(&g) {
  inits_.reserve(static_cast<size_t>(g.initializer_size()));
  producer_.reserve(static_cast<size_t>(g.node_size()) * 3 / 2);
  consumers_.reserve(static_cast<size_t>(g.node_size() + g.initializer_size()) * 3 / 2);
  by_name_.reserve(static_cast<size_t>(g.node_size()));
  for (const auto& t : g.initializer()) inits_[t.name()] = &t;
  for (const auto& i : g.input()) {
    inputs_.insert(i.name());
    if (!inits_.count(i.name())) runtime_inputs_.push_back(i.name());
  }
  for (const auto& o : g.output()) {
    outputs_.insert(o.name());
    output_names_.push_back(o.name());
  }
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (!n.name().empty()) by_name_.emplace(n.name(), i);
    for (const auto& o : n.output())
      if (!o.empty()) producer_[o] = i;  // the last writer wins, as before
  }
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& a : g.node(i).attribute()) {
      std::unordered_set<std::string> refs;
      if (a.has_g()) collect_outer_refs(a.g(), refs);
      for (const auto& sg : a.graphs()) collect_outer_refs(sg, refs);
      if (a.has_g() || a.graphs_size()) {
        auto& v = implicit_[i];
        for (const auto& r : refs)
          if (std::find(v.begin(), v.end(), r) == v.end()) v.push_back(r);
      }
    }
  // Kahn's algorithm; exports are usually sorted already, but edited graphs may not be.
  std::vector<int> pending(g.node_size(), 0);
  auto add_edge = [&](const std::string& in, int i) {
    if (in.empty()) return;
    consumers_[in].push_back(i);
    if (producer_.count(in)) ++pending[i];
  };
  for (int i = 0; i < g.node_size(); ++i) {
    for (const auto& in : g.node(i).input()) add_edge(in, i);
    if (auto it = implicit_.find(i); it != implicit_.end())
      for (const auto& in : it->second) add_edge(in, i);
  }
  std::deque<int> ready;
  for (int i = 0; i < g.node_size(); ++i)
    if (pending[i] == 0) ready.push_back(i);
  topo_.reserve(g.node_size());
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    topo_.push_back(i);
    for (const auto& o : g.node(i).output()) {
      auto it = consumers_.find(o);
      if (o.empty() || it == consumers_.end()) continue;
      for (int c : it->second)
        if (--pending[c] == 0) ready.push_back(c);
    }
  }
  if (static_cast<int>(topo_.size()) != g.node_size()) fail("graph has a cycle");
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
  auto it = producer_.find(std::string_view(tensor));
  return it == producer_.end() ? -1 : it->second;
}

const std::vector<int>& Graph::consumers(const std::string& tensor) const {
  static const std::vector<int> none;
  auto it = consumers_.find(std::string_view(tensor));
  return it == consumers_.end() ? none : it->second;
}

const onnx::TensorProto* Graph::initializer(const std::string& name) const {
  auto it = inits_.find(std::string_view(name));
  return it == inits_.end() ? nullptr : it->second;
}

int Graph::find_node(const std::string& name) const {
  auto it = by_name_.find(std::string_view(name));
  return it == by_name_.end() ? -1 : it->second;
}

std::vector<std::string> bypass_nodes(onnx::GraphProto& g, const std::function<bool(const onnx::NodeProto&)>& pred) {
  Graph idx(g);
  std::unordered_set<std::string> read_by_subgraphs;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& t : idx.implicit_inputs(i)) read_by_subgraphs.insert(t);
  std::unordered_map<std::string, std::string> alias;
  std::unordered_set<int> drop;
  std::vector<std::string> names;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (n.input_size() < 1 || n.output_size() != 1 || idx.is_graph_output(n.output(0)) ||
        read_by_subgraphs.count(n.output(0)) || !pred(n))
      continue;
    alias[n.output(0)] = n.input(0);
    drop.insert(i);
    names.push_back(n.name());
  }
  if (drop.empty()) return names;
  keep_elements(*g.mutable_node(), [&](int i) { return !drop.count(i); });
  for (auto& n : *g.mutable_node())
    for (auto& x : *n.mutable_input())
      for (auto it = alias.find(x); it != alias.end(); it = alias.find(x)) x = it->second;
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
