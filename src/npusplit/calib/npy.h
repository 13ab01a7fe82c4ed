#pragma once
// NumPy .npy files (format version 1.0), float32 little-endian, C order: what `hailo optimize`
// takes as a calibration set. Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// (magic "\x93NUMPY", major 1, minor 0, uint16 LE header length, an ASCII dict padded with spaces
// and ended by '\n' so that the data starts at a multiple of 64 bytes).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace npusplit {

// The full header (magic to '\n') for a float32 C-order array of SHAPE. With TOTAL_BYTES > 0 the
// dict is padded to exactly that many header bytes (a multiple of 64, at least the minimum), so
// a streamed file can have its header rewritten with the final count in place.
std::string npy_header_f32(const std::vector<int64_t>& shape, size_t total_bytes = 0);

struct NpyInfo {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  size_t data_offset = 0;      // bytes before the data
  int64_t numel() const;
};

// Reads and checks the header of PATH (version 1.0 or 2.0); a one-line Error otherwise, also
// when the file is shorter than the data the header announces.
NpyInfo read_npy_header(const std::filesystem::path& path);

}  // namespace npusplit
