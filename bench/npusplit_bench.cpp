// Speed and memory of the analysis commands on every shared model, as a table:
//   check  = load + shape resolution (fold + inference + ORT fallback) + rule evaluation + auto cut
//   split  = check + building, checking and writing stage1/stage2/manifest (no verify)
//   fix    = load + every exact rewrite pass to a fixed point + check before/after + write
// Peak RSS is measured per model and command in a forked child (RSS only grows within a
// process, so in-process numbers would mix models).
// Usage: build/npusplit_bench [--benchmark_filter=split/.*_x] (NPUSPLIT_SHARED as for tests)
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "npusplit/app/analyze.h"
#include "npusplit/app/fix.h"
#include "npusplit/app/split.h"

namespace fs = std::filesystem;
using namespace npusplit;

namespace {

fs::path shared_dir() {
  if (const char* e = std::getenv("NPUSPLIT_SHARED"); e && *e) return e;
  return fs::path(NPUSPLIT_SOURCE_DIR) / ".." / "shared";
}

// Peak RSS (MiB) of the same command run by the CLI in a fresh process (a forked child would
// start with this process's memory, which grows as the benchmarks go on).
double cli_peak_rss_mib(const std::vector<std::string>& args) {
  const std::string cli = std::string(NPUSPLIT_BINARY_DIR) + "/npusplit";
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(cli.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

void run_check(const fs::path& m) {
  AnalyzeOptions o;
  o.keep_original = false;  // as `npusplit check` does
  analyze(m, o);
}

void run_split(const fs::path& m, const fs::path& out) {
  SplitOptions o;
  o.model = m;
  o.out_dir = out;
  split_model(o);
}

void run_fix(const fs::path& m, const fs::path& out) {
  FixOptions o;
  o.model = m;
  o.out = out / (m.stem().string() + "_fixed.onnx");
  fix_model(o);
}

void register_model(const fs::path& m) {
  const std::string name = m.stem().string();
  const double mib = double(fs::file_size(m)) / (1024.0 * 1024.0);
  const fs::path out = fs::path(NPUSPLIT_BINARY_DIR) / "bench_out" / name;
  fs::create_directories(out);
  auto reg = [&](const std::string& cmd, std::function<void()> fn, std::vector<std::string> cli_args) {
    benchmark::RegisterBenchmark((cmd + "/" + name).c_str(), [fn, mib, cli_args](benchmark::State& st) {
      for (auto _ : st) fn();
      st.counters["model_MiB"] = mib;
      st.counters["peak_RSS_MiB"] = cli_peak_rss_mib(cli_args);
      st.counters["RSS_per_model_size"] = st.counters["peak_RSS_MiB"] / mib;
    })->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
  };
  reg("check", [m] { run_check(m); }, {"check", m.string()});
  reg("split", [m, out] { run_split(m, out); }, {"split", m.string(), "-o", (out / "cli").string()});
  reg("fix", [m, out] { run_fix(m, out); }, {"fix", m.string(), "-o", (out / "cli_fixed.onnx").string()});
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path models = shared_dir() / "models";
  if (!fs::exists(models)) {
    std::fprintf(stderr, "npusplit_bench: %s not found (set NPUSPLIT_SHARED); nothing to measure\n", models.c_str());
    return 0;
  }
  // The .xz models are unpacked by the test fixture into the build tree; use them when there.
  std::vector<fs::path> files;
  for (const auto& dir : {models, fs::path(NPUSPLIT_BINARY_DIR) / "models"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".onnx") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return fs::file_size(a) < fs::file_size(b); });
  for (const auto& f : files) register_model(f);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
