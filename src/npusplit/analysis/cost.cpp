#include "npusplit/analysis/cost.h"

#include "npusplit/base/checked_math.h"

namespace npusplit {

namespace {
int64_t numel_of(const ShapeMap& s, const std::string& t) {
  auto it = s.find(t);
  return it == s.end() ? 0 : std::max<int64_t>(it->second.numel(), 0);
}
const TensorInfo* info_of(const ShapeMap& s, const std::string& t) {
  auto it = s.find(t);
  return it == s.end() ? nullptr : &it->second;
}
}  // namespace

int64_t node_flops(const Graph& g, const ShapeMap& s, int i) {
  const auto& n = g.node(i);
  const std::string& op = n.op_type();
  if (n.output_size() == 0) return 0;
  const int64_t out = numel_of(s, n.output(0));
  // Saturating arithmetic throughout: shapes come from the model file, and a hostile one must
  // give a huge figure, never an overflow.
  if (op == "Conv" || op == "ConvTranspose") {
    const auto* w = info_of(s, n.input(1));
    if (!w || !w->is_static() || w->dims.size() < 3) return 0;
    int64_t k = 1;
    for (size_t d = 1; d < w->dims.size(); ++d) k = sat_mul(k, w->dims[d]);  // Cin/group * kh * kw
    if (op == "ConvTranspose") return sat_mul(sat_mul(2, numel_of(s, n.input(0))), k);
    return sat_mul(sat_mul(2, out), k);
  }
  if (op == "MatMul" || op == "Gemm") {
    const auto* a = info_of(s, n.input(0));
    if (!a || !a->is_static() || a->dims.empty()) return 0;
    int64_t kdim = a->dims.back();
    if (op == "Gemm" && attr_int(n, "transA", 0)) kdim = a->dims.front();
    return sat_mul(sat_mul(2, out), kdim);
  }
  if (op == "Shape" || op == "Reshape" || op == "Identity" || op == "Squeeze" || op == "Unsqueeze" ||
      op == "Flatten" || op == "Constant")
    return 0;
  if (op == "Softmax" || op == "LayerNormalization" || op == "GridSample") return sat_mul(5, out);
  if (op.rfind("Reduce", 0) == 0 || op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return numel_of(s, n.input(0));
  if (op == "AveragePool" || op == "MaxPool") {
    auto k = attr_ints(n, "kernel_shape");
    int64_t kk = 1;
    if (k)
      for (auto x : *k) kk = sat_mul(kk, x);
    return sat_mul(out, kk);
  }
  return out;  // elementwise and data movement: one op per output element
}

std::vector<int64_t> graph_flops(const Graph& g, const ShapeMap& s) {
  std::vector<int64_t> f(g.node_count());
  for (int i = 0; i < g.node_count(); ++i) f[i] = node_flops(g, s, i);
  return f;
}

int64_t tensor_bytes(const ShapeMap& s, const std::string& t) {
  auto it = s.find(t);
  return it == s.end() ? -1 : it->second.bytes();
}

int64_t parameter_count(const onnx::GraphProto& g) {
  auto elements = [](const onnx::TensorProto& t) {
    int64_t k = 1;
    for (auto d : t.dims()) k = sat_mul(k, d);
    return k;
  };
  int64_t n = 0;
  for (const auto& t : g.initializer()) n = sat_add(n, elements(t));
  // Some exporters store every weight as a Constant node instead of an initializer.
  for (const auto& node : g.node()) {
    if (node.op_type() != "Constant" || !(node.domain().empty() || node.domain() == "ai.onnx")) continue;
    for (const auto& a : node.attribute()) {
      if (a.name() == "value" && a.has_t()) n = sat_add(n, elements(a.t()));
      else if (a.name() == "value_floats") n = sat_add(n, a.floats_size());
      else if (a.name() == "value_ints") n = sat_add(n, a.ints_size());
      else if (a.name() == "value_float" || a.name() == "value_int") n = sat_add(n, 1);
    }
  }
  return n;
}

}  // namespace npusplit
