#include "npusplit/report/bench_report.h"

#include <fmt/format.h>

#include "npusplit/report/format.h"

namespace npusplit {

nlohmann::json dist_json(const Dist& d) { return {{"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"mean", d.mean}}; }

std::string bench_text(const std::string& what, const std::string& backends, const std::vector<ModeResult>& rs) {
  std::string out = fmt::format("bench {}\n  {}\n", what, backends);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rs) {
    auto row = [&](const std::string& part, const Dist& d, bool totals) {
      rows.push_back({r.mode, part, ms_text(d.p50), ms_text(d.p90), ms_text(d.p99), ms_text(d.mean),
                      totals ? fmt::format("{:.1f}", r.fps) : "", totals ? human_bytes(r.rss) : ""});
    };
    if (r.split) {
      row("stage1", r.stage1, false);
      row("stage2", r.stage2, false);
      if (r.mode == "pipelined") row("queue wait", r.wait, false);
    } else {
      row("model", r.stage1, false);
    }
    row("end-to-end", r.e2e, true);
  }
  out += format_table({"mode", "part", "p50 ms", "p90 ms", "p99 ms", "mean ms", "frames/s", "peak RSS"}, rows);
  for (const auto& r : rs) {
    out += fmt::format("{}: {} frames, {} ORT thread(s) per stage", r.mode, r.frames,
                       r.threads > 0 ? std::to_string(r.threads) : "default");
    if (r.split)
      out += fmt::format("; runtime overhead around ORT Run: stage2 {:.1f} us/frame = {} of stage2, stage1 {:.1f} us/frame",
                         r.s2_overhead_ms * 1000, percent(r.s2_mean_ms > 0 ? r.s2_overhead_ms / r.s2_mean_ms : 0),
                         r.s1_overhead_ms * 1000);
    else
      out += fmt::format("; runtime overhead around ORT Run: {:.1f} us/frame = {} of the model", r.s1_overhead_ms * 1000,
                         percent(r.s1_mean_ms > 0 ? r.s1_overhead_ms / r.s1_mean_ms : 0));
    out += "\n";
  }
  out += "end-to-end = stage1 start to stage2 end (pipelined: includes the wait for stage2); frames/s in steady state\n";
  return out;
}

nlohmann::json bench_json(const std::string& what, const std::vector<ModeResult>& rs) {
  nlohmann::json j;
  j["schema"] = "npusplit.bench/1";
  j["model"] = what;
  auto modes = nlohmann::json::array();
  for (const auto& r : rs) {
    nlohmann::json m;
    m["mode"] = r.mode;
    m["frames"] = r.frames;
    m["threads"] = r.threads;
    m["split"] = r.split;
    if (r.split) {
      m["stage1_ms"] = dist_json(r.stage1);
      m["stage2_ms"] = dist_json(r.stage2);
      m["wait_ms"] = dist_json(r.wait);
    } else {
      m["model_ms"] = dist_json(r.stage1);
    }
    m["end_to_end_ms"] = dist_json(r.e2e);
    m["frames_per_s"] = r.fps;
    m["peak_rss_bytes"] = r.rss;
    m["ort_overhead"] = {{"stage1_us", r.s1_overhead_ms * 1000},
                         {"stage2_us", r.s2_overhead_ms * 1000},
                         {"share_of_stage2", r.s2_mean_ms > 0 ? r.s2_overhead_ms / r.s2_mean_ms : 0},
                         {"share_of_stage1", r.s1_mean_ms > 0 ? r.s1_overhead_ms / r.s1_mean_ms : 0}};
    modes.push_back(m);
  }
  j["modes"] = modes;
  return j;
}

std::string host_stage2_text(const std::vector<Stage2Timing>& ts, int threads, int64_t frames, const std::string& baseline) {
  std::vector<std::vector<std::string>> rows;
  const double base = ts.size() > 2 ? ts[2].p50_ms : 0;
  for (const auto& t : ts)
    rows.push_back({t.label, std::to_string(t.fused_ops), ms_text(t.p50_ms), ms_text(t.p90_ms), ms_text(t.mean_ms),
                    fmt::format("{:.2f}x", base > 0 ? t.p50_ms / base : 0)});
  return fmt::format("host stage2 alone ({} ORT thread(s), {} frames each, round-robin; baseline {})\n",
                     threads > 0 ? std::to_string(threads) : "default", frames, baseline) +
         format_table({"stage2", "fused ops", "p50 ms", "p90 ms", "mean ms", "p50 / baseline"}, rows);
}

nlohmann::json host_stage2_json(const std::vector<Stage2Timing>& ts) {
  nlohmann::json host = nlohmann::json::array();
  for (const auto& t : ts)
    host.push_back({{"label", t.label}, {"fused_ops", t.fused_ops}, {"p50_ms", t.p50_ms}, {"p90_ms", t.p90_ms},
                    {"mean_ms", t.mean_ms}});
  return host;
}

std::string bench_text(const BenchResult& r) {
  std::string s = bench_text(r.what, r.backends, r.modes);
  if (!r.host_stage2.empty()) s += host_stage2_text(r.host_stage2, r.threads, r.frames, r.baseline_stage2);
  return s;
}

nlohmann::json bench_json(const BenchResult& r) {
  auto j = bench_json(r.what, r.modes);
  if (!r.host_stage2.empty()) j["host_stage2"] = host_stage2_json(r.host_stage2);
  return j;
}

}  // namespace npusplit
