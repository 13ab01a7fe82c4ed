#pragma once
// The host-side rewrite of stage2: each exported multi-scale deformable-attention subgraph
// (value maps -> per-level GridSample -> Concat -> Mul by the attention weights -> ReduceSum,
// with the location and weight plumbing around it) becomes one npusplit.MultiScaleDeformableAttention
// node (runtime/msda_op.h). Matched by structure (op types, perms, axes, shapes), never by names.
//
// Not a `fix` pass: the result needs npusplit's ONNX Runtime custom op, so it is applied when
// npusplit's runtime loads a stage2 (`run`, `bench`) and by `split --fused-host`, which writes it
// as a separate file; plain stage2.onnx stays standard ONNX.
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace npusplit {

struct HostFusionReport {
  int fused = 0;                      // subgraphs replaced
  std::vector<std::string> outputs;   // the tensor each fused node writes (the subgraph's output)
  std::vector<std::string> skipped;   // GridSample-based subgraphs left alone, with the reason
  int nodes_before = 0, nodes_after = 0;
};

// Rewrites M in place (its inputs must have static shapes: a split's stage2 has). Adds the
// "npusplit" opset import when something was fused.
HostFusionReport fuse_deformable_attention(onnx::ModelProto& m);

}  // namespace npusplit
