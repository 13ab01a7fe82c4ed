#pragma once
// A tensor in host memory, independent of any runtime: what flows between stages, into
// verification and into the detector post-processing.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace npusplit {

struct TensorSpec {
  std::string name;
  int32_t dtype = 1;              // onnx::TensorProto_DataType
  std::vector<int64_t> dims;      // static
  int64_t numel() const;
  int64_t bytes() const;
};

struct HostTensor {
  TensorSpec spec;
  std::vector<uint8_t> data;      // spec.bytes() bytes

  HostTensor() = default;
  explicit HostTensor(TensorSpec s);
  const std::string& name() const { return spec.name; }
  int64_t numel() const { return spec.numel(); }
  template <typename T> T* as() { return reinterpret_cast<T*>(data.data()); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data.data()); }
};

// Values converted to double for comparison and reports (any numeric dtype).
double element_as_double(const HostTensor& t, int64_t i);

}  // namespace npusplit
