#pragma once
// Preconditions of ONNX Runtime kernels that ONNX Runtime itself does not check before it
// reads memory. npusplit runs ORT on the user's model (folding, shape probing, verify), so a
// model that violates one must be refused first, with one line, instead of crashing ORT.
// Each check was found by the fuzzer (tests/data/fuzz/crash-*.onnx).
#include <onnx/onnx_pb.h>

#include "npusplit/ir/tensor_info.h"

namespace npusplit {

// Resize/Upsample: `scales` and `sizes` must be 1-D with one entry per axis of X (or per
// entry of `axes`), `roi` twice that (ORT 1.23 copies them into fixed buffers unchecked).
void check_kernel_preconditions(const onnx::ModelProto& m, const ShapeMap& shapes);

}  // namespace npusplit
