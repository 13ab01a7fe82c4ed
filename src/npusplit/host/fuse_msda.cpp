// fuse-msda: the exported deformable attention of DETR decoders (Deformable DETR's
// ms_deform_attn_core, RT-DETR/D-FINE/DEIMv2's deformable_attention_core_func_v2) written out by
// torch.onnx as
//
//   locations [B,Q,H,P,2] -> (*2 -1) -> Transpose(0,2,1,3,4) -> Reshape [B*H,Q,P,2] -> Split per level
//   value_l [B*H,C,h,w]  --GridSample(value_l, grid_l)--> [B*H,C,Q,P_l] -> Concat(levels, axis -1)
//   weights [B,Q,H,P] (Softmax) -> Transpose(0,2,1,3) -> Reshape [B*H,1,Q,P]
//   Mul -> ReduceSum(-1) [B*H,C,Q] -> Reshape [B,H*C,Q] -> Transpose(0,2,1) -> [B,Q,H*C]
//
// becomes one MultiScaleDeformableAttention node that reads the locations before the *2-1, the
// weights before the Softmax, and the value channels-last: straight from the [B,S,H,C] tensor
// the per-level maps were sliced from when the export has it (DEIMv2), else through one added
// Transpose per distinct map (shared by every layer that samples it).
#include "npusplit/host/fuse_msda.h"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>

#include "npusplit/ir/graph.h"
#include "npusplit/passes/editor.h"
#include "npusplit/ort/msda_op.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

namespace {

using Dims = std::vector<int64_t>;

struct Match {
  int tail = -1;                 // the final Transpose (its output becomes the fused node's)
  std::string output, name;
  std::string locations, weights;
  bool unit = false, softmax = false;
  // Box-relative points (D-FINE/DEIMv2): locations = ref_xy + ((offsets * scale) * ref_wh) * half.
  std::string reference;
  std::vector<float> point_scale;  // [H, P, 2]
  float offset_scale = 0.5f;
  std::vector<std::string> maps;  // GridSample X inputs [B*H,C,h,w], one per level
  std::string bshc_value;         // the [B,S,H,C] tensor they were sliced from, when found
  Dims starts, points, spatial;
  int64_t align = 0;
  std::string padding;
};

class Matcher {
 public:
  Matcher(const Graph& g, const ShapeMap& s, int64_t opset) : g_(g), s_(s), opset_(opset) {}

  // The match rooted at ReduceSum node R, or the reason there is none (empty: not this pattern
  // at all, so nothing to report).
  std::optional<Match> match(int r, std::string& why) const {
    const auto& red = g_.node(r);
    if (red.op_type() != "ReduceSum" || red.input_size() < 1) return {};
    const auto* mul = node_of(red.input(0));
    if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2) return {};
    // Which side of the Mul holds the samples.
    int cat_side = -1;
    for (int k = 0; k < 2; ++k) {
      const auto* p = node_of(mul->input(k));
      if (p && (p->op_type() == "GridSample" || (p->op_type() == "Concat" && all_gridsample(*p)))) cat_side = k;
    }
    if (cat_side < 0) return {};
    // From here on it is a GridSample attention: say why when it is not fused.
    const auto* cat = node_of(mul->input(cat_side));
    std::vector<const onnx::NodeProto*> gs;
    if (cat->op_type() == "GridSample") {
      gs.push_back(cat);
    } else {
      const auto& ci = info(cat->output(0));
      if (!ci.has_rank || !last_axis(attr_int(*cat, "axis", 0), ci.rank())) return fail(why, "Concat is not on the last axis");
      for (const auto& in : cat->input()) gs.push_back(node_of(in));
    }
    Match m;
    m.align = attr_int(*gs[0], "align_corners", 0);
    m.padding = attr_string(*gs[0], "padding_mode", "zeros");
    for (const auto* n : gs) {
      const std::string mode = attr_string(*n, "mode", opset_ >= 20 ? "linear" : "bilinear");
      if (mode != "bilinear" && mode != "linear") return fail(why, "GridSample mode " + mode);
      if (attr_int(*n, "align_corners", 0) != m.align || attr_string(*n, "padding_mode", "zeros") != m.padding)
        return fail(why, "the levels' GridSample attributes differ");
      if (!single_reader(n->output(0))) return fail(why, "a GridSample output has other readers");
    }
    if (m.padding != "zeros" && m.padding != "border") return fail(why, "padding_mode " + m.padding);

    // Reduction over the points, and the output tail.
    const auto& ri = info(red.input(0));
    if (!ri.is_static() || ri.rank() != 4) return fail(why, "the product has no static rank-4 shape");
    Dims axes;
    if (auto a = attr_ints(red, "axes")) axes = *a;
    else if (red.input_size() > 1 && constant_ints(red.input(1))) axes = *constant_ints(red.input(1));
    if (axes.size() != 1 || !last_axis(axes[0], 4)) return fail(why, "ReduceSum is not over the last axis only");
    const int64_t N = ri.dims[0], C = ri.dims[1], Q = ri.dims[2], P = ri.dims[3];

    // Levels: value maps and grids.
    std::vector<std::string> grids;
    for (const auto* n : gs) {
      const auto& xi = info(n->input(0));
      const auto& gi = info(n->input(1));
      if (!xi.is_static() || xi.rank() != 4 || !gi.is_static() || gi.rank() != 4)
        return fail(why, "a GridSample input has no static rank-4 shape");
      if (xi.dims[0] != N || xi.dims[1] != C || gi.dims[0] != N || gi.dims[1] != Q || gi.dims[3] != 2)
        return fail(why, "GridSample shapes do not line up with the product");
      m.maps.push_back(n->input(0));
      grids.push_back(n->input(1));
      m.points.push_back(gi.dims[2]);
      m.spatial.push_back(xi.dims[2]);
      m.spatial.push_back(xi.dims[3]);
    }
    std::string grid = grids[0];
    if (gs.size() > 1) {
      const int sp = g_.producer(grids[0]);
      const auto* split = sp < 0 ? nullptr : &g_.node(sp);
      if (!split || split->op_type() != "Split" || split->output_size() != int(gs.size()))
        return fail(why, "the level grids do not come from one Split");
      for (size_t l = 0; l < grids.size(); ++l)
        if (split->output(int(l)) != grids[l] || !single_reader(grids[l]))
          return fail(why, "the Split outputs are not the level grids in order");
      if (!axis_is(attr_int(*split, "axis", 0), 4, 2)) return fail(why, "the grids are not split on the point axis");
      grid = split->input(0);
    }
    const auto& gri = info(grid);
    if (!gri.is_static() || gri.dims != Dims{N, Q, P, 2}) return fail(why, "the grid is not [B*H,Q,P,2]");

    // Grid <- Reshape <- Transpose(0,2,1,3,4) <- locations [B,Q,H,P,2].
    const auto* gr = node_of(grid);
    const auto* gt = gr && gr->op_type() == "Reshape" ? node_of(gr->input(0)) : nullptr;
    if (!gt || gt->op_type() != "Transpose" || attr_ints(*gt, "perm") != Dims{0, 2, 1, 3, 4})
      return fail(why, "the grid is not the per-head transpose of the locations");
    const auto& li = info(gt->input(0));
    if (!li.is_static() || li.rank() != 5 || li.dims[1] != Q || li.dims[3] != P || li.dims[4] != 2 ||
        li.dims[0] * li.dims[2] != N)
      return fail(why, "the locations are not [B,Q,H,P,2]");
    const int64_t B = li.dims[0], H = li.dims[2];
    m.locations = gt->input(0);
    // The exporter's 2*v - 1 (default method): read v, the kernel applies it.
    if (const auto* sub = node_of(m.locations); sub && sub->op_type() == "Sub" && scalar(sub->input(1)) == 1.0) {
      if (const auto* mul2 = node_of(sub->input(0)); mul2 && mul2->op_type() == "Mul") {
        for (int k = 0; k < 2; ++k)
          if (scalar(mul2->input(1 - k)) == 2.0 && info(mul2->input(k)).dims == li.dims) {
            m.locations = mul2->input(k);
            m.unit = true;
          }
      }
    }

    if (m.unit) find_box_locations(m, B, Q, H, P);

    // Weights [B*H,1,Q,P] <- Reshape <- Transpose(0,2,1,3) <- [B,Q,H,P] (<- Softmax).
    const std::string& wt = mul->input(1 - cat_side);
    if (info(wt).dims != Dims{N, 1, Q, P}) return fail(why, "the weights are not [B*H,1,Q,P]");
    const auto* wr = node_of(wt);
    const auto* wtr = wr && wr->op_type() == "Reshape" ? node_of(wr->input(0)) : nullptr;
    if (!wtr || wtr->op_type() != "Transpose" || attr_ints(*wtr, "perm") != Dims{0, 2, 1, 3})
      return fail(why, "the weights are not the per-head transpose of [B,Q,H,P]");
    m.weights = wtr->input(0);
    if (info(m.weights).dims != Dims{B, Q, H, P}) return fail(why, "the weights are not [B,Q,H,P]");
    if (const auto* sm = node_of(m.weights); sm && sm->op_type() == "Softmax") {
      const int64_t ax = attr_int(*sm, "axis", opset_ >= 13 ? -1 : 1);
      if (last_axis(ax, 4) && info(sm->input(0)).dims == info(m.weights).dims) {
        m.weights = sm->input(0);
        m.softmax = true;
      }
    }

    // Tail: [B*H,C,Q] (or [B*H,C,Q,1] with keepdims, as `fix` leaves it) -> Reshape(s) to
    // [B,H*C,Q] -> Transpose(0,2,1) -> [B,Q,H*C].
    std::string cur = red.output(0);
    for (int hops = 0; hops < 3 && info(cur).dims != Dims{B, H * C, Q}; ++hops) {
      if (!single_reader(cur)) return fail(why, "the sum has other readers");
      const auto& rn = g_.node(g_.consumers(cur)[0]);
      if (rn.op_type() != "Reshape") break;
      cur = rn.output(0);
    }
    if (cur == red.output(0) || info(cur).dims != Dims{B, H * C, Q} || !single_reader(cur))
      return fail(why, "the sum is not reshaped to [B,H*C,Q]");
    const int t = g_.consumers(cur)[0];
    const auto& tr = g_.node(t);
    if (tr.op_type() != "Transpose" || attr_ints(tr, "perm") != Dims{0, 2, 1}) return fail(why, "no final transpose to [B,Q,H*C]");
    m.tail = t;
    m.output = tr.output(0);
    const auto slash = red.name().rfind('/');
    m.name = (slash == std::string::npos ? red.name() + "/" : red.name().substr(0, slash + 1)) + kMsdaOpType;

    find_bshc_value(m, B, H, C);
    return m;
  }

 private:
  static std::optional<Match> fail(std::string& why, const std::string& reason) {
    why = reason;
    return {};
  }
  const onnx::NodeProto* node_of(const std::string& t) const {
    const int i = g_.producer(t);
    return i < 0 ? nullptr : &g_.node(i);
  }
  const TensorInfo& info(const std::string& t) const {
    static const TensorInfo unknown;
    auto it = s_.find(t);
    return it == s_.end() ? unknown : it->second;
  }
  bool single_reader(const std::string& t) const { return g_.consumers(t).size() == 1 && !g_.is_graph_output(t); }
  bool all_gridsample(const onnx::NodeProto& n) const {
    for (const auto& in : n.input()) {
      const auto* p = node_of(in);
      if (!p || p->op_type() != "GridSample") return false;
    }
    return n.input_size() > 0;
  }
  static bool axis_is(int64_t axis, int rank, int64_t want) { return axis == want || axis + rank == want; }
  static bool last_axis(int64_t axis, int rank) { return axis_is(axis, rank, rank - 1); }
  std::optional<Dims> constant_ints(const std::string& t) const {
    const auto* c = g_.initializer(t);
    if (!c) return {};
    return tensor_to_int64(*c);
  }
  std::optional<double> scalar(const std::string& t) const {
    const auto* c = g_.initializer(t);
    if (!c) return {};
    auto v = tensor_to_double(*c);
    if (v.size() != 1) return {};
    return v[0];
  }

  // The reference-box form of the locations, in the export's order:
  //   Add(Slice(R, 0:2), Mul(Mul(Mul(offsets, scale), Slice(R, 2:4)), half)), R [B,Q,1,1,4]
  // (either operand order of each Mul/Add). The scale constant may be broadcast (as exported,
  // [P,1]) or full-shape (after `fix`'s broadcast-explicit): it must not vary over B and Q.
  void find_box_locations(Match& m, int64_t B, int64_t Q, int64_t H, int64_t P) const {
    const auto* add = node_of(m.locations);
    if (!add || add->op_type() != "Add") return;
    for (int k = 0; k < 2; ++k) {
      std::string ref;
      if (!ref_slice(add->input(k), 0, 2, B, Q, ref)) continue;
      const auto* m2 = node_of(add->input(1 - k));
      if (!m2 || m2->op_type() != "Mul") continue;
      for (int a = 0; a < 2; ++a) {
        const auto half = scalar(m2->input(a));
        const auto* m1 = node_of(m2->input(1 - a));
        if (!half || !m1 || m1->op_type() != "Mul") continue;
        for (int c = 0; c < 2; ++c) {
          std::string ref2;
          if (!ref_slice(m1->input(c), 2, 4, B, Q, ref2) || ref2 != ref) continue;
          const auto* m0 = node_of(m1->input(1 - c));
          if (!m0 || m0->op_type() != "Mul") continue;
          for (int d = 0; d < 2; ++d) {
            const std::string& off = m0->input(d);
            const auto* sc = g_.initializer(m0->input(1 - d));
            if (!sc || info(off).dims != Dims{B, Q, H, P, 2}) continue;
            std::vector<float> per_point;
            if (!scale_per_point(*sc, B, Q, H, P, per_point)) continue;
            m.locations = off;
            m.reference = ref;
            m.point_scale = std::move(per_point);
            m.offset_scale = float(*half);
            return;
          }
        }
      }
    }
  }

  // T = Slice(R, [FROM], [>= TO], last axis) with R [B,Q,1,1,4] (or [B,Q,4]).
  bool ref_slice(const std::string& t, int64_t from, int64_t to, int64_t B, int64_t Q, std::string& ref) const {
    const auto* sl = node_of(t);
    if (!sl || sl->op_type() != "Slice" || sl->input_size() < 4) return false;
    const auto& ri = info(sl->input(0));
    if (!ri.is_static() || ri.rank() < 3 || ri.dims[0] != B || ri.dims[1] != Q || ri.dims.back() != 4 ||
        ri.numel() != B * Q * 4)
      return false;
    auto st = constant_ints(sl->input(1)), en = constant_ints(sl->input(2)), ax = constant_ints(sl->input(3));
    if (!st || !en || !ax || st->size() != 1 || en->size() != 1 || ax->size() != 1) return false;
    if (!axis_is((*ax)[0], ri.rank(), ri.rank() - 1) || (*st)[0] != from || (*en)[0] < to) return false;
    if (to < 4 && (*en)[0] != to) return false;
    if (sl->input_size() > 4 && !sl->input(4).empty()) {
      auto steps = constant_ints(sl->input(4));
      if (!steps || *steps != Dims{1}) return false;
    }
    ref = sl->input(0);
    return true;
  }

  // The constant broadcast to [B,Q,H,P,2], as [H,P,2]; false when it varies over B or Q.
  static bool scale_per_point(const onnx::TensorProto& c, int64_t B, int64_t Q, int64_t H, int64_t P,
                              std::vector<float>& out) {
    const Dims full = {B, Q, H, P, 2};
    Dims dims(c.dims().begin(), c.dims().end());
    if (dims.size() > 5) return false;
    dims.insert(dims.begin(), 5 - dims.size(), 1);
    for (int i = 0; i < 5; ++i)
      if (dims[size_t(i)] != 1 && dims[size_t(i)] != full[size_t(i)]) return false;
    const auto v = tensor_to_double(c);
    auto at = [&](int64_t b, int64_t q, int64_t h, int64_t p, int64_t k) {
      const int64_t idx[5] = {b, q, h, p, k};
      int64_t off = 0;
      for (int i = 0; i < 5; ++i) off = off * dims[size_t(i)] + (dims[size_t(i)] == 1 ? 0 : idx[i]);
      return v[size_t(off)];
    };
    out.assign(size_t(H * P * 2), 0.0f);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t k = 0; k < 2; ++k) out[size_t((h * P + p) * 2 + k)] = float(at(0, 0, h, p, k));
    if (dims[0] == 1 && dims[1] == 1) return true;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t q = 0; q < Q; ++q)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t p = 0; p < P; ++p)
            for (int64_t k = 0; k < 2; ++k)
              if (at(b, q, h, p, k) != out[size_t((h * P + p) * 2 + k)]) return false;
    return true;
  }

  // DEIMv2/D-FINE compute the value once per frame as [B,S,H,C], transpose it to [B,H,C,S] and
  // slice the levels off the last axis; every layer reshapes the slices to [B*H,C,h,w]. When all
  // levels come from one such tensor, the kernel reads it directly (no transposes at all).
  void find_bshc_value(Match& m, int64_t B, int64_t H, int64_t C) const {
    std::string source;
    for (size_t l = 0; l < m.maps.size(); ++l) {
      const int64_t hw = m.spatial[2 * l] * m.spatial[2 * l + 1];
      const auto* rs = node_of(m.maps[l]);
      if (!rs || rs->op_type() != "Reshape") return;
      const std::string& slice_out = rs->input(0);
      if (info(slice_out).dims != Dims{B, H, C, hw}) return;
      const auto* sl = node_of(slice_out);
      if (!sl) return;
      int64_t start = -1;
      std::string whole;
      if (sl->op_type() == "Slice" && sl->input_size() >= 4) {
        auto st = constant_ints(sl->input(1));
        auto ax = constant_ints(sl->input(3));
        if (!st || !ax || st->size() != 1 || ax->size() != 1 || !axis_is((*ax)[0], 4, 3)) return;
        if (sl->input_size() > 4 && !sl->input(4).empty()) {
          auto steps = constant_ints(sl->input(4));
          if (!steps || *steps != Dims{1}) return;
        }
        start = (*st)[0];
        whole = sl->input(0);
      } else if (sl->op_type() == "Split" && axis_is(attr_int(*sl, "axis", 0), 4, 3)) {
        start = 0;
        for (int k = 0; k < sl->output_size() && sl->output(k) != slice_out; ++k) {
          if (!info(sl->output(k)).is_static()) return;
          start += info(sl->output(k)).dims[3];
        }
        whole = sl->input(0);
      } else {
        return;
      }
      const auto* tr = node_of(whole);
      if (!tr || tr->op_type() != "Transpose" || attr_ints(*tr, "perm") != Dims{0, 2, 3, 1}) return;
      const auto& vi = info(tr->input(0));
      if (!vi.is_static() || vi.rank() != 4 || vi.dims[0] != B || vi.dims[2] != H || vi.dims[3] != C) return;
      if (start < 0 || start + hw > vi.dims[1]) return;
      if (!source.empty() && source != tr->input(0)) return;
      source = tr->input(0);
      m.starts.push_back(start);
    }
    m.bshc_value = source;
  }

  const Graph& g_;
  const ShapeMap& s_;
  int64_t opset_;
};

int64_t default_opset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return 0;
}

}  // namespace

HostFusionReport fuse_deformable_attention(onnx::ModelProto& m) {
  HostFusionReport rep;
  rep.nodes_before = m.graph().node_size();
  constants_to_initializers(*m.mutable_graph());
  const ShapeMap shapes = infer_shapes(m);
  std::vector<Match> matches;
  {
    const Graph g(m.graph());
    const Matcher matcher(g, shapes, default_opset(m));
    for (int i = 0; i < g.node_count(); ++i) {
      std::string why;
      if (auto mt = matcher.match(i, why)) matches.push_back(std::move(*mt));
      else if (!why.empty()) rep.skipped.push_back(g.node(i).name() + ": " + why);
    }
  }
  for (const auto& why : rep.skipped) spdlog::debug("fuse-msda: left as exported: {}", why);
  if (matches.empty()) {
    rep.nodes_after = m.graph().node_size();
    return rep;
  }
  GraphEditor ed(m, shapes);
  std::map<std::string, std::string> channels_last;  // map key -> its [B*H,h,w,C] transpose
  std::vector<std::string> fused_names;
  for (const auto& mt : matches) {
    std::vector<std::string> inputs = {mt.locations, mt.weights};
    std::vector<Attr> attrs;
    if (!mt.reference.empty()) {
      inputs.push_back(mt.reference);
      attrs = {Attr::of("location_mode", "boxes"), Attr::of("point_scale", mt.point_scale),
               Attr::of("offset_scale", mt.offset_scale)};
    }
    attrs.insert(attrs.end(), {Attr::of("points_per_level", mt.points), Attr::of("spatial_shapes", mt.spatial),
                               Attr::of("unit_locations", int64_t(mt.unit)), Attr::of("softmax", int64_t(mt.softmax)),
                               Attr::of("align_corners", mt.align), Attr::of("padding_mode", mt.padding.c_str())});
    if (!mt.bshc_value.empty()) {
      inputs.push_back(mt.bshc_value);
      attrs.push_back(Attr::of("value_layout", "bshc"));
      attrs.push_back(Attr::of("level_starts", mt.starts));
    } else {
      attrs.push_back(Attr::of("value_layout", "bhwc"));
      for (const auto& map : mt.maps) {
        // Layers reshaping the same tensor to the same map share one transpose.
        const int p = ed.index().producer(map);
        const auto& pn = p < 0 ? onnx::NodeProto() : ed.index().node(p);
        const std::string key =
            p >= 0 && pn.op_type() == "Reshape" ? pn.input(0) + "|" + dims_str(ed.info(map).dims) : map;
        auto it = channels_last.find(key);
        if (it == channels_last.end())
          it = channels_last.emplace(key, ed.add("Transpose", map + "/channels_last", {map}, {Attr::of("perm", Dims{0, 2, 3, 1})}))
                   .first;
        inputs.push_back(it->second);
      }
    }
    ed.remove(mt.tail);
    ed.add(kMsdaOpType, mt.name, inputs, attrs, {mt.output});
    fused_names.push_back(ed.last_added_name());
    rep.outputs.push_back(mt.output);
  }
  ed.commit();
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == kMsdaOpType && std::find(fused_names.begin(), fused_names.end(), n.name()) != fused_names.end())
      n.set_domain(kHostOpDomain);
  bool has_domain = false;
  for (const auto& o : m.opset_import()) has_domain |= o.domain() == kHostOpDomain;
  if (!has_domain) {
    auto* o = m.add_opset_import();
    o->set_domain(kHostOpDomain);
    o->set_version(1);
  }
  remove_dead_code(*m.mutable_graph());
  rep.fused = int(matches.size());
  rep.nodes_after = m.graph().node_size();
  spdlog::debug("fuse-msda: {} deformable attention(s) fused, {} -> {} nodes", rep.fused, rep.nodes_before, rep.nodes_after);
  return rep;
}

}  // namespace npusplit
