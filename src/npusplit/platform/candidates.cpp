#include "npusplit/platform/candidates.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "npusplit/base/checked_math.h"
#include "npusplit/platform/profile.h"

namespace npusplit {

int64_t wire_bytes_of(const ShapeMap& shapes, const std::string& tensor, const std::map<std::string, int>& bits) {
  const auto it = shapes.find(tensor);
  if (it == shapes.end()) return 0;
  const int64_t n = it->second.numel();
  return n < 0 ? 0 : sat_mul(n, int64_t(wire_bits(bits, tensor))) / 8;
}

std::vector<PrefixStat> prefix_stats(const PartitionInput& in, const Partition& baseline,
                                     const std::map<std::string, int>& bits) {
  const Graph& g = in.graph;
  std::vector<PrefixStat> out;
  std::vector<char> s1(g.node_count(), 0);
  // Per crossing candidate tensor: how many distinct consumers are still outside stage1.
  std::unordered_map<std::string, int> outside;
  PrefixStat cur;
  for (int i : g.topo_order()) {
    if (!baseline.stage1[i]) continue;
    const auto& n = g.node(i);
    s1[i] = 1;
    std::set<std::string> seen;
    for (const auto& x : n.input()) {
      if (x.empty() || !seen.insert(x).second) continue;
      auto it = outside.find(x);
      if (it == outside.end()) continue;  // a model input or constant
      if (--it->second == 0 && !g.is_graph_output(x)) {
        cur.wire_bytes -= wire_bytes_of(in.shapes, x, bits);
        --cur.crossing;
      }
    }
    for (const auto& o : n.output()) {
      if (o.empty()) continue;
      std::set<int> readers(g.consumers(o).begin(), g.consumers(o).end());
      outside[o] = int(readers.size());
      if (!readers.empty() || g.is_graph_output(o)) {
        cur.wire_bytes = sat_add(cur.wire_bytes, wire_bytes_of(in.shapes, o, bits));
        ++cur.crossing;
      }
    }
    cur.stage1_flops = sat_add(cur.stage1_flops, in.flops[i]);
    ++cur.k;
    cur.last_node = i;
    out.push_back(cur);
  }
  return out;
}

std::vector<char> prefix_stage1(const PartitionInput& in, const Partition& baseline, int k) {
  std::vector<char> s1(in.graph.node_count(), 0);
  int taken = 0;
  for (int i : in.graph.topo_order()) {
    if (taken >= k) break;
    if (!baseline.stage1[i]) continue;
    s1[i] = 1;
    ++taken;
  }
  return s1;
}

namespace {
// "/model/decoder/layers.0/Add" -> scopes "/model", "/model/decoder", "/model/decoder/layers.0"
// (the last part is the node's own name, not a scope).
std::vector<std::string> scopes_of(const std::string& name, int max_depth) {
  std::vector<std::string> out;
  if (name.empty() || name[0] != '/') return out;
  size_t pos = 0;
  for (int d = 0; d < max_depth; ++d) {
    const size_t next = name.find('/', pos + 1);
    if (next == std::string::npos) break;
    out.push_back(name.substr(0, next));
    pos = next;
  }
  return out;
}
}  // namespace

std::vector<CandidateCut> scope_cuts(const PartitionInput& in, const Partition& baseline, int max_depth) {
  const Graph& g = in.graph;
  std::map<std::string, std::vector<int>> members;  // scope -> its stage1 nodes
  for (int i = 0; i < g.node_count(); ++i)
    if (baseline.stage1[i])
      for (const auto& s : scopes_of(g.node(i).name(), max_depth)) members[s].push_back(i);
  std::vector<CandidateCut> out;
  std::set<std::vector<char>> seen{baseline.stage1};
  for (const auto& [scope, nodes] : members) {
    if (int(nodes.size()) == baseline.stage1_nodes) continue;  // every stage1 node: nothing left
    // Drop the scope's nodes and everything downstream of them (keeps stage1 ancestor-closed).
    std::vector<char> s1 = baseline.stage1;
    std::vector<char> seeds(size_t(g.node_count()), 0);
    for (int i : nodes) seeds[size_t(i)] = 1;
    drop_with_descendants(g, s1, seeds);
    if (std::none_of(s1.begin(), s1.end(), [](char c) { return c != 0; })) continue;
    if (!seen.insert(s1).second) continue;
    out.push_back({"before " + scope, std::move(s1)});
  }
  return out;
}

std::vector<int> low_byte_prefixes(const std::vector<PrefixStat>& stats, int window, int max) {
  std::vector<int> minima;
  const int n = int(stats.size());
  for (int k = 0; k < n; ++k) {
    bool lowest = true;
    for (int j = std::max(0, k - window); j <= std::min(n - 1, k + window) && lowest; ++j)
      lowest = stats[j].wire_bytes > stats[k].wire_bytes || (stats[j].wire_bytes == stats[k].wire_bytes && j <= k);
    if (lowest) minima.push_back(k);
  }
  if (int(minima.size()) <= max || max <= 0) return minima;
  std::vector<int> spread;
  for (int i = 0; i < max; ++i) spread.push_back(minima[size_t(i) * minima.size() / size_t(max)]);
  return spread;
}

}  // namespace npusplit
