#include "npusplit/quant/qdq.h"

#include <fmt/format.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <set>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/error.h"
#include "npusplit/passes/editor.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

namespace {

int64_t default_opset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return 0;
}

// Element type of every tensor the model declares or ONNX infers.
std::unordered_map<std::string, int32_t> tensor_types(const onnx::ModelProto& m) {
  onnx::ModelProto copy = m;
  try {
    onnx::shape_inference::InferShapes(copy);
  } catch (const std::exception&) {
    // keep what the model declares
  }
  std::unordered_map<std::string, int32_t> t;
  const auto take = [&](const onnx::ValueInfoProto& vi) {
    if (vi.type().has_tensor_type()) t[vi.name()] = vi.type().tensor_type().elem_type();
  };
  for (const auto& vi : copy.graph().input()) take(vi);
  for (const auto& vi : copy.graph().output()) take(vi);
  for (const auto& vi : copy.graph().value_info()) take(vi);
  for (const auto& init : copy.graph().initializer()) t[init.name()] = init.data_type();
  return t;
}

onnx::TensorProto scalar_tensor(const std::string& name, int32_t dtype, double v) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(dtype);
  switch (dtype) {
    case onnx::TensorProto::FLOAT: t.add_float_data(float(v)); break;
    default: t.add_int32_data(int32_t(v)); break;  // (u)int8/16 zero points live in int32_data
  }
  return t;
}

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> in,
                          std::vector<std::string> out, int64_t axis = -999) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : in) n.add_input(i);
  for (auto& o : out) n.add_output(o);
  if (axis != -999) {
    auto* a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return n;
}

}  // namespace

std::vector<std::string> activation_tensors(const onnx::ModelProto& m) {
  const auto& g = m.graph();
  const auto types = tensor_types(m);
  std::unordered_set<std::string> inits, dynamic;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  std::vector<std::string> out;
  const auto is_float = [&](const std::string& n) {
    auto it = types.find(n);
    return it != types.end() && it->second == onnx::TensorProto::FLOAT;
  };
  for (const auto& vi : g.input()) {
    if (inits.count(vi.name())) continue;
    dynamic.insert(vi.name());
    if (is_float(vi.name())) out.push_back(vi.name());
  }
  for (const auto& n : g.node()) {
    bool reads = false;
    for (const auto& i : n.input()) reads |= dynamic.count(i) > 0;
    if (!reads) continue;
    for (const auto& o : n.output()) {
      if (o.empty()) continue;
      dynamic.insert(o);
      if (is_float(o)) out.push_back(o);
    }
  }
  return out;
}

onnx::ModelProto expose_tensors(const onnx::ModelProto& m, const std::vector<std::string>& names) {
  onnx::ModelProto c = m;
  auto* g = c.mutable_graph();
  std::unordered_set<std::string> outs;
  for (const auto& o : g->output()) outs.insert(o.name());
  std::unordered_map<std::string, const onnx::ValueInfoProto*> vis;
  for (const auto& vi : m.graph().value_info()) vis[vi.name()] = &vi;
  for (const auto& vi : m.graph().input()) vis[vi.name()] = &vi;
  for (const auto& n : names) {
    if (outs.count(n)) continue;
    auto* o = g->add_output();
    auto it = vis.find(n);
    if (it != vis.end()) {
      *o = *it->second;
    } else {
      o->set_name(n);
      o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    }
    outs.insert(n);
  }
  return c;
}

std::vector<std::string> layer_outputs(const onnx::ModelProto& m, const std::vector<std::string>& activations) {
  const auto& g = m.graph();
  static const std::set<std::string> unary = {"BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Sigmoid",
                                              "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu", "Selu",
                                              "Softplus", "Mish", "Gelu"};
  static const std::set<std::string> with_constant = {"Add", "Sub", "Mul", "Div"};
  std::unordered_set<std::string> consts, outputs, act(activations.begin(), activations.end());
  for (const auto& t : g.initializer()) consts.insert(t.name());
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& o : n.output()) consts.insert(o);
  for (const auto& o : g.output()) outputs.insert(o.name());
  std::unordered_map<std::string, std::vector<const onnx::NodeProto*>> readers;
  for (const auto& n : g.node())
    for (const auto& i : n.input()) readers[i].push_back(&n);
  // x * gate(x): SiLU (x * Sigmoid(x), DEIMv2), hard-swish as PicoDet's opset-13 export writes it
  // (x * Clip(x + 3, 0, 6) / 6) or x * HardSigmoid(x): one activation function of the DFC, so
  // neither x nor the gate's inner tensors are stored.
  const auto elementwise_step = [&](const onnx::NodeProto& n, const std::string& in) {
    if (n.output_size() != 1 || n.input_size() == 0 || n.input(0) != in) {
      if (!(with_constant.count(n.op_type()) && n.input_size() == 2 && n.input(1) == in && consts.count(n.input(0))))
        return false;
    }
    if (unary.count(n.op_type())) return true;
    if (with_constant.count(n.op_type()) && n.input_size() == 2) {
      const std::string& other = n.input(0) == in ? n.input(1) : n.input(0);
      return consts.count(other) > 0;
    }
    return false;
  };
  std::unordered_set<std::string> gated;
  for (const auto& t : activations) {
    const auto& r = readers[t];
    if (outputs.count(t) || r.size() != 2) continue;
    for (int gi = 0; gi < 2; ++gi) {
      const auto* step = r[size_t(gi)];
      const auto& mul = *r[size_t(1 - gi)];
      if (mul.op_type() != "Mul" || mul.input_size() != 2) continue;
      std::vector<std::string> chain;
      std::string cur = t;
      for (int len = 0; len < 4 && step && elementwise_step(*step, cur); ++len) {
        cur = step->output(0);
        chain.push_back(cur);
        if (outputs.count(cur)) break;
        const auto& next = readers[cur];
        const bool into_mul = next.size() == 1 && next[0] == &mul;
        if (into_mul) break;
        step = next.size() == 1 ? next[0] : nullptr;
      }
      if (chain.empty() || outputs.count(cur)) continue;
      const bool closes = (mul.input(0) == t && mul.input(1) == cur) || (mul.input(1) == t && mul.input(0) == cur);
      if (!closes || readers[cur].size() != 1) continue;
      gated.insert(t);
      for (const auto& c : chain) gated.insert(c);
    }
  }
  std::vector<std::string> keep;
  for (const auto& t : activations) {
    const auto& r = readers[t];
    if (gated.count(t)) continue;
    bool fused = !outputs.count(t) && r.size() == 1;
    if (fused) {
      const auto& n = *r.front();
      if (unary.count(n.op_type())) {
        // PRelu/Clip/BN parameters are constants; the activation is the data input.
        fused = n.input(0) == t;
      } else if (with_constant.count(n.op_type()) && n.input_size() == 2) {
        const std::string& other = n.input(0) == t ? n.input(1) : n.input(0);
        fused = consts.count(other) > 0 && !act.count(other);
      } else {
        fused = false;
      }
    }
    if (!fused) keep.push_back(t);
  }
  return keep;
}

QdqResult insert_qdq(const onnx::ModelProto& m, const QdqPlan& plan) {
  const int64_t opset = default_opset(m);
  if (opset < 13)
    fail("quant: stage1 is at opset {}: per-channel QuantizeLinear needs opset 13 or later (split --stage1-opset 13)",
         opset);
  if (plan.activation_bits == 16 && opset < 21)
    fail("quant: 16-bit QuantizeLinear needs opset 21; stage1 is at opset {}", opset);
  QdqResult r;
  r.model = m;
  auto* g = r.model.mutable_graph();
  constants_to_initializers(*g);

  const int32_t act_type = plan.activation_bits == 16 ? onnx::TensorProto::UINT16 : onnx::TensorProto::UINT8;
  const int32_t w_type = plan.weight_bits == 16 ? onnx::TensorProto::INT16 : onnx::TensorProto::INT8;
  std::unordered_map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g->initializer()) inits[t.name()] = &t;
  std::unordered_set<std::string> graph_inputs;
  for (const auto& vi : g->input())
    if (!inits.count(vi.name())) graph_inputs.insert(vi.name());

  std::vector<onnx::TensorProto> new_inits;
  std::vector<onnx::NodeProto> front;  // Q/DQ of graph inputs
  std::unordered_map<std::string, std::string> input_renamed;
  const auto qdq_nodes = [&](const std::string& base, const std::string& in, const std::string& out,
                             const QuantParams& p) {
    const std::string s = base + "/npusplit_q/scale", z = base + "/npusplit_q/zero_point";
    new_inits.push_back(scalar_tensor(s, onnx::TensorProto::FLOAT, p.scale));
    new_inits.push_back(scalar_tensor(z, act_type, p.zero_point));
    return std::vector<onnx::NodeProto>{
        make_node("QuantizeLinear", base + "/npusplit_q/Quantize", {in, s, z}, {base + "/npusplit_q/quantized"}),
        make_node("DequantizeLinear", base + "/npusplit_q/Dequantize", {base + "/npusplit_q/quantized", s, z}, {out})};
  };
  for (const auto& [t, p] : plan.activations) {
    if (!graph_inputs.count(t)) continue;
    const std::string dq = t + "/npusplit_q/dequantized";
    for (auto& n : qdq_nodes(t, t, dq, p)) front.push_back(std::move(n));
    input_renamed[t] = dq;
    ++r.activation_pairs;
  }

  // Weights: one Q/DQ per initializer, shared by every node reading it.
  std::unordered_map<std::string, std::string> weight_dq;
  std::vector<onnx::NodeProto> weight_nodes;
  if (plan.quantize_weights) {
    for (auto& n : *g->mutable_node()) {
      const std::string& op = n.op_type();
      if (op != "Conv" && op != "ConvTranspose" && op != "Gemm" && op != "MatMul") continue;
      if (n.input_size() < 2) continue;
      const std::string w = n.input(1);
      auto it = inits.find(w);
      if (it == inits.end() || it->second->data_type() != onnx::TensorProto::FLOAT) continue;
      if (weight_dq.count(w)) {
        n.set_input(1, weight_dq[w]);
        continue;
      }
      const auto& t = *it->second;
      const std::vector<float> v = constant_floats(t);
      std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
      int64_t axis = -1;
      if (plan.weights == WeightGranularity::per_channel && !dims.empty()) {
        int64_t group = 1;
        for (const auto& a : n.attribute())
          if (a.name() == "group") group = a.i();
        if (op == "Conv") axis = 0;
        else if (op == "ConvTranspose" && group == 1 && dims.size() >= 2) axis = 1;
        else if (op == "Gemm") {
          int64_t trans_b = 0;
          for (const auto& a : n.attribute())
            if (a.name() == "transB") trans_b = a.i();
          axis = dims.size() == 2 ? (trans_b ? 0 : 1) : -1;
        } else if (op == "MatMul" && dims.size() == 2) axis = 1;
      }
      std::vector<float> abs_max(axis >= 0 ? size_t(dims[size_t(axis)]) : 1, 0.0f);
      int64_t inner = 1, outer = 1;
      if (axis >= 0) {
        for (size_t d = size_t(axis) + 1; d < dims.size(); ++d) inner *= dims[d];
        for (size_t d = 0; d < size_t(axis); ++d) outer *= dims[d];
      }
      for (size_t i = 0; i < v.size(); ++i) {
        const size_t c = axis >= 0 ? size_t((int64_t(i) / inner) % dims[size_t(axis)]) : 0;
        if (std::isfinite(v[i])) abs_max[c] = std::max(abs_max[c], std::abs(v[i]));
      }
      const std::string s = w + "/npusplit_q/scale", z = w + "/npusplit_q/zero_point";
      onnx::TensorProto st, zt;
      st.set_name(s);
      st.set_data_type(onnx::TensorProto::FLOAT);
      zt.set_name(z);
      zt.set_data_type(w_type);
      if (axis >= 0) {
        st.add_dims(int64_t(abs_max.size()));
        zt.add_dims(int64_t(abs_max.size()));
      }
      for (float a : abs_max) {
        st.add_float_data(weight_params(a, plan.weight_bits).scale);
        zt.add_int32_data(0);
      }
      new_inits.push_back(st);
      new_inits.push_back(zt);
      const std::string dq = w + "/npusplit_q/dequantized";
      weight_nodes.push_back(make_node("QuantizeLinear", w + "/npusplit_q/Quantize", {w, s, z},
                                       {w + "/npusplit_q/quantized"}, axis >= 0 ? axis : -999));
      weight_nodes.push_back(make_node("DequantizeLinear", w + "/npusplit_q/Dequantize",
                                       {w + "/npusplit_q/quantized", s, z}, {dq}, axis >= 0 ? axis : -999));
      weight_dq[w] = dq;
      n.set_input(1, dq);
      ++r.weight_pairs;
    }
  }

  // Activations produced by nodes: the producer writes T/npusplit_q/float, the pair writes T.
  std::vector<onnx::NodeProto> nodes;
  nodes.reserve(size_t(g->node_size()) * 3 + front.size() + weight_nodes.size());
  for (auto& n : front) nodes.push_back(std::move(n));
  for (auto& n : weight_nodes) nodes.push_back(std::move(n));
  for (auto& n : *g->mutable_node()) {
    for (int i = 0; i < n.input_size(); ++i) {
      auto it = input_renamed.find(n.input(i));
      if (it != input_renamed.end()) n.set_input(i, it->second);
    }
    std::vector<onnx::NodeProto> after;
    for (int o = 0; o < n.output_size(); ++o) {
      auto it = plan.activations.find(n.output(o));
      if (it == plan.activations.end() || graph_inputs.count(n.output(o))) continue;
      const std::string t = n.output(o), f = t + "/npusplit_q/float";
      n.set_output(o, f);
      for (auto& q : qdq_nodes(t, f, t, it->second)) after.push_back(std::move(q));
      ++r.activation_pairs;
    }
    nodes.push_back(std::move(n));
    for (auto& q : after) nodes.push_back(std::move(q));
  }
  g->clear_node();
  for (auto& n : nodes) *g->add_node() = std::move(n);
  for (auto& t : new_inits) *g->add_initializer() = std::move(t);
  if (size_t(r.activation_pairs) < plan.activations.size())
    r.notes.push_back(fmt::format("{} planned activation(s) were not found in the graph",
                                  plan.activations.size() - size_t(r.activation_pairs)));
  return r;
}

}  // namespace npusplit
