// broadcast-explicit: a constant operand of an elementwise Mul/Add/Sub/Div that broadcasts
// along the NCHW feature axis, or has a lower rank than the result (e.g. the DINOv3 RoPE
// tables [1,1,1600,64] against [1,3,1600,64]), is replaced by the constant materialised at
// the full result shape. Exact: the same values, only stored explicitly. Constant scalars and
// per-channel constants are left alone (the parser maps them to `normalization`/scalar ops).
// Why: the user's ZeroDivisionError in ew_mult shape handling on the DINOv3 variants (DFC
// 3.33) and "constant shape (a,b,c) not broadcastable" errors after the NHWC re-map --
// research/hailo_ops.md §2 (H2, H3 and workaround (5)).
#include <algorithm>
#include <map>

#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"
#include "npusplit/rules/checks.h"

namespace npusplit {

namespace {

constexpr int64_t kMaxElements = 8 << 20;  // 32 MiB of float per materialised constant

class BroadcastExplicit : public Pass {
 public:
  std::string name() const override { return "broadcast-explicit"; }
  std::string description() const override {
    return "constant operands that broadcast over the feature axis or differ in rank -> full-shape constants";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "user notes (ew_mult ZeroDivisionError, DFC 3.33); research/hailo_ops.md §2 H2/H3, (5)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    std::map<std::pair<std::string, std::vector<int64_t>>, std::string> cache;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& n = g.node(i);
      const std::string& op = n.op_type();
      if ((op != "Mul" && op != "Add" && op != "Sub" && op != "Div") || n.input_size() != 2) continue;
      const auto& out = ed.info(n.output(0));
      if (!out.is_static() || out.rank() == 0 || out.dtype != onnx::TensorProto::FLOAT || out.numel() > kMaxElements)
        continue;
      const int fa = feature_axis(out.rank());
      for (int k = 0; k < 2; ++k) {
        const auto* c = ed.constant(n.input(k));
        const auto& other = ed.info(n.input(1 - k));
        if (!c || c->data_type() != onnx::TensorProto::FLOAT || !other.is_static() || other.dims != out.dims) continue;
        const auto ci = tensor_info_of(*c);
        if (ci.numel() <= 1) continue;  // scalars are fine
        const int lead = out.rank() - ci.rank();
        // Only a constant that really broadcasts to the result (right-aligned, each dim 1 or
        // the result's): a file that declares otherwise is left alone, never read past.
        bool broadcasts = lead >= 0;
        for (int a = 0; a < ci.rank() && broadcasts; ++a)
          broadcasts = ci.dims[a] == 1 || ci.dims[a] == out.dims[a + lead];
        if (!broadcasts) continue;
        const bool rank_differs = lead != 0;
        const bool feature_bcast = fa >= 0 && out.dims[fa] > 1 && (fa - lead < 0 || ci.dims[fa - lead] == 1);
        // Per-channel constants ([C,1,1] or [1,C,1,1] on NCHW, [C] on tokens) are a native form.
        bool per_channel = fa >= 0 && !feature_bcast;
        for (int a = 0; a < out.rank() && per_channel; ++a) {
          const int ca = a - lead;
          const int64_t d = ca >= 0 ? ci.dims[ca] : 1;
          if (a != fa && d != 1) per_channel = false;
        }
        if (!feature_bcast && (!rank_differs || per_channel)) continue;
        std::string& full = cache[{constant_content_key(*c), out.dims}];
        if (full.empty()) {
          const auto src = constant_floats(*c);
          const auto count = static_cast<size_t>(out.numel());
          // Broadcast row by row (right-aligned shapes): each output row is a copy of a source
          // row or one value repeated, the row's source offset kept by an odometer over the
          // outer axes; written straight into the new initializer (the largest tables are 8 MiB).
          full = ed.add_floats(c->name() + "/full", out.dims, [&](float* dst) {
            const int rank = out.rank();
            std::vector<int64_t> stride(rank, 0);  // into SRC per output axis; 0 where it broadcasts
            for (int64_t a = rank - 1, st = 1; a >= 0; --a) {
              const int64_t ca = a - lead;
              if (ca < 0) continue;
              if (ci.dims[ca] != 1) stride[a] = st;
              st *= ci.dims[ca];
            }
            const int64_t row = out.dims[rank - 1];
            std::vector<int64_t> idx(rank, 0);
            int64_t off = 0;
            for (size_t e = 0; e < count; e += static_cast<size_t>(row)) {
              const float* s = src.data() + off;
              if (stride[rank - 1] == 0) std::fill(dst + e, dst + e + row, *s);
              else std::copy(s, s + row, dst + e);
              for (int a = rank - 2; a >= 0; --a) {
                if (++idx[a] < out.dims[a]) {
                  off += stride[a];
                  break;
                }
                off -= stride[a] * (out.dims[a] - 1);
                idx[a] = 0;
              }
            }
          });
        }
        ed.remove(i);
        ed.add(op, n.name(), {k == 0 ? full : n.input(0), k == 1 ? full : n.input(1)}, {}, {n.output(0)});
        ++r.rewrites;
        r.changes.push_back({n.name(), n.name() + " with " + full + " " + dims_str(out.dims)});
        break;
      }
    }
    if (r.rewrites) ed.commit();
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_broadcast_explicit_pass() { return std::make_unique<BroadcastExplicit>(); }

}  // namespace npusplit
