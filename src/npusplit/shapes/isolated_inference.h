#pragma once
// onnx's shape inference is third-party C++ that trusts the graph: on some malformed models
// that pass validation and the checker (inconsistent shapes deep in a graph), onnx 1.12's
// implementation reads out of bounds or dereferences null (found by the fuzzer, see
// tests/data/fuzz/). It therefore runs in a forked child process: a crash or a hang there
// becomes one npusplit::Error, never a crash of npusplit. The child sends back only what
// inference adds (value_info and the graph outputs' types).
#include <onnx/onnx_pb.h>

namespace npusplit {

// Runs onnx::shape_inference::InferShapes on M (strict=false, data propagation on) in a child
// process and merges its value_info and output types into M. Inference errors are ignored
// (best effort, as before); a crash or a run longer than TIMEOUT_S is an npusplit::Error.
void infer_shapes_isolated(onnx::ModelProto& m, int timeout_s = 300);

}  // namespace npusplit
