#pragma once
// What is known about one tensor: element type and shape. A dim of -1 is unknown.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace npusplit {

struct TensorInfo {
  int32_t dtype = 0;            // onnx::TensorProto_DataType, 0 = unknown
  std::vector<int64_t> dims;    // meaningful only when has_rank
  bool has_rank = false;

  bool is_static() const {
    if (!has_rank) return false;
    for (auto d : dims)
      if (d < 0) return false;
    return true;
  }
  int rank() const { return has_rank ? static_cast<int>(dims.size()) : -1; }
  int64_t numel() const;        // -1 when not static
  int64_t bytes() const;        // -1 when not static or dtype unknown
};

using ShapeMap = std::unordered_map<std::string, TensorInfo>;

int64_t dtype_size(int32_t dtype);
std::string dtype_name(int32_t dtype);
bool dtype_is_float(int32_t dtype);
std::string dims_str(const std::vector<int64_t>& dims);
std::string shape_str(const TensorInfo& t);

}  // namespace npusplit
