#include "npusplit/app/platform.h"

#include <fmt/format.h>

#include "npusplit/app/analyze.h"
#include "npusplit/base/progress.h"
#include "npusplit/error.h"
#include "npusplit/platform/host_time.h"
#include "npusplit/split/splitter.h"

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
  NodeTimes times = measure_node_times(a.model.proto(), g);
  // The baseline's stage2, built and timed as bench would run it: what the per-node times of
  // the host side are scaled to (host_time.h), so the chosen cut's host part can be checked
  // against its own written stage2.
  progress.step(0, "timing the automatic cut's stage2");
  const double base_stage2_ms = measure_stage_ms(build_stages(a.model.proto(), a.model.shapes(), baseline, SplitNames{}).stage2);
  scale_node_times(times, baseline.stage1, base_stage2_ms);
  ChooseOptions co;
  co.objective = objective;
  // The best candidates by the per-node model get their own stage2 built and timed the same way.
  int timed = 0;
  co.measure_host = [&](const Partition& p) {
    if (p.stage1 == baseline.stage1) return base_stage2_ms;
    progress.step(0, fmt::format("timing candidate stage2 {}", ++timed));
    return measure_stage_ms(build_stages(a.model.proto(), a.model.shapes(), p, SplitNames{}).stage2);
  };
  PlatformChoice c = choose_cut(partition_input(a, g), baseline, profile, times.ms, co, forced);
  c.frontier.model_host_ms = times.model_ms;
  c.frontier.baseline_stage2_ms = base_stage2_ms;
  return c;
}

}  // namespace npusplit
