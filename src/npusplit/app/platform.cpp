#include "npusplit/app/platform.h"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

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

HostTiming time_host(const Analysis& a, const Partition& baseline) {
  Progress progress("platform", 0);
  progress.step(0, "timing the host per node (ONNX Runtime profile)");
  HostTiming t;
  t.nodes = measure_node_times(a.model.proto(), a.model.graph());
  // The baseline's stage2, built and timed as bench would run it: what the per-node times of
  // the host side are scaled to (host_time.h).
  progress.step(0, "timing the automatic cut's stage2");
  t.baseline_stage2_ms = measure_stage_ms(build_stages(a.model.proto(), a.model.shapes(), baseline, SplitNames{}).stage2);
  t.stage2_timed = 1;
  scale_node_times(t.nodes, baseline.stage1, t.baseline_stage2_ms);
  return t;
}

PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced, HostTiming& timing,
                               double min_gain) {
  Progress progress("platform", 0);
  ChooseOptions co;
  co.objective = objective;
  co.min_gain = min_gain;
  // Every stage2 not timed yet is built and timed side by side with the baseline's (timed again
  // with them, so no drift of the machine between the two favours either).
  co.measure_hosts = [&](const std::vector<const Partition*>& parts) {
    std::vector<const Partition*> todo;
    for (const auto* p : parts)
      if (!timing.stage2_ms.count(p->stage1)) todo.push_back(p);
    if (!todo.empty()) {
      if (std::none_of(todo.begin(), todo.end(), [&](const Partition* p) { return p->stage1 == baseline.stage1; }))
        todo.push_back(&baseline);
      progress.step(0, fmt::format("timing {} candidate stage2s side by side", todo.size()));
      std::vector<onnx::ModelProto> stage2s;
      for (const auto* p : todo) stage2s.push_back(build_stages(a.model.proto(), a.model.shapes(), *p, SplitNames{}).stage2);
      std::vector<const onnx::ModelProto*> refs;
      for (const auto& m : stage2s) refs.push_back(&m);
      std::vector<StageTime> ms;
      try {
        ms = measure_stages_ms(refs);
      } catch (const std::exception& e) {
        // One stage2 ONNX Runtime refuses must not end the command: time them one by one, and a
        // candidate whose stage2 cannot run is never chosen (infinitely slow).
        spdlog::debug("platform: timing side by side failed ({}); one by one", e.what());
        for (const auto* m : refs) {
          try {
            ms.push_back(measure_stages_ms({m})[0]);
          } catch (const std::exception&) {
            ms.push_back({std::numeric_limits<double>::infinity(), 0.0, 0});
          }
        }
      }
      for (size_t k = 0; k < todo.size(); ++k) timing.stage2_ms[todo[k]->stage1] = ms[k];
      timing.stage2_timed += int(todo.size());
    }
    std::vector<StageTime> out;
    for (const auto* p : parts) out.push_back(timing.stage2_ms.at(p->stage1));
    return out;
  };
  PlatformChoice c = choose_cut(partition_input(a, a.model.graph()), baseline, profile, timing.nodes.ms, co, forced);
  c.frontier.model_host_ms = timing.nodes.model_ms;
  c.frontier.baseline_stage2_ms = timing.baseline_stage2_ms;
  return c;
}

PlatformChoice platform_choice(const Analysis& a, const Partition& baseline, const PlatformProfile& profile,
                               const std::string& objective, const Partition* forced, double min_gain) {
  HostTiming t = time_host(a, baseline);
  return platform_choice(a, baseline, profile, objective, forced, t, min_gain);
}

}  // namespace npusplit
