#include "npusplit/shapes/node_inference.h"

#include <spdlog/spdlog.h>

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/io/model_io.h"
#include "npusplit/ir/graph.h"

namespace npusplit {

namespace {

// The TypeProto onnx's inference reads: the same encoding value_info gets.
onnx::TypeProto type_of(const TensorInfo& t) {
  onnx::ValueInfoProto vi;
  set_value_info_type(vi, t);
  return std::move(*vi.mutable_type());
}

}  // namespace

bool node_inference_allowed(const onnx::NodeProto& n) {
  if (!(n.domain().empty() || n.domain() == "ai.onnx")) return false;
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return false;
  // An allow-list, not a deny-list: this inference runs in npusplit's own process (the full one
  // runs in a child, isolated_inference.h), so only ops whose inference reads nothing beyond
  // its declared inputs and attributes, on a model validate.h has checked. Resize reads
  // `scales`/`sizes` by the input's rank (onnx 1.12 overflowed on a short one): infer_node
  // takes it only with constant ones of exactly that length. Upsample, control flow, sequences
  // and Einsum's equation parser are left to the full inference.
  static const std::unordered_set<std::string> kAllowed = {
      // elementwise
      "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Softplus",
      "HardSigmoid", "HardSwish", "Mish", "Gelu", "Sin", "Cos", "Floor", "Ceil", "Round", "Sign", "Clip", "Not",
      "Identity", "Cast", "Dropout", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Equal", "Less",
      "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "IsNaN", "IsInf",
      // shape and data movement
      "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather",
      "GatherElements", "Expand", "Tile", "Pad", "Shape", "Size", "DepthToSpace", "SpaceToDepth",
      // reductions and normalizations
      "ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL2", "ArgMax", "ArgMin", "TopK",
      "Softmax", "LogSoftmax", "LayerNormalization", "BatchNormalization", "InstanceNormalization",
      // linear algebra, convolution, pooling, sampling
      "MatMul", "Gemm", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
      "GridSample", "Resize"};
  return kAllowed.count(n.op_type()) > 0;
}

std::vector<TensorInfo> infer_node(const onnx::NodeProto& n, const std::vector<const TensorInfo*>& inputs,
                                   const std::vector<const onnx::TensorProto*>& data, int64_t opset) {
  if (!node_inference_allowed(n) || static_cast<int>(inputs.size()) != n.input_size() ||
      data.size() != inputs.size())
    return {};
  if (n.op_type() == "Resize") {
    // roi, scales, sizes: absent, or constants of the length the inference will read.
    if (!inputs[0] || inputs[0]->dims.empty()) return {};
    const int64_t rank = int64_t(inputs[0]->dims.size());
    for (int k = 1; k < n.input_size() && k <= 3; ++k) {
      if (n.input(k).empty()) continue;
      if (!data[size_t(k)] || !inputs[size_t(k)]) return {};
      const int64_t len = inputs[size_t(k)]->numel();
      if (len != 0 && len != (k == 1 ? 2 * rank : rank)) return {};
    }
  }
  const auto* schema = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(opset), "");
  if (!schema || !schema->has_type_and_shape_inference_function()) return {};
  std::vector<onnx::TypeProto> types(inputs.size());
  std::unordered_map<std::string, onnx::TypeProto*> types_by_name;
  std::unordered_map<std::string, const onnx::TensorProto*> data_by_name;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = n.input(static_cast<int>(i));
    if (name.empty() || !inputs[i]) continue;
    types[i] = type_of(*inputs[i]);
    types_by_name[name] = &types[i];
    if (data[i]) data_by_name[name] = data[i];
  }
  onnx::NodeProto node = n;  // the context wants a mutable node
  const onnx::ShapeInferenceOptions opts(false, 1, false);
  onnx::shape_inference::InferenceContextImpl ctx(node, types_by_name, data_by_name, {}, opts);
  try {
    schema->GetTypeAndShapeInferenceFunction()(ctx);
  } catch (...) {
    return {};  // the next full inference decides
  }
  std::vector<TensorInfo> out;
  out.reserve(n.output_size());
  for (int i = 0; i < n.output_size(); ++i) out.push_back(tensor_info_of(*ctx.getOutputType(static_cast<size_t>(i))));
  return out;
}

}  // namespace npusplit

namespace npusplit {

namespace {
bool same_info(const TensorInfo& a, const TensorInfo& b) {
  return a.dtype == b.dtype && a.has_rank == b.has_rank && a.dims == b.dims;
}
}  // namespace

GraphFingerprint fingerprint(const onnx::GraphProto& g) {
  GraphFingerprint f;
  f.by_output.reserve(static_cast<size_t>(g.node_size()));
  for (const auto& n : g.node()) {
    if (n.output_size() > 0) f.by_output.emplace(n.output(0), n.SerializeAsString());
    for (const auto& o : n.output())
      if (!o.empty()) f.computed.insert(o);
  }
  return f;
}

bool refresh_shapes(const onnx::ModelProto& m, const GraphFingerprint& before, ShapeMap& shapes,
                    std::unordered_set<std::string>* partial) {
  const auto& g = m.graph();
  const int64_t opset = default_opset(m);
  std::unordered_set<std::string> changed;  // tensors whose facts differ from SHAPES' old ones
  std::unordered_map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g.initializer()) {
    inits.emplace(t.name(), &t);
    const TensorInfo info = tensor_info_of(t);
    auto it = shapes.find(t.name());
    if (it == shapes.end() || !same_info(it->second, info)) {
      shapes[t.name()] = info;
      changed.insert(t.name());
    } else if (before.computed.count(t.name())) {
      changed.insert(t.name());  // folded: same shape, but its readers now see its value
    }
  }
  for (const auto& v : g.input()) {
    if (inits.count(v.name())) continue;
    const TensorInfo info = tensor_info_of(v.type());
    auto it = shapes.find(v.name());
    if (it == shapes.end() || !same_info(it->second, info)) {
      shapes[v.name()] = info;
      changed.insert(v.name());
    }
  }
  Graph idx(g);
  for (int i : idx.topo_order()) {
    const auto& n = g.node(i);
    if (n.output_size() == 0) continue;
    bool dirty = false;
    if (auto it = before.by_output.find(n.output(0)); it == before.by_output.end() || it->second != n.SerializeAsString())
      dirty = true;
    for (const auto& in : n.input()) dirty |= !in.empty() && changed.count(in) > 0;
    for (const auto& o : n.output()) dirty |= !o.empty() && !shapes.count(o);
    if (!dirty) continue;
    std::vector<const TensorInfo*> in_shapes;
    std::vector<const onnx::TensorProto*> in_data;
    for (const auto& in : n.input()) {
      const TensorInfo* s = nullptr;
      if (!in.empty()) {
        auto it = shapes.find(in);
        if (it == shapes.end()) {
          spdlog::debug("refresh shapes: {} ({}) reads '{}', whose shape is unknown", n.name(), n.op_type(), in);
          return false;
        }
        s = &it->second;
      }
      in_shapes.push_back(s);
      auto d = in.empty() ? inits.end() : inits.find(in);
      in_data.push_back(d == inits.end() ? nullptr : d->second);
    }
    const auto outs = infer_node(n, in_shapes, in_data, opset);
    if (static_cast<int>(outs.size()) != n.output_size()) {
      spdlog::debug("refresh shapes: {} ({}) cannot be inferred node by node", n.name(), n.op_type());
      return false;
    }
    for (int k = 0; k < n.output_size(); ++k) {
      const std::string& o = n.output(k);
      if (o.empty()) continue;
      // Less than a full static shape: the full inference (with its data propagation) may know
      // more, so it decides.
      if (!outs[k].dtype || !outs[k].is_static()) {
        if (!partial || !outs[k].dtype) {
          spdlog::debug("refresh shapes: {} ({}) output '{}' is not fully static node by node", n.name(), n.op_type(), o);
          return false;
        }
        // Folding only makes shapes better known: a static shape an earlier full inference gave
        // stays. Otherwise the partial one is kept, and the caller decides when the full
        // inference runs.
        if (auto it = shapes.find(o); it != shapes.end() && it->second.dtype && it->second.is_static()) continue;
        if (partial->empty())
          spdlog::debug("refresh shapes: {} ({}) output '{}' (and what reads it) partial for now", n.name(),
                        n.op_type(), o);
        partial->insert(o);
      } else if (partial) {
        partial->erase(o);
      }
      auto it = shapes.find(o);
      if (it == shapes.end() || !same_info(it->second, outs[k])) {
        shapes[o] = outs[k];
        changed.insert(o);
      }
    }
  }
  return true;
}

}  // namespace npusplit
