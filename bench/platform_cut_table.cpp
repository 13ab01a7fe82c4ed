// The platform cut over models and profiles (issue 14): for each model, the host is timed per
// node once, then every profile's candidate cuts are estimated and the chosen cut is compared
// with today's automatic cut. Prints a markdown table (bench/platform_cut.sh writes it to a file).
//   npusplit_platform_table [--host-factor X] MODEL.onnx...
// --host-factor X adds rows for x86-hailo8 with a host X times this machine's time (a faster
// desktop: the case where the NPU or the link, not the host, sets the frame rate).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "npusplit/app/analyze.h"
#include "npusplit/error.h"
#include "npusplit/platform/host_time.h"
#include "npusplit/platform/platform_cut.h"
#include "npusplit/platform/profile.h"
#include "npusplit/split/splitter.h"

using namespace npusplit;

int main(int argc, char** argv) {
  double extra_factor = 0;
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "--host-factor") {
    extra_factor = std::stod(argv[2]);
    first = 3;
  }
  if (argc <= first) {
    std::cerr << "usage: npusplit_platform_table [--host-factor X] MODEL.onnx...\n";
    return 2;
  }
  std::cout << "| model | platform | baseline fps | chosen fps | gain | chosen cut | NPU FLOPs base -> chosen | wire bytes "
               "base -> chosen | npu / link / host ms (chosen) | cuts estimated | host timing s |\n";
  std::cout << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  int worse = 0;
  for (int i = first; i < argc; ++i) {
    const std::string model = argv[i];
    try {
      AnalyzeOptions ao;
      ao.target = "hailo8";
      const Analysis a = analyze(model, ao);
      const Graph& g = a.model.graph();
      const auto t0 = std::chrono::steady_clock::now();
      NodeTimes times = measure_node_times(a.model.proto(), g, 3);
      const double base_s2 =
          measure_stage_ms(build_stages(a.model.proto(), a.model.shapes(), a.partition, SplitNames{}).stage2);
      scale_node_times(times, a.partition.stage1, base_s2);
      const double timing_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<std::pair<std::string, PlatformProfile>> profiles;
      for (const auto& name : known_platforms()) profiles.emplace_back(name, load_platform(name));
      if (extra_factor > 0) {
        PlatformProfile p = load_platform("x86-hailo8");
        p.host_factor.value = extra_factor;
        profiles.emplace_back(fmt::format("x86-hailo8 --host-factor {}", extra_factor), p);
      }
      for (const auto& [name, profile] : profiles) {
        const auto c = choose_cut(partition_input(a, g), a.partition, profile, times.ms, ChooseOptions{});
        const auto& fr = c.frontier;
        const auto& ch = fr.candidates[size_t(fr.chosen)];
        const auto& base = fr.candidates[size_t(fr.baseline)];
        if (ch.estimate.fps + 1e-9 < base.estimate.fps) ++worse;
        std::cout << fmt::format("| {} | {} | {:.1f} | {:.1f} | {:+.1f}% | {} | {:.1f}% -> {:.1f}% | {:.2f} -> {:.2f} MiB | "
                                 "{:.1f} / {:.1f} / {:.1f} | {} | {:.1f} |\n",
                                 std::filesystem::path(model).stem().string(), name, base.estimate.fps, ch.estimate.fps,
                                 100.0 * (ch.estimate.fps / base.estimate.fps - 1.0),
                                 fr.chosen == fr.baseline ? "= auto" : ch.label, 100 * base.npu_flops_share(),
                                 100 * ch.npu_flops_share(), double(base.crossing_bytes_wire) / 1048576.0,
                                 double(ch.crossing_bytes_wire) / 1048576.0, ch.estimate.npu_ms, ch.estimate.transfer_ms,
                                 ch.estimate.host_ms, fr.evaluated, timing_s)
                  << std::flush;
      }
    } catch (const std::exception& e) {
      std::cout << "| " << model << " | error: " << describe_exception(e) << " |\n";
    }
  }
  std::cout << fmt::format("\nchosen slower than the automatic cut: {} case(s)\n", worse);
  return worse ? 1 : 0;
}
