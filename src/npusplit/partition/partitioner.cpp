#include "npusplit/partition/partitioner.h"

#include <set>
#include <unordered_set>

#include "npusplit/analysis/cost.h"
#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"

namespace npusplit {

bool is_data_movement(const std::string& op) {
  static const std::unordered_set<std::string> ops = {
      "Reshape", "Transpose", "Concat", "Slice", "Split", "Gather", "Tile", "Expand", "Squeeze",
      "Unsqueeze", "Flatten", "Identity", "Pad", "Cast", "DepthToSpace", "SpaceToDepth"};
  return ops.count(op) > 0;
}

namespace {
int64_t cost_flops(const PartitionInput& in, int i) {
  return is_data_movement(in.graph.node(i).op_type()) ? 0 : in.flops[i];
}
}  // namespace

void finish_partition(const PartitionInput& in, Partition& p) {
  const Graph& g = in.graph;
  p.crossing.clear();
  p.stage2_inputs.clear();
  p.stage1_flops = p.total_flops = p.crossing_bytes = 0;
  p.stage1_nodes = 0;
  std::set<std::string> crossing, s2_inputs;
  for (int i : g.topo_order()) {
    p.total_flops = sat_add(p.total_flops, in.flops[i]);
    const auto& n = g.node(i);
    if (p.stage1[i]) {
      p.stage1_flops = sat_add(p.stage1_flops, in.flops[i]);
      ++p.stage1_nodes;
      for (const auto& o : n.output()) {
        if (o.empty() || crossing.count(o)) continue;
        bool read_by_host = g.is_graph_output(o);
        for (int c : g.consumers(o)) read_by_host |= !p.stage1[c];
        if (read_by_host) {
          crossing.insert(o);
          p.crossing.push_back(o);
          p.crossing_bytes = sat_add(p.crossing_bytes, tensor_bytes(in.shapes, o));
        }
      }
    } else {
      for (const auto& x : n.input())
        if (g.is_graph_input(x) && !g.is_constant(x) && s2_inputs.insert(x).second) p.stage2_inputs.push_back(x);
    }
  }
}

void drop_with_descendants(const Graph& g, std::vector<char>& stage1, const std::vector<char>& seeds) {
  std::vector<char> dropped(size_t(g.node_count()), 0);
  const auto reads_dropped = [&](const std::string& x) {
    const int p = x.empty() ? -1 : g.producer(x);
    return p >= 0 && dropped[size_t(p)];
  };
  for (int i : g.topo_order()) {
    if (!stage1[size_t(i)]) continue;
    bool d = seeds[size_t(i)] != 0;
    for (const auto& x : g.node(i).input()) d = d || reads_dropped(x);
    for (const auto& x : g.implicit_inputs(i)) d = d || reads_dropped(x);
    if (d) stage1[size_t(i)] = 0, dropped[size_t(i)] = 1;
  }
}

std::vector<std::string> pull_back_no_end(const PartitionInput& in, std::vector<char>& stage1) {
  std::vector<std::string> moved;
  if (in.no_end.empty()) return moved;
  const Graph& g = in.graph;
  while (true) {
    // The no_end nodes whose output crosses (read by the host, or a graph output).
    std::vector<char> ends(size_t(g.node_count()), 0);
    bool any = false;
    for (int i = 0; i < g.node_count(); ++i) {
      if (!stage1[size_t(i)] || !in.no_end[size_t(i)]) continue;
      bool crosses = false;
      for (const auto& o : g.node(i).output()) {
        if (o.empty()) continue;
        crosses |= g.is_graph_output(o);
        for (int c : g.consumers(o)) crosses |= !stage1[size_t(c)];
      }
      if (crosses) ends[size_t(i)] = 1, any = true, moved.push_back(g.node(i).name());
    }
    if (!any) return moved;
    drop_with_descendants(g, stage1, ends);
  }
}

Partition auto_partition(const PartitionInput& in) {
  const Graph& g = in.graph;
  Partition p;
  p.stage1.assign(g.node_count(), 0);
  // 1. Supported nodes all of whose activation inputs come from the inputs or from stage1.
  std::unordered_set<std::string> on_npu;
  for (const auto& x : g.runtime_inputs()) on_npu.insert(x);
  for (int i : g.topo_order()) {
    if (!in.supported[i]) continue;
    const auto& n = g.node(i);
    bool ok = true, any_activation = false;
    for (const auto& x : n.input()) {
      if (x.empty() || g.is_constant(x)) continue;
      any_activation = true;
      ok &= on_npu.count(x) > 0;
    }
    if (!ok || !any_activation) continue;
    p.stage1[i] = 1;
    for (const auto& o : n.output()) on_npu.insert(o);
  }
  // (Dead branches need no handling here: resolve() removed every node no output depends on.)
  // 2. Cost refinement: a frontier node that computes nothing but makes the transfer larger
  //    (Tile, Expand, Concat of copies, Pad...) goes to the host. Repeat to a fixed point.
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto it = g.topo_order().rbegin(); it != g.topo_order().rend(); ++it) {
      const int i = *it;
      const bool no_end = !in.no_end.empty() && in.no_end[size_t(i)];
      if (!p.stage1[i] || (cost_flops(in, i) != 0 && !no_end)) continue;
      const auto& n = g.node(i);
      bool sink = true;
      int64_t out_bytes = 0;
      for (const auto& o : n.output()) {
        for (int c : g.consumers(o)) sink &= !p.stage1[c];
        out_bytes = sat_add(out_bytes, tensor_bytes(in.shapes, o));
      }
      if (!sink) continue;
      if (no_end) {  // whatever it costs: the caller rules it out as an end node
        p.stage1[i] = 0;
        p.moved_to_host.push_back(n.name());
        p.moved_no_end.push_back(n.name());
        changed = true;
        continue;
      }
      if (cost_flops(in, i) != 0) continue;
      // Inputs that would newly cross (not crossing already for another host reader).
      int64_t in_bytes = 0;
      std::set<std::string> seen;
      for (const auto& x : n.input()) {
        if (x.empty() || g.is_constant(x) || !seen.insert(x).second) continue;
        if (g.is_graph_input(x)) continue;
        bool already = g.is_graph_output(x);
        for (int c : g.consumers(x)) already |= (c != i && !p.stage1[c]);
        if (!already) in_bytes = sat_add(in_bytes, tensor_bytes(in.shapes, x));
      }
      // Reshape-like ops cost nothing on the host and the parser absorbs them (so they make
      // poor end nodes): move them whenever the transfer does not grow.
      const std::string& op = n.op_type();
      const bool reshape_like = op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten" || op == "Identity";
      if (in_bytes < out_bytes || (reshape_like && in_bytes <= out_bytes)) {
        p.stage1[i] = 0;
        p.moved_to_host.push_back(n.name());
        changed = true;
      }
    }
  }
  // 3. A no_end node still crossing (read by the host and by stage1 nodes: not a sink above)
  //    leaves stage1 with its stage1 descendants.
  for (const auto& name : pull_back_no_end(in, p.stage1)) {
    p.moved_to_host.push_back(name);
    p.moved_no_end.push_back(name);
  }
  finish_partition(in, p);
  return p;
}

Partition manual_partition(const PartitionInput& in, const std::vector<std::string>& tensors,
                           const std::vector<std::string>& node_reasons) {
  const Graph& g = in.graph;
  Partition p;
  p.stage1.assign(g.node_count(), 0);
  std::vector<std::string> stack;
  std::set<std::string> seen_cut;
  for (const auto& t : tensors)
    if (!seen_cut.insert(t).second) fail("--cut names tensor '{}' twice", t);
  for (const auto& t : tensors) {
    if (g.is_graph_input(t)) fail("--cut {}: a model input cannot be a cut tensor", t);
    if (g.producer(t) < 0) fail("--cut {}: no node produces a tensor of that name (after folding)", t);
    stack.push_back(t);
  }
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    const int i = g.producer(t);
    if (i < 0 || p.stage1[i]) continue;
    p.stage1[i] = 1;
    for (const auto& x : g.node(i).input())
      if (!x.empty() && !g.is_constant(x)) stack.push_back(x);
  }
  for (int i = 0; i < g.node_count(); ++i)
    if (p.stage1[i] && !in.supported[i])
      fail("--cut: stage1 would hold node '{}' ({}), which the target rejects: {}", g.node(i).name(),
           g.node(i).op_type(), node_reasons[i]);
  finish_partition(in, p);
  std::set<std::string> wanted(tensors.begin(), tensors.end());
  for (const auto& c : p.crossing)
    if (!wanted.count(c)) {
      std::string reader;
      for (int k : g.consumers(c))
        if (!p.stage1[k]) reader = g.node(k).name();
      fail("--cut does not separate the graph: host node '{}' also needs stage1 tensor '{}'",
           reader.empty() ? std::string("(graph output)") : reader, c);
    }
  p.crossing.assign(tensors.begin(), tensors.end());  // the user's order
  return p;
}

}  // namespace npusplit
