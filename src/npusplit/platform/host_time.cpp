#include "npusplit/platform/host_time.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <unistd.h>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/runtime/stage.h"

namespace npusplit {

namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Deterministic inputs: floats in [0,1) (an image), integers 640 (DETR's orig_target_sizes).
void fill(HostTensor& t) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const int64_t n = t.numel();
  switch (t.spec.dtype) {
    case onnx::TensorProto::FLOAT:
      for (int64_t i = 0; i < n; ++i) t.as<float>()[i] = u(rng);
      break;
    case onnx::TensorProto::INT64:
      for (int64_t i = 0; i < n; ++i) t.as<int64_t>()[i] = 640;
      break;
    case onnx::TensorProto::INT32:
      for (int64_t i = 0; i < n; ++i) t.as<int32_t>()[i] = 640;
      break;
    default:
      break;  // zero-filled
  }
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("npusplit_host_time_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_model(const onnx::ModelProto& m, const fs::path& p) {
  std::ofstream f(p, std::ios::binary);
  if (!f || !m.SerializeToOstream(&f)) fail("{}: cannot write a temporary model for timing", p.string());
}

}  // namespace

namespace {
// One stage as bench runs stage2, with its inputs filled, ready to time.
struct TimedStage {
  std::unique_ptr<Stage> stage;
  std::vector<HostTensor> in, out;
  std::vector<const HostTensor*> ptrs;
  explicit TimedStage(const fs::path& path) {
    StageOptions so;
    so.graph_optimization = 99;
    so.stop_spinning_after_run = true;  // as bench's sequential split (media/bench.cpp)
    so.fuse_host_ops = true;            // bench's stage2 default (no --no-fused-host)
    stage = make_ort_stage(path, so);
    in = stage->allocate_inputs();
    for (auto& t : in) fill(t);
    out = stage->allocate_outputs();
    for (const auto& t : in) ptrs.push_back(&t);
  }
  double run_ms() {
    const auto t0 = std::chrono::steady_clock::now();
    stage->run(ptrs, out);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
};
}  // namespace

double measure_stage_ms(const fs::path& path, int runs, int warmup) {
  TimedStage s(path);
  for (int i = 0; i < warmup; ++i) s.run_ms();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, runs); ++i) t.push_back(s.run_ms());
  return median(t);
}

double measure_stage_ms(const onnx::ModelProto& model, int runs, int warmup) {
  TempDir dir;
  const fs::path p = dir.path / "stage.onnx";
  write_model(model, p);
  return measure_stage_ms(p, runs, warmup);
}

std::vector<StageTime> measure_stages_ms(const std::vector<const onnx::ModelProto*>& models, int min_runs, double budget_ms,
                                         int warmup) {
  TempDir dir;
  std::vector<std::unique_ptr<TimedStage>> stages;
  for (size_t k = 0; k < models.size(); ++k) {
    const fs::path p = dir.path / ("stage" + std::to_string(k) + ".onnx");
    write_model(*models[k], p);
    stages.push_back(std::make_unique<TimedStage>(p));
  }
  for (int i = 0; i < warmup; ++i)
    for (auto& s : stages) s->run_ms();
  // In blocks, round-robin: each model runs a few times in a row and the first run of a block
  // (caches cold after another model) is not counted, so each is timed as if alone (as the
  // written stage2 is, later) while a drift of the machine still spreads over all of them.
  constexpr int kBlock = 4;
  std::vector<std::vector<double>> t(stages.size());
  std::vector<double> total(stages.size(), 0.0);
  for (int round = 0; round < 200 / kBlock; ++round) {
    bool enough = round * kBlock >= std::max(1, min_runs);
    for (double v : total) enough &= v >= budget_ms;
    if (enough) break;
    for (size_t k = 0; k < stages.size(); ++k) {
      stages[k]->run_ms();
      for (int b = 0; b < kBlock; ++b) {
        t[k].push_back(stages[k]->run_ms());
        total[k] += t[k].back();
      }
    }
  }
  std::vector<StageTime> out;
  for (auto& v : t) {
    StageTime st;
    st.runs = int(v.size());
    std::sort(v.begin(), v.end());
    st.ms = median(v);
    const double q1 = v[v.size() / 4], q3 = v[(3 * v.size()) / 4];
    st.spread = st.ms > 0 ? (q3 - q1) / st.ms : 0.0;
    out.push_back(st);
  }
  return out;
}

NodeTimes measure_node_times(const onnx::ModelProto& model, const Graph& g, int runs) {
  NodeTimes nt;
  nt.runs = std::max(1, runs);
  TempDir dir;
  std::string bytes;
  if (!model.SerializeToString(&bytes)) fail("cannot serialise the model for ONNX Runtime profiling");
  std::map<std::string, std::vector<double>> per_node;  // node name -> kernel ms per run
  {
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);  // node names stay the model's
    so.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
    so.EnableProfiling((dir.path / "profile").c_str());
    Ort::Session s(nullptr);
    try {
      s = Ort::Session(ort_env(), bytes.data(), bytes.size(), so);
    } catch (const Ort::Exception& e) {
      fail("ONNX Runtime cannot load the model for profiling: {}", ort_message(e));
    }
    bytes.clear();
    std::vector<HostTensor> in;
    for (auto spec : session_inputs(s)) {
      for (auto& d : spec.dims)
        if (d < 0) d = 1;
      in.emplace_back(spec);
      fill(in.back());
    }
    for (int r = 0; r < nt.runs + 1; ++r) (void)run_session(s, in);  // the first run warms up
    Ort::AllocatorWithDefaultOptions alloc;
    const std::string file = s.EndProfilingAllocated(alloc).get();
    std::ifstream f(file);
    nlohmann::json events;
    try {
      f >> events;
    } catch (const std::exception& e) {
      fail("cannot read ONNX Runtime's profile {}: {}", file, e.what());
    }
    std::map<std::string, int> seen;  // kernel events per node: the first (warm-up) is dropped
    for (const auto& ev : events) {
      if (!ev.is_object() || ev.value("cat", "") != "Node") continue;
      std::string name = ev.value("name", "");
      const std::string suffix = "_kernel_time";
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      name.resize(name.size() - suffix.size());
      if (seen[name]++ == 0) continue;
      per_node[name].push_back(ev.value("dur", 0.0) / 1000.0);
    }
  }
  nt.raw_ms.assign(g.node_count(), 0.0);
  for (int i = 0; i < g.node_count(); ++i) {
    const auto it = per_node.find(g.node(i).name());
    if (it != per_node.end()) nt.raw_ms[i] = median(it->second);
    nt.profile_sum_ms += nt.raw_ms[i];
  }
  const fs::path p = dir.path / "model.onnx";
  write_model(model, p);
  nt.model_ms = measure_stage_ms(p, nt.runs, 1);
  nt.stage1_scale = nt.stage2_scale = nt.profile_sum_ms > 0 ? nt.model_ms / nt.profile_sum_ms : 0.0;
  nt.ms = nt.raw_ms;
  for (auto& v : nt.ms) v *= nt.stage1_scale;
  return nt;
}

void scale_node_times(NodeTimes& t, const std::vector<char>& base_stage1, double stage2_ms) {
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < t.raw_ms.size(); ++i) (base_stage1[i] ? s1 : s2) += t.raw_ms[i];
  t.stage2_scale = s2 > 0 ? stage2_ms / s2 : 0.0;
  // The rest of the whole model's time is stage1's side; never below what stage2's scale gives.
  const double rest = t.model_ms - stage2_ms;
  t.stage1_scale = s1 > 0 && rest > 0 ? std::max(rest / s1, 0.0) : t.stage2_scale;
  for (size_t i = 0; i < t.raw_ms.size(); ++i) t.ms[i] = t.raw_ms[i] * (base_stage1[i] ? t.stage1_scale : t.stage2_scale);
}

}  // namespace npusplit
