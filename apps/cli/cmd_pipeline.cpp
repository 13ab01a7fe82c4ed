// run, bench: the two-stage pipeline (stage1 -> stage2, or an unsplit model) on the host.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numeric>
#include <set>
#include <thread>

#include "args.h"
#include "commands.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/io/split_manifest.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/media/run.h"
#include "npusplit/pipeline/host_compare.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/report/format.h"
#include "npusplit/report/progress.h"
#include "npusplit/report/json_text.h"
#include "npusplit/runtime/stage.h"

namespace npusplit::cli {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// ------------------------------------------------------------------------------------------
// Which models, on which backend

struct ModelArgs {
  std::string model, manifest, stage1, stage2, hef, backend = "ort";
  int threads = 0;
  bool no_fused_host = false;
};

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--model", a.model, "an unsplit ONNX model (instead of --stage1/--stage2)");
  cmd->add_option("--manifest", a.manifest,
                  "a split manifest (<stem>_split.json): its stage1 and stage2, checked against their SHA-256");
  cmd->add_option("--stage1", a.stage1, "stage1 ONNX (from `npusplit split`)");
  cmd->add_option("--stage2", a.stage2, "stage2 ONNX (from `npusplit split`)");
  cmd->add_option("--backend", a.backend, "stage1 backend: ort (ONNX Runtime on the CPU) | hailo (needs --hef)")
      ->check(CLI::IsMember({"ort", "hailo"}))
      ->capture_default_str();
  cmd->add_option("--hef", a.hef, "with --backend hailo: the compiled stage1 (.hef)");
  cmd->add_option("--threads", a.threads, "ONNX Runtime intra-op threads per stage (0: one per core)")
      ->check(at_least(0));
  cmd->add_flag("--no-fused-host", a.no_fused_host,
                "run stage2 as exported (default: its deformable attention runs as npusplit's fused operator)");
}

// Stage2 inputs that are model inputs only stage2 reads and the detector fills itself.
std::vector<std::string> extra_model_inputs(const Stage& stage2) {
  std::vector<std::string> extra;
  for (const auto& s : stage2.inputs())
    if (is_orig_sizes_input(s)) extra.push_back(s.name);
  return extra;
}

StageOptions stage2_options(StageOptions so, const ModelArgs& a) {
  so.fuse_host_ops = !a.no_fused_host;
  return so;
}

struct Built {
  std::unique_ptr<TwoStagePipeline> pipeline;
  std::string what;  // for reports
};

// PIPELINED: the two stages will run at the same time, so each gets half the cores (unless
// --threads says otherwise) and ORT's worker threads do not spin.
Built build_pipeline(const ModelArgs& args, bool pipelined) {
  ModelArgs a = args;
  if (!a.manifest.empty()) {
    if (!a.model.empty() || !a.stage1.empty()) fail("--manifest names the stages: drop --model/--stage1");
    const SplitManifest m = read_split_manifest(a.manifest);
    if (a.backend == "ort") a.stage1 = m.stage1.string();
    if (a.stage2.empty()) a.stage2 = m.stage2.string();
  }
  if (a.backend == "hailo") {
#ifndef NPUSPLIT_WITH_HAILORT
    fail("--backend hailo: this build has no HailoRT support (rebuild with the HailoRT SDK installed)");
#endif
  }
  const bool split = !a.stage1.empty() || !a.stage2.empty() || !a.hef.empty();
  if (!a.model.empty() && split) fail("give either --model, or --stage1 and --stage2, not both");
  if (a.model.empty() && !split) fail("no model: give --stage1 S1 --stage2 S2, or --model M");

  StageOptions so;
  so.graph_optimization = 99;  // ORT_ENABLE_ALL
  so.intra_threads = a.threads;
  if (pipelined) {
    so.allow_spinning = false;
    if (a.threads == 0) so.intra_threads = std::max(1, int(std::thread::hardware_concurrency()) / 2);
  }

  Built b;
  if (!a.model.empty()) {
    if (a.backend == "hailo") fail("--backend hailo runs stage1 from --hef: give --hef H --stage2 S2 instead of --model");
    b.pipeline = std::make_unique<TwoStagePipeline>(make_ort_stage(a.model, so));
    b.what = a.model;
    return b;
  }
  if (a.stage2.empty()) fail("--stage1 needs --stage2 (or use --model for an unsplit model)");
  if (a.backend == "ort") {
    if (!a.hef.empty()) fail("--hef needs --backend hailo");
    if (a.stage1.empty()) fail("--stage2 needs --stage1 (or --backend hailo --hef H)");
    // Two ONNX Runtime sessions = two thread pools: a pool still spinning after its stage ended
    // steals the cores the other stage needs. So pools spin only inside their own Run (measured on
    // 2 cores: atto 4.9 ms vs 6.5 ms without spinning and 11.7 ms with ORT's default spinning).
    so.stop_spinning_after_run = true;
    auto s1 = make_ort_stage(a.stage1, so);
    auto s2 = make_ort_stage(a.stage2, stage2_options(so, a));
    auto extra = extra_model_inputs(*s2);
    b.pipeline = std::make_unique<TwoStagePipeline>(std::move(s1), std::move(s2), extra);
    b.what = a.stage1 + " -> " + a.stage2;
    return b;
  }
  // hailo
  if (a.hef.empty()) fail("--backend hailo needs --hef FILE (the compiled stage1)");
  if (!a.stage1.empty()) fail("--backend hailo takes stage1 from --hef; drop --stage1");
#ifdef NPUSPLIT_WITH_HAILORT
  auto s2 = make_ort_stage(a.stage2, stage2_options(so, a));
  auto extra = extra_model_inputs(*s2);
  HailoStageOptions ho;
  // What stage1 must deliver: stage2's inputs, less the model inputs the host fills itself.
  for (const auto& s : s2->inputs())
    if (std::find(extra.begin(), extra.end(), s.name) == extra.end() && s.name != ho.input_name)
      ho.expected_outputs.push_back(s);
  auto s1 = make_hailo_stage(a.hef, ho);
  b.pipeline = std::make_unique<TwoStagePipeline>(std::move(s1), std::move(s2), extra);
  b.what = a.hef + " (hailo) -> " + a.stage2;
#endif
  return b;
}

std::string stage_names(TwoStagePipeline& p) {
  if (!p.is_split()) return p.stage1().backend();
  const int fused = p.stage2()->fused_host_ops();
  return fmt::format("stage1 {}, stage2 {}{}", p.stage1().backend(), p.stage2()->backend(),
                     fused > 0 ? fmt::format(" ({} fused deformable attention(s))", fused) : "");
}

// ------------------------------------------------------------------------------------------
// Statistics

struct Dist {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

Dist dist_of(std::vector<double> v) {
  Dist d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    const double pos = p * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
  };
  d.p50 = q(0.50);
  d.p90 = q(0.90);
  d.p99 = q(0.99);
  d.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  return d;
}

nlohmann::json dist_json(const Dist& d) { return {{"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"mean", d.mean}}; }

double peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) * 1024.0;  // Linux: KiB
}

std::string ms(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : v >= 10 ? fmt::format("{:.1f}", v) : fmt::format("{:.2f}", v); }

// ------------------------------------------------------------------------------------------
// bench

struct ModeResult {
  std::string mode;
  int threads = 0;
  int64_t frames = 0;
  Dist stage1, stage2, e2e, wait;
  double fps = 0;
  double rss = 0;
  double s1_overhead_ms = 0, s2_overhead_ms = 0, s2_mean_ms = 0, s1_mean_ms = 0;
  bool split = false;
};

ModeResult summarise(const std::string& mode, int threads, bool split, const std::vector<FrameTiming>& t, double fps) {
  ModeResult r;
  r.mode = mode;
  r.threads = threads;
  r.split = split;
  r.frames = int64_t(t.size());
  std::vector<double> s1, s2, e2e, wait, o1, o2;
  for (const auto& x : t) {
    s1.push_back(x.stage1_ms);
    s2.push_back(x.stage2_ms);
    e2e.push_back(x.total_ms);
    wait.push_back(x.wait_ms);
    o1.push_back(x.stage1_ms - x.stage1_inner_ms);
    o2.push_back(x.stage2_ms - x.stage2_inner_ms);
  }
  r.stage1 = dist_of(s1);
  r.stage2 = dist_of(s2);
  r.e2e = dist_of(e2e);
  r.wait = dist_of(wait);
  r.s1_overhead_ms = dist_of(o1).mean;
  r.s2_overhead_ms = dist_of(o2).mean;
  r.s1_mean_ms = r.stage1.mean;
  r.s2_mean_ms = r.stage2.mean;
  r.fps = fps;
  r.rss = peak_rss_bytes();
  return r;
}

ModeResult bench_sequential(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads) {
  Frame f = p.make_frame();
  feed.fill_synthetic(f);
  Progress bar("bench sequential", warmup + frames, Progress::Style::frames);
  std::vector<FrameTiming> times;
  times.reserve(size_t(frames));
  Clock::time_point t0;
  for (int64_t i = 0; i < warmup + frames; ++i) {
    if (i == warmup) t0 = Clock::now();
    p.run(f);
    if (i >= warmup) times.push_back(f.timing);
    bar.advance(i + 1);
  }
  const double wall = ms_since(t0);
  bar.finish();
  return summarise("sequential", threads, p.is_split(), times, frames > 0 ? double(frames) / (wall / 1000.0) : 0);
}

ModeResult bench_pipelined(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads) {
  std::set<const Frame*> filled;  // each buffer set is filled once, then reused
  std::vector<FrameTiming> times;
  times.reserve(size_t(frames));
  Clock::time_point first_done, last_done;
  Progress bar("bench pipelined", warmup + frames, Progress::Style::frames);
  int64_t n_done = 0;
  p.run_pipelined(
      warmup + frames,
      [&](Frame& f) {
        if (filled.insert(&f).second) feed.fill_synthetic(f);
        return true;
      },
      [&](Frame& f) {
        const auto now = Clock::now();
        if (f.index == warmup - 1 || (warmup == 0 && f.index == 0)) first_done = now;
        if (f.index >= warmup) times.push_back(f.timing);
        last_done = now;
        bar.advance(++n_done);
      });
  bar.finish();
  // Steady state: frames completed after the warm-up, over the time they took.
  const double wall = std::chrono::duration<double>(last_done - first_done).count();
  const int64_t counted = warmup > 0 ? frames : frames - 1;
  const double fps = wall > 0 && counted > 0 ? double(counted) / wall : 0;
  return summarise("pipelined", threads, p.is_split(), times, fps);
}

std::string bench_text(const std::string& what, const std::string& backends, const std::vector<ModeResult>& rs) {
  std::string out = fmt::format("bench {}\n  {}\n", what, backends);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rs) {
    auto row = [&](const std::string& part, const Dist& d, bool totals) {
      rows.push_back({r.mode, part, ms(d.p50), ms(d.p90), ms(d.p99), ms(d.mean),
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

}  // namespace

// ------------------------------------------------------------------------------------------

void add_run(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Detect objects in images, videos, folders or a camera: stage1 -> stage2 (or --model); annotated "
             "images/videos + detections");
  static ModelArgs ma;
  static std::vector<std::string> inputs;
  static RunOptions ro;
  static std::string out_dir = "npusplit_out", labels_file, detections = "json";
  static bool as_json = false;
  add_model_options(cmd, ma);
  cmd->add_option("inputs", inputs, "images, videos, folders of them, glob patterns ('shots/*.jpg'), or cam:N")
      ->required();
  cmd->add_option("--threshold", ro.decode.threshold, "minimum score")->capture_default_str()->check(in_unit_interval());
  cmd->add_option("-o,--out", out_dir, "output folder")->capture_default_str();
  cmd->add_option("--labels", labels_file, "class names, one per line (default: COCO-80)");
  cmd->add_flag("--letterbox", ro.preprocess.letterbox, "letterbox instead of a plain resize (DEIMv2 uses a plain resize)");
  cmd->add_option("--max-frames", ro.max_frames, "videos and cameras: stop after N frames (0: every frame; cameras: 100)")
      ->check(at_least(0));
  cmd->add_flag("--frames-as-png", ro.frames_as_png, "videos: one annotated PNG per frame instead of an annotated video");
  cmd->add_option("--detections", detections, "json (rewritten every --save-every frames) | jsonl (a line per frame)")
      ->check(CLI::IsMember({"json", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--save-every", ro.save_every, "with --detections json: rewrite the file every N frames")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_flag("--json", as_json, "print a JSON summary (schema npusplit.run/1) instead of text");
  cmd->callback([&] {
    if (!labels_file.empty()) ro.decode.class_names = load_labels(labels_file);
    ro.out_dir = out_dir;
    ro.detections = detections == "jsonl" ? DetectionsWriter::Format::jsonl : DetectionsWriter::Format::json;
    Built b = build_pipeline(ma, false);
    TwoStagePipeline& p = *b.pipeline;
    ro.model_label = b.what;
    const DetrLayout layout = detr_layout(p.outputs());
    const auto media = expand_inputs(inputs);
    if (!as_json) {
      const Feeder feed(p);
      std::cout << fmt::format("run {} ({}; input {}x{}, {} layout)\n", b.what, stage_names(p), feed.width(),
                               feed.height(), layout_name(layout))
                << std::flush;
    }
    const auto report = run_media(p, media, ro, [&](const InputReport& r) {
      if (!r.error.empty()) std::cerr << "npusplit: error: " << r.error << " (skipped)\n";
      if (!as_json) std::cout << input_report_text(r, p.is_split(), ro.decode.threshold) << std::flush;
    });
    if (as_json) {
      nlohmann::json summary = {{"schema", "npusplit.run/1"},
                                {"model", b.what},
                                {"backend", stage_names(p)},
                                {"layout", layout_name(layout)},
                                {"threshold", ro.decode.threshold},
                                {"interrupted", report.interrupted},
                                {"failed", report.failed()},
                                {"inputs", nlohmann::json::array()}};
      for (const auto& r : report.inputs) summary["inputs"].push_back(input_report_json(r));
      std::cout << dump_json(summary);
    } else {
      std::cout << run_summary_text(report);
    }
    if (report.interrupted) std::cerr << "npusplit: interrupted: stopped after the current frame; what was done is written\n";
    exit_code = report.exit_code();
  });
}

void add_bench(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("bench", "Latency (p50/p90/p99) and throughput of stage1 -> stage2 or --model, "
                                          "sequential and pipelined");
  static ModelArgs ma;
  static int64_t frames = 100, warmup = 10;
  static bool pipelined = false, sequential = false, as_json = false;
  static std::string host_baseline;
  add_model_options(cmd, ma);
  cmd->add_option("--host-baseline", host_baseline,
                  "STAGE1,STAGE2 of another split (e.g. cut at the encoder's outputs): also time stage2 alone, "
                  "fused, unfused and this baseline's, side by side with the same threads");
  cmd->add_option("--frames", frames, "measured frames per mode")->capture_default_str()->check(at_least(1));
  cmd->add_option("--warmup", warmup, "frames run before measuring")->capture_default_str()->check(at_least(0));
  cmd->add_flag("--pipelined", pipelined, "only the pipelined mode (stage1 of frame n+1 overlaps stage2 of frame n)");
  cmd->add_flag("--sequential", sequential, "only the sequential mode");
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.bench/1)");
  cmd->callback([&] {
    bool do_seq = sequential, do_pipe = pipelined;
    if (!do_seq && !do_pipe) {
      do_seq = true;
      do_pipe = ma.model.empty();  // unsplit: nothing to overlap unless asked
    }
    std::vector<ModeResult> results;
    std::string what, backends;
    if (do_seq) {
      Built b = build_pipeline(ma, false);
      Feeder feed(*b.pipeline);
      what = b.what;
      backends = stage_names(*b.pipeline);
      results.push_back(bench_sequential(*b.pipeline, feed, frames, warmup, ma.threads));
    }
    if (do_pipe) {
      Built b = build_pipeline(ma, true);
      Feeder feed(*b.pipeline);
      what = b.what;
      backends = stage_names(*b.pipeline);
      const int threads = ma.threads > 0 ? ma.threads : std::max(1, int(std::thread::hardware_concurrency()) / 2);
      results.push_back(bench_pipelined(*b.pipeline, feed, frames, warmup, threads));
    }
    nlohmann::json host;
    std::string host_text;
    if (!host_baseline.empty()) {
      const auto parts = split_commas({host_baseline});
      if (parts.size() != 2) fail("--host-baseline takes STAGE1,STAGE2");
      if (ma.stage1.empty() || ma.stage2.empty() || ma.backend != "ort")
        fail("--host-baseline needs --stage1 and --stage2 (ONNX Runtime)");
      const std::vector<Stage2Variant> vars = {{"stage2 fused", ma.stage1, ma.stage2, true},
                                               {"stage2 unfused", ma.stage1, ma.stage2, false},
                                               {"baseline stage2", parts[0], parts[1], false},
                                               {"baseline stage2 fused", parts[0], parts[1], true}};
      const auto ts = compare_stage2(vars, ma.threads, int(frames), int(warmup));
      std::vector<std::vector<std::string>> rows;
      host = nlohmann::json::array();
      for (const auto& t : ts) {
        rows.push_back({t.label, std::to_string(t.fused_ops), ms(t.p50_ms), ms(t.p90_ms), ms(t.mean_ms),
                        fmt::format("{:.2f}x", ts[2].p50_ms > 0 ? t.p50_ms / ts[2].p50_ms : 0)});
        host.push_back({{"label", t.label}, {"fused_ops", t.fused_ops}, {"p50_ms", t.p50_ms}, {"p90_ms", t.p90_ms},
                        {"mean_ms", t.mean_ms}});
      }
      host_text = fmt::format("host stage2 alone ({} ORT thread(s), {} frames each, round-robin; baseline {})\n",
                              ma.threads > 0 ? std::to_string(ma.threads) : "default", frames, parts[1]) +
                  format_table({"stage2", "fused ops", "p50 ms", "p90 ms", "mean ms", "p50 / baseline"}, rows);
    }
    if (as_json) {
      auto j = bench_json(what, results);
      if (!host.is_null()) j["host_stage2"] = host;
      std::cout << dump_json(j);
    } else {
      std::cout << bench_text(what, backends, results) << host_text;
    }
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
