#pragma once
// The platform cut (split --platform P --objective fps|latency): estimate every candidate cut
// (candidates.h) with the frame-time model (profile.h) and per-node host times (host_time.h),
// and pick the best. Pure arithmetic over typed inputs: the measuring is the caller's.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "npusplit/partition/partitioner.h"
#include "npusplit/platform/host_time.h"
#include "npusplit/platform/profile.h"
#include "npusplit/results/frontier.h"

namespace npusplit {

struct ChooseOptions {
  std::string objective = "fps";       // "fps": max pipelined frame rate; "latency": min sum
  std::map<std::string, int> bits;     // bits per element per crossing tensor (default 8)
  int keep = 40;                       // candidates kept in the frontier (best first + baseline)
  // The per-node model ranks the candidates; then the best MEASURE_TOP of them (and the baseline,
  // and a forced cut) get their stage2 timed by MEASURE_HOSTS (ms here, one per partition, timed
  // side by side), and the choice is made among those: a per-node sum cannot see what ONNX
  // Runtime's fusions and npusplit's fused host ops save on a given stage2.
  std::function<std::vector<StageTime>(const std::vector<const Partition*>&)> measure_hosts;
  // With timed candidates, a cut other than the baseline is chosen only when it beats the
  // baseline's objective by more than MIN_GAIN with its stage2 at the slow end of its timing's
  // spread and the baseline's at the fast end: a difference the machine's noise could make is no
  // reason to change the cut.
  double min_gain = 0.03;
  int measure_top = 4;
};

struct PlatformChoice {
  Frontier frontier;
  Partition chosen;
};

// NODE_MS: per graph node, its host time on this machine (NodeTimes::ms). FORCED (a --cut the
// user gave): estimated and chosen whatever its figures, beside the baseline.
PlatformChoice choose_cut(const PartitionInput& in, const Partition& baseline, const PlatformProfile& profile,
                          const std::vector<double>& node_ms, const ChooseOptions& o,
                          const Partition* forced = nullptr);

// Whether A is a better cut than B under OBJECTIVE (ties: the other objective, then more NPU FLOPs).
bool better_cut(const CutCandidate& a, const CutCandidate& b, const std::string& objective);

// Stage1's model inputs at one byte per element (the HEF takes the image as uint8 HxWx3).
int64_t stage1_input_bytes(const PartitionInput& in, const Partition& p, int* count = nullptr);

}  // namespace npusplit
