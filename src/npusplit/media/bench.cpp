#include "npusplit/media/bench.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include "npusplit/base/progress.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/io/split_manifest.h"
#include "npusplit/runtime/hef_io.h"
#include "npusplit/runtime/stage.h"

namespace npusplit {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

namespace {
// Stage2 inputs that are model inputs only stage2 reads and the detector fills itself.
std::vector<std::string> extra_model_inputs(const Stage& stage2) {
  std::vector<std::string> extra;
  for (const auto& s : stage2.inputs())
    if (is_orig_sizes_input(s)) extra.push_back(s.name);
  return extra;
}

StageOptions stage2_options(StageOptions so, const PipelineSpec& a) {
  so.fuse_host_ops = !a.no_fused_host;
  return so;
}

}  // namespace

Built build_pipeline(const PipelineSpec& spec, bool pipelined) {
  PipelineSpec a = spec;
  std::optional<SplitManifest> manifest;
  if (!a.manifest.empty()) {
    if (!a.model.empty() || !a.stage1.empty()) fail("--manifest names the stages: drop --model/--stage1");
    manifest = read_split_manifest(a.manifest);
    if (a.backend == "ort") a.stage1 = manifest->stage1.string();
    if (a.stage2.empty()) a.stage2 = manifest->stage2.string();
  }
  // The HEF's contract from the manifest (checked before HailoRT is needed: bad input fails alike everywhere).
  std::optional<HefInput> hef_input;
  if (!a.hef_input.empty()) hef_input = parse_hef_input(a.hef_input);
  std::vector<CrossingEnd> ends;
  HefInputRecord hef_rec;
  if (a.backend == "hailo" || hef_input) {
    if (!manifest)
      fail("{} needs --manifest SPLIT.json: it says how the HEF takes its input and which HEF output is which crossing "
           "tensor",
           a.backend == "hailo" ? "--backend hailo" : "--hef-input");
    hef_rec = hef_input_record(manifest->doc);
    if (hef_input) hef_rec.format = *hef_input;
    if (a.backend == "hailo") ends = crossing_ends(manifest->doc, a.manifest);
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
    std::unique_ptr<Stage> s1;
    if (hef_input == HefInput::uint8) {
      // The HEF's input contract in ONNX Runtime: stage1 with the .alls normalization prepended, fed uint8 pixels.
      StageOptions po = so;
      const PixelNormalization norm = hef_rec.norm;
      po.edit_model = [norm](onnx::ModelProto& m) { m = prepend_pixel_normalization(m, norm); };
      s1 = make_pixel_fed_stage(make_ort_stage(a.stage1, po), norm);
    } else {
      s1 = make_ort_stage(a.stage1, so);
    }
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
  ho.input_uint8 = hef_rec.format == HefInput::uint8;
  for (const auto& e : ends) ho.crossing_end_nodes.emplace_back(e.tensor, e.end_nodes);
  std::unique_ptr<Stage> s1 = make_hailo_stage(a.hef, ho);
  if (ho.input_uint8) s1 = make_pixel_fed_stage(std::move(s1), hef_rec.norm);
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

double peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) * 1024.0;  // Linux: KiB
}

namespace {
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
}  // namespace

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

BenchResult run_bench(const BenchRequest& q) {
  const PipelineSpec& ma = q.models;
  const bool baseline = !q.baseline_stage1.empty() || !q.baseline_stage2.empty();
  if (baseline && (ma.stage1.empty() || ma.stage2.empty() || ma.backend != "ort"))
    fail("--host-baseline needs --stage1 and --stage2 (ONNX Runtime)");
  bool do_seq = q.sequential, do_pipe = q.pipelined;
  if (!do_seq && !do_pipe) {
    do_seq = true;
    do_pipe = ma.model.empty();  // unsplit: nothing to overlap unless asked
  }
  BenchResult r;
  r.threads = ma.threads;
  r.frames = q.frames;
  if (do_seq) {
    Built b = build_pipeline(ma, false);
    Feeder feed(*b.pipeline);
    r.what = b.what;
    r.backends = stage_names(*b.pipeline);
    r.modes.push_back(bench_sequential(*b.pipeline, feed, q.frames, q.warmup, ma.threads));
  }
  if (do_pipe) {
    Built b = build_pipeline(ma, true);
    Feeder feed(*b.pipeline);
    r.what = b.what;
    r.backends = stage_names(*b.pipeline);
    // Each stage gets half the cores unless told otherwise.
    const int threads = ma.threads > 0 ? ma.threads : std::max(1, int(std::thread::hardware_concurrency()) / 2);
    r.modes.push_back(bench_pipelined(*b.pipeline, feed, q.frames, q.warmup, threads));
  }
  if (baseline) {
    const std::vector<Stage2Variant> vars = {{"stage2 fused", ma.stage1, ma.stage2, true},
                                             {"stage2 unfused", ma.stage1, ma.stage2, false},
                                             {"baseline stage2", q.baseline_stage1, q.baseline_stage2, false},
                                             {"baseline stage2 fused", q.baseline_stage1, q.baseline_stage2, true}};
    r.host_stage2 = compare_stage2(vars, ma.threads, int(q.frames), int(q.warmup));
    r.baseline_stage2 = q.baseline_stage2;
  }
  return r;
}

}  // namespace npusplit
