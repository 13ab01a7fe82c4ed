// scale-into-weights (NOT exact): a multiply by a constant scalar right after a MatMul, Gemm
// or Conv with constant weights is folded into those weights (and bias): (x W) s -> x (W s).
// Not bit-exact: the product is rounded once per weight instead of once per output element;
// the difference is within a few float32 ulps of the output (measured by `fix --verify`).
// Off unless named: `--passes scale-into-weights`.
// Why: "ew mult layer ... expects 2 inputs but found 1" on scalar attention-scale multiplies
// (HF ViT-L on hailo8) -- research/hailo_ops.md §2; workaround (2) of the ew_mult row.
#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"

namespace npusplit {

namespace {

class ScaleIntoWeights : public Pass {
 public:
  std::string name() const override { return "scale-into-weights"; }
  std::string description() const override {
    return "constant scalar Mul after MatMul/Gemm/Conv -> scaled weights (not bit-exact)";
  }
  bool exact() const override { return false; }
  std::string inexact_reason() const override {
    return "weights are rounded after scaling: outputs may differ by a few float32 ulps";
  }
  std::string source() const override { return "research/hailo_ops.md §2 (ew mult expects 2 inputs), ew_mult workaround (2)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    const Graph& idx = ed.index();
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& mul = g.node(i);
      if (mul.op_type() != "Mul" || mul.input_size() != 2) continue;
      for (int k = 0; k < 2; ++k) {
        const auto* s = ed.constant(mul.input(k));
        if (!s || s->data_type() != onnx::TensorProto::FLOAT || tensor_info_of(*s).numel() != 1) continue;
        const std::string& x = mul.input(1 - k);
        const int p = idx.producer(x);
        if (p < 0 || ed.is_removed(p) || idx.consumers(x).size() != 1 || idx.is_graph_output(x)) continue;
        const auto& prod = g.node(p);
        // A one-element constant of higher rank would broadcast the shape up: not a pure scale.
        if (ed.info(mul.output(0)).dims != ed.info(x).dims || !ed.info(x).is_static()) continue;
        const bool conv = prod.op_type() == "Conv", gemm = prod.op_type() == "Gemm";
        if (!conv && !gemm && prod.op_type() != "MatMul") continue;
        const auto* w = ed.constant(prod.input(1));
        if (!w || w->data_type() != onnx::TensorProto::FLOAT) continue;
        // Each weight may feed only this node, or scaling it would change the others.
        if (idx.consumers(prod.input(1)).size() != 1) continue;
        const float scale = constant_floats(*s)[0];
        onnx::NodeProto np = prod;
        auto wv = constant_floats(*w);
        for (auto& v : wv) v *= scale;
        np.set_input(1, ed.add_floats(w->name() + "/scaled", {w->dims().begin(), w->dims().end()}, wv));
        if ((conv || gemm) && prod.input_size() > 2 && !prod.input(2).empty()) {
          const auto* b = ed.constant(prod.input(2));
          if (!b || idx.consumers(prod.input(2)).size() != 1) continue;
          auto bv = constant_floats(*b);
          for (auto& v : bv) v *= scale;
          np.set_input(2, ed.add_floats(b->name() + "/scaled", {b->dims().begin(), b->dims().end()}, bv));
        }
        std::vector<std::string> ins(np.input().begin(), np.input().end());
        std::vector<Attr> attrs;
        for (const auto& a : np.attribute()) {
          if (a.type() == onnx::AttributeProto::INT) attrs.push_back(Attr::of(a.name(), static_cast<int64_t>(a.i())));
          else if (a.type() == onnx::AttributeProto::FLOAT) attrs.push_back(Attr::of(a.name(), a.f()));
          else if (a.type() == onnx::AttributeProto::INTS)
            attrs.push_back(Attr::of(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end())));
          else if (a.type() == onnx::AttributeProto::STRING) attrs.push_back(Attr::of(a.name(), a.s().c_str()));
        }
        ed.add(prod.op_type(), prod.name() + "/scaled", ins, attrs, {mul.output(0)});
        ed.remove(p);
        ed.remove(i);
        ++r.rewrites;
        r.changes.push_back({prod.name() + " + " + mul.name(), prod.name() + "/scaled"});
        break;
      }
    }
    if (r.rewrites) ed.commit();
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_scale_into_weights_pass() { return std::make_unique<ScaleIntoWeights>(); }

}  // namespace npusplit
