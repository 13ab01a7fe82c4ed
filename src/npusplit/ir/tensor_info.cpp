#include "npusplit/ir/tensor_info.h"

#include <onnx/onnx_pb.h>

#include "npusplit/base/checked_math.h"

namespace npusplit {

int64_t TensorInfo::numel() const {
  if (!is_static()) return -1;
  return checked_numel(dims).value_or(-1);  // -1 also when the declared dims overflow
}

int64_t TensorInfo::bytes() const {
  const int64_t n = numel();
  const int64_t s = dtype_size(dtype);
  return (n < 0 || s <= 0) ? -1 : checked_mul(n, s).value_or(-1);
}

int64_t dtype_size(int32_t dtype) {
  using T = onnx::TensorProto;
  switch (dtype) {
    case T::FLOAT: case T::INT32: case T::UINT32: return 4;
    case T::DOUBLE: case T::INT64: case T::UINT64: return 8;
    case T::FLOAT16: case T::BFLOAT16: case T::INT16: case T::UINT16: return 2;
    case T::INT8: case T::UINT8: case T::BOOL: return 1;
    default: return 0;
  }
}

std::string dtype_name(int32_t dtype) {
  if (dtype == 0) return "?";
  std::string n = onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(dtype));
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

bool dtype_is_float(int32_t dtype) {
  using T = onnx::TensorProto;
  return dtype == T::FLOAT || dtype == T::FLOAT16 || dtype == T::BFLOAT16 || dtype == T::DOUBLE;
}

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return s + "]";
}

std::string shape_str(const TensorInfo& t) { return t.has_rank ? dims_str(t.dims) : "?"; }

}  // namespace npusplit
