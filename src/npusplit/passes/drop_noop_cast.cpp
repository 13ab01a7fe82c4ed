// drop-noop-cast: a Cast to the type its input already has does nothing; it is removed.
// Why: the parser accepts Cast but does not perform value-changing ones (a correctness hazard,
// so the rules keep every Cast off the NPU); the DINOv3-L/X exports carry float->float casts
// inside every attention block (autocast residue), which would otherwise end stage1 at block 0
// -- research/hailo_ops.md §1 Cast row.
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
    const auto removed = bypass_nodes(*m.mutable_graph(), [&](const onnx::NodeProto& n) {
      if (n.op_type() != "Cast" || n.input_size() != 1) return false;
      auto it = shapes.find(n.input(0));
      return it != shapes.end() && it->second.dtype && it->second.dtype == attr_int(n, "to", -1);
    });
    for (const auto& n : removed) r.changes.push_back({n, "(removed)"});
    r.rewrites = static_cast<int>(removed.size());
    return r;
  }
};

}  // namespace

std::unique_ptr<Pass> make_drop_noop_cast_pass() { return std::make_unique<DropNoopCast>(); }

}  // namespace npusplit
