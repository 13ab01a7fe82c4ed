#pragma once
// The platform cut as a recipe step (issue 14): load the profile, time the host per node once,
// estimate the candidate cuts. `split --platform` cuts at the chosen one; `check --platform`
// estimates the automatic cut and lists what the others would give.
#include <map>
#include <string>
#include <vector>

#include "npusplit/platform/host_time.h"
#include "npusplit/platform/platform_cut.h"
#include "npusplit/results/analysis.h"

namespace npusplit {

// The profile NAME (or .yaml file), with HOST_FACTOR > 0 replacing its host factor. OBJECTIVE
// is checked here too, so a bad option fails before any work.
PlatformProfile platform_profile(const std::string& name, const std::string& objective, double host_factor);

// The host timed here once per model: ORT's per-node profile, the baseline's stage2, and every
// candidate stage2 timed so far (kept, so several profiles time each stage2 once).
struct HostTiming {
  NodeTimes nodes;
  double baseline_stage2_ms = 0;
  std::map<std::vector<char>, StageTime> stage2_ms;  // by stage1 node set, timed side by side
  int stage2_timed = 0;                            // stage2s built and timed (the baseline's too)
};
HostTiming time_host(const Analysis& a, const Partition& baseline);

// BASELINE: today's automatic cut; FORCED: a cut that is chosen whatever its figures (--cut, or
// the automatic cut itself for `check`). The best candidates by per-node times get their own
// stage2 built and timed (ChooseOptions::measure_host) before the choice.
// MIN_GAIN: ChooseOptions::min_gain (split --min-gain).
PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced, HostTiming& timing,
                               double min_gain = ChooseOptions{}.min_gain);
// The same with the host timed for this call alone.
PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced,
                               double min_gain = ChooseOptions{}.min_gain);

}  // namespace npusplit
