// rope-masked: RoPE's rotate_half, Concat(Neg(x[..., D/2:]), x[..., :D/2]), becomes
// Concat(x[..., D/2:], x[..., :D/2]) times a constant sign vector (-1 for the first half, +1
// for the second). When the result is multiplied by a constant (the sin table), the sign is
// folded into that constant, so no node is added. Exact: multiplying by +-1 only flips signs.
// Why: DFC 5.4 crashes on Neg + Concat (IndexError in fuser.py _handle_neg_feature_shuffle);
// the masked form parsed (rank 3) -- research/hailo_ops.md §2 and "Caveats" (masked RoPE).
#include <map>
#include <optional>

#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"

namespace npusplit {

namespace {

struct SliceSpec {
  int64_t start = 0, end = 0, axis = 0;
  std::string data;
};

std::optional<SliceSpec> last_axis_slice(const GraphEditor& ed, int node) {
  if (node < 0) return std::nullopt;
  const auto& n = ed.graph().node(node);
  if (n.op_type() != "Slice" || n.input_size() < 4) return std::nullopt;
  const auto& in = ed.info(n.input(0));
  if (!in.is_static()) return std::nullopt;
  const auto* s = ed.constant(n.input(1));
  const auto* e = ed.constant(n.input(2));
  const auto* a = ed.constant(n.input(3));
  if (!s || !e || !a) return std::nullopt;
  if (n.input_size() > 4 && !n.input(4).empty()) {
    const auto* st = ed.constant(n.input(4));
    if (!st || tensor_to_int64(*st) != std::vector<int64_t>{1}) return std::nullopt;
  }
  auto sv = tensor_to_int64(*s), ev = tensor_to_int64(*e), av = tensor_to_int64(*a);
  if (sv.size() != 1 || ev.size() != 1 || av.size() != 1) return std::nullopt;
  const int64_t r = in.rank(), dim = in.dims.back();
  int64_t ax = av[0] < 0 ? av[0] + r : av[0];
  if (ax != r - 1) return std::nullopt;
  int64_t st = sv[0] < 0 ? sv[0] + dim : sv[0];
  int64_t en = ev[0] < 0 ? ev[0] + dim : std::min(ev[0], dim);
  return SliceSpec{st, en, ax, n.input(0)};
}

class RopeMasked : public Pass {
 public:
  std::string name() const override { return "rope-masked"; }
  std::string description() const override {
    return "RoPE rotate_half (Slice, Neg, Concat) -> swapped halves times a constant +-1 vector";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §2 (_handle_neg_feature_shuffle, DFC 5.4)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    const Graph& idx = ed.index();
    std::map<std::string, std::string> signed_tables;  // one signed copy per sin table
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& c = g.node(i);
      if (c.op_type() != "Concat" || c.input_size() != 2) continue;
      const auto& out = ed.info(c.output(0));
      if (!out.is_static() || out.dtype != onnx::TensorProto::FLOAT) continue;
      const int64_t rank = out.rank(), D = out.dims.back();
      int64_t axis = attr_int(c, "axis", 0);
      if (axis < 0) axis += rank;
      if (axis != rank - 1 || D % 2) continue;
      const int neg = idx.producer(c.input(0));
      if (neg < 0 || g.node(neg).op_type() != "Neg" || idx.consumers(g.node(neg).output(0)).size() != 1) continue;
      auto hi = last_axis_slice(ed, idx.producer(g.node(neg).input(0)));
      auto lo = last_axis_slice(ed, idx.producer(c.input(1)));
      if (!hi || !lo || hi->data != lo->data || hi->start != D / 2 || hi->end != D || lo->start != 0 ||
          lo->end != D / 2)
        continue;
      std::vector<float> sign(static_cast<size_t>(D), 1.f);
      for (int64_t k = 0; k < D / 2; ++k) sign[k] = -1.f;
      // Concat(second half, first half) under the original Concat's name.
      const std::string swapped = ed.add("Concat", c.name() + "/swap_halves",
                                         {g.node(neg).input(0), c.input(1)}, {Attr::of("axis", axis)});
      // Fold the sign into a following constant multiply when there is exactly one.
      const auto& readers = idx.consumers(c.output(0));
      bool folded = false;
      if (readers.size() == 1 && !idx.is_graph_output(c.output(0))) {
        const auto& mul = g.node(readers[0]);
        const int other = mul.input(0) == c.output(0) ? 1 : 0;
        const auto* k = mul.op_type() == "Mul" && mul.input_size() == 2 ? ed.constant(mul.input(other)) : nullptr;
        const auto& mo = ed.info(mul.output(0));
        if (k && k->data_type() == onnx::TensorProto::FLOAT && mo.is_static() && mo.dims == out.dims &&
            !ed.is_removed(readers[0])) {
          const auto& kd = k->dims();
          if (kd.size() >= 1 && kd[kd.size() - 1] == D) {
            std::string& signed_k = signed_tables[constant_content_key(*k)];
            if (signed_k.empty()) {
              auto vals = constant_floats(*k);
              for (size_t e = 0; e < vals.size(); ++e) vals[e] *= sign[e % D];
              signed_k = ed.add_floats(k->name() + "/signed", {kd.begin(), kd.end()}, vals);
            }
            ed.remove(readers[0]);
            ed.add("Mul", mul.name(), {other == 1 ? swapped : signed_k, other == 1 ? signed_k : swapped}, {},
                   {mul.output(0)});
            folded = true;
          }
        }
      }
      if (!folded) {
        std::vector<int64_t> sd(static_cast<size_t>(rank), 1);
        sd.back() = D;
        ed.add("Mul", c.name() + "/sign", {swapped, ed.add_floats(c.name() + "/sign_vector", sd, sign)}, {},
               {c.output(0)});
      }
      ed.remove(i);
      ed.remove(neg);
      ++r.rewrites;
      r.changes.push_back({g.node(neg).name() + " + " + c.name(),
                           c.name() + "/swap_halves" + (folded ? " (sign folded into the sin table)" : " + sign Mul")});
    }
    if (r.rewrites) ed.commit();
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_rope_masked_pass() { return std::make_unique<RopeMasked>(); }

}  // namespace npusplit
