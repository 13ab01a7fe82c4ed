#include "npusplit/io/validate.h"

#include <fcntl.h>
#include <onnx/defs/schema.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <unordered_set>

#include "npusplit/base/checked_math.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"

namespace fs = std::filesystem;

namespace npusplit {

namespace {

using TP = onnx::TensorProto;

// Subgraphs nest (If inside Loop inside If...): deeper than this is no real model.
constexpr int kMaxGraphDepth = 32;

std::string gib(int64_t bytes) { return fmt::format("{:.1f} GiB", double(bytes) / double(int64_t{1} << 30)); }

// How many values a tensor of DTYPE stores in its typed repeated field, and that field's size.
// Returns false for types without a typed field npusplit accepts.
bool typed_count(const TP& t, int64_t numel, int64_t& stored, int64_t& needed) {
  needed = numel;
  switch (t.data_type()) {
    case TP::FLOAT: stored = t.float_data_size(); return true;
    case TP::COMPLEX64: stored = t.float_data_size(); needed = sat_mul(numel, 2); return true;
    case TP::DOUBLE: stored = t.double_data_size(); return true;
    case TP::COMPLEX128: stored = t.double_data_size(); needed = sat_mul(numel, 2); return true;
    case TP::INT64: stored = t.int64_data_size(); return true;
    case TP::UINT32: case TP::UINT64: stored = t.uint64_data_size(); return true;
    default: break;
  }
  const int dt = t.data_type();
  // int32_data carries every 1- and 2-byte type (and the 8-bit floats, 17..20, 24), packed
  // 4-bit types (21..23) two per value.
  if (dt == TP::INT32 || dt == TP::INT16 || dt == TP::INT8 || dt == TP::UINT16 || dt == TP::UINT8 ||
      dt == TP::BOOL || dt == TP::FLOAT16 || dt == TP::BFLOAT16 || (dt >= 17 && dt <= 20) || dt == 24) {
    stored = t.int32_data_size();
    return true;
  }
  if (dt >= 21 && dt <= 23) {
    stored = t.int32_data_size();
    needed = numel / 2 + numel % 2;
    return true;
  }
  return false;
}

std::string dims_text(const google::protobuf::RepeatedField<int64_t>& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

void validate_tensor(const TP& t, const std::string& what, const std::string& role_only) {
  // "initializer 'w'", or just "tensor attribute of node 'n'" for an unnamed tensor.
  const std::string role = t.name().empty() ? role_only : role_only + " '" + printable(t.name()) + "'";
  if (t.data_type() == TP::UNDEFINED) fail("{}: {} has no element type", what, role);
  if (t.data_type() == TP::STRING) fail("{}: {} is a string tensor, which npusplit does not support", what, role);
  auto numel = checked_numel({t.dims().data(), static_cast<size_t>(t.dims_size())});
  if (!numel) fail("{}: {} has a negative or overflowing shape {}", what, role, dims_text(t.dims()));
  const auto bytes = raw_byte_size(t.data_type(), *numel);
  if (!bytes) fail("{}: {} has an unsupported element type ({})", what, role, t.data_type());
  if (*bytes > kMaxTensorBytes)
    fail("{}: {} declares {} of data (shape {}), above the {} limit", what, role, gib(*bytes),
         dims_text(t.dims()), gib(kMaxTensorBytes));
  if (t.data_location() == TP::EXTERNAL) return;  // checked when the external data is read
  if (t.has_raw_data()) {
    if (static_cast<int64_t>(t.raw_data().size()) != *bytes)
      fail("{}: {} holds {} bytes of data, its shape {} needs {}", what, role, t.raw_data().size(),
           dims_text(t.dims()), *bytes);
    return;
  }
  int64_t stored = 0, needed = 0;
  if (!typed_count(t, *numel, stored, needed))
    fail("{}: {} has an unsupported element type ({})", what, role, t.data_type());
  if (stored != needed)
    fail("{}: {} holds {} values, its shape {} needs {}", what, role, stored, dims_text(t.dims()),
         needed);
}

// Declared type of a graph input/output/value_info: a tensor of a known element type whose
// known dims are non-negative and whose size stays under the cap.
void validate_value_info(const onnx::ValueInfoProto& v, const std::string& what, const std::string& role,
                         bool model_input) {
  const std::string name = printable(v.name());
  if (v.name().empty()) fail("{}: a {} has an empty name", what, role);
  if (!v.has_type()) {
    if (model_input) fail("{}: {} '{}' declares no type", what, role, name);
    return;
  }
  if (!v.type().has_tensor_type()) {
    if (model_input || role == "graph output")
      fail("{}: {} '{}' is not a tensor (sequences, maps and optionals are not supported)", what, role, name);
    return;
  }
  const auto& tt = v.type().tensor_type();
  if (tt.elem_type() == TP::STRING)
    fail("{}: {} '{}' is a string tensor, which npusplit does not support", what, role, name);
  if (model_input && tt.elem_type() == TP::UNDEFINED) fail("{}: {} '{}' has no element type", what, role, name);
  if (!tt.has_shape()) return;
  int64_t numel = 1;
  for (const auto& d : tt.shape().dim()) {
    if (!d.has_dim_value()) {
      numel = -1;
      continue;
    }
    if (d.dim_value() < 0) fail("{}: {} '{}' has a negative dim ({})", what, role, name, d.dim_value());
    if (model_input && d.dim_value() == 0) fail("{}: {} '{}' has a zero-sized dim", what, role, name);
    if (numel >= 0) {
      auto n = checked_mul(numel, d.dim_value());
      if (!n) fail("{}: {} '{}' has a shape whose size overflows", what, role, name);
      numel = *n;
    }
  }
  if (numel >= 0) {
    const auto bytes = raw_byte_size(tt.elem_type() == TP::UNDEFINED ? TP::FLOAT : tt.elem_type(), numel);
    if (!bytes || *bytes > kMaxTensorBytes)
      fail("{}: {} '{}' declares a shape above the {} per-tensor limit", what, role, name, gib(kMaxTensorBytes));
  }
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// onnx 1.12's shape inference for the control-flow ops indexes the node's inputs by the
// body's inputs (and by num_scan_inputs) without checking the counts: a malformed node
// crashes it. Checked here first.
void validate_control_flow(const onnx::NodeProto& n, const std::string& what) {
  const std::string node = printable(n.name().empty() ? n.op_type() : n.name());
  const auto body = [&](const char* attr) -> const onnx::GraphProto& {
    const auto* a = find_attr(n, attr);
    if (!a || !a->has_g()) fail("{}: {} node '{}' has no '{}' subgraph", what, n.op_type(), node, attr);
    return a->g();
  };
  if (n.op_type() == "If") {
    body("then_branch");
    body("else_branch");
    if (n.input_size() != 1) fail("{}: If node '{}' must have exactly one input", what, node);
  } else if (n.op_type() == "Loop") {
    const auto& g = body("body");
    if (n.input_size() < 2 || g.input_size() != n.input_size() || g.output_size() < n.input_size() - 1)
      fail("{}: Loop node '{}': its body's inputs/outputs do not match the node's ({} inputs, body {} in / {} out)",
           what, node, n.input_size(), g.input_size(), g.output_size());
  } else if (n.op_type() == "Scan") {
    const auto& g = body("body");
    const auto* k = find_attr(n, "num_scan_inputs");
    const int64_t scans = k ? k->i() : -1;
    if (scans < 1 || scans > n.input_size() || g.input_size() != n.input_size() ||
        g.output_size() < n.input_size() - scans)
      fail("{}: Scan node '{}': num_scan_inputs and its body do not match the node's {} inputs", what, node,
           n.input_size());
    for (const char* a : {"scan_input_axes", "scan_input_directions", "scan_output_axes", "scan_output_directions"})
      if (const auto* ax = find_attr(n, a); ax && ax->ints_size() > n.input_size() + g.output_size())
        fail("{}: Scan node '{}': attribute {} is longer than its inputs/outputs", what, node, a);
  }
}

void validate_subgraph(const onnx::GraphProto& g, const std::string& what,
                       const std::unordered_set<std::string>& outer, int depth, bool top) {
  if (depth > kMaxGraphDepth) fail("{}: subgraphs nested deeper than {}", what, kMaxGraphDepth);
  if (g.sparse_initializer_size() > 0)
    fail("{}: sparse initializers are not supported (tensor '{}')", what, printable(g.sparse_initializer(0).values().name()));
  std::unordered_set<std::string> defined = outer;  // outer-scope names are visible in a subgraph
  std::unordered_set<std::string> local;             // defined in this graph: each exactly once
  const auto define = [&](const std::string& name, const char* role) {
    if (!local.insert(name).second) fail("{}: tensor '{}' is defined twice ({})", what, printable(name), role);
    defined.insert(name);
  };
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) fail("{}: an initializer has an empty name", what);
    validate_tensor(t, what, "initializer");
    define(t.name(), "initializer");
  }
  int real_inputs = 0;
  for (const auto& in : g.input()) {
    if (local.count(in.name())) continue;  // IR < 4: initializers are listed as inputs too
    validate_value_info(in, what, top ? "model input" : "subgraph input", top);
    define(in.name(), "graph input");
    ++real_inputs;
  }
  if (top && real_inputs == 0) fail("{}: the model declares no inputs", what);
  for (const auto& n : g.node())
    for (const auto& o : n.output())
      if (!o.empty()) define(o, fmt::format("an output of node '{}'", printable(n.name())).c_str());
  for (const auto& v : g.value_info()) validate_value_info(v, what, "value_info entry", false);
  for (const auto& n : g.node()) {
    if (n.op_type().empty()) fail("{}: node '{}' has no op type", what, printable(n.name()));
    for (const auto& i : n.input())
      if (!i.empty() && !defined.count(i))
        fail("{}: node '{}' ({}) reads '{}', which no node, input or initializer defines", what,
             printable(n.name()), printable(n.op_type()), printable(i));
    if (n.domain().empty() || n.domain() == "ai.onnx") validate_control_flow(n, what);
    for (const auto& a : n.attribute()) {
      if (a.has_t()) validate_tensor(a.t(), what, fmt::format("tensor attribute of node '{}'", printable(n.name())));
      for (const auto& t : a.tensors())
        validate_tensor(t, what, fmt::format("tensor attribute of node '{}'", printable(n.name())));
      if (a.has_sparse_tensor() || a.sparse_tensors_size() > 0)
        fail("{}: node '{}' has a sparse tensor attribute, which is not supported", what, printable(n.name()));
      if (a.has_g()) validate_subgraph(a.g(), what, defined, depth + 1, false);
      for (const auto& sg : a.graphs()) validate_subgraph(sg, what, defined, depth + 1, false);
    }
  }
  std::unordered_set<std::string> outputs;
  if (top && g.output_size() == 0) fail("{}: the model declares no outputs", what);
  for (const auto& o : g.output()) {
    validate_value_info(o, what, "graph output", false);
    if (!outputs.insert(o.name()).second) fail("{}: graph output '{}' is listed twice", what, printable(o.name()));
    if (!defined.count(o.name()))
      fail("{}: graph output '{}' is produced by no node, input or initializer", what, printable(o.name()));
  }
}

// Strict non-negative integer: digits only, no sign, no spaces, no overflow.
std::optional<int64_t> parse_size_field(const std::string& s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

bool inside(const fs::path& dir, const fs::path& p) {
  auto d = dir.begin(), q = p.begin();
  for (; d != dir.end(); ++d, ++q)
    if (q == p.end() || *d != *q) return false;
  return true;
}

}  // namespace

std::optional<int64_t> raw_byte_size(int32_t dtype, int64_t numel) {
  if (numel < 0) return std::nullopt;
  switch (dtype) {
    case TP::UINT8: case TP::INT8: case TP::BOOL: return numel;
    case TP::UINT16: case TP::INT16: case TP::FLOAT16: case TP::BFLOAT16: return checked_mul(numel, 2);
    case TP::FLOAT: case TP::INT32: case TP::UINT32: return checked_mul(numel, 4);
    case TP::DOUBLE: case TP::INT64: case TP::UINT64: case TP::COMPLEX64: return checked_mul(numel, 8);
    case TP::COMPLEX128: return checked_mul(numel, 16);
    default: break;
  }
  if ((dtype >= 17 && dtype <= 20) || dtype == 24) return numel;  // 8-bit floats (onnx >= 1.14)
  if (dtype >= 21 && dtype <= 23) return numel / 2 + numel % 2;  // 4-bit types, packed
  return std::nullopt;
}

void validate_header(const onnx::ModelProto& m, const std::string& what) {
  if (!m.has_graph() || (m.graph().node_size() == 0 && m.graph().output_size() == 0))
    fail("{}: the ONNX model has no graph", what);
  if (m.ir_version() <= 0) fail("{}: not an ONNX model (no IR version)", what);
  if (m.ir_version() > onnx::IR_VERSION)
    fail("{}: ONNX IR version {} is newer than supported (max {})", what, m.ir_version(), int(onnx::IR_VERSION));
  const int64_t opset = default_opset(m);
  if (opset < 0) fail("{}: the model imports no default-domain opset", what);
  if (opset > max_supported_opset())
    fail("{}: opset {} is newer than supported (max {}); re-export with opset <= {}", what, opset,
         max_supported_opset(), max_supported_opset());
  if (opset < 7) fail("{}: opset {} is older than supported (min 7)", what, opset);
}

void validate_graph(const onnx::ModelProto& m, const std::string& what) {
  validate_subgraph(m.graph(), what, {}, 0, true);
}

fs::path resolve_external_location(const fs::path& model_dir, const std::string& location,
                                   const std::string& tensor, const std::string& what) {
  const std::string t = printable(tensor), loc = printable(location);
  if (location.empty()) fail("{}: tensor '{}' has external data without a location", what, t);
  if (location.find('\0') != std::string::npos)
    fail("{}: tensor '{}': external data location holds a NUL byte", what, t);
  const fs::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    fail("{}: tensor '{}': external data location '{}' is absolute; it must be a path inside the model's folder",
         what, t, loc);
  for (const auto& part : rel)
    if (part == "..")
      fail("{}: tensor '{}': external data location '{}' leaves the model's folder", what, t, loc);
  std::error_code ec;
  const fs::path dir = fs::canonical(model_dir.empty() ? fs::path(".") : model_dir, ec);
  if (ec) fail("{}: cannot resolve the model's folder", what);
  const fs::path real = fs::canonical(dir / rel, ec);
  if (ec) fail("{}: external data file '{}' for tensor '{}' is missing", what, loc, t);
  if (!inside(dir, real))
    fail("{}: tensor '{}': external data location '{}' resolves outside the model's folder (symbolic link)", what,
         t, loc);
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    fail("{}: tensor '{}': external data location '{}' is not a regular file", what, t, loc);
  return real;
}

void inline_external_tensor(TP& t, const fs::path& model_dir, const std::string& what, int64_t& budget) {
  if (t.data_location() != TP::EXTERNAL) return;
  const std::string name = printable(t.name());
  std::string location;
  std::optional<int64_t> offset = 0, length;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset" && !(offset = parse_size_field(kv.value())))
      fail("{}: tensor '{}': external data offset '{}' is not a non-negative integer", what, name,
           printable(kv.value()));
    if (kv.key() == "length" && !(length = parse_size_field(kv.value())))
      fail("{}: tensor '{}': external data length '{}' is not a non-negative integer", what, name,
           printable(kv.value()));
  }
  const fs::path file = resolve_external_location(model_dir, location, t.name(), what);
  auto numel = checked_numel({t.dims().data(), static_cast<size_t>(t.dims_size())});
  const auto need = numel ? raw_byte_size(t.data_type(), *numel) : std::nullopt;
  if (!need) fail("{}: tensor '{}' has an invalid shape or element type", what, name);
  if (length && *length != *need)
    fail("{}: tensor '{}': external data length {} does not match its shape (needs {} bytes)", what, name,
         *length, *need);
  if (*need > budget)
    fail("{}: the model with its external data exceeds {} (protobuf's limit)", what, gib(kMaxTensorBytes));
  // O_NONBLOCK: the file was a regular file when resolved; if it was swapped for a FIFO since,
  // opening it must not hang. fstat below re-checks what was opened.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open external data file '{}'", what, printable(location));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    fail("{}: tensor '{}': external data location '{}' is not a regular file", what, name, printable(location));
  const auto end = checked_add(*offset, *need);
  if (!end || *end > st.st_size)
    fail("{}: external data file '{}' is shorter than tensor '{}' needs (offset {} + {} bytes > {})", what,
         printable(location), name, *offset, *need, static_cast<int64_t>(st.st_size));
  std::string buf(static_cast<size_t>(*need), '\0');
  for (int64_t done = 0; done < *need;) {
    const ssize_t n = ::pread(fd, buf.data() + done, static_cast<size_t>(*need - done), *offset + done);
    if (n <= 0) fail("{}: reading external data file '{}' failed", what, printable(location));
    done += n;
  }
  budget -= *need;
  t.set_raw_data(std::move(buf));
  t.clear_external_data();
  t.set_data_location(TP::DEFAULT);
}

}  // namespace npusplit
