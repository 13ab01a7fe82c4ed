#pragma once
// The candidate cuts of a model on one platform, each with its estimated frame time (issue 14).
// Filled by the platform cut (split --platform P); read by report/ (the --explain table, the
// manifest's estimate, the HTML report's frontier plot). Plain data: no behaviour here.
#include <cstdint>
#include <string>
#include <vector>

namespace npusplit {

// The frame-time model of one cut on one platform. Milliseconds per frame.
struct FrameEstimate {
  double npu_ms = 0;        // stage1 FLOPs through the profile's throughput model
  double transfer_ms = 0;   // crossing bytes at the precision that crosses, over the link
  double host_ms = 0;       // stage2 measured on this host x the profile's host factor
  double host_measured_ms = 0;  // stage2 as measured here (before the host factor)
  double fps = 0;           // pipelined: 1000 / max(npu, transfer, host)
  double latency_ms = 0;    // sequential: npu + transfer + host
  // The written stage2 timed here with `bench`'s session options (the chosen cut only; 0 = not
  // measured): what host_measured_ms (a sum of per-node times) is checked against.
  double host_written_ms = 0;
};

struct CutCandidate {
  std::string label;                   // how it was found, e.g. "auto", "scope /decoder", "antichain 3"
  std::vector<std::string> crossing;   // tensors stage2 reads from stage1
  int stage1_nodes = 0, total_nodes = 0;
  int64_t stage1_flops = 0, total_flops = 0;
  int64_t crossing_bytes_f32 = 0;      // as float32 (today's manifest figure)
  int64_t crossing_bytes_wire = 0;     // at the precision that crosses (8/16 bit per tensor)
  FrameEstimate estimate;
  // host_measured_ms is this cut's own stage2 timed here (else per-node times: a ranking figure).
  bool host_timed = false;
  double host_spread = 0;              // timed: interquartile range / median of its stage2 runs
  double npu_flops_share() const { return total_flops ? double(stage1_flops) / double(total_flops) : 0.0; }
};

struct Frontier {
  std::string platform;                // profile name, or "native"
  std::string objective;               // "fps" or "latency"
  std::vector<CutCandidate> candidates;  // every candidate estimated, best first
  int chosen = -1;                     // index into candidates
  int baseline = -1;                   // today's automatic cut (max NPU FLOPs), index
  double host_factor = 1;              // the profile's (or --host-factor)
  int64_t input_bytes = 0;             // stage1's inputs over the link per frame (uint8 image)
  double model_host_ms = 0;            // the whole model timed here (what per-node times add up to)
  double baseline_stage2_ms = 0;       // the automatic cut's stage2 timed here (the host side's scale)
  int evaluated = 0;                   // cuts estimated (candidates keeps the best and the named ones)
  double min_gain = 0;                 // timed: what a cut must beat the baseline by (plus the spreads)
  bool empty() const { return candidates.empty(); }
};

}  // namespace npusplit
