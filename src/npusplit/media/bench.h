#pragma once
// `npusplit bench` and `run`'s models: the two-stage pipeline built from the options, and the
// bench loops (sequential, pipelined) with their statistics. report/bench_report.h prints them.
#include <memory>
#include <string>
#include <vector>

#include "npusplit/media/run.h"
#include "npusplit/pipeline/host_compare.h"
#include "npusplit/pipeline/two_stage.h"

namespace npusplit {

// Which models, on which backend.
struct PipelineSpec {
  std::string model, manifest, stage1, stage2, hef, backend = "ort";
  // --hef-input uint8|float32: how stage1 takes its input (empty: the manifest's stage1.hef_input).
  // With --backend ort, uint8 runs the ONNX stage1 fed as the HEF would be (normalization prepended).
  std::string hef_input;
  int threads = 0;
  bool no_fused_host = false;
};

struct Built {
  std::unique_ptr<TwoStagePipeline> pipeline;
  std::string what;  // for reports
};

// PIPELINED: the two stages will run at the same time, so each gets half the cores (unless
// threads says otherwise) and ORT's worker threads do not spin.
Built build_pipeline(const PipelineSpec& a, bool pipelined);
// "stage1 ort, stage2 ort (2 fused deformable attention(s))"
std::string stage_names(TwoStagePipeline& p);

struct Dist {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};
Dist dist_of(std::vector<double> v);
double peak_rss_bytes();

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

ModeResult bench_sequential(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads);
ModeResult bench_pipelined(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads);

// `npusplit bench`: which modes, how many frames, and an optional second split whose stage2 is
// timed beside this one's (--host-baseline STAGE1,STAGE2).
struct BenchRequest {
  PipelineSpec models;
  int64_t frames = 100, warmup = 10;
  bool sequential = false, pipelined = false;  // neither: sequential, and pipelined for a split
  std::string baseline_stage1, baseline_stage2;
};

struct BenchResult {
  std::string what, backends;
  std::vector<ModeResult> modes;
  std::vector<Stage2Timing> host_stage2;  // with a baseline: fused, unfused, baseline, baseline fused
  std::string baseline_stage2;
  int threads = 0;
  int64_t frames = 0;
};

BenchResult run_bench(const BenchRequest& r);

}  // namespace npusplit
