// drop-noop-cast: a Cast to the type its input already has does nothing; it is removed.
// Why: the parser accepts Cast but does not perform value-changing ones (a correctness hazard,
// so the rules keep every Cast off the NPU); the DINOv3-L/X exports carry float->float casts
// inside every attention block (autocast residue), which would otherwise end stage1 at block 0
// -- research/hailo_ops.md §1 Cast row.
#include <unordered_map>
#include <unordered_set>

#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"

namespace npusplit {

namespace {

class DropNoopCast : public Pass {
 public:
  std::string name() const override { return "drop-noop-cast"; }
  std::string description() const override { return "remove Cast nodes whose target type is the input's type"; }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §1 Cast row (value-changing Cast not performed)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    auto* g = m.mutable_graph();
    Graph idx(*g);
    std::unordered_map<std::string, std::string> alias;
    // Tensors that If/Loop bodies read by name from this graph cannot be rerouted.
    std::unordered_set<std::string> read_by_subgraphs;
    for (int i = 0; i < g->node_size(); ++i)
      for (const auto& t : idx.implicit_inputs(i)) read_by_subgraphs.insert(t);
    for (const auto& n : g->node()) {
      if (n.op_type() != "Cast" || n.input_size() != 1 || idx.is_graph_output(n.output(0)) ||
          read_by_subgraphs.count(n.output(0)))
        continue;
      auto it = shapes.find(n.input(0));
      if (it != shapes.end() && it->second.dtype && it->second.dtype == attr_int(n, "to", -1)) {
        alias[n.output(0)] = n.input(0);
        ++r.rewrites;
        r.changes.push_back({n.name(), "(removed)"});
      }
    }
    if (!r.rewrites) return r;
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (auto& n : *g->mutable_node())
      if (!(n.op_type() == "Cast" && alias.count(n.output(0)))) kept.Add(std::move(n));
    for (auto& n : kept)
      for (auto& x : *n.mutable_input())
        while (alias.count(x)) x = alias[x];
    g->mutable_node()->Swap(&kept);
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_drop_noop_cast_pass() { return std::make_unique<DropNoopCast>(); }

}  // namespace npusplit
