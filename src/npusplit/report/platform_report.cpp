#include "npusplit/report/platform_report.h"

#include <fmt/format.h>

#include "npusplit/base/checked_math.h"
#include "npusplit/report/format.h"

namespace npusplit {

using nlohmann::json;

std::string summary_line(const Analysis& a, const Frontier* f) {
  const auto& p = a.partition;
  int s1 = 0, s2 = 0;
  int64_t f1 = 0, f2 = 0;
  for (size_t i = 0; i < a.flops.size() && i < p.stage1.size(); ++i) {
    if (p.stage1[i]) ++s1, f1 = sat_add(f1, a.flops[i]);
    else ++s2, f2 = sat_add(f2, a.flops[i]);
  }
  std::string out = fmt::format(
      "npusplit: NPU {} nodes {} FLOPs ({}) | host {} nodes {} FLOPs | crossing {} tensor(s) {} (float32)", s1,
      human_count(double(f1)), percent(p.npu_flops_share()), s2, human_count(double(f2)), p.crossing.size(),
      human_bytes(double(p.crossing_bytes)));
  if (f && !f->empty() && f->chosen >= 0) {
    const auto& e = f->candidates[size_t(f->chosen)].estimate;
    out += fmt::format(" | {}: {:.1f} fps, {:.1f} ms latency (estimate)", f->platform, e.fps, e.latency_ms);
  }
  return out + "\n";
}

namespace {
std::string ms(double v) { return fmt::format("{:.2f}", v); }
}  // namespace

std::string frontier_text(const Frontier& f, int top) {
  if (f.empty()) return "";
  std::string out = fmt::format(
      "platform {} (objective {}): {} cuts estimated; host factor {:.2f}; stage1 input {} per frame (uint8)\n",
      f.platform, f.objective, f.evaluated, f.host_factor, human_bytes(double(f.input_bytes)));
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < f.candidates.size(); ++i) {
    if (int(i) >= top && int(i) != f.baseline) continue;
    const auto& c = f.candidates[i];
    const auto& e = c.estimate;
    std::string mark = int(i) == f.chosen ? "chosen" : "";
    if (int(i) == f.baseline) mark += mark.empty() ? "baseline" : "+baseline";
    rows.push_back({std::to_string(i + 1), mark, c.label, percent(c.npu_flops_share()), std::to_string(c.crossing.size()),
                    human_bytes(double(c.crossing_bytes_wire)), ms(e.npu_ms), ms(e.transfer_ms),
                    ms(e.host_measured_ms) + (c.host_timed ? fmt::format(" timed ±{:.0f}%", 50 * c.host_spread) : ""),
                    ms(e.host_ms), fmt::format("{:.1f}", e.fps), ms(e.latency_ms)});
  }
  out += format_table({"#", "", "cut", "NPU FLOPs", "tensors", "wire bytes", "npu ms", "link ms", "host ms here",
                       "host ms", "fps", "latency ms"},
                      rows, 48);
  const auto& chosen = f.candidates[size_t(f.chosen)];
  out += "host ms here: 'timed' = the cut's own stage2 built and timed with bench's session options, side by side "
         "(the best candidates by per-node times, and the baseline; ± half the runs' interquartile range); else the "
         "automatic cut's stage2 timed plus the per-node times of the nodes a cut moves\n";
  if (f.min_gain > 0)
    out += fmt::format("a timed cut replaces the baseline only when it beats it by more than {:.0f}% with its stage2 at "
                       "the slow end of its spread and the baseline's at the fast end\n",
                       100 * f.min_gain);
  if (chosen.estimate.host_written_ms > 0)
    out += fmt::format(
        "host part of the chosen cut here: {} ms {} vs {} ms measured on the written stage2 (whole model {} ms, the "
        "automatic cut's stage2 {} ms)\n",
        ms(chosen.estimate.host_measured_ms), chosen.host_timed ? "timed while choosing" : "in the per-node model",
        ms(chosen.estimate.host_written_ms), ms(f.model_host_ms), ms(f.baseline_stage2_ms));
  if (f.baseline >= 0 && f.baseline != f.chosen) {
    const auto& b = f.candidates[size_t(f.baseline)].estimate;
    out += fmt::format("chosen vs baseline (today's automatic cut): {:.1f} vs {:.1f} fps, {} vs {} ms latency\n",
                       chosen.estimate.fps, b.fps, ms(chosen.estimate.latency_ms), ms(b.latency_ms));
  } else {
    out += "chosen = baseline (today's automatic cut)\n";
  }
  return out;
}

namespace {
json candidate_json(const CutCandidate& c) {
  const auto& e = c.estimate;
  return {{"label", c.label},
          {"crossing", c.crossing},
          {"stage1_nodes", c.stage1_nodes},
          {"total_nodes", c.total_nodes},
          {"stage1_flops", c.stage1_flops},
          {"total_flops", c.total_flops},
          {"npu_flops_share", c.npu_flops_share()},
          {"crossing_bytes_f32", c.crossing_bytes_f32},
          {"crossing_bytes_wire", c.crossing_bytes_wire},
          {"host_timed", c.host_timed},
          {"host_spread", c.host_spread},
          {"estimate",
           {{"npu_ms", e.npu_ms},
            {"transfer_ms", e.transfer_ms},
            {"host_ms", e.host_ms},
            {"host_measured_ms", e.host_measured_ms},
            {"host_written_ms", e.host_written_ms},
            {"fps", e.fps},
            {"latency_ms", e.latency_ms}}}};
}
}  // namespace

json frontier_json(const Frontier& f, bool all) {
  json j = {{"platform", f.platform},       {"objective", f.objective},     {"host_factor", f.host_factor},
            {"input_bytes", f.input_bytes}, {"cuts_estimated", f.evaluated}, {"model_host_ms", f.model_host_ms},
            {"min_gain", f.min_gain},
            {"baseline_stage2_ms", f.baseline_stage2_ms}};
  if (f.chosen >= 0) j["chosen"] = candidate_json(f.candidates[size_t(f.chosen)]);
  if (f.baseline >= 0) j["baseline"] = candidate_json(f.candidates[size_t(f.baseline)]);
  j["chosen_is_baseline"] = f.chosen == f.baseline;
  if (all) {
    j["candidates"] = json::array();
    for (const auto& c : f.candidates) j["candidates"].push_back(candidate_json(c));
  }
  return j;
}

}  // namespace npusplit
