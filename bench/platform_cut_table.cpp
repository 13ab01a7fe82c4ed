// The platform cut over models and profiles (issue 14): each model cut as `split` cuts it (the
// exact rewrite passes first); the host is timed per node once, then every profile's candidate cuts are estimated and the chosen cut is compared
// with today's automatic cut. Prints a markdown table (bench/platform_cut.sh writes it to a file).
//   npusplit_platform_table [--host-factor X] MODEL.onnx...
// --host-factor X adds rows for x86-hailo8 with a host X times this machine's time (a faster
// desktop: the case where the NPU or the link, not the host, sets the frame rate).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "npusplit/app/analyze.h"
#include "npusplit/app/platform.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/passes/pass.h"
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
               "base -> chosen | npu / link / host ms (chosen) | cuts estimated | host timing s (so far) |\n";
  std::cout << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  int worse = 0;
  for (int i = first; i < argc; ++i) {
    const std::string model = argv[i];
    try {
      // As `split` cuts by default: compiled, then the exact rewrite passes, then judged.
      AnalyzeOptions ao;
      ao.target = "hailo8";
      auto loaded = load_model(model);
      std::error_code ec;
      ModelSummary summary = summarize(loaded, model, int64_t(std::filesystem::file_size(model, ec)));
      CompiledModel cm = CompiledModel::compile(std::move(loaded), {}, model);
      apply_passes(cm, default_pass_names());
      const Analysis a = analyze_compiled(std::move(cm), std::move(summary), ao);
      const auto t0 = std::chrono::steady_clock::now();
      HostTiming timing = time_host(a, a.partition);
      std::vector<std::pair<std::string, PlatformProfile>> profiles;
      for (const auto& name : known_platforms()) profiles.emplace_back(name, load_platform(name));
      if (extra_factor > 0) {
        PlatformProfile p = load_platform("x86-hailo8");
        p.host_factor.value = extra_factor;
        profiles.emplace_back(fmt::format("x86-hailo8 --host-factor {}", extra_factor), p);
      }
      for (const auto& [name, profile] : profiles) {
        const auto c = platform_choice(a, a.partition, profile, "fps", nullptr, timing);
        const auto& fr = c.frontier;
        const auto& ch = fr.candidates[size_t(fr.chosen)];
        const auto& base = fr.candidates[size_t(fr.baseline)];
        if (ch.estimate.fps + 1e-9 < base.estimate.fps) ++worse;
        std::cout << fmt::format("| {} | {} | {:.1f} | {:.1f} | {:+.1f}% | {} | {:.1f}% -> {:.1f}% | {:.2f} -> {:.2f} MiB | "
                                 "{:.1f} / {:.1f} / {:.1f} | {} ({} stage2 timed) | {:.1f} |\n",
                                 std::filesystem::path(model).stem().string(), name, base.estimate.fps, ch.estimate.fps,
                                 100.0 * (ch.estimate.fps / base.estimate.fps - 1.0),
                                 fr.chosen == fr.baseline ? "= auto" : ch.label, 100 * base.npu_flops_share(),
                                 100 * ch.npu_flops_share(), double(base.crossing_bytes_wire) / 1048576.0,
                                 double(ch.crossing_bytes_wire) / 1048576.0, ch.estimate.npu_ms, ch.estimate.transfer_ms,
                                 ch.estimate.host_ms, fr.evaluated, timing.stage2_timed,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count())
                  << std::flush;
      }
    } catch (const std::exception& e) {
      std::cout << "| " << model << " | error: " << describe_exception(e) << " |\n";
    }
  }
  std::cout << fmt::format("\nchosen slower than the automatic cut: {} case(s)\n", worse);
  return worse ? 1 : 0;
}
