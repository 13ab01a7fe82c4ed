// fold-static: every tensor that depends only on constants and the fixed input shape
// (Shape/Gather/Concat/Range/ConstantOfShape/Expand/Where/Tile chains, RoPE sin/cos tables,
// attention scales computed at run time) becomes an initializer. The values come from ONNX
// Runtime evaluating exactly those nodes, so the fold is bit-exact.
// Why: the parser folds some of this itself but not all (ConstantOfShape crashed DFC 5.4,
// Expand/Where raise UnexpectedNodeError) -- research/hailo_ops.md §1 (Shape, ConstantOfShape,
// Expand, Where rows) and the ew_mult hypothesis H1 (§2).
#include <unordered_set>

#include "npusplit/passes/passes.h"
#include "npusplit/shapes/fold.h"

namespace npusplit {

namespace {
class FoldStatic : public Pass {
 public:
  std::string name() const override { return "fold-static"; }
  std::string description() const override {
    return "fold shape computations and constant subgraphs at the fixed input shape into initializers";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §1 Shape/ConstantOfShape/Expand/Where; §2 H1"; }
  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    // SHAPES describes M: the first sweep needs no shape inference of its own.
    auto fo = fold_static(m, &shapes);
    r.rewrites = fo.stats.folded_nodes;
    for (const auto& b : fo.folded_names) r.changes.push_back({b, "(folded into an initializer)"});
    return r;
  }
};
}  // namespace

std::unique_ptr<Pass> make_fold_static_pass() { return std::make_unique<FoldStatic>(); }

}  // namespace npusplit
