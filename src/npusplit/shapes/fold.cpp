#include "npusplit/shapes/fold.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/base/checked_math.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/graph.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/shapes/kernel_preconditions.h"
#include "npusplit/shapes/node_inference.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

namespace {

using TP = onnx::TensorProto;

// Shape arithmetic is small: larger constant subgraphs (tables, masks) go to ONNX Runtime.
constexpr int64_t kMaxDirectNumel = 1 << 16;

bool direct_dtype(int32_t d) {
  return d == TP::INT64 || d == TP::INT32 || d == TP::FLOAT || d == TP::DOUBLE || d == TP::BOOL;
}

HostTensor make_host(int32_t dtype, std::vector<int64_t> dims) {
  return HostTensor(TensorSpec{"", dtype, std::move(dims)});
}

// Element I of T as int64 / double (T's dtype is one of direct_dtype()).
int64_t get_i(const HostTensor& t, int64_t i) {
  switch (t.spec.dtype) {
    case TP::INT64: return t.as<int64_t>()[i];
    case TP::INT32: return t.as<int32_t>()[i];
    case TP::BOOL: return t.as<uint8_t>()[i];
    default: return 0;
  }
}

std::optional<std::vector<int64_t>> ints_of(const HostTensor* t) {
  if (!t || (t->spec.dtype != TP::INT64 && t->spec.dtype != TP::INT32)) return std::nullopt;
  std::vector<int64_t> v(static_cast<size_t>(t->numel()));
  for (int64_t i = 0; i < t->numel(); ++i) v[i] = get_i(*t, i);
  return v;
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int k = static_cast<int>(dims.size()) - 2; k >= 0; --k) s[k] = s[k + 1] * dims[k + 1];
  return s;
}

bool normalize_axis(int64_t& axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  return true;
}

std::optional<HostTensor> eval_shape(const onnx::NodeProto& n, const HostTensor& x) {
  const auto& d = x.spec.dims;
  const int64_t r = static_cast<int64_t>(d.size());
  int64_t s = attr_int(n, "start", 0), e = attr_int(n, "end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  auto out = make_host(TP::INT64, {std::max<int64_t>(0, e - s)});
  for (int64_t k = s; k < e; ++k) out.as<int64_t>()[k - s] = d[k];
  return out;
}

std::optional<HostTensor> eval_gather(const onnx::NodeProto& n, const HostTensor& data, const HostTensor* idx) {
  auto indices = ints_of(idx);
  if (!indices) return std::nullopt;
  const auto& dd = data.spec.dims;
  int64_t axis = attr_int(n, "axis", 0);
  if (!normalize_axis(axis, static_cast<int64_t>(dd.size()))) return std::nullopt;
  std::vector<int64_t> out_dims(dd.begin(), dd.begin() + axis);
  out_dims.insert(out_dims.end(), idx->spec.dims.begin(), idx->spec.dims.end());
  out_dims.insert(out_dims.end(), dd.begin() + axis + 1, dd.end());
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= dd[k];
  for (size_t k = axis + 1; k < dd.size(); ++k) inner *= dd[k];
  const int64_t dim = dd[axis];
  auto out = make_host(data.spec.dtype, out_dims);
  const int64_t es = dtype_size(data.spec.dtype);
  const int64_t ni = static_cast<int64_t>(indices->size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t k = (*indices)[j];
      if (k < -dim || k >= dim) return std::nullopt;  // ORT refuses it: leave the error to it
      if (k < 0) k += dim;
      if (inner > 0)
        std::memcpy(out.data.data() + ((o * ni + j) * inner) * es, data.data.data() + ((o * dim + k) * inner) * es,
                    static_cast<size_t>(inner * es));
    }
  return out;
}

std::optional<HostTensor> eval_concat(const onnx::NodeProto& n, const std::vector<const HostTensor*>& in) {
  if (in.empty() || !in[0]) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(in[0]->spec.dims.size());
  int64_t axis = attr_int(n, "axis", 0);
  if (!normalize_axis(axis, rank)) return std::nullopt;
  std::vector<int64_t> out_dims = in[0]->spec.dims;
  out_dims[axis] = 0;
  for (const auto* t : in) {
    if (!t || t->spec.dtype != in[0]->spec.dtype || static_cast<int64_t>(t->spec.dims.size()) != rank) return std::nullopt;
    for (int64_t k = 0; k < rank; ++k)
      if (k != axis && t->spec.dims[k] != in[0]->spec.dims[k]) return std::nullopt;
    out_dims[axis] += t->spec.dims[axis];
  }
  auto out = make_host(in[0]->spec.dtype, out_dims);
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= out_dims[k];
  const int64_t es = dtype_size(in[0]->spec.dtype);
  uint8_t* dst = out.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (const auto* t : in) {
      const int64_t block = (outer ? t->numel() / std::max<int64_t>(outer, 1) : 0) * es;
      if (block > 0) std::memcpy(dst, t->data.data() + o * block, static_cast<size_t>(block));  // an empty part has no data pointer
      dst += block;
    }
  return out;
}

HostTensor reshaped(const HostTensor& x, std::vector<int64_t> dims) {
  HostTensor out = x;
  out.spec.dims = std::move(dims);
  return out;
}

std::optional<std::vector<int64_t>> axes_of(const onnx::NodeProto& n, const std::vector<const HostTensor*>& in,
                                            int64_t opset, int64_t since) {
  if (opset >= since) {
    if (in.size() < 2 || !in[1]) return std::vector<int64_t>{};
    return ints_of(in[1]);
  }
  return attr_ints(n, "axes").value_or(std::vector<int64_t>{});
}

std::optional<HostTensor> eval_unsqueeze(const onnx::NodeProto& n, const std::vector<const HostTensor*>& in,
                                         int64_t opset) {
  auto axes = axes_of(n, in, opset, 13);
  if (!axes || axes->empty()) return std::nullopt;
  const auto& d = in[0]->spec.dims;
  const int64_t out_rank = static_cast<int64_t>(d.size() + axes->size());
  std::vector<char> is_new(out_rank, 0);
  for (auto a : *axes) {
    if (!normalize_axis(a, out_rank) || is_new[a]) return std::nullopt;
    is_new[a] = 1;
  }
  std::vector<int64_t> out_dims;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) out_dims.push_back(is_new[i] ? 1 : d[k++]);
  return reshaped(*in[0], out_dims);
}

std::optional<HostTensor> eval_squeeze(const onnx::NodeProto& n, const std::vector<const HostTensor*>& in,
                                       int64_t opset) {
  auto axes = axes_of(n, in, opset, 13);
  if (!axes) return std::nullopt;
  const auto& d = in[0]->spec.dims;
  const int64_t rank = static_cast<int64_t>(d.size());
  std::vector<char> drop(rank, 0);
  if (axes->empty()) {
    for (int64_t i = 0; i < rank; ++i) drop[i] = d[i] == 1;
  } else {
    for (auto a : *axes) {
      if (!normalize_axis(a, rank) || d[a] != 1) return std::nullopt;
      drop[a] = 1;
    }
  }
  std::vector<int64_t> out_dims;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i]) out_dims.push_back(d[i]);
  return reshaped(*in[0], out_dims);
}

std::optional<HostTensor> eval_reshape(const onnx::NodeProto& n, const HostTensor& x, const HostTensor* shape_t) {
  auto shape = ints_of(shape_t);
  if (!shape) return std::nullopt;
  const bool allowzero = attr_int(n, "allowzero", 0) != 0;
  std::vector<int64_t> dims;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t v = (*shape)[i];
    if (v == 0 && !allowzero) {
      if (i >= x.spec.dims.size()) return std::nullopt;
      v = x.spec.dims[i];
    }
    if (v == -1) {
      if (infer >= 0) return std::nullopt;
      infer = static_cast<int>(i);
      dims.push_back(-1);
      continue;
    }
    if (v < 0) return std::nullopt;
    dims.push_back(v);
    known *= v;
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known) return std::nullopt;
    dims[infer] = x.numel() / known;
  } else if (known != x.numel()) {
    return std::nullopt;
  }
  return reshaped(x, dims);
}

std::optional<HostTensor> eval_slice(const onnx::NodeProto& n, const std::vector<const HostTensor*>& in,
                                     int64_t opset) {
  const HostTensor& x = *in[0];
  const auto& d = x.spec.dims;
  const int64_t rank = static_cast<int64_t>(d.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = attr_ints(n, "starts").value_or(std::vector<int64_t>{});
    ends = attr_ints(n, "ends").value_or(std::vector<int64_t>{});
    axes = attr_ints(n, "axes").value_or(std::vector<int64_t>{});
  } else {
    auto at = [&](size_t k) { return k < in.size() ? in[k] : nullptr; };
    auto s = ints_of(at(1)), e = ints_of(at(2));
    if (!s || !e) return std::nullopt;
    starts = *s, ends = *e;
    if (at(3)) {
      auto a = ints_of(at(3));
      if (!a) return std::nullopt;
      axes = *a;
    }
    if (at(4)) {
      auto st = ints_of(at(4));
      if (!st) return std::nullopt;
      steps = *st;
    }
  }
  if (starts.size() != ends.size()) return std::nullopt;
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) return std::nullopt;
  std::vector<int64_t> first(rank, 0), step(rank, 1), count(d);
  std::vector<char> seen(rank, 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k];
    if (!normalize_axis(a, rank) || seen[a] || steps[k] == 0) return std::nullopt;
    seen[a] = 1;
    const int64_t dim = d[a];
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s = s < -dim ? 0 : s + dim;  // ONNX: negative counts from the end, then clamps
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (steps[k] > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count[a] = e > s ? (e - s + steps[k] - 1) / steps[k] : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count[a] = s > e ? (s - e - steps[k] - 1) / (-steps[k]) : 0;
    }
    first[a] = s;
    step[a] = steps[k];
  }
  auto out = make_host(x.spec.dtype, count);
  const auto in_strides = strides_of(d);
  const int64_t es = dtype_size(x.spec.dtype);
  const int64_t total = out.numel();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    int64_t src = 0;
    for (int64_t k = 0; k < rank; ++k) src += (first[k] + idx[k] * step[k]) * in_strides[k];
    std::memcpy(out.data.data() + o * es, x.data.data() + src * es, static_cast<size_t>(es));
    for (int64_t k = rank - 1; k >= 0; --k) {
      if (++idx[k] < count[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

std::optional<HostTensor> eval_cast(const onnx::NodeProto& n, const HostTensor& x) {
  const int32_t to = static_cast<int32_t>(attr_int(n, "to", 0));
  if (!direct_dtype(to)) return std::nullopt;
  auto out = make_host(to, x.spec.dims);
  const int64_t N = x.numel();
  const bool from_float = x.spec.dtype == TP::FLOAT || x.spec.dtype == TP::DOUBLE;
  for (int64_t i = 0; i < N; ++i) {
    if (from_float) {
      const double v = x.spec.dtype == TP::FLOAT ? double(x.as<float>()[i]) : x.as<double>()[i];
      switch (to) {
        case TP::FLOAT: out.as<float>()[i] = static_cast<float>(v); break;
        case TP::DOUBLE: out.as<double>()[i] = v; break;
        case TP::BOOL: out.as<uint8_t>()[i] = v != 0; break;
        case TP::INT64:
          // Out of range (or NaN) is undefined in C++: leave such casts to ONNX Runtime.
          if (!std::isfinite(v) || v >= 9.2e18 || v <= -9.2e18) return std::nullopt;
          out.as<int64_t>()[i] = static_cast<int64_t>(v);
          break;
        case TP::INT32:
          if (!std::isfinite(v) || v >= 2147483647.0 || v <= -2147483648.0) return std::nullopt;
          out.as<int32_t>()[i] = static_cast<int32_t>(v);
          break;
      }
    } else {
      const int64_t v = get_i(x, i);
      switch (to) {
        case TP::FLOAT: out.as<float>()[i] = static_cast<float>(v); break;
        case TP::DOUBLE: out.as<double>()[i] = static_cast<double>(v); break;
        case TP::BOOL: out.as<uint8_t>()[i] = v != 0; break;
        case TP::INT64: out.as<int64_t>()[i] = v; break;
        case TP::INT32: out.as<int32_t>()[i] = static_cast<int32_t>(v); break;
      }
    }
  }
  return out;
}

// Numpy broadcasting of A and B; nullopt when they do not broadcast.
std::optional<std::vector<int64_t>> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t k = 0; k < r; ++k) {
    const int64_t x = k + a.size() >= r ? a[k + a.size() - r] : 1;
    const int64_t y = k + b.size() >= r ? b[k + b.size() - r] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[k] = x == 1 ? y : x;
  }
  return out;
}

// For each output element, the element index in an input of dims IN broadcast to OUT.
std::vector<int64_t> broadcast_index(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const int64_t total = checked_numel(out).value_or(0);
  std::vector<int64_t> map(static_cast<size_t>(total));
  const size_t r = out.size();
  std::vector<int64_t> padded(r, 1);
  for (size_t k = 0; k < in.size(); ++k) padded[r - in.size() + k] = in[k];
  const auto st = strides_of(padded);
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < total; ++o) {
    int64_t src = 0;
    for (size_t k = 0; k < r; ++k) src += (padded[k] == 1 ? 0 : idx[k]) * st[k];
    map[o] = src;
    for (int64_t k = static_cast<int64_t>(r) - 1; k >= 0; --k) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return map;
}

template <typename T>
bool arith(const std::string& op, T x, T y, T& z) {
  if (op == "Add") z = x + y;
  else if (op == "Sub") z = x - y;
  else if (op == "Mul") z = x * y;
  else if (op == "Div") {
    if constexpr (std::is_integral_v<T>) {
      if (y == 0 || (x == std::numeric_limits<T>::min() && y == -1)) return false;
    }
    z = x / y;
  } else return false;
  return true;
}

template <typename T>
bool arith_checked(const std::string& op, T x, T y, T& z) {
  if constexpr (std::is_integral_v<T>) {
    // Signed overflow is undefined in C++ (ORT wraps): leave it to ONNX Runtime.
    if (op == "Add") return !__builtin_add_overflow(x, y, &z);
    if (op == "Sub") return !__builtin_sub_overflow(x, y, &z);
    if (op == "Mul") return !__builtin_mul_overflow(x, y, &z);
  }
  return arith(op, x, y, z);
}

template <typename T>
std::optional<HostTensor> eval_binary_typed(const std::string& op, const HostTensor& a, const HostTensor& b,
                                            const std::vector<int64_t>& dims) {
  auto out = make_host(a.spec.dtype, dims);
  const auto ia = broadcast_index(a.spec.dims, dims), ib = broadcast_index(b.spec.dims, dims);
  const T* pa = a.as<T>();
  const T* pb = b.as<T>();
  T* po = out.as<T>();
  for (size_t o = 0; o < ia.size(); ++o)
    if (!arith_checked<T>(op, pa[ia[o]], pb[ib[o]], po[o])) return std::nullopt;
  return out;
}

std::optional<HostTensor> eval_binary(const std::string& op, const HostTensor* a, const HostTensor* b) {
  if (!a || !b || a->spec.dtype != b->spec.dtype) return std::nullopt;
  auto dims = broadcast_dims(a->spec.dims, b->spec.dims);
  if (!dims || checked_numel(*dims).value_or(kMaxDirectNumel + 1) > kMaxDirectNumel) return std::nullopt;
  switch (a->spec.dtype) {
    case TP::INT64: return eval_binary_typed<int64_t>(op, *a, *b, *dims);
    case TP::INT32: return eval_binary_typed<int32_t>(op, *a, *b, *dims);
    case TP::FLOAT: return eval_binary_typed<float>(op, *a, *b, *dims);
    case TP::DOUBLE: return eval_binary_typed<double>(op, *a, *b, *dims);
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<HostTensor> host_tensor_of(const onnx::TensorProto& t, int64_t max_numel) {
  if (!direct_dtype(t.data_type()) || t.data_location() == TP::EXTERNAL) return std::nullopt;
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  const auto numel = checked_numel(dims);
  if (!numel || *numel > max_numel) return std::nullopt;
  HostTensor h(TensorSpec{t.name(), t.data_type(), dims});
  const size_t bytes = h.data.size();
  if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes) return std::nullopt;
    if (bytes) std::memcpy(h.data.data(), t.raw_data().data(), bytes);
    return h;
  }
  const int64_t n = *numel;
  switch (t.data_type()) {
    case TP::INT64:
      if (t.int64_data_size() != n) return std::nullopt;
      std::copy(t.int64_data().begin(), t.int64_data().end(), h.as<int64_t>());
      break;
    case TP::FLOAT:
      if (t.float_data_size() != n) return std::nullopt;
      std::copy(t.float_data().begin(), t.float_data().end(), h.as<float>());
      break;
    case TP::DOUBLE:
      if (t.double_data_size() != n) return std::nullopt;
      std::copy(t.double_data().begin(), t.double_data().end(), h.as<double>());
      break;
    case TP::INT32:
      if (t.int32_data_size() != n) return std::nullopt;
      std::copy(t.int32_data().begin(), t.int32_data().end(), h.as<int32_t>());
      break;
    case TP::BOOL:
      if (t.int32_data_size() != n) return std::nullopt;
      for (int64_t i = 0; i < n; ++i) h.as<uint8_t>()[i] = t.int32_data(static_cast<int>(i)) != 0;
      break;
    default: return std::nullopt;
  }
  return h;
}

onnx::TensorProto tensor_proto_of(const HostTensor& h) {
  onnx::TensorProto t;
  t.set_name(h.name());
  t.set_data_type(h.spec.dtype);
  for (auto d : h.spec.dims) t.add_dims(d);
  t.set_raw_data(std::string(h.data.begin(), h.data.end()));
  return t;
}

std::optional<std::vector<HostTensor>> evaluate_constant_node(const onnx::NodeProto& n,
                                                     const std::vector<const HostTensor*>& in, int64_t opset) {
  if (!n.domain().empty() && n.domain() != "ai.onnx") return std::nullopt;
  if (n.output_size() != 1 || in.empty() || !in[0]) return std::nullopt;
  for (const auto* t : in)
    if (t && (!direct_dtype(t->spec.dtype) || t->numel() > kMaxDirectNumel)) return std::nullopt;
  const std::string& op = n.op_type();
  auto in_at = [&](size_t k) { return k < in.size() ? in[k] : nullptr; };
  std::optional<HostTensor> out;
  if (op == "Shape") out = eval_shape(n, *in[0]);
  else if (op == "Size") {
    out = make_host(TP::INT64, {});
    out->as<int64_t>()[0] = in[0]->numel();
  } else if (op == "Identity") out = *in[0];
  else if (op == "Gather") out = eval_gather(n, *in[0], in_at(1));
  else if (op == "Concat") out = eval_concat(n, in);
  else if (op == "Unsqueeze") out = eval_unsqueeze(n, in, opset);
  else if (op == "Squeeze") out = eval_squeeze(n, in, opset);
  else if (op == "Reshape" && opset >= 5) out = eval_reshape(n, *in[0], in_at(1));
  else if (op == "Slice") out = eval_slice(n, in, opset);
  else if (op == "Cast") out = eval_cast(n, *in[0]);
  else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") out = eval_binary(op, in[0], in_at(1));
  if (!out || out->numel() > kMaxDirectNumel) return std::nullopt;
  out->spec.name = n.output(0);
  std::vector<HostTensor> v;
  v.push_back(std::move(*out));
  return v;
}

namespace {

bool is_random_op(const std::string& op) {
  return op.rfind("Random", 0) == 0 || op == "Multinomial" || op == "Bernoulli";
}

// Identity nodes that only rename an initializer (exporters write hundreds, one per shared
// weight) are folded by pointing their readers at the initializer: no copy of the weight.
int alias_identity_of_initializers(onnx::GraphProto& g) {
  std::unordered_set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  return static_cast<int>(
      bypass_nodes(g, [&](const onnx::NodeProto& n) { return n.op_type() == "Identity" && inits.count(n.input(0)); })
          .size());
}

struct RoundResult {
  int folded = 0, direct = 0, by_ort = 0;
  bool ort_session = false;
};

// One sweep over M (whose shapes SHAPES describes); returns what it folded.
RoundResult sweep(onnx::ModelProto& m, const ShapeMap& shapes) {
  RoundResult rr;
  auto* g = m.mutable_graph();
  const int64_t opset = default_opset(m);
  Graph idx(*g);
  std::unordered_set<std::string> static_t;
  for (const auto& t : g->initializer()) static_t.insert(t.name());
  std::unordered_map<std::string, HostTensor> values;  // known values: decoded constants, swept outputs
  auto value_of = [&](const std::string& name) -> const HostTensor* {
    if (auto it = values.find(name); it != values.end()) return &it->second;
    const auto* t = idx.initializer(name);
    if (!t) return nullptr;
    auto h = host_tensor_of(*t, kMaxDirectNumel);
    if (!h) return nullptr;
    return &values.emplace(name, std::move(*h)).first->second;
  };
  // Shapes this sweep works out for tensors the last full inference left open (a Slice whose
  // bounds were just computed, and what follows it), so that a Shape further on folds in the
  // same sweep instead of one full inference later.
  ShapeMap learned;
  auto known_shape = [&](const std::string& name) -> const TensorInfo* {
    if (auto it = learned.find(name); it != learned.end()) return &it->second;
    if (auto it = shapes.find(name); it != shapes.end()) return &it->second;
    return nullptr;
  };
  auto propagate = [&](const onnx::NodeProto& n) {
    bool open = false;
    for (const auto& o : n.output()) {
      const auto* s = o.empty() ? nullptr : known_shape(o);
      open |= !o.empty() && (!s || !s->is_static());
    }
    if (!open || !node_inference_allowed(n)) return;
    std::vector<const TensorInfo*> in_shapes;
    std::vector<const onnx::TensorProto*> in_data;
    std::vector<onnx::TensorProto> data_store;
    data_store.reserve(n.input_size());
    for (const auto& in : n.input()) {
      const TensorInfo* s = in.empty() ? nullptr : known_shape(in);
      if (!in.empty() && (!s || !s->is_static())) return;  // nothing new to learn
      in_shapes.push_back(s);
      const onnx::TensorProto* d = nullptr;
      if (!in.empty() && static_t.count(in)) {
        if (const auto* t = idx.initializer(in)) {
          d = t;
        } else if (auto it = values.find(in); it != values.end()) {
          data_store.push_back(tensor_proto_of(it->second));
          data_store.back().set_name(in);
          d = &data_store.back();
        }
      }
      in_data.push_back(d);
    }
    const auto outs = infer_node(n, in_shapes, in_data, opset);
    for (size_t k = 0; k < outs.size(); ++k)
      if (!n.output(static_cast<int>(k)).empty() && outs[k].is_static() && outs[k].dtype)
        learned[n.output(static_cast<int>(k))] = outs[k];
  };
  std::vector<char> is_static(g->node_size(), 0), deferred(g->node_size(), 0);
  for (int i : idx.topo_order()) {
    const auto& n = g->node(i);
    bool produces_output = false;
    for (const auto& o : n.output()) produces_output |= idx.is_graph_output(o);
    // Control flow is never folded: its bodies may read run-time values from this graph.
    if (produces_output || is_random_op(n.op_type()) || n.output_size() == 0 || idx.has_subgraph(i)) {
      if (!idx.has_subgraph(i)) propagate(n);
      continue;
    }
    if ((n.op_type() == "Shape" || n.op_type() == "Size") && n.input_size() == 1 &&
        (n.domain().empty() || n.domain() == "ai.onnx")) {
      // The value is the shape: known when the shape is, whatever the data.
      std::vector<int64_t> dims;
      if (const auto* v = values.count(n.input(0)) ? &values.at(n.input(0)) : nullptr) {
        dims = v->spec.dims;
      } else {
        const auto* s = known_shape(n.input(0));
        if (!s || !s->is_static()) continue;
        dims = s->dims;
      }
      HostTensor stand_in(TensorSpec{"", TP::BOOL, {0}});  // only its dims are read
      stand_in.spec.dims = dims;
      std::optional<HostTensor> out;
      if (n.op_type() == "Shape") {
        out = eval_shape(n, stand_in);
      } else {
        out = make_host(TP::INT64, {});
        out->as<int64_t>()[0] = checked_numel(dims).value_or(-1);
      }
      out->spec.name = n.output(0);
      values[n.output(0)] = std::move(*out);
      is_static[i] = 1;
      static_t.insert(n.output(0));
      ++rr.direct;
      continue;
    }
    bool all_static = true;
    for (const auto& in : n.input())
      if (!in.empty() && !static_t.count(in)) all_static = false;
    if (!all_static) {
      propagate(n);
      continue;
    }
    is_static[i] = 1;
    for (const auto& o : n.output()) static_t.insert(o);
    std::vector<const HostTensor*> ins;
    bool have_all = true;
    for (const auto& in : n.input()) {
      const HostTensor* v = in.empty() ? nullptr : value_of(in);
      if (!in.empty() && !v) have_all = false;
      ins.push_back(v);
    }
    std::optional<std::vector<HostTensor>> outs;
    if (have_all) outs = evaluate_constant_node(n, ins, opset);
    if (outs) {
      for (auto& o : *outs) values[o.name()] = std::move(o);
      ++rr.direct;
    } else {
      deferred[i] = 1;
      ++rr.by_ort;
    }
  }
  // Frontier: static node outputs that something non-static reads.
  std::vector<std::string> frontier_direct, frontier_ort;
  for (int i = 0; i < g->node_size(); ++i) {
    if (!is_static[i]) continue;
    for (const auto& o : g->node(i).output()) {
      if (o.empty()) continue;
      bool needed = false;
      for (int c : idx.consumers(o)) needed |= !is_static[c];
      if (needed) (deferred[i] ? frontier_ort : frontier_direct).push_back(o);
    }
  }
  for (char s : is_static) rr.folded += s;
  if (rr.folded == 0) return rr;
  if (spdlog::should_log(spdlog::level::trace))
    for (int i = 0; i < g->node_size(); ++i)
      if (is_static[i])
        spdlog::trace("fold: {} ({}) {}", g->node(i).name(), g->node(i).op_type(), deferred[i] ? "by ONNX Runtime" : "");

  std::vector<onnx::TensorProto> new_inits;
  for (const auto& f : frontier_direct) {
    auto t = tensor_proto_of(values.at(f));
    t.set_name(f);
    new_inits.push_back(std::move(t));
  }
  if (!frontier_ort.empty()) {
    // The nodes the sweep left, in ONE model: their inputs are the graph's constants and the
    // values the sweep computed.
    onnx::ModelProto fm;
    fm.set_ir_version(m.ir_version());
    *fm.mutable_opset_import() = m.opset_import();
    auto* fg = fm.mutable_graph();
    fg->set_name("fold");
    std::unordered_set<std::string> added;
    for (int i : idx.topo_order()) {
      if (!deferred[i]) continue;
      const auto& n = g->node(i);
      *fg->add_node() = n;
      for (const auto& in : n.input()) {
        if (in.empty() || added.count(in)) continue;
        const int p = idx.producer(in);
        if (p >= 0 && deferred[p]) continue;
        added.insert(in);
        if (const auto* t = idx.initializer(in)) {
          *fg->add_initializer() = *t;
        } else {
          auto t2 = tensor_proto_of(values.at(in));
          t2.set_name(in);
          *fg->add_initializer() = std::move(t2);
        }
      }
    }
    bool all_typed = true;
    for (const auto& f : frontier_ort) {
      auto* o = fg->add_output();
      o->set_name(f);
      auto it = shapes.find(f);
      if (it != shapes.end() && it->second.dtype)
        o->mutable_type()->mutable_tensor_type()->set_elem_type(it->second.dtype);
      else
        all_typed = false;
    }
    if (!all_typed) {
      // ORT needs every output's element type: infer them on the folding model itself.
      onnx::ModelProto probe = fm;
      auto fshapes = infer_shapes(probe);
      for (auto& o : *fg->mutable_output()) {
        if (o.type().tensor_type().elem_type()) continue;
        auto it = fshapes.find(o.name());
        o.mutable_type()->mutable_tensor_type()->set_elem_type(
            it != fshapes.end() && it->second.dtype ? it->second.dtype : TP::FLOAT);
      }
    }
    std::string bytes;
    fm.SerializeToString(&bytes);
    if (spdlog::should_log(spdlog::level::debug)) {
      std::map<std::string, int> ops;  // what the sweep could not evaluate, by op
      for (const auto& n : fg->node()) ++ops[n.op_type()];
      std::string list;
      for (const auto& [op, k] : ops) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", op, k);
      spdlog::debug("fold: {} node(s) to ONNX Runtime ({}), a {:.1f} MiB model", rr.by_ort, list,
                    double(bytes.size()) / (1 << 20));
    }
    OrtOptions oo;
    oo.intra_threads = 1;
    auto session = make_session(bytes, oo, "constant folding");
    auto computed = run_session(session, {}, frontier_ort);
    for (auto& v : computed) {
      new_inits.push_back(tensor_proto_of(v));
      std::vector<uint8_t>().swap(v.data);  // each table exists once at a time, as it moves over
    }
    rr.ort_session = true;
  }
  // Replace: drop static nodes, add their needed outputs as initializers.
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < g->node_size(); ++i)
    if (!is_static[i]) kept.Add(std::move(*g->mutable_node(i)));
  g->mutable_node()->Swap(&kept);
  for (auto& t : new_inits) *g->add_initializer() = std::move(t);
  return rr;
}

}  // namespace

namespace {
// PARTIAL without the tensors that are static by now or no node computes any more (folded into
// an initializer, or dead).
void drop_settled(const onnx::ModelProto& m, const ShapeMap& shapes, std::unordered_set<std::string>& partial) {
  if (partial.empty()) return;
  std::unordered_set<std::string_view> computed;
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output()) computed.insert(o);
  for (auto it = partial.begin(); it != partial.end();) {
    auto s = shapes.find(*it);
    const bool settled = !computed.count(*it) || (s != shapes.end() && s->second.dtype && s->second.is_static());
    it = settled ? partial.erase(it) : std::next(it);
  }
}
}  // namespace

FoldOutcome fold_static(onnx::ModelProto& m, const ShapeMap* known) {
  FoldOutcome out;
  std::vector<std::string> before;
  for (const auto& n : m.graph().node()) before.push_back(n.name());
  ShapeMap shapes;
  bool shapes_current = false;
  // Tensors a node-by-node refresh left less than static since the last full inference.
  std::unordered_set<std::string> partial;
  if (known) shapes = *known, shapes_current = true;
  for (int r = 0; r < 64; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    // Aliases first: a round of its own, needing no shapes (the aliased tensors' readers now
    // read the initializers, whose shapes are known).
    if (const int aliased = alias_identity_of_initializers(*m.mutable_graph())) {
      out.stats.folded_nodes += aliased;
      spdlog::debug("fold round {}: {} Identity node(s) aliased", r, aliased);
      continue;
    }
    if (!shapes_current) {
      shapes = infer_shapes(m);
      ++out.stats.full_inferences;
      partial.clear();
    }
    check_kernel_preconditions(m, shapes);  // folding runs ONNX Runtime on these nodes
    const GraphFingerprint before_sweep = fingerprint(m.graph());
    const RoundResult rr = sweep(m, shapes);
    ++out.stats.rounds;
    if (rr.folded == 0) {
      drop_settled(m, shapes, partial);
      spdlog::debug("fold round {}: 0 node(s) in {:.0f} ms{}", r,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                    partial.empty() ? "" : "; some shapes are partial: one full inference, then another round");
      if (partial.empty()) {
        out.stats.converged = true;
        break;
      }
      // The full inference's data propagation may know what node by node could not: it decides
      // before folding stops (never fewer folds than with a full inference every round).
      shapes_current = false;
      continue;
    }
    // What the new constants fix, node by node (tract's "patch, then re-derive"); a shape left
    // partial waits for the next round (its inputs may fold there); the full (isolated)
    // inference only when some node cannot be inferred this way, or folding would stop.
    shapes_current = refresh_shapes(m, before_sweep, shapes, &partial);
    spdlog::debug("fold round {}: {} node(s) ({} evaluated directly, {} by ONNX Runtime) in {:.0f} ms, shapes {}", r,
                  rr.folded, rr.direct, rr.by_ort,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                  !shapes_current ? "left to the full inference"
                  : !partial.empty() ? "refreshed node by node, some partial"
                                  : "refreshed node by node");
    out.stats.folded_nodes += rr.folded;
    out.stats.evaluated_directly += rr.direct;
    out.stats.evaluated_by_ort += rr.by_ort;
    out.stats.ort_sessions += rr.ort_session ? 1 : 0;
  }
  remove_dead_code(*m.mutable_graph());
  drop_settled(m, shapes, partial);
  if (!shapes_current || !partial.empty()) {  // (the round cap, with shapes still partial)
    shapes = infer_shapes(m);
    ++out.stats.full_inferences;
  } else {
    // Refreshed shapes still hold the tensors folding or dead-code removal took away.
    std::unordered_set<std::string> live;
    for (const auto& t : m.graph().initializer()) live.insert(t.name());
    for (const auto& v : m.graph().input()) live.insert(v.name());
    for (const auto& n : m.graph().node())
      for (const auto& o : n.output()) live.insert(o);
    for (auto it = shapes.begin(); it != shapes.end();) it = live.count(it->first) ? std::next(it) : shapes.erase(it);
  }
  out.shapes = std::move(shapes);
  if (out.stats.folded_nodes) {
    std::unordered_set<std::string> after;
    for (const auto& n : m.graph().node()) after.insert(n.name());
    for (const auto& b : before)
      if (!after.count(b)) out.folded_names.push_back(b);
  }
  return out;
}

}  // namespace npusplit
