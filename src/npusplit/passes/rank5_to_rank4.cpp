// rank5-to-rank4: the ViT attention export `qkv.reshape(B,N,3,H,hd).permute(2,0,3,1,4)` +
// unbind (Reshape -> 5-D Transpose -> Split on axis 0 -> Squeeze) becomes, per q/k/v, a Slice
// of the channel axis of the rank-3 qkv tensor, a feature-split Reshape [1,N,H,hd] and the
// heads Transpose [0,2,1,3]: the same values, never above rank 4, never touching the batch axis.
// Why: 5-D intermediates fail (UnsupportedShuffleLayerError; "Gather operation on the batch
// dimension is not supported" for off-the-shelf ViT qkv; the user's Slice on axis 4) --
// research/hailo_ops.md §0.2, §1 Reshape/Slice rows, §2 workaround (4); DINOv3 attention:
// https://github.com/PINTO0309/DEIMv2/blob/main/engine/backbone/dinov3/layers/attention.py
#include "npusplit/io/model_io.h"
#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"

namespace npusplit {

namespace {

class Rank5ToRank4 : public Pass {
 public:
  std::string name() const override { return "rank5-to-rank4"; }
  std::string description() const override {
    return "5-D qkv reshape + permute + unbind -> channel slices + rank-4 head reshapes";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §0.2, §1 Reshape/Slice, §2 (4); user notes (Slice axis 4)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    if (default_opset(m) < 10) return r;  // it writes Slice with starts/ends inputs (opset 10+)
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    const Graph& idx = ed.index();
    auto only_reader = [&](const std::string& t) -> int {
      const auto& c = idx.consumers(t);
      return (c.size() == 1 && !idx.is_graph_output(t)) ? c[0] : -1;
    };
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& rs = g.node(i);
      if (rs.op_type() != "Reshape") continue;
      const auto& in = ed.info(rs.input(0));
      const auto& out = ed.info(rs.output(0));
      if (!in.is_static() || !out.is_static() || in.rank() != 3 || out.rank() != 5) continue;
      const int64_t N = in.dims[1], S = out.dims[2], H = out.dims[3], D = out.dims[4];
      if (in.dims[0] != 1 || out.dims[0] != 1 || out.dims[1] != N || in.dims[2] != S * H * D) continue;
      // Form A (timm/DINOv3-S): Transpose [2,0,3,1,4] -> Split(axis 0) -> Squeeze(0): q/k/v
      // come out as [1,H,N,D]. Form B (DINOv3-L/X export): Split(axis 2) -> Squeeze(2): q/k/v
      // come out as [1,N,H,D].
      int ti = only_reader(rs.output(0));
      if (ti < 0) continue;
      int si = -1;
      int64_t split_axis = 0;
      bool form_a = false;
      if (g.node(ti).op_type() == "Transpose") {
        const auto perm = attr_ints(g.node(ti), "perm");
        if (!perm || *perm != std::vector<int64_t>{2, 0, 3, 1, 4}) continue;
        si = only_reader(g.node(ti).output(0));
        form_a = true;
      } else if (g.node(ti).op_type() == "Split") {
        si = ti;
        ti = -1;
        split_axis = 2;
      } else {
        continue;
      }
      if (si < 0 || g.node(si).op_type() != "Split" || g.node(si).output_size() != S) continue;
      {
        int64_t ax = attr_int(g.node(si), "axis", 0);
        if (ax < 0) ax += 5;
        if (ax != split_axis) continue;
      }
      const auto& sp = g.node(si);
      // Each part must be squeezed on the split axis and nothing else.
      std::vector<int> squeezes;
      for (const auto& part : sp.output()) {
        const int qi = only_reader(part);
        if (qi < 0 || g.node(qi).op_type() != "Squeeze") break;
        const auto& q = g.node(qi);
        std::vector<int64_t> ax;
        if (auto a = attr_ints(q, "axes")) ax = *a;
        else if (q.input_size() > 1 && ed.constant(q.input(1))) ax = tensor_to_int64(*ed.constant(q.input(1)));
        for (auto& a : ax)
          if (a < 0) a += 5;
        if (ax != std::vector<int64_t>{split_axis}) break;
        squeezes.push_back(qi);
      }
      if (static_cast<int64_t>(squeezes.size()) != S) continue;
      const std::string base = sp.name();
      std::string after;
      for (int64_t k = 0; k < S; ++k) {
        const auto& q = g.node(squeezes[k]);
        const std::string sl = ed.add("Slice", base + "/slice" + std::to_string(k),
                                      {rs.input(0), ed.add_ints(base + "/starts", {k * H * D}),
                                       ed.add_ints(base + "/ends", {(k + 1) * H * D}), ed.add_ints(base + "/axes", {2})});
        ed.remove(squeezes[k]);
        if (form_a) {
          const std::string heads = ed.add("Reshape", base + "/heads" + std::to_string(k),
                                           {sl, ed.add_ints(base + "/heads_shape", {1, N, H, D})});
          ed.add("Transpose", q.name(), {heads}, {Attr::of("perm", std::vector<int64_t>{0, 2, 1, 3})}, {q.output(0)});
        } else {
          ed.add("Reshape", q.name(), {sl, ed.add_ints(base + "/heads_shape", {1, N, H, D})}, {}, {q.output(0)});
        }
        after += (k ? ", " : "") + base + "/slice" + std::to_string(k);
      }
      ed.remove(i);
      if (ti >= 0) ed.remove(ti);
      ed.remove(si);
      ++r.rewrites;
      r.changes.push_back({rs.name() + (ti >= 0 ? " + " + g.node(ti).name() : std::string()) + " + " + sp.name(), after});
    }
    if (r.rewrites) ed.commit();
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_rank5_to_rank4_pass() { return std::make_unique<Rank5ToRank4>(); }

}  // namespace npusplit
