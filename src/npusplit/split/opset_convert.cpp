#include "npusplit/split/opset_convert.h"

#include <onnx/common/assertions.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/adapters/axes_input_to_attribute.h>
#include <onnx/version_converter/convert.h>

#include <optional>
#include <set>

#include "npusplit/error.h"

namespace npusplit {

namespace {

namespace vc = onnx::version_conversion;
using onnx::Node;
using onnx::Symbol;

// The one-line reason inside onnx's "file:line: func: Assertion `...` failed: reason".
std::string onnx_reason(const std::string& what) {
  const auto p = what.find("failed: ");
  std::string s = p == std::string::npos ? what : what.substr(p + 8);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return s;
}

std::string node_label(const Node* n) {
  return n->has_name() && !n->name().empty() ? "'" + n->name() + "'" : "(unnamed)";
}

// The adapters below throw this; convert_opset turns it into the one-line error.
[[noreturn]] void refuse(const Node* n, int from, int to, const std::string& why) {
  onnx::throw_assert_error(fmt::format("failed: {} {}: {} (opset {} -> {})", n->kind().toString(), node_label(n),
                                       why, from, to));
}

bool absent(const Node* n, size_t input) {
  return input >= n->inputs().size() || n->inputs()[input]->node()->kind() == onnx::kUndefined;
}

// Drops trailing optional inputs that are absent (the older schema may have fewer slots).
void drop_absent_tail(Node* n, size_t keep) {
  while (n->inputs().size() > keep && absent(n, n->inputs().size() - 1)) n->removeInput(n->inputs().size() - 1);
}

// Pad 18 -> 17: opset 18 added the optional `axes` input; without it the forms are equal.
class Pad18To17 final : public vc::Adapter {
 public:
  Pad18To17() : Adapter("Pad", onnx::OpSetID(18), onnx::OpSetID(17)) {}
  Node* adapt(std::shared_ptr<onnx::Graph>, Node* n) const override {
    if (!absent(n, 3)) refuse(n, 18, 17, "the 'axes' input has no opset-17 form (give pads for every axis)");
    drop_absent_tail(n, 3);
    return n;
  }
};

// Pad 19 -> 18: onnx treats them as compatible, but mode "wrap" only exists from 19 on.
class Pad19To18 final : public vc::Adapter {
 public:
  Pad19To18() : Adapter("Pad", onnx::OpSetID(19), onnx::OpSetID(18)) {}
  Node* adapt(std::shared_ptr<onnx::Graph>, Node* n) const override {
    const Symbol mode("mode");
    if (n->hasAttribute(mode) && n->s(mode) == "wrap") refuse(n, 19, 18, "mode 'wrap' has no opset-18 form");
    return n;
  }
};

// Resize 19 -> 18: coordinate_transformation_mode "half_pixel_symmetric" is new in 19.
class Resize19To18 final : public vc::Adapter {
 public:
  Resize19To18() : Adapter("Resize", onnx::OpSetID(19), onnx::OpSetID(18)) {}
  Node* adapt(std::shared_ptr<onnx::Graph>, Node* n) const override {
    const Symbol ctm("coordinate_transformation_mode");
    if (n->hasAttribute(ctm) && n->s(ctm) == "half_pixel_symmetric")
      refuse(n, 19, 18, "coordinate_transformation_mode 'half_pixel_symmetric' has no opset-18 form");
    return n;
  }
};

// Split 18 -> 17: opset 18 added `num_outputs` (the last part may be smaller). Opset 17 splits
// equally into the number of outputs, or by a `split` input: an even split just drops the
// attribute, an uneven one gets the sizes as an initializer (needs the axis' extent).
class Split18To17 final : public vc::Adapter {
 public:
  Split18To17() : Adapter("Split", onnx::OpSetID(18), onnx::OpSetID(17)) {}
  Node* adapt(std::shared_ptr<onnx::Graph> g, Node* n) const override {
    if (!n->hasAttribute(onnx::knum_outputs)) return n;
    const int64_t parts = n->i(onnx::knum_outputs);
    n->removeAttribute(onnx::knum_outputs);
    if (!absent(n, 1)) return n;
    drop_absent_tail(n, 1);
    const auto& dims = n->inputs()[0]->sizes();
    int64_t axis = n->hasAttribute(onnx::kaxis) ? n->i(onnx::kaxis) : 0;
    if (axis < 0) axis += static_cast<int64_t>(dims.size());
    if (axis < 0 || axis >= static_cast<int64_t>(dims.size()) || !dims[axis].is_int)
      refuse(n, 18, 17, "num_outputs on an axis of unknown extent has no opset-17 form");
    const int64_t extent = dims[axis].dim;
    if (parts <= 0 || extent % parts == 0) return n;
    const int64_t chunk = (extent + parts - 1) / parts;
    onnx::Tensor sizes;
    sizes.elem_type() = onnx::TensorProto_DataType_INT64;
    sizes.sizes() = {parts};
    for (int64_t k = 0; k < parts; ++k) sizes.int64s().push_back(std::max<int64_t>(0, std::min(chunk, extent - k * chunk)));
    sizes.setName((n->has_name() ? n->name() : std::string("Split")) + "/split_sizes");
    n->addInput(g->addInitializerAndCreateValue(sizes));
    return n;
  }
};

// Reduce* 18 -> 17 (axes input -> attribute, onnx's adapter) also has to drop
// noop_with_empty_axes, which opset 17 lacks for these ops: fine when 0, or when axes are given.
class ReduceAxesDown final : public vc::AxesInputToAttribute {
 public:
  explicit ReduceAxesDown(const std::string& op) : AxesInputToAttribute(op, onnx::OpSetID(18), onnx::OpSetID(17)) {}
  Node* adapt(std::shared_ptr<onnx::Graph> g, Node* n) const override {
    const Symbol noop("noop_with_empty_axes");
    drop_absent_tail(n, 1);
    if (n->hasAttribute(noop)) {
      if (n->i(noop) != 0 && n->inputs().size() < 2)
        refuse(n, 18, 17, "noop_with_empty_axes=1 without axes has no opset-17 form");
      n->removeAttribute(noop);
    }
    return AxesInputToAttribute::adapt(std::move(g), n);
  }
};

class Converter final : public vc::DefaultVersionConverter {
 public:
  Converter() {
    registerAdapter(std::make_unique<Pad18To17>());
    registerAdapter(std::make_unique<Pad19To18>());
    registerAdapter(std::make_unique<Resize19To18>());
    registerAdapter(std::make_unique<Split18To17>());
    for (const char* op : {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
                           "ReduceMin", "ReduceProd", "ReduceSumSquare"})
      registerAdapter(std::make_unique<ReduceAxesDown>(op));
  }

  // The first node whose schema changes between the opsets without an adapter for the step:
  // checked up front, so the error names the node and the step instead of "No Adapter For X".
  std::optional<std::string> missing_adapter(const onnx::GraphProto& g, int from, int to) const {
    const int step = to > from ? 1 : -1;
    for (const auto& n : g.node()) {
      for (const auto& a : n.attribute()) {
        if (a.has_g())
          if (auto m = missing_adapter(a.g(), from, to)) return m;
        for (const auto& sub : a.graphs())
          if (auto m = missing_adapter(sub, from, to)) return m;
      }
      if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
      const auto s = all_schemas.find(n.op_type());
      if (s == all_schemas.end()) return fmt::format("{} '{}': no such ONNX op", n.op_type(), n.name());
      const auto d = s->second.find("");
      if (d == s->second.end()) continue;
      for (int v = from; v != to; v += step) {
        if (!d->second.count(step > 0 ? v + 1 : v)) continue;  // unchanged at this step
        const auto a = adapters.find(n.op_type());
        bool found = false;
        if (a != adapters.end())
          if (const auto b = a->second.find(onnx::OpSetID(v).toString()); b != a->second.end())
            found = b->second.count(onnx::OpSetID(v + step).toString()) > 0;
        if (!found)
          return fmt::format("{} '{}': onnx has no adapter from opset {} to {} for it", n.op_type(), n.name(), v,
                             v + step);
      }
    }
    return std::nullopt;
  }
};

int64_t default_domain_opset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return -1;
}

}  // namespace

onnx::ModelProto convert_opset(const onnx::ModelProto& m, int target, const std::string& what) {
  const int from = static_cast<int>(default_domain_opset(m));
  if (from < 0) fail("{}: the model imports no default-domain opset", what);
  if (from == target) return m;
  static const Converter converter;  // building the adapter table walks every schema: once
  if (auto gap = converter.missing_adapter(m.graph(), from, target))
    fail("{}: cannot convert from opset {} to {}: {}", what, from, target, *gap);
  try {
    onnx::ModelProto in = m;
    onnx::shape_inference::InferShapes(in);  // some adapters read input shapes (Split's extent)
    onnx::ModelProto out = converter.convert_version(in, onnx::OpSetID(from), onnx::OpSetID(target));
    return out;
  } catch (const std::exception& e) {
    fail("{}: cannot convert from opset {} to {}: {}", what, from, target, onnx_reason(e.what()));
  }
}

std::vector<std::string> ops_changed_between(const onnx::ModelProto& m, int from, int to) {
  std::set<std::string> ops;
  for (const auto& n : m.graph().node())
    if (n.domain().empty() || n.domain() == "ai.onnx") ops.insert(n.op_type());
  std::vector<std::string> out;
  for (const auto& op : ops) {
    const auto* a = onnx::OpSchemaRegistry::Schema(op, from);
    const auto* b = onnx::OpSchemaRegistry::Schema(op, to);
    if (a && b && a->since_version() != b->since_version())
      out.push_back(fmt::format("{} ({} -> {})", op, a->since_version(), b->since_version()));
  }
  return out;
}

}  // namespace npusplit
