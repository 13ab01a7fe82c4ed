#include "npusplit/platform/platform_cut.h"

#include <algorithm>
#include <set>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"
#include "npusplit/platform/candidates.h"

namespace npusplit {

bool better_cut(const CutCandidate& a, const CutCandidate& b, const std::string& objective) {
  const auto& x = a.estimate;
  const auto& y = b.estimate;
  constexpr double eps = 1e-9;
  if (objective == "latency") {
    if (std::abs(x.latency_ms - y.latency_ms) > eps) return x.latency_ms < y.latency_ms;
    if (std::abs(x.fps - y.fps) > eps) return x.fps > y.fps;
  } else {
    if (std::abs(x.fps - y.fps) > eps) return x.fps > y.fps;
    if (std::abs(x.latency_ms - y.latency_ms) > eps) return x.latency_ms < y.latency_ms;
  }
  // Equal figures: fewer bytes over the link, then more work on the NPU.
  if (a.crossing_bytes_wire != b.crossing_bytes_wire) return a.crossing_bytes_wire < b.crossing_bytes_wire;
  return a.stage1_flops > b.stage1_flops;
}

int64_t stage1_input_bytes(const PartitionInput& in, const Partition& p, int* count) {
  const Graph& g = in.graph;
  int64_t bytes = 0;
  int n = 0;
  for (const auto& x : g.runtime_inputs()) {
    bool read = false;
    for (int c : g.consumers(x)) read |= p.stage1[c] != 0;
    if (!read) continue;
    ++n;
    const auto it = in.shapes.find(x);
    if (it != in.shapes.end() && it->second.numel() > 0) bytes = sat_add(bytes, it->second.numel());
  }
  if (count) *count = n;
  return bytes;
}

namespace {

struct Evaluator {
  const PartitionInput& in;
  const PlatformProfile& profile;
  const std::vector<double>& node_ms;
  const ChooseOptions& o;
  double total_ms = 0;

  // HOST_MS >= 0: stage2's measured time; else the sum of the per-node times it holds.
  CutCandidate evaluate(const std::string& label, const Partition& p, double host_ms = -1) const {
    CutCandidate c;
    c.label = label;
    c.crossing = p.crossing;
    c.stage1_nodes = p.stage1_nodes;
    c.total_nodes = in.graph.node_count();
    c.stage1_flops = p.stage1_flops;
    c.total_flops = p.total_flops;
    c.crossing_bytes_f32 = p.crossing_bytes;
    for (const auto& t : p.crossing) c.crossing_bytes_wire = sat_add(c.crossing_bytes_wire, wire_bytes_of(in.shapes, t, o.bits));
    double host = total_ms;
    for (int i = 0; i < in.graph.node_count(); ++i)
      if (p.stage1[i]) host -= node_ms[i];
    int inputs = 0;
    CutCost cost;
    cost.stage1_flops = p.stage1_flops;
    cost.wire_bytes = c.crossing_bytes_wire;
    cost.input_bytes = stage1_input_bytes(in, p, &inputs);
    cost.transfers = int(p.crossing.size()) + inputs;
    cost.host_measured_ms = host_ms >= 0 ? host_ms : std::max(0.0, host);
    c.estimate = estimate_frame(profile, cost);
    c.host_timed = host_ms >= 0;
    return c;
  }
};

// A candidate never ends on a node the caller ruled out as an end (a mixed-range merge): such
// an end is pulled back as the automatic cut would.
Partition from_mask(const PartitionInput& in, std::vector<char> s1) {
  Partition p;
  p.moved_no_end = pull_back_no_end(in, s1);
  p.moved_to_host = p.moved_no_end;
  p.stage1 = std::move(s1);
  finish_partition(in, p);
  return p;
}

}  // namespace

PlatformChoice choose_cut(const PartitionInput& in, const Partition& baseline, const PlatformProfile& profile,
                          const std::vector<double>& node_ms, const ChooseOptions& o, const Partition* forced) {
  if (o.objective != "fps" && o.objective != "latency") fail("--objective {}: must be fps or latency", o.objective);
  if (int(node_ms.size()) != in.graph.node_count()) fail("platform cut: one host time per node expected");
  Evaluator ev{in, profile, node_ms, o};
  for (double v : node_ms) ev.total_ms += v;

  std::vector<std::pair<CutCandidate, Partition>> all;
  std::set<std::vector<std::string>> seen;
  auto add = [&](const std::string& label, Partition p) {
    if (p.stage1_nodes == 0) return;
    std::vector<std::string> key = p.crossing;
    std::sort(key.begin(), key.end());
    if (!seen.insert(key).second) return;
    // A candidate pulled back from a mixed-range merge says so: its cut is not where its label points.
    const std::string shown = p.moved_no_end.empty() ? label : label + " (pulled back before a mixed merge)";
    all.emplace_back(ev.evaluate(shown, p), std::move(p));
  };
  // check --platform forces the automatic cut itself: label it so.
  if (forced) add(forced->crossing == baseline.crossing ? "auto" : "--cut", *forced);
  add("auto", baseline);
  for (auto& c : scope_cuts(in, baseline)) add(c.label, from_mask(in, std::move(c.stage1)));

  // Every topological prefix, estimated from running sums; the low-byte ones and the best one
  // become candidates.
  const auto stats = prefix_stats(in, baseline, o.bits);
  int evaluated = int(all.size()) + int(stats.size());
  if (!stats.empty()) {
    int inputs = 0;
    const int64_t input_bytes = stage1_input_bytes(in, baseline, &inputs);
    double s1_ms = 0;
    int best = -1;
    CutCandidate best_c;
    for (size_t k = 0; k < stats.size(); ++k) {
      s1_ms += node_ms[stats[k].last_node];
      CutCandidate c;
      c.stage1_flops = stats[k].stage1_flops;
      CutCost cost;
      cost.stage1_flops = stats[k].stage1_flops;
      cost.wire_bytes = stats[k].wire_bytes;
      cost.input_bytes = input_bytes;  // a prefix may not read every input: an upper bound
      cost.transfers = stats[k].crossing + inputs;
      cost.host_measured_ms = std::max(0.0, ev.total_ms - s1_ms);
      c.estimate = estimate_frame(profile, cost);
      if (best < 0 || better_cut(c, best_c, o.objective)) best = int(k), best_c = c;
    }
    const int window = std::max(3, int(stats.size()) / 50);
    auto picks = low_byte_prefixes(stats, window, 48);
    picks.push_back(best);
    const int n = int(stats.size());
    for (int k : picks)
      add("prefix " + std::to_string(k + 1) + "/" + std::to_string(n), from_mask(in, prefix_stage1(in, baseline, k + 1)));
  }

  PlatformChoice r;
  r.frontier.platform = profile.name;
  r.frontier.objective = o.objective;
  r.frontier.host_factor = profile.host_factor.value;
  r.frontier.input_bytes = stage1_input_bytes(in, baseline);
  r.frontier.evaluated = evaluated;
  r.frontier.min_gain = o.measure_hosts ? o.min_gain : 0.0;
  // No stage1 at all (nothing at the inputs is supported): there is no cut to estimate.
  if (all.empty()) fail("--platform {}: no candidate cut has a stage1 (nothing at the model's inputs is supported)", profile.name);
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return better_cut(all[a].first, all[b].first, o.objective); });
  const size_t base = forced ? 1 : 0;  // the baseline's index in ALL ("auto" was added after --cut)
  const bool have_base = base < all.size() && all[base].first.label == "auto" && !(forced && base == 1 && all[0].first.label == "auto");
  if (o.measure_hosts) {
    std::set<size_t> timed(order.begin(), order.begin() + std::min(order.size(), size_t(std::max(0, o.measure_top))));
    if (have_base) timed.insert(base);
    if (forced) timed.insert(0);
    std::vector<const Partition*> parts;
    for (size_t i : timed) parts.push_back(&all[i].second);
    const std::vector<StageTime> ms = o.measure_hosts(parts);
    if (ms.size() != parts.size()) fail("platform cut: one host time per timed candidate expected");
    size_t k = 0;
    for (size_t i : timed) {
      const std::string label = all[i].first.label;
      all[i].first = ev.evaluate(label, all[i].second, ms[k].ms);
      all[i].first.host_spread = ms[k++].spread;
    }
    // Timed cuts first (the choice is among them), each group best first.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (all[a].first.host_timed != all[b].first.host_timed) return all[a].first.host_timed;
      return better_cut(all[a].first, all[b].first, o.objective);
    });
  }
  // The forced cut leads (the user's); then best first. The baseline is always kept.
  size_t chosen = order.front();
  if (forced) chosen = 0;
  if (o.measure_hosts && !forced && have_base && chosen != base) {
    // Pessimistic for a change: a candidate's stage2 at the slow end of its spread, the
    // baseline's at the fast end. Where the host does not limit the frame rate the spread does
    // not matter; where it does, a gain the noise could make is no gain. The best timed
    // candidate that still wins that way is chosen, else the baseline.
    const auto& [bc, bp] = all[base];
    const FrameEstimate b = ev.evaluate(bc.label, bp, bc.estimate.host_measured_ms * std::max(0.0, 1 - bc.host_spread)).estimate;
    const auto wins = [&](size_t i) {
      const auto& [cc, cp] = all[i];
      const FrameEstimate c = ev.evaluate(cc.label, cp, cc.estimate.host_measured_ms * (1 + cc.host_spread)).estimate;
      const double gain = o.objective == "latency" ? (c.latency_ms > 0 ? b.latency_ms / c.latency_ms - 1 : 0)
                                                   : (b.fps > 0 ? c.fps / b.fps - 1 : 0);
      return gain > o.min_gain;
    };
    chosen = base;
    for (size_t i : order) {
      if (!all[i].first.host_timed) break;  // timed ones first
      if (i == base) break;                 // the rest rank below the baseline anyway
      if (wins(i)) {
        chosen = i;
        break;
      }
    }
  }
  std::vector<size_t> keep{chosen};
  for (size_t i : order)
    if (i != chosen && int(keep.size()) < std::max(2, o.keep)) keep.push_back(i);
  if (have_base && std::find(keep.begin(), keep.end(), base) == keep.end()) keep.push_back(base);
  for (size_t i : keep) {
    if (have_base && i == base) r.frontier.baseline = int(r.frontier.candidates.size());
    r.frontier.candidates.push_back(all[i].first);
  }
  if (!have_base) r.frontier.baseline = 0;  // the forced cut is the automatic one
  r.frontier.chosen = 0;
  r.chosen = std::move(all[chosen].second);
  return r;
}

}  // namespace npusplit
