#include "npusplit/app/check.h"

#include <optional>

#include "npusplit/app/analyze.h"
#include "npusplit/app/platform.h"

namespace npusplit {

CheckResult run_check(const std::filesystem::path& model, const CheckOptions& o) {
  std::optional<PlatformProfile> profile;
  if (!o.platform.empty()) profile = platform_profile(o.platform, o.objective, o.host_factor);
  CheckResult r{analyze(model, o.analyze), {}};
  // check estimates the automatic cut itself: it is the forced cut, the others are listed beside it.
  if (profile) r.frontier = platform_choice(r.analysis, r.analysis.partition, *profile, o.objective, &r.analysis.partition).frontier;
  return r;
}

}  // namespace npusplit
