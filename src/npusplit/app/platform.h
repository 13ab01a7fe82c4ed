#pragma once
// The platform cut as a recipe step (issue 14): load the profile, time the host per node once,
// estimate the candidate cuts. `split --platform` cuts at the chosen one; `check --platform`
// estimates the automatic cut and lists what the others would give.
#include <string>

#include "npusplit/platform/platform_cut.h"
#include "npusplit/results/analysis.h"

namespace npusplit {

// The profile NAME (or .yaml file), with HOST_FACTOR > 0 replacing its host factor. OBJECTIVE
// is checked here too, so a bad option fails before any work.
PlatformProfile platform_profile(const std::string& name, const std::string& objective, double host_factor);

// BASELINE: today's automatic cut; FORCED: a cut that is chosen whatever its figures (--cut, or
// the automatic cut itself for `check`). Times the host per node with ONNX Runtime.
PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced);

}  // namespace npusplit
