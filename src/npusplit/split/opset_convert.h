#pragma once
// Default-domain opset conversion (stage1 into the range the target's parser takes; the test
// fixture's opset-18..21 copies of the shared models): onnx's version converter plus the
// adapters it lacks.
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace npusplit {

// M converted to opset TARGET. onnx (1.23) has no 18->17 adapters for Pad and Split and lets
// opset-19 forms through 19->18 (Pad mode "wrap", Resize "half_pixel_symmetric"): the
// adapters registered here check and strip the newer extras and refuse what the older opset
// cannot express. Reduce* 18->17 also drop noop_with_empty_axes=0. Throws npusplit::Error,
// one line naming WHAT, the op, the node and the opsets, when a node cannot be converted.
onnx::ModelProto convert_opset(const onnx::ModelProto& m, int target, const std::string& what);

// The op types of M whose schema differs between the opsets FROM and TO, as "Op (A -> B)"
// with the since-versions: where a runtime may pick another kernel (ONNX Runtime's
// AveragePool-19 rounds differently from its AveragePool-11 in the last bit).
std::vector<std::string> ops_changed_between(const onnx::ModelProto& m, int from, int to);

}  // namespace npusplit
