#include "npusplit/calib/npy.h"

#include <fmt/format.h>

#include <fstream>
#include <regex>

#include "npusplit/error.h"

namespace npusplit {

namespace {
const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
}  // namespace

std::string npy_header_f32(const std::vector<int64_t>& shape, size_t total_bytes) {
  // Python's repr of a tuple: "()" , "(5,)", "(2, 3)".
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t prefix = kMagicLen + 2 + 2;  // magic, version, uint16 length
  size_t total = prefix + dict.size() + 1;  // + '\n'
  const size_t minimal = (total + 63) / 64 * 64;
  if (total_bytes == 0) total_bytes = minimal;
  if (total_bytes < minimal || total_bytes % 64 != 0 || total_bytes - prefix > 65535)
    fail("npy header: cannot fit shape ({}) in {} bytes", dims, total_bytes);
  dict.append(total_bytes - total, ' ');
  dict += '\n';
  const auto len = static_cast<uint16_t>(dict.size());
  std::string h(kMagic, kMagicLen);
  h += char(1);
  h += char(0);
  h += char(len & 0xff);
  h += char(len >> 8);
  return h + dict;
}

int64_t NpyInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

NpyInfo read_npy_header(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("{}: no such file", path.string());
  const auto size = std::filesystem::file_size(path, ec);
  std::ifstream f(path, std::ios::binary);
  char pre[12] = {};
  f.read(pre, 10);
  if (f.gcount() != 10 || std::string(pre, kMagicLen) != std::string(kMagic, kMagicLen))
    fail("{}: not a NumPy .npy file", path.string());
  const int major = static_cast<unsigned char>(pre[6]);
  size_t hlen = 0, prefix = 10;
  if (major == 1) {
    hlen = size_t(static_cast<unsigned char>(pre[8])) | size_t(static_cast<unsigned char>(pre[9])) << 8;
  } else if (major == 2 || major == 3) {
    f.read(pre + 10, 2);
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= size_t(static_cast<unsigned char>(pre[8 + i])) << (8 * i);
    prefix = 12;
  } else {
    fail("{}: .npy format version {} is not supported", path.string(), major);
  }
  std::string dict(hlen, '\0');
  f.read(dict.data(), std::streamsize(hlen));
  if (size_t(f.gcount()) != hlen) fail("{}: truncated .npy header", path.string());
  NpyInfo info;
  info.data_offset = prefix + hlen;
  std::smatch m;
  if (!std::regex_search(dict, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    fail("{}: .npy header has no descr", path.string());
  info.descr = m[1];
  if (std::regex_search(dict, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")))
    info.fortran_order = m[1] == "True";
  if (!std::regex_search(dict, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    fail("{}: .npy header has no shape", path.string());
  const std::string dims = m[1];
  static const std::regex digits(R"(\d+)");
  std::sregex_iterator it(dims.begin(), dims.end(), digits), end;
  for (; it != end; ++it) info.shape.push_back(std::stoll(it->str()));
  const uint64_t need = uint64_t(info.numel()) * 4;
  if (info.descr != "<f4") fail("{}: calibration data must be float32 ('<f4'), this file holds '{}'", path.string(), info.descr);
  if (info.fortran_order) fail("{}: Fortran-order .npy is not supported (write it in C order)", path.string());
  if (size < info.data_offset + need)
    fail("{}: truncated: the header announces {} bytes of data, the file has {}", path.string(), need,
         size - std::min<uint64_t>(size, info.data_offset));
  return info;
}

}  // namespace npusplit
