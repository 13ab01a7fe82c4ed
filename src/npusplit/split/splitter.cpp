#include "npusplit/split/splitter.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"

namespace npusplit {

std::vector<std::string> cut_names(size_t count, const std::string& base) {
  std::vector<std::string> v;
  if (count == 1) return {base};
  for (size_t i = 0; i < count; ++i) v.push_back(base + "_" + std::to_string(i));
  return v;
}

StageModels build_stages_impl(const onnx::ModelProto& resolved, onnx::ModelProto* movable, const ShapeMap& shapes_in,
                              const Partition& p, const SplitNames& names);

namespace {

onnx::ValueInfoProto value_info(const std::string& name, const ShapeMap& shapes) {
  onnx::ValueInfoProto vi;
  vi.set_name(name);
  auto it = shapes.find(name);
  if (it == shapes.end() || !it->second.dtype) fail("tensor '{}' has no known type; cannot place it at the cut", name);
  set_value_info_type(vi, it->second);
  return vi;
}

onnx::ModelProto empty_like(const onnx::ModelProto& m, const std::string& graph_name) {
  onnx::ModelProto out;
  out.set_ir_version(m.ir_version());
  *out.mutable_opset_import() = m.opset_import();
  out.set_producer_name("npusplit");
  out.set_producer_version("0.1.0");
  out.mutable_graph()->set_name(graph_name);
  return out;
}

void rename_inputs(onnx::NodeProto& n, const std::unordered_map<std::string, std::string>& map) {
  for (auto& x : *n.mutable_input()) {
    auto it = map.find(x);
    if (it != map.end()) x = it->second;
  }
}

// Copies the initializers TO's nodes read; with MOVABLE, those not in KEEP are moved out of
// FROM instead (the caller no longer needs them), so the weights are never held three times.
void add_used_initializers(const onnx::GraphProto& from, onnx::GraphProto& to, onnx::GraphProto* movable = nullptr,
                           const std::unordered_set<std::string>& keep = {}) {
  std::unordered_set<std::string> used;
  for (const auto& n : to.node())
    for (const auto& x : n.input()) used.insert(x);
  for (int i = 0; i < from.initializer_size(); ++i) {
    const auto& t = from.initializer(i);
    if (t.name().empty() || !used.count(t.name())) continue;  // moved-out slots have no name
    if (movable && !keep.count(t.name())) *to.add_initializer() = std::move(*movable->mutable_initializer(i));
    else *to.add_initializer() = t;
  }
}


void add_value_infos(onnx::GraphProto& g, const ShapeMap& shapes) {
  std::unordered_set<std::string> io;
  for (const auto& v : g.input()) io.insert(v.name());
  for (const auto& v : g.output()) io.insert(v.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) {
      if (o.empty() || io.count(o)) continue;
      auto it = shapes.find(o);
      if (it == shapes.end()) continue;
      auto* vi = g.add_value_info();
      vi->set_name(o);
      set_value_info_type(*vi, it->second);
    }
}


}  // namespace

StageModels build_stages(const onnx::ModelProto& resolved, const ShapeMap& shapes_in, const Partition& p,
                         const SplitNames& names) {
  return build_stages_impl(resolved, nullptr, shapes_in, p, names);
}

StageModels build_stages(onnx::ModelProto&& resolved, const ShapeMap& shapes_in, const Partition& p,
                         const SplitNames& names) {
  return build_stages_impl(resolved, &resolved, shapes_in, p, names);
}

StageModels build_stages_impl(const onnx::ModelProto& resolved, onnx::ModelProto* movable, const ShapeMap& shapes_in,
                              const Partition& p, const SplitNames& names) {
  const auto& g = resolved.graph();
  Graph idx(g);
  StageModels out;
  ShapeMap shapes = shapes_in;
  // Packed parts get their own names so the packed tensor can carry the feature name.
  const auto cut = cut_names(p.crossing.size(), names.pack ? names.feature + "_part" : names.feature);
  std::unordered_map<std::string, std::string> rename;
  for (size_t k = 0; k < p.crossing.size(); ++k) {
    out.renamed.emplace_back(p.crossing[k], cut[k]);
    const int producer = idx.producer(p.crossing[k]);
    out.crossing_end_nodes.push_back(producer >= 0 ? g.node(producer).name() : std::string());
    rename[p.crossing[k]] = cut[k];
    shapes[cut[k]] = shapes.at(p.crossing[k]);
  }
  // ---- stage1
  out.stage1 = empty_like(resolved, g.name() + "_stage1");
  auto* g1 = out.stage1.mutable_graph();
  std::set<std::string> s1_inputs;
  for (int i : idx.topo_order()) {
    if (!p.stage1[i]) continue;
    onnx::NodeProto n = g.node(i);
    for (const auto& x : n.input())
      if (idx.is_graph_input(x) && !idx.is_constant(x)) s1_inputs.insert(x);
    rename_inputs(n, rename);
    bool is_end = false;
    for (auto& o : *n.mutable_output())
      if (auto it = rename.find(o); it != rename.end()) {
        o = it->second;
        is_end = true;
      }
    if (is_end) out.stage1_end_nodes.push_back(n.name());
    for (const auto& x : g.node(i).input())
      if (s1_inputs.count(x) && std::find(out.stage1_start_nodes.begin(), out.stage1_start_nodes.end(), n.name()) ==
                                    out.stage1_start_nodes.end())
        out.stage1_start_nodes.push_back(n.name());
    *g1->add_node() = std::move(n);
  }
  for (const auto& x : idx.runtime_inputs())
    if (s1_inputs.count(x)) *g1->add_input() = value_info(x, shapes);
  if (!names.pack) {
    for (const auto& c : cut) *g1->add_output() = value_info(c, shapes);
  } else {
    // Pack: flatten each part to [1, n] and concatenate on axis 1 (the user's layout).
    // With a single cut tensor the packed name would collide with it: the part keeps a
    // "_part" suffix then.
    int64_t offset = 0;
    int32_t dtype = 0;
    onnx::NodeProto cat;
    cat.set_op_type("Concat");
    cat.set_name("npusplit/pack/Concat");
    auto* ax = cat.add_attribute();
    ax->set_name("axis");
    ax->set_type(onnx::AttributeProto::INT);
    ax->set_i(1);
    for (size_t k = 0; k < cut.size(); ++k) {
      const auto& info = shapes.at(cut[k]);
      if (dtype && info.dtype != dtype) fail("--pack: the cut tensors have different element types");
      dtype = info.dtype;
      const int64_t n = info.numel();
      if (n < 0) fail("--pack: cut tensor '{}' has no static shape", cut[k]);
      const std::string flat = "npusplit/pack/part" + std::to_string(k);
      *g1->add_initializer() = make_int64_tensor(flat + "_shape", {1, n});
      auto* r = g1->add_node();
      r->set_op_type("Reshape");
      r->set_name(flat + "/Reshape");
      r->add_input(cut[k]);
      r->add_input(flat + "_shape");
      r->add_output(flat);
      cat.add_input(flat);
      out.pack_layout.emplace_back(offset, n);
      offset = sat_add(offset, n);
    }
    const std::string packed = names.feature;
    cat.add_output(packed);
    *g1->add_node() = std::move(cat);
    out.packed_name = packed;
    TensorInfo pi;
    pi.dtype = dtype;
    pi.has_rank = true;
    pi.dims = {1, offset};
    shapes[packed] = pi;
    *g1->add_output() = value_info(packed, shapes);
  }
  // Stage2 is built next; shared initializers must survive stage1's moves. Work out which ones
  // stage2 reads from the partition (its nodes are the non-stage1 ones).
  std::unordered_set<std::string> read_by_stage2;
  for (int i = 0; i < g.node_size(); ++i)
    if (!p.stage1[i])
      for (const auto& x : g.node(i).input()) read_by_stage2.insert(x);
  add_used_initializers(g, *g1, movable ? movable->mutable_graph() : nullptr, read_by_stage2);
  add_value_infos(*g1, shapes);

  // ---- stage2
  out.stage2 = empty_like(resolved, g.name() + "_stage2");
  auto* g2 = out.stage2.mutable_graph();
  if (!names.pack) {
    for (const auto& c : cut) *g2->add_input() = value_info(c, shapes);
  } else {
    *g2->add_input() = value_info(out.packed_name, shapes);
    for (size_t k = 0; k < cut.size(); ++k) {
      const auto& info = shapes.at(cut[k]);
      const std::string base = "npusplit/unpack/part" + std::to_string(k);
      const auto [off, n] = out.pack_layout[k];
      *g2->add_initializer() = make_int64_tensor(base + "_starts", {off});
      *g2->add_initializer() = make_int64_tensor(base + "_ends", {off + n});
      *g2->add_initializer() = make_int64_tensor(base + "_axes", {1});
      *g2->add_initializer() = make_int64_tensor(base + "_shape", info.dims);
      auto* s = g2->add_node();
      s->set_op_type("Slice");
      s->set_name(base + "/Slice");
      for (const char* x : {"", "_starts", "_ends", "_axes"}) s->add_input(std::string(x).empty() ? out.packed_name : base + x);
      s->add_output(base + "_flat");
      auto* r = g2->add_node();
      r->set_op_type("Reshape");
      r->set_name(base + "/Reshape");
      r->add_input(base + "_flat");
      r->add_input(base + "_shape");
      r->add_output(cut[k]);
    }
  }
  for (const auto& x : p.stage2_inputs) *g2->add_input() = value_info(x, shapes);
  for (int i : idx.topo_order()) {
    if (p.stage1[i]) continue;
    onnx::NodeProto n = g.node(i);
    rename_inputs(n, rename);
    *g2->add_node() = std::move(n);
  }
  // An original output computed entirely in stage1 reaches the host as a cut tensor.
  for (const auto& o : g.output()) {
    if (auto it = rename.find(o.name()); it != rename.end()) {
      auto* id = g2->add_node();
      id->set_op_type("Identity");
      id->set_name("npusplit/output/" + o.name());
      id->add_input(it->second);
      id->add_output(o.name());
    }
    *g2->add_output() = o;
  }
  add_used_initializers(g, *g2, movable ? movable->mutable_graph() : nullptr);
  // Stage2's unpack initializers were added directly; keep them (add_used_initializers only
  // adds originals).
  add_value_infos(*g2, shapes);
  return out;
}

}  // namespace npusplit
