#include "npusplit/rules/checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>

namespace npusplit {

const TensorInfo& NodeContext::info(const std::string& tensor) const {
  static const TensorInfo unknown;
  auto it = shapes.find(tensor);
  return it == shapes.end() ? unknown : it->second;
}

std::optional<std::vector<int64_t>> NodeContext::const_ints(int input) const {
  if (input >= node.input_size() || node.input(input).empty()) return std::nullopt;
  const auto* t = graph.initializer(node.input(input));
  if (!t) return std::nullopt;
  return tensor_to_int64(*t);
}

std::string axis_role(int rank, int axis) {
  if (axis < 0 || axis >= rank) return "invalid";
  switch (rank) {
    case 1: return "feature";
    case 2: return axis == 0 ? "batch" : "feature";
    case 3: return std::vector<std::string>{"batch", "width", "feature"}[axis];
    case 4: return std::vector<std::string>{"batch", "feature", "height", "width"}[axis];
    default: return axis == 0 ? "batch" : "other";
  }
}

int feature_axis(int rank) {
  switch (rank) {
    case 1: return 0;
    case 2: return 1;
    case 3: return 2;
    case 4: return 1;
    default: return -1;
  }
}

namespace {

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> v;
  if (!n) return v;
  if (n.IsSequence())
    for (const auto& x : n) v.push_back(x.as<std::string>());
  else
    v.push_back(n.as<std::string>());
  return v;
}

bool role_allowed(const std::string& role, const std::vector<std::string>& roles) {
  for (const auto& r : roles) {
    if (r == role) return true;
    if (r == "spatial" && (role == "height" || role == "width")) return true;
  }
  return false;
}

// Non-constant inputs and all outputs: what the device would hold as activations.
std::vector<std::string> activations(const NodeContext& c) {
  std::vector<std::string> v;
  for (const auto& i : c.node.input())
    if (!i.empty() && !c.is_const(i)) v.push_back(i);
  for (const auto& o : c.node.output())
    if (!o.empty()) v.push_back(o);
  return v;
}

CheckResult check_rank_max(const NodeContext& c, const YAML::Node& p) {
  const int max = p["max"] ? p["max"].as<int>() : 4;
  for (const auto& t : activations(c)) {
    const auto& i = c.info(t);
    if (i.has_rank && i.rank() > max) return fmt::format("{} is {}-D {}", t, i.rank(), dims_str(i.dims));
  }
  return std::nullopt;
}

CheckResult check_batch_one(const NodeContext& c, const YAML::Node&) {
  for (const auto& t : activations(c)) {
    const auto& i = c.info(t);
    if (i.is_static() && i.rank() >= 2 && i.dims[0] > 1)
      return fmt::format("{} {} holds {} on the batch axis", t, dims_str(i.dims), i.dims[0]);
  }
  return std::nullopt;
}

CheckResult check_static_shape(const NodeContext& c, const YAML::Node&) {
  for (const auto& t : activations(c))
    if (!c.info(t).is_static()) return fmt::format("shape of {} is unknown", t);
  return std::nullopt;
}

CheckResult check_float_only(const NodeContext& c, const YAML::Node&) {
  for (const auto& t : activations(c)) {
    const auto& i = c.info(t);
    if (i.dtype && !dtype_is_float(i.dtype)) return fmt::format("{} is {}", t, dtype_name(i.dtype));
  }
  return std::nullopt;
}

CheckResult check_const_inputs(const NodeContext& c, const YAML::Node& p) {
  for (const auto& n : p["inputs"]) {
    const int k = n.as<int>();
    if (k < c.node.input_size() && !c.node.input(k).empty() && !c.is_const(c.node.input(k)))
      return fmt::format("input {} ({}) is not a constant", k, c.node.input(k));
  }
  return std::nullopt;
}

// Where a node's axes come from: an attribute, else a constant input, else a default
// ("all", "none" or one axis).
struct AxesSpec {
  std::string attr;
  int input = -1;
  std::string fallback = "all";
};

AxesSpec axes_spec(const YAML::Node& p) {
  AxesSpec s;
  if (p["attr"]) s.attr = p["attr"].as<std::string>();
  if (p["input"]) s.input = p["input"].as<int>();
  if (p["default"]) s.fallback = p["default"].as<std::string>();
  return s;
}

// The axes a node works on, normalised to [0, rank).
std::optional<std::vector<int64_t>> node_axes(const NodeContext& c, const AxesSpec& p, int rank, std::string* why) {
  std::vector<int64_t> axes;
  bool given = false;
  if (!p.attr.empty()) {
    if (const auto* a = find_attr(c.node, p.attr)) {
      given = true;
      if (a->ints_size()) axes.assign(a->ints().begin(), a->ints().end());
      else axes.push_back(a->i());
    }
  }
  if (!given && p.input >= 0) {
    const int k = p.input;
    if (k < c.node.input_size() && !c.node.input(k).empty()) {
      auto v = c.const_ints(k);
      if (!v) {
        *why = "axes are computed at run time";
        return std::nullopt;
      }
      given = true;
      axes = *v;
    }
  }
  if (!given) {
    const std::string& d = p.fallback;
    if (d == "none") return std::vector<int64_t>{};
    if (d == "all") {
      axes.resize(rank);
      std::iota(axes.begin(), axes.end(), 0);
    } else {
      axes.push_back(std::stoll(d));
    }
  }
  for (auto& a : axes)
    if (a < 0) a += rank;
  // A Slice leaves an axis alone when it keeps the whole extent with step 1: only count
  // the axes it really cuts. (Opset < 10 gives starts/ends as attributes, without steps.)
  const bool slice_attrs = c.node.op_type() == "Slice" && find_attr(c.node, "starts") && find_attr(c.node, "ends");
  if (c.node.op_type() == "Slice" && (c.node.input_size() >= 3 || slice_attrs)) {
    auto starts = slice_attrs ? attr_ints(c.node, "starts") : c.const_ints(1);
    auto ends = slice_attrs ? attr_ints(c.node, "ends") : c.const_ints(2);
    auto steps = c.node.input_size() > 4 ? c.const_ints(4) : std::nullopt;
    const auto& in = c.info(c.node.input(0));
    if (starts && ends && in.is_static()) {
      std::vector<int64_t> cut;
      for (size_t k = 0; k < axes.size() && k < starts->size(); ++k) {
        const int64_t ax = axes[k];
        if (ax < 0 || ax >= rank) continue;
        const int64_t dim = in.dims[ax];
        int64_t s = (*starts)[k], e = (*ends)[k];
        const int64_t st = steps && k < steps->size() ? (*steps)[k] : 1;
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        if (!(s == 0 && e >= dim && st == 1)) cut.push_back(ax);
      }
      axes = cut;
    }
  }
  return axes;
}

// Every axis SPEC names on the node's first input (or output) has a role in ROLES.
CheckResult axes_in_roles(const NodeContext& c, const AxesSpec& spec, bool use_out, const YAML::Node& roles_node) {
  const std::string& t = use_out ? c.node.output(0) : c.node.input(0);
  const auto& info = c.info(t);
  if (!info.has_rank) return fmt::format("rank of {} unknown", t);
  const int rank = info.rank();
  std::string why;
  auto axes = node_axes(c, spec, rank, &why);
  if (!axes) return why;
  const auto roles = strings(roles_node);
  for (auto a : *axes) {
    const std::string role = axis_role(rank, static_cast<int>(a));
    if (!role_allowed(role, roles))
      return fmt::format("axis {} of a {}-D tensor is the {} axis", a, rank, role);
  }
  return std::nullopt;
}

CheckResult check_axes_roles(const NodeContext& c, const YAML::Node& p) {
  const bool use_out = p["tensor"] && p["tensor"].as<std::string>() == "output";
  return axes_in_roles(c, axes_spec(p), use_out, p["roles"]);
}

CheckResult check_attr_in(const NodeContext& c, const YAML::Node& p) {
  const auto name = p["attr"].as<std::string>();
  const auto* a = find_attr(c.node, name);
  std::string value;
  if (a) {
    if (a->type() == onnx::AttributeProto::INT) value = std::to_string(a->i());
    else if (a->type() == onnx::AttributeProto::STRING) value = a->s();
    else if (a->type() == onnx::AttributeProto::FLOAT) value = fmt::format("{}", a->f());
  } else if (p["default"]) {
    value = p["default"].as<std::string>();
  } else {
    return std::nullopt;
  }
  for (const auto& v : strings(p["values"]))
    if (v == value) return std::nullopt;
  return fmt::format("{}={}", name, value);
}

CheckResult check_tile_no_batch(const NodeContext& c, const YAML::Node& p) {
  const int k = p["input"] ? p["input"].as<int>() : 1;
  auto reps = c.const_ints(k);
  if (!reps) return std::string("repeats are computed at run time");
  if (!reps->empty() && (*reps)[0] != 1) return fmt::format("repeats {} on the batch axis", (*reps)[0]);
  return std::nullopt;
}

// Groups input and output axes whose sizes multiply to the same value (the usual reshape
// decomposition), then names the kind of move.
struct ReshapeGroup {
  std::vector<int> in, out;  // axes with size > 1
};

std::vector<ReshapeGroup> reshape_groups(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<ReshapeGroup> groups;
  size_t i = 0, j = 0;
  while (i < in.size() || j < out.size()) {
    ReshapeGroup g;
    int64_t pi = 1, po = 1;
    // Skip unit dims on their own.
    if (i < in.size() && in[i] == 1) { ++i; continue; }
    if (j < out.size() && out[j] == 1) { ++j; continue; }
    if (i < in.size()) { pi *= in[i]; g.in.push_back(static_cast<int>(i++)); }
    if (j < out.size()) { po *= out[j]; g.out.push_back(static_cast<int>(j++)); }
    while (pi != po) {
      if (pi < po && i < in.size()) {
        if (in[i] != 1) g.in.push_back(static_cast<int>(i));
        pi *= in[i++];
      } else if (po < pi && j < out.size()) {
        if (out[j] != 1) g.out.push_back(static_cast<int>(j));
        po *= out[j++];
      } else {
        break;
      }
    }
    groups.push_back(g);
  }
  return groups;
}

}  // namespace

std::string classify_reshape(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  if (in == out) return "identity";
  // Data moving into or out of the batch axis is never a layout move the parser knows.
  if (!in.empty() && !out.empty() && in[0] != out[0]) return "shuffle";
  std::vector<int64_t> a, b;
  for (auto d : in) if (d != 1) a.push_back(d);
  for (auto d : out) if (d != 1) b.push_back(d);
  if (a == b) return "unit_dims";
  const int ri = static_cast<int>(in.size()), ro = static_cast<int>(out.size());
  int splits = 0, merges = 0;
  std::string kind = "shuffle";
  for (const auto& g : reshape_groups(in, out)) {
    if (g.in.size() <= 1 && g.out.size() <= 1) continue;
    if (g.in.size() == 1 && g.out.size() >= 2) {
      ++splits;
      const std::string role = axis_role(ri, g.in[0]);
      if (role == "batch") return "shuffle";
      // [B,N,C] -> [B,N,H,D] splits features into heads; [B,C,HW] -> [B,C,H,W] or
      // [B,HW,C] -> [B,H,W,C] turns tokens into a spatial map.
      kind = (role == "feature" && g.out.back() == ro - 1) ? "feature_split" : "tokens_to_spatial";
    } else if (g.in.size() >= 2 && g.out.size() == 1) {
      ++merges;
      const std::string role = axis_role(ro, g.out[0]);
      if (role == "batch" || g.in.front() == 0) return "shuffle";
      // [1,H,W,C] -> [1,HW,C]: the ViT patch-embedding flatten after its NHWC transpose.
      if (ri == 4 && ro == 3 && g.in.size() == 2 && g.in[0] == 1 && g.in[1] == 2 && g.out[0] == 1 &&
          in.back() == out.back()) {
        kind = "spatial_to_tokens";
        continue;
      }
      // Merging the NCHW channel axis with spatial axes flattens in the wrong order for the
      // parser's NHWC layout ([1,C,H,W] -> [1,CHW]).
      if (ri == 4 && g.in.front() == 1) return "shuffle";
      if (role == "feature" && g.in.back() == ri - 1) kind = "feature_merge";
      else if (ri == 4 && g.in.size() == 2 && g.in[0] == 2 && g.in[1] == 3) kind = "spatial_to_tokens";
      else return "shuffle";
    } else {
      return "shuffle";
    }
  }
  if (splits + merges != 1) return "shuffle";
  return kind;
}

std::string classify_transpose(const std::vector<int64_t>& perm, const std::vector<int64_t>& in_dims) {
  const int r = static_cast<int>(perm.size());
  std::vector<int64_t> id(r);
  std::iota(id.begin(), id.end(), 0);
  if (perm == id) return "identity";
  if (r == 4 && perm == std::vector<int64_t>{0, 2, 1, 3}) return "heads_split";
  if (r == 4 && perm == std::vector<int64_t>{0, 2, 3, 1}) return "spatial_to_tokens";
  if (r == 4 && perm == std::vector<int64_t>{0, 3, 1, 2}) return "tokens_to_spatial";
  // Judge the order of the real (size > 1) axes: moving unit axes changes nothing in memory,
  // so [1,C,N] perm [2,0,1] is a plain swap of C and N. (Seq-first attention in the DEIMv2-N
  // encoder does exactly this, and its stage1 parsed on DFC 3.33 -- user notes.)
  std::vector<int64_t> real;
  for (auto p : perm)
    if (in_dims.empty() || in_dims[p] != 1) real.push_back(p);
  if (std::is_sorted(real.begin(), real.end())) return "identity";
  if (in_dims.empty() && perm[0] != 0) return "shuffle";
  std::vector<int64_t> sorted = real;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> reduced;  // the permutation relabelled to 0..n-1
  for (auto p : real) reduced.push_back(std::find(sorted.begin(), sorted.end(), p) - sorted.begin());
  const size_t n = reduced.size();
  if (n == 2) return "swap_last_two";
  if (n == 3) {
    if (reduced == std::vector<int64_t>{0, 2, 1}) return "swap_last_two";
    if (reduced == std::vector<int64_t>{1, 0, 2}) return "heads_split";
    // Rank-3 sequence-first attention ([N,H,D] -> [H,D,N] for K^T, and back) only: on a
    // rank-4 map these would mix the channel and spatial axes.
    if (r == 3) return "heads_split";
  }
  return "shuffle";
}

namespace {

std::vector<int64_t> reshape_out_dims(const NodeContext& c) { return c.info(c.node.output(0)).dims; }

CheckResult check_reshape_pattern(const NodeContext& c, const YAML::Node& p) {
  const auto& in = c.info(c.node.input(0));
  const auto& out = c.info(c.node.output(0));
  if (!in.is_static() || !out.is_static()) return std::string("shapes unknown");
  const std::string kind = classify_reshape(in.dims, reshape_out_dims(c));
  const auto allowed = strings(p["allowed"]);
  if (std::find(allowed.begin(), allowed.end(), kind) != allowed.end()) return std::nullopt;
  return fmt::format("{} -> {} is a {} (not a layout the parser maps)", dims_str(in.dims), dims_str(out.dims),
                     kind == "shuffle" ? "shuffle" : kind);
}

CheckResult check_transpose_pattern(const NodeContext& c, const YAML::Node& p) {
  const auto& in = c.info(c.node.input(0));
  if (!in.has_rank) return std::string("rank unknown");
  auto perm = attr_ints(c.node, "perm");
  std::vector<int64_t> pv;
  if (perm) pv = *perm;
  else for (int k = in.rank() - 1; k >= 0; --k) pv.push_back(k);
  const std::string kind = classify_transpose(pv, in.is_static() ? in.dims : std::vector<int64_t>{});
  const auto allowed = strings(p["allowed"]);
  if (std::find(allowed.begin(), allowed.end(), kind) != allowed.end()) return std::nullopt;
  return fmt::format("perm {} on {} is a {}", dims_str(pv), dims_str(in.dims), kind);
}

CheckResult check_ew_broadcast(const NodeContext& c, const YAML::Node& p) {
  if (c.node.input_size() != 2) return std::nullopt;
  auto flag = [&](const char* k) { return !p[k] || p[k].as<bool>(); };
  const auto& out = c.info(c.node.output(0));
  if (!out.is_static()) return std::nullopt;
  const int r = out.rank();
  const int fa = feature_axis(r);
  const TensorInfo* ops[2] = {&c.info(c.node.input(0)), &c.info(c.node.input(1))};
  for (int k = 0; k < 2; ++k) {
    const auto& t = *ops[k];
    const std::string& name = c.node.input(k);
    const bool is_c = c.is_const(name);
    if (!t.is_static()) continue;
    if (!is_c && flag("scalar_runtime") && t.numel() == 1 && out.numel() > 1)
      return fmt::format("operand {} is a scalar computed at run time", name);
    if (!is_c && flag("rank_mismatch") && t.rank() != r)
      return fmt::format("operand {} has rank {}, the result rank {}", name, t.rank(), r);
    if (flag("feature_broadcast") && fa >= 0 && t.numel() > 1 && out.dims[fa] > 1) {
      const int ax = fa - (r - t.rank());  // right-aligned broadcasting
      const int64_t d = ax >= 0 ? t.dims[ax] : 1;
      if (d == 1)
        return fmt::format("operand {} {} broadcasts along the feature axis of {}", name, dims_str(t.dims),
                           dims_str(out.dims));
    }
  }
  return std::nullopt;
}

// A constant operand that broadcasts only partly: neither a scalar, nor per-channel (size > 1
// only on the result's feature axis), nor the result's full shape. After the parser's NHWC
// re-map such a constant no longer lines up with the activation (UnsupportedModelError).
std::optional<std::string> partial_const_broadcast(const NodeContext& c, const std::string& name,
                                                   const TensorInfo& t, const TensorInfo& out, bool feature_too) {
  if (!c.is_const(name) || !t.is_static() || t.numel() <= 1) return std::nullopt;
  const int r = out.rank(), fa = feature_axis(r);
  std::vector<int64_t> aligned(r, 1);  // right-aligned onto the result
  for (int k = 0; k < t.rank() && k < r; ++k) aligned[r - 1 - k] = t.dims[t.rank() - 1 - k];
  bool full = true, per_channel = true;
  for (int k = 0; k < r; ++k) {
    if (aligned[k] != out.dims[k] && !(k == 0 && out.dims[0] == 1)) full = false;
    if (aligned[k] > 1 && k != fa) per_channel = false;
  }
  if (full || per_channel) return std::nullopt;
  // Broadcasting along the feature axis is ew_broadcast's feature_broadcast (the ew_mult H3
  // suspect; LayerNorm-style on Add/Sub): not counted twice.
  if (!feature_too && fa >= 0 && aligned[fa] == 1 && out.dims[fa] > 1) return std::nullopt;
  return fmt::format("constant {} {} broadcasts partly onto {} (neither per-channel nor full-shape)", name,
                     dims_str(t.dims), dims_str(out.dims));
}

CheckResult check_ew_const_partial(const NodeContext& c, const YAML::Node& p) {
  const bool feature_too = p["feature_broadcast"] && p["feature_broadcast"].as<bool>();
  if (c.node.input_size() != 2) return std::nullopt;
  const auto& out = c.info(c.node.output(0));
  if (!out.is_static()) return std::nullopt;
  for (int k = 0; k < 2; ++k)
    if (auto bad = partial_const_broadcast(c, c.node.input(k), c.info(c.node.input(k)), out, feature_too)) return bad;
  return std::nullopt;
}

// `match`: fails when EVERY condition given holds (a small pattern over the node and its
// neighbours). Conditions:
//   producer: [ops]        input 0 is produced by one of ops
//   not_producer: [ops]    input 0 is not produced by one of ops (graph inputs included)
//   consumer: [ops]        some consumer of output 0 is one of ops
//   not_consumers: [ops]   some consumer of output 0 is not one of ops, or it has none
//   graph_output: true     an output of the node is a graph output
//   input_rank: [ranks]    input 0 has one of these ranks
//   const_scalar: true     an input is a one-element constant
//   runtime_input: k       input k is present and not a constant
CheckResult check_match(const NodeContext& c, const YAML::Node& p) {
  auto in_list = [](const std::string& op, const YAML::Node& list) {
    for (const auto& s : strings(list))
      if (s == op) return true;
    return false;
  };
  std::vector<std::string> why;
  const std::string in0 = c.node.input_size() ? c.node.input(0) : std::string();
  const std::string out0 = c.node.output_size() ? c.node.output(0) : std::string();
  auto producer_op = [&]() -> std::string {
    const int pi = in0.empty() ? -1 : c.graph.producer(in0);
    return pi < 0 ? std::string(c.graph.is_constant(in0) ? "<constant>" : "<graph input>") : c.graph.node(pi).op_type();
  };
  if (p["producer"]) {
    const auto op = producer_op();
    if (!in_list(op, p["producer"])) return std::nullopt;
    why.push_back("fed by " + op);
  }
  if (p["not_producer"]) {
    const auto op = producer_op();
    if (in_list(op, p["not_producer"])) return std::nullopt;
    why.push_back("fed by " + op);
  }
  if (p["consumer"]) {
    std::string hit;
    for (int ci : c.graph.consumers(out0))
      if (in_list(c.graph.node(ci).op_type(), p["consumer"])) hit = c.graph.node(ci).op_type() + " " + c.graph.node(ci).name();
    if (hit.empty()) return std::nullopt;
    why.push_back("feeds " + hit);
  }
  if (p["not_consumers"]) {
    std::string other;
    const auto& cs = c.graph.consumers(out0);
    if (cs.empty()) other = "nothing (a graph output)";
    for (int ci : cs)
      if (!in_list(c.graph.node(ci).op_type(), p["not_consumers"])) other = c.graph.node(ci).op_type();
    if (other.empty()) return std::nullopt;
    why.push_back("feeds " + other);
  }
  if (p["graph_output"] && p["graph_output"].as<bool>()) {
    std::string hit;
    for (const auto& o : c.node.output())
      if (!o.empty() && c.graph.is_graph_output(o)) hit = o;
    if (hit.empty()) return std::nullopt;
    why.push_back("output " + hit + " is a graph output");
  }
  if (p["input_rank"]) {
    const auto& i = c.info(in0);
    if (!i.has_rank) return std::nullopt;
    bool hit = false;
    for (const auto& r : p["input_rank"]) hit |= r.as<int>() == i.rank();
    if (!hit) return std::nullopt;
    why.push_back(fmt::format("input is {}-D {}", i.rank(), dims_str(i.dims)));
  }
  if (p["const_scalar"] && p["const_scalar"].as<bool>()) {
    std::string hit;
    for (const auto& t : c.node.input())
      if (!t.empty() && c.is_const(t) && c.info(t).is_static() && c.info(t).numel() == 1) hit = t;
    if (hit.empty()) return std::nullopt;
    why.push_back("constant scalar " + hit);
  }
  if (p["runtime_input"]) {
    const int k = p["runtime_input"].as<int>();
    if (k >= c.node.input_size() || c.node.input(k).empty() || c.is_const(c.node.input(k))) return std::nullopt;
    why.push_back(fmt::format("input {} ({}) is computed at run time", k, c.node.input(k)));
  }
  if (why.empty()) return std::nullopt;
  std::string s;
  for (const auto& w : why) s += (s.empty() ? "" : ", ") + w;
  return s;
}

CheckResult check_gather_const_index(const NodeContext& c, const YAML::Node& p) {
  if (c.node.input_size() < 2 || !c.is_const(c.node.input(1)))
    return std::string("indices are computed at run time");
  static const AxesSpec gather_axis{"axis", -1, "0"};
  return axes_in_roles(c, gather_axis, false, p["roles"]);
}

const std::map<std::string, std::function<CheckResult(const NodeContext&, const YAML::Node&)>>& registry() {
  static const std::map<std::string, std::function<CheckResult(const NodeContext&, const YAML::Node&)>> r = {
      {"rank_max", check_rank_max},
      {"static_shape", check_static_shape},
      {"batch_one", check_batch_one},
      {"float_only", check_float_only},
      {"const_inputs", check_const_inputs},
      {"axes_roles", check_axes_roles},
      {"attr_in", check_attr_in},
      {"tile_no_batch", check_tile_no_batch},
      {"reshape_pattern", check_reshape_pattern},
      {"transpose_pattern", check_transpose_pattern},
      {"ew_broadcast", check_ew_broadcast},
      {"gather_const_index", check_gather_const_index},
      {"ew_const_partial", check_ew_const_partial},
      {"match", check_match},
  };
  return r;
}

}  // namespace

bool is_known_check(const std::string& name) { return registry().count(name) > 0; }

CheckResult run_check(const std::string& name, const NodeContext& ctx, const YAML::Node& params) {
  return registry().at(name)(ctx, params);
}

}  // namespace npusplit
