#include "npusplit/ort/host_tensor.h"

#include <onnx/onnx_pb.h>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"
#include "npusplit/ir/tensor_info.h"

namespace npusplit {

int64_t TensorSpec::numel() const { return checked_numel(dims).value_or(-1); }

int64_t TensorSpec::bytes() const {
  const int64_t n = numel();
  return n < 0 ? -1 : checked_mul(n, dtype_size(dtype)).value_or(-1);
}

HostTensor::HostTensor(TensorSpec s) : spec(std::move(s)) {
  if (dtype_size(spec.dtype) == 0) fail("tensor '{}': unsupported element type {}", spec.name, dtype_name(spec.dtype));
  const int64_t n = spec.bytes();
  if (n < 0 || n > kMaxTensorBytes)
    fail("tensor '{}': shape {} is negative, dynamic or larger than {} GiB", spec.name, dims_str(spec.dims),
         kMaxTensorBytes >> 30);
  data.resize(static_cast<size_t>(n));
}

double element_as_double(const HostTensor& t, int64_t i) {
  using TP = onnx::TensorProto;
  switch (t.spec.dtype) {
    case TP::FLOAT: return t.as<float>()[i];
    case TP::DOUBLE: return t.as<double>()[i];
    case TP::INT64: return static_cast<double>(t.as<int64_t>()[i]);
    case TP::INT32: return t.as<int32_t>()[i];
    case TP::INT8: return t.as<int8_t>()[i];
    case TP::UINT8: case TP::BOOL: return t.as<uint8_t>()[i];
    default: fail("tensor '{}': cannot compare element type {}", t.name(), dtype_name(t.spec.dtype));
  }
}

}  // namespace npusplit
