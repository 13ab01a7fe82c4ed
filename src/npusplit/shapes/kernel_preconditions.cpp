#include "npusplit/shapes/kernel_preconditions.h"

#include "npusplit/base/text.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/graph.h"

namespace npusplit {

namespace {

const TensorInfo* known(const ShapeMap& s, const std::string& name) {
  if (name.empty()) return nullptr;
  auto it = s.find(name);
  return it == s.end() || !it->second.has_rank ? nullptr : &it->second;
}

void check_resize(const onnx::NodeProto& n, int64_t opset, const ShapeMap& s) {
  const auto* x = known(s, n.input_size() ? n.input(0) : "");
  int64_t axes = x ? x->rank() : -1;
  if (auto a = attr_ints(n, "axes")) axes = static_cast<int64_t>(a->size());
  const std::string node = printable(n.name().empty() ? n.op_type() : n.name());
  const auto check = [&](int index, const char* what, int64_t per_axis) {
    if (n.input_size() <= index) return;
    const auto* t = known(s, n.input(index));
    if (!t) return;
    if (t->rank() != 1)
      fail("{} node '{}': its '{}' input '{}' has rank {}, it must be 1-D", n.op_type(), node, what,
           printable(n.input(index)), t->rank());
    if (axes >= 0 && t->dims[0] >= 0 && t->dims[0] != 0 && t->dims[0] != per_axis * axes)
      fail("{} node '{}': its '{}' input has {} entries, the data has {} axes to resize", n.op_type(), node, what,
           t->dims[0], axes);
  };
  if (n.op_type() == "Upsample" || opset < 11) {
    check(1, "scales", 1);
    return;
  }
  check(1, "roi", 2);
  check(2, "scales", 1);
  check(3, "sizes", 1);
}
}  // namespace

void check_kernel_preconditions(const onnx::ModelProto& m, const ShapeMap& shapes) {
  const int64_t opset = default_opset(m);
  for (const auto& n : m.graph().node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    if (n.op_type() == "Resize" || n.op_type() == "Upsample") check_resize(n, opset, shapes);
  }
}

}  // namespace npusplit
