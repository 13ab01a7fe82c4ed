#pragma once
// Constant and shape folding, in one place: every tensor that depends only on constants and on
// the (fixed) input shapes becomes an initializer.
//
// Each round is one topological sweep. Shape/Size of a known shape, and Gather, Concat,
// Unsqueeze, Squeeze, Slice, Cast, Reshape, Identity and elementwise arithmetic on small int and
// float tensors are evaluated directly (as tract's declutter and onnx's data propagation do);
// the static nodes the sweep cannot evaluate (Sin/Cos tables, ConstantOfShape, Range, ...) are
// evaluated by ONNX Runtime, all of them in ONE session per round. The direct evaluation is
// bit-identical to ONNX Runtime's kernels (integer ops; float + - * / are correctly rounded in
// both). Shape inference then learns the shapes the new constants fix, and the next round
// starts; rounds stop when nothing folds.
#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <vector>

#include "npusplit/ir/tensor_info.h"
#include "npusplit/ort/host_tensor.h"

namespace npusplit {

struct FoldStats {
  int folded_nodes = 0;       // nodes turned into initializers (or aliased away)
  int rounds = 0;             // sweeps (each followed by shape inference)
  int evaluated_directly = 0; // nodes the sweep computed itself
  int evaluated_by_ort = 0;   // nodes left to ONNX Runtime
  int ort_sessions = 0;       // at most one per round
  int full_inferences = 0;    // whole-model shape inferences (the rest is refreshed node by node)
  bool converged = false;     // its last round folded nothing: folding again finds nothing
};

struct FoldOutcome {
  FoldStats stats;
  std::vector<std::string> folded_names;  // names of the nodes that disappeared
  ShapeMap shapes;                        // of the folded model (shape inference of its last round)
};

// Folds M in place. KNOWN, when given, are M's inferred shapes on entry (saves one inference).
// Removes dead code at the end. Control flow (If/Loop/Scan) and random ops are never folded.
FoldOutcome fold_static(onnx::ModelProto& m, const ShapeMap* known = nullptr);

// The sweep's evaluator: the outputs of NODE from constant INPUTS (nullptr for an absent
// optional input), or nullopt when the sweep does not evaluate this node (op, dtype or size
// outside what it does; ONNX Runtime then does it). OPSET is the model's default-domain opset.
std::optional<std::vector<HostTensor>> evaluate_constant_node(const onnx::NodeProto& node,
                                                     const std::vector<const HostTensor*>& inputs, int64_t opset);

// A constant's value on the host (nullopt for dtypes the sweep does not evaluate, or more than
// MAX_NUMEL elements).
std::optional<HostTensor> host_tensor_of(const onnx::TensorProto& t, int64_t max_numel);
onnx::TensorProto tensor_proto_of(const HostTensor& h);

}  // namespace npusplit
