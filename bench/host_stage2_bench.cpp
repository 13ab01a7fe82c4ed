// Host stage2 with and without npusplit's fused deformable attention, and the seed-style cut's
// stage2 (the decoder fed from the encoder's outputs, as the user's hand-made split), side by side
// per shared model and thread count (1, 2, all cores). Counters are p50 in ms.
// Usage: build/npusplit_host_bench [--benchmark_filter=deimv2_n/] (NPUSPLIT_SHARED as for tests;
// NPUSPLIT_HOST_BENCH_FRAMES, default 30)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "npusplit/app/split.h"
#include "npusplit/io/model_io.h"
#include "npusplit/pipeline/host_compare.h"
#include "npusplit/ort/msda_kernel.h"

namespace fs = std::filesystem;
using namespace npusplit;

namespace {

fs::path shared_dir() {
  if (const char* e = std::getenv("NPUSPLIT_SHARED"); e && *e) return e;
  return fs::path(NPUSPLIT_SOURCE_DIR) / ".." / "shared";
}

// The seed's cut: every tensor an encoder node writes and a decoder node reads (module scopes
// of the DEIMv2 exports), computed tensors only.
std::vector<std::string> encoder_outputs(const fs::path& model) {
  const auto m = load_model(model);
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output()) producer[o] = &n;
  std::vector<std::string> cut;
  std::set<std::string> seen;
  for (const auto& n : m.graph().node()) {
    if (n.name().rfind("/model/decoder", 0) != 0) continue;
    for (const auto& in : n.input()) {
      auto it = producer.find(in);
      if (it == producer.end() || it->second->op_type() == "Constant") continue;
      if (it->second->name().rfind("/model/encoder", 0) == 0 && seen.insert(in).second) cut.push_back(in);
    }
  }
  return cut;
}

struct Splits {
  fs::path auto_s1, auto_s2, seed_s1, seed_s2;
};

Splits make_splits(const fs::path& model) {
  const fs::path out = fs::path(NPUSPLIT_BINARY_DIR) / "bench_out" / "host" / model.stem();
  SplitOptions o;
  o.model = model;
  o.fix = true;
  o.fix_passes = {};
  o.out_dir = out / "auto";
  fs::create_directories(o.out_dir);
  auto a = split_model(o);
  o.out_dir = out / "seed";
  fs::create_directories(o.out_dir);
  o.cut = encoder_outputs(model);
  auto s = split_model(o);
  return {a.stage1_path, a.stage2_path, s.stage1_path, s.stage2_path};
}

int frames() {
  if (const char* e = std::getenv("NPUSPLIT_HOST_BENCH_FRAMES"); e && *e) return std::max(1, std::atoi(e));
  return 30;
}

void register_model(const fs::path& model) {
  const std::string name = model.stem().string();
  std::vector<int> thread_counts = {1, 2};
  const int all = int(std::thread::hardware_concurrency());
  if (all > 2) thread_counts.push_back(all);
  for (int t : thread_counts) {
    benchmark::RegisterBenchmark((name + "/threads:" + std::to_string(t)).c_str(), [model, t](benchmark::State& st) {
      static std::map<fs::path, Splits> cache;
      if (!cache.count(model)) cache[model] = make_splits(model);
      const Splits& s = cache[model];
      std::vector<Stage2Timing> r;
      for (auto _ : st)
        r = compare_stage2({{"fused", s.auto_s1, s.auto_s2, true},
                            {"unfused", s.auto_s1, s.auto_s2, false},
                            {"seed", s.seed_s1, s.seed_s2, false},
                            {"seed_fused", s.seed_s1, s.seed_s2, true}},
                           t, frames(), 5);
      for (const auto& x : r) st.counters[x.label + "_p50_ms"] = x.p50_ms;
      st.counters["fused_ops"] = r[0].fused_ops;
      st.counters["fused_over_seed"] = r[2].p50_ms > 0 ? r[0].p50_ms / r[2].p50_ms : 0;
      st.counters["fused_over_unfused"] = r[1].p50_ms > 0 ? r[0].p50_ms / r[1].p50_ms : 0;
    })->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
  }
}

// The kernel alone, one thread, at DEIMv2-n's shapes (300 queries, 8 heads, 16 channels, 40x40
// and 20x20 maps, 6+6 points) and DEIMv2-s's (32 channels, three levels, 4 points each).
void kernel_bench(benchmark::State& st, int64_t C, std::vector<std::pair<int64_t, int64_t>> maps, int64_t points) {
  const int64_t Q = 300, H = 8;
  MsdaProblem p;
  p.queries = Q;
  p.heads = H;
  p.channels = C;
  p.softmax = true;
  std::vector<std::vector<float>> values;
  uint32_t x = 1;
  auto rnd = [&] {
    x = x * 1664525u + 1013904223u;
    return float(x >> 8) / float(1u << 24);
  };
  for (auto [h, w] : maps) {
    values.emplace_back(size_t(H * h * w * C));
    for (auto& v : values.back()) v = rnd() - 0.5f;
    p.levels.push_back({values.back().data(), h, w, points, H * h * w * C, h * w * C, C});
  }
  const int64_t P = p.total_points();
  std::vector<float> loc(size_t(Q * H * P * 2)), wts(size_t(Q * H * P)), out(size_t(Q * H * C));
  for (auto& v : loc) v = 1.2f * rnd() - 0.1f;
  for (auto& v : wts) v = rnd();
  p.locations = loc.data();
  p.weights = wts.data();
  p.out = out.data();
  for (auto _ : st) {
    msda_compute_rows(p, 0, Q);
    benchmark::DoNotOptimize(out.data());
  }
  st.counters["samples_per_s"] = benchmark::Counter(double(Q * H * P), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path models = shared_dir() / "models";
  if (!fs::exists(models)) {
    std::fprintf(stderr, "npusplit_host_bench: %s not found (set NPUSPLIT_SHARED); nothing to measure\n", models.c_str());
    return 0;
  }
  std::vector<fs::path> files;
  for (const auto& dir : {models, fs::path(NPUSPLIT_BINARY_DIR) / "models"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".onnx" && e.path().stem().string().rfind("deimv2_", 0) == 0) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return fs::file_size(a) < fs::file_size(b); });
  benchmark::RegisterBenchmark("msda_kernel/deimv2_n_shapes", kernel_bench, 16,
                               std::vector<std::pair<int64_t, int64_t>>{{40, 40}, {20, 20}}, 6)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("msda_kernel/deimv2_s_shapes", kernel_bench, 32,
                               std::vector<std::pair<int64_t, int64_t>>{{80, 80}, {40, 40}, {20, 20}}, 4)
      ->Unit(benchmark::kMicrosecond);
  for (const auto& f : files) register_model(f);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
