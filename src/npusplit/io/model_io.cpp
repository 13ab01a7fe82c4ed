#include "npusplit/io/model_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "npusplit/base/checked_math.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"
#include "npusplit/io/parallel_parse.h"
#include "npusplit/io/validate.h"

namespace fs = std::filesystem;

namespace npusplit {

int max_supported_ir_version() { return onnx::IR_VERSION; }

// Capped at 24: the opset-dependent forms the rules, passes and splitter know.
int max_supported_opset() {
  const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return std::min(it == map.end() ? 17 : it->second.second, 24);
}

namespace {
// Opens PATH for reading only if it is a regular file: a FIFO, device or folder named as a
// model must give an error, not a hang. O_NONBLOCK keeps open() of a FIFO from blocking.
int open_regular_file(const fs::path& path, const std::string& what, int64_t& size) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", what);
  if (fs::is_directory(path, ec)) fail("{}: is a directory, not a file", what);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open for reading", what);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("{}: not a regular file", what);
  }
  size = st.st_size;
  return fd;
}
}  // namespace

std::string read_file(const fs::path& path) {
  const std::string what = path.string();
  int64_t size = 0;
  const int fd = open_regular_file(path, what, size);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      fail("{}: read failed", what);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int64_t default_opset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return -1;
}

namespace {
// Everything after parsing, in the order that keeps each step safe: the header, then every
// declared size and name (validate_graph), then external data read from inside the model's
// folder, then onnx's checker (which trusts sizes), and only then may shape inference, ONNX
// Runtime or the rules see the model.
void finish_loading(onnx::ModelProto& m, const std::string& what, const std::optional<fs::path>& model_dir,
                    int64_t file_bytes) {
  validate_header(m, what);
  validate_graph(m, what);
  int64_t budget = kMaxTensorBytes - file_bytes;
  const auto inline_all = [&](onnx::TensorProto& t) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    if (!model_dir) fail("{}: tensor '{}' has external data, but the model was given without a folder", what, printable(t.name()));
    inline_external_tensor(t, *model_dir, what, budget);
  };
  std::function<void(onnx::GraphProto&)> walk = [&](onnx::GraphProto& g) {
    for (auto& t : *g.mutable_initializer()) inline_all(t);
    for (auto& n : *g.mutable_node())
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_t()) inline_all(*a.mutable_t());
        for (auto& t : *a.mutable_tensors()) inline_all(t);
        if (a.has_g()) walk(*a.mutable_g());
        for (auto& sg : *a.mutable_graphs()) walk(sg);
      }
  };
  walk(*m.mutable_graph());
  // onnx's checker wants a `shape` field on every graph input and output; ONNX Runtime and
  // many exporters do without it on outputs. An empty one is added for the checker only (it
  // does no shape inference here) and taken away again, so the model is judged as written.
  std::vector<onnx::TypeProto_Tensor*> shapeless;
  for (auto* list : {m.mutable_graph()->mutable_input(), m.mutable_graph()->mutable_output()})
    for (auto& v : *list)
      if (v.type().has_tensor_type() && !v.type().tensor_type().has_shape())
        shapeless.push_back(v.mutable_type()->mutable_tensor_type());
  for (auto* t : shapeless) t->mutable_shape();
  try {
    check_model(m, what);
  } catch (...) {
    for (auto* t : shapeless) t->clear_shape();
    throw;
  }
  for (auto* t : shapeless) t->clear_shape();
}
}  // namespace

onnx::ModelProto parse_model_bytes(const std::string& bytes, const std::string& what,
                                   const std::optional<fs::path>& model_dir) {
  if (bytes.empty()) fail("{}: empty file, not an ONNX model", what);
  if (static_cast<int64_t>(bytes.size()) >= kMaxTensorBytes)
    fail("{}: larger than 2 GiB, protobuf's limit for one ONNX file", what);
  onnx::ModelProto m;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!m.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    fail("{}: not a valid ONNX protobuf (corrupt or truncated file)", what);
  finish_loading(m, what, model_dir, static_cast<int64_t>(bytes.size()));
  return m;
}

onnx::ModelProto load_model(const fs::path& path) {
  const std::string what = path.string();
  int64_t size = 0;
  const int fd = open_regular_file(path, what, size);
  if (size == 0) {
    ::close(fd);
    fail("{}: empty file, not an ONNX model", what);
  }
  if (size >= kMaxTensorBytes) {
    ::close(fd);
    fail("{}: larger than 2 GiB, protobuf's limit for one ONNX file", what);
  }
  // Parsed straight from the file: no second in-memory copy of a large model. A large one has
  // its initializers parsed on the machine's cores (io/parallel_parse.h); a file that parser is
  // not sure of is parsed in one piece, which gives the verdict.
  onnx::ModelProto m;
  constexpr int64_t kParallelFrom = 16 << 20;
  const int threads = static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
  if (size >= kParallelFrom && threads >= 2 && parse_model_parallel(fd, size, m, threads)) {
    ::close(fd);
  } else {
    google::protobuf::io::FileInputStream raw(fd, 1 << 20);  // 1 MiB reads (the default is 8 KiB)
    raw.SetCloseOnDelete(true);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT32_MAX);
    if (!m.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      fail("{}: not a valid ONNX protobuf (corrupt or truncated file)", what);
  }
  finish_loading(m, what, path.parent_path().empty() ? fs::path(".") : path.parent_path(), size);
  return m;
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
