#include "npusplit/ir/builder.h"

#include <random>

namespace npusplit {

ModelBuilder::ModelBuilder(int opset, std::string graph_name) {
  m_.set_ir_version(8);
  m_.set_producer_name("npusplit");
  auto* o = m_.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  m_.mutable_graph()->set_name(std::move(graph_name));
}

namespace {
void set_type(onnx::ValueInfoProto* vi, const std::vector<int64_t>& dims, int32_t dtype, bool with_shape) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype);
  if (!with_shape) return;
  auto* s = tt->mutable_shape();
  for (auto d : dims) {
    auto* dim = s->add_dim();
    if (d >= 0) dim->set_dim_value(d);
    else dim->set_dim_param("N");
  }
}
}  // namespace

std::string ModelBuilder::input(const std::string& name, std::vector<int64_t> dims, int32_t dtype) {
  auto* vi = m_.mutable_graph()->add_input();
  vi->set_name(name);
  set_type(vi, dims, dtype, true);
  return name;
}

void ModelBuilder::output(const std::string& name, std::vector<int64_t> dims, int32_t dtype) {
  auto* vi = m_.mutable_graph()->add_output();
  vi->set_name(name);
  set_type(vi, dims, dtype, !dims.empty());
}

std::string ModelBuilder::weight(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
  auto* t = m_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  return name;
}

std::string ModelBuilder::random_weight(const std::string& name, std::vector<int64_t> dims, float scale, uint32_t seed) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::mt19937 rng(seed ^ static_cast<uint32_t>(std::hash<std::string>{}(name)));
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(rng);
  return weight(name, std::move(dims), v);
}

std::string ModelBuilder::ints(const std::string& name, const std::vector<int64_t>& values, std::vector<int64_t> dims) {
  auto* t = m_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (dims.size() == 1 && dims[0] == -1) dims = {static_cast<int64_t>(values.size())};
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_int64_data(v);
  return name;
}

std::string ModelBuilder::scalar(const std::string& name, float v) { return weight(name, {}, {v}); }

std::vector<std::string> ModelBuilder::node_n(const std::string& op, const std::string& name,
                                              std::vector<std::string> inputs, int n_outputs, std::vector<Attr> attrs) {
  auto* n = m_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : inputs) n->add_input(i);
  std::vector<std::string> outs;
  for (int k = 0; k < n_outputs; ++k) {
    outs.push_back(n_outputs == 1 ? name + "_out" : name + "_out" + std::to_string(k));
    n->add_output(outs.back());
  }
  for (const auto& a : attrs) {
    auto* p = n->add_attribute();
    p->set_name(a.name);
    switch (a.kind) {
      case Attr::Int: p->set_type(onnx::AttributeProto::INT); p->set_i(a.i); break;
      case Attr::Float: p->set_type(onnx::AttributeProto::FLOAT); p->set_f(a.f); break;
      case Attr::Ints: p->set_type(onnx::AttributeProto::INTS); for (auto x : a.ints) p->add_ints(x); break;
      case Attr::Floats: p->set_type(onnx::AttributeProto::FLOATS); for (auto x : a.floats) p->add_floats(x); break;
      case Attr::String: p->set_type(onnx::AttributeProto::STRING); p->set_s(a.s); break;
    }
  }
  return outs;
}

std::string ModelBuilder::node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                               std::vector<Attr> attrs) {
  return node_n(op, name, std::move(inputs), 1, std::move(attrs)).front();
}

}  // namespace npusplit
