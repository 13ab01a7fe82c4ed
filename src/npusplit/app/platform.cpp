#include "npusplit/app/platform.h"

#include "npusplit/app/analyze.h"
#include "npusplit/base/progress.h"
#include "npusplit/error.h"
#include "npusplit/platform/host_time.h"

namespace npusplit {

PlatformProfile platform_profile(const std::string& name, const std::string& objective, double host_factor) {
  if (objective != "fps" && objective != "latency") fail("--objective {}: must be fps or latency", objective);
  PlatformProfile p = load_platform(name);
  if (host_factor > 0) {
    p.host_factor.value = host_factor;
    p.host_factor.evidence = "USER";
    p.host_factor.source = "--host-factor";
  }
  return p;
}

PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced) {
  Progress progress("platform", 0);
  progress.step(0, "timing the host per node (ONNX Runtime profile)");
  const Graph& g = a.model.graph();
  const NodeTimes times = measure_node_times(a.model.proto(), g);
  ChooseOptions co;
  co.objective = objective;
  PlatformChoice c = choose_cut(partition_input(a, g), baseline, profile, times.ms, co, forced);
  c.frontier.model_host_ms = times.model_ms;
  return c;
}

}  // namespace npusplit
