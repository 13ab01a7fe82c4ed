// batch-one: with batch fixed to 1, ops on the batch axis that do nothing are removed and
// those that only index it become reshapes: Tile with all repeats 1, Expand to the same
// shape, single-input Concat, Slice keeping every extent, Gather of index 0 on a batch of 1
// (-> Reshape). A Tile that really repeats the batch (repeats[0] > 1) is left alone.
// Why: "Unsupported concat over axis batch" (Tile/Concat on batch, DFC 5.3 and user notes on
// 3.33), "Gather operation on the batch dimension is not supported" -- research/hailo_ops.md §1.
#include "npusplit/passes/editor.h"
#include "npusplit/passes/passes.h"

namespace npusplit {

namespace {

class BatchOne : public Pass {
 public:
  std::string name() const override { return "batch-one"; }
  std::string description() const override {
    return "remove batch-axis Tile/Expand/Concat/Slice that are identities at batch 1; Gather(batch, 0) -> Reshape";
  }
  bool exact() const override { return true; }
  std::string source() const override { return "research/hailo_ops.md §1 Tile, Concat, Gather rows; user notes (Tile on batch)"; }

  PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const override {
    PassResult r{name(), 0, {}};
    GraphEditor ed(m, shapes);
    const auto& g = ed.graph();
    const Graph& idx = ed.index();
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& n = g.node(i);
      if (n.output_size() != 1 || n.input_size() < 1) continue;
      const auto& in = ed.info(n.input(0));
      const auto& out = ed.info(n.output(0));
      if (!in.is_static() || !out.is_static() || in.rank() < 1 || in.dims[0] != 1) continue;
      if (idx.is_constant(n.input(0))) continue;
      bool identity = false, squeeze_batch = false;
      const std::string& op = n.op_type();
      if (op == "Tile" || op == "Expand" || op == "Slice") {
        identity = in.dims == out.dims && in.dtype == out.dtype;
        if (op == "Slice") {
          // Slice with a negative step reverses: same shape, different data.
          if (n.input_size() > 4 && !n.input(4).empty()) {
            const auto* st = ed.constant(n.input(4));
            if (!st) identity = false;
            else for (auto s : tensor_to_int64(*st)) identity &= s == 1;
          }
        }
      } else if (op == "Concat") {
        identity = n.input_size() == 1;
      } else if (op == "Gather" && attr_int(n, "axis", 0) == 0 && n.input_size() == 2) {
        const auto* t = ed.constant(n.input(1));
        if (t && t->dims_size() == 0) {
          auto v = tensor_to_int64(*t);
          squeeze_batch = v.size() == 1 && (v[0] == 0 || v[0] == -1);
        }
      }
      if (!identity && !squeeze_batch) continue;
      // The output keeps its name: readers and graph outputs need no rewiring.
      if (identity)
        ed.add("Identity", n.name() + "/batch_one", {n.input(0)}, {}, {n.output(0)});
      else
        ed.add("Reshape", n.name() + "/batch_one", {n.input(0), ed.add_ints(n.name() + "/shape", out.dims)}, {},
               {n.output(0)});
      ed.remove(i);
      ++r.rewrites;
      r.changes.push_back({n.name(), n.name() + "/batch_one (" + (identity ? "Identity" : "Reshape") + ")"});
    }
    if (r.rewrites) {
      ed.commit();
      remove_identities(m);
    }
    return r;
  }

  // The Identity nodes this pass wrote are bypassed (the parser drops them anyway, but the
  // cut and the reports are cleaner without them).
  static void remove_identities(onnx::ModelProto& m) {
    bypass_nodes(*m.mutable_graph(), [](const onnx::NodeProto& n) {
      return n.op_type() == "Identity" && n.name().ends_with("/batch_one");
    });
  }
};

}  // namespace

std::unique_ptr<Pass> make_batch_one_pass() { return std::make_unique<BatchOne>(); }

}  // namespace npusplit
