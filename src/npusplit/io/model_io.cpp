#include "npusplit/io/model_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "npusplit/error.h"

namespace fs = std::filesystem;

namespace npusplit {

int max_supported_ir_version() { return onnx::IR_VERSION; }

// Capped at 24: the opset-dependent forms the rules, passes and splitter know.
int max_supported_opset() {
  const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return std::min(it == map.end() ? 17 : it->second.second, 24);
}

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", path.string());
  if (fs::is_directory(path, ec)) fail("{}: is a directory, not a file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t default_opset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return -1;
}

namespace {
void validate_model(const onnx::ModelProto& m, const std::string& what);
}

onnx::ModelProto parse_model_bytes(const std::string& bytes, const std::string& what) {
  if (bytes.empty()) fail("{}: empty file, not an ONNX model", what);
  onnx::ModelProto m;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!m.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    fail("{}: not a valid ONNX protobuf (corrupt or truncated file)", what);
  validate_model(m, what);
  return m;
}

namespace {
void validate_model(const onnx::ModelProto& m, const std::string& what) {
  if (!m.has_graph() || (m.graph().node_size() == 0 && m.graph().output_size() == 0))
    fail("{}: the ONNX model has no graph", what);
  if (m.ir_version() <= 0) fail("{}: not an ONNX model (no IR version)", what);
  if (m.ir_version() > max_supported_ir_version())
    fail("{}: ONNX IR version {} is newer than supported (max {})", what, m.ir_version(),
         max_supported_ir_version());
  const int64_t opset = default_opset(m);
  if (opset < 0) fail("{}: the model imports no default-domain opset", what);
  if (opset > max_supported_opset())
    fail("{}: opset {} is newer than supported (max {}); re-export with opset <= {}", what, opset,
         max_supported_opset(), max_supported_opset());
  if (opset < 7) fail("{}: opset {} is older than supported (min 7)", what, opset);
}
}  // namespace

namespace {
// Moves tensors stored in external files into the proto, so later stages see one self-
// contained model (the DEIMv2 exports are < 2 GB, the protobuf limit).
void inline_external_data(onnx::TensorProto& t, const fs::path& base, const std::string& what) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset") offset = std::stoll(kv.value());
    if (kv.key() == "length") length = std::stoll(kv.value());
  }
  const fs::path file = base / location;
  std::ifstream in(file, std::ios::binary);
  if (location.empty() || !in)
    fail("{}: external data file '{}' for tensor '{}' is missing", what, location, t.name());
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  if (length < 0) length = size - offset;
  if (offset + length > size)
    fail("{}: external data file '{}' is shorter than tensor '{}' needs", what, location, t.name());
  std::string buf(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(buf.data(), length);
  t.set_raw_data(std::move(buf));
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::DEFAULT);
}
}  // namespace

onnx::ModelProto load_model(const fs::path& path) {
  const std::string what = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", what);
  if (fs::is_directory(path, ec)) fail("{}: is a directory, not a file", what);
  if (fs::file_size(path, ec) == 0) fail("{}: empty file, not an ONNX model", what);
  // Parsed straight from the file: no second in-memory copy of a large model.
  onnx::ModelProto m;
  {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) fail("{}: cannot open for reading", what);
    google::protobuf::io::FileInputStream raw(fd);
    raw.SetCloseOnDelete(true);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT32_MAX);
    if (!m.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      fail("{}: not a valid ONNX protobuf (corrupt or truncated file)", what);
  }
  validate_model(m, what);
  const fs::path base = path.parent_path();
  for (auto& t : *m.mutable_graph()->mutable_initializer()) inline_external_data(t, base, what);
  for (auto& n : *m.mutable_graph()->mutable_node())
    for (auto& a : *n.mutable_attribute())
      if (a.has_t()) inline_external_data(*a.mutable_t(), base, what);
  return m;
}

namespace {
// Writes through WRITE into a temporary file beside PATH, then renames it into place, so a
// reader never sees a half-written file and a failure leaves nothing behind.
void write_atomically(const fs::path& path, const std::function<bool(int fd)>& write) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::random_device rd;
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("{}: cannot write (folder missing or not writable)", path.string());
  bool ok = write(fd);
  ok &= ::close(fd) == 0;
  if (!ok) {
    fs::remove(tmp, ec);
    fail("{}: write failed (too large, or disk full)", path.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("{}: cannot move the finished file into place", path.string());
  }
}
}  // namespace

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  write_atomically(path, [&](int fd) {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  });
}

void save_model(const onnx::ModelProto& m, const fs::path& path) {
  // Serialized straight into the file (no second in-memory copy of the weights), through
  // protobuf's large-buffer file writer.
  write_atomically(path, [&](int fd) {
    google::protobuf::io::FileOutputStream out(fd, 1 << 20);
    return m.SerializeToZeroCopyStream(&out) && out.Flush();
  });
}

void check_model(const onnx::ModelProto& m, const std::string& what) {
  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg = msg.substr(0, nl);
    fail("{}: ONNX checker: {}", what, msg);
  }
}

}  // namespace npusplit
