// reduce-keepdims: ReduceMax/Min/Sum/Mean and ArgMax/Min with keepdims=0 become keepdims=1
// followed by a Reshape to the original shape. Where a max/min/arg reduction runs on a single
// axis that is not the NCHW feature axis, a Transpose pair moves that axis onto the feature
// axis (exact: max/min do not depend on order; sums are left alone because their order could
// change the rounding).
// Why: "Reduce max is only supported on the features axis, and with keepdim=True"
// (UnsupportedReduceMaxLayerError; research/hailo_ops.md §1 ReduceMax row; user notes).
#include <numeric>
#include <set>

#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"
#include "npusplit/rules/checks.h"

namespace npusplit {

namespace {

bool order_free(const std::string& op) {
  return op == "ReduceMax" || op == "ReduceMin" || op == "ArgMax" || op == "ArgMin";
}

class ReduceKeepdims : public Pass {
 public:
  std::string name() const override { return "reduce-keepdims"; }
  std::string description() const override {
    return "reductions with keepdims=0 -> keepdims=1 + Reshape; max/min moved onto the feature axis";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §1 ReduceMax/ReduceSum/ArgMax rows; user notes"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& n = g.node(i);
      static const std::set<std::string> ops = {"ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ArgMax", "ArgMin"};
      if (!ops.count(n.op_type())) continue;
      const auto& in = ed.info(n.input(0));
      const auto& out = ed.info(n.output(0));
      if (!in.is_static() || !out.is_static()) continue;
      const bool arg = n.op_type().rfind("Arg", 0) == 0;
      const bool keep0 = attr_int(n, "keepdims", 1) == 0;
      // The reduced axes.
      std::vector<int64_t> axes;
      if (arg) {
        axes.push_back(attr_int(n, "axis", 0));
      } else if (auto a = attr_ints(n, "axes")) {
        axes = *a;
      } else if (n.input_size() > 1 && !n.input(1).empty()) {
        const auto* t = ed.constant(n.input(1));
        if (!t) continue;
        axes = tensor_to_int64(*t);
      } else {
        axes.resize(in.rank());
        std::iota(axes.begin(), axes.end(), 0);
      }
      for (auto& a : axes)
        if (a < 0) a += in.rank();
      const int fa = feature_axis(in.rank());
      const bool move = order_free(n.op_type()) && axes.size() == 1 && fa >= 0 && axes[0] != fa &&
                        (in.rank() == 3 || in.rank() == 4) && axes[0] != 0;
      if (!keep0 && !move) continue;

      onnx::NodeProto red = n;
      std::string src = n.input(0);
      std::vector<int64_t> perm(in.rank());
      std::iota(perm.begin(), perm.end(), 0);
      if (move) {
        std::swap(perm[axes[0]], perm[fa]);
        src = ed.add("Transpose", n.name() + "/to_feature", {src}, {Attr::of("perm", perm)});
        axes[0] = fa;
      }
      red.set_name(n.name() + (move ? "/on_feature" : "/keepdims"));  // made unique by ed.add
      for (auto& a : *red.mutable_attribute()) {
        if (a.name() == "keepdims") a.set_i(1);
        if (a.name() == "axis") a.set_i(axes[0]);
        if (a.name() == "axes") {
          a.clear_ints();
          for (auto x : axes) a.add_ints(x);
        }
      }
      if (!find_attr(red, "keepdims")) {
        auto* a = red.add_attribute();
        a->set_name("keepdims");
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(1);
      }
      if (!arg && red.input_size() > 1 && !red.input(1).empty()) red.set_input(1, ed.add_ints(n.name() + "/axes", axes));
      red.set_input(0, src);
      std::vector<std::string> red_inputs(red.input().begin(), red.input().end());
      std::vector<Attr> attrs;
      for (const auto& a : red.attribute()) {
        if (a.type() == onnx::AttributeProto::INT) attrs.push_back(Attr::of(a.name(), static_cast<int64_t>(a.i())));
        else if (a.type() == onnx::AttributeProto::INTS)
          attrs.push_back(Attr::of(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end())));
      }
      std::string t = ed.add(n.op_type(), red.name(), red_inputs, attrs);
      const std::string red_name = ed.last_added_name();
      if (move) t = ed.add("Transpose", n.name() + "/from_feature", {t}, {Attr::of("perm", perm)});
      ed.remove(i);
      ed.add("Reshape", n.name() + "/squeeze", {t, ed.add_ints(n.name() + "/shape", out.dims)}, {}, {n.output(0)});
      ++r.rewrites;
      r.changes.push_back({n.name(), red_name + " + " + ed.last_added_name()});
    }
    if (r.rewrites) ed.commit();
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_reduce_keepdims_pass() { return std::make_unique<ReduceKeepdims>(); }

}  // namespace npusplit
