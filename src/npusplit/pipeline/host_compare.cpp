#include "npusplit/pipeline/host_compare.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/runtime/stage.h"

namespace npusplit {

namespace {

struct Loaded {
  std::unique_ptr<Stage> stage2;
  std::vector<HostTensor> inputs, outputs;
  std::vector<double> ms;
};

void fill_image(HostTensor& t) {
  uint32_t x = 12345;
  float* p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = float(x >> 8) / float(1u << 24);
  }
}

Loaded load(const Stage2Variant& v, int threads) {
  StageOptions so;
  so.intra_threads = threads;
  so.stop_spinning_after_run = true;  // variants take turns: an idle pool must not spin through the next one
  auto s1 = make_ort_stage(v.stage1, so);
  so.fuse_host_ops = v.fused;
  Loaded l;
  l.stage2 = make_ort_stage(v.stage2, so);
  auto in1 = s1->allocate_inputs();
  ImageTransform tr;
  for (auto& t : in1) {
    if (is_orig_sizes_input(t.spec)) continue;
    fill_image(t);
    if (t.spec.dims.size() == 4) {
      tr.src_h = tr.dst_h = int(t.spec.dims[2]);
      tr.src_w = tr.dst_w = int(t.spec.dims[3]);
    }
  }
  for (auto& t : in1)
    if (is_orig_sizes_input(t.spec)) fill_orig_sizes(t, tr);
  const auto out1 = s1->run_copy(in1);
  for (const auto& spec : l.stage2->inputs()) {
    const HostTensor* src = nullptr;
    for (const auto& t : out1)
      if (t.name() == spec.name) src = &t;
    for (const auto& t : in1)
      if (!src && t.name() == spec.name) src = &t;
    if (!src && is_orig_sizes_input(spec)) {  // official layout: stage2 alone reads orig_target_sizes
      l.inputs.emplace_back(spec);
      fill_orig_sizes(l.inputs.back(), tr);
      continue;
    }
    if (!src) fail("{}: stage2 input '{}' is neither an output nor an input of {}", v.label, spec.name, v.stage1.string());
    l.inputs.push_back(*src);
  }
  l.outputs = l.stage2->allocate_outputs();
  return l;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5))];
}

}  // namespace

std::vector<Stage2Timing> compare_stage2(const std::vector<Stage2Variant>& variants, int threads, int frames,
                                         int warmup) {
  std::vector<Loaded> loaded;
  for (const auto& v : variants) loaded.push_back(load(v, threads));
  for (int i = 0; i < warmup + frames; ++i) {
    for (auto& l : loaded) {
      std::vector<const HostTensor*> in;
      for (const auto& t : l.inputs) in.push_back(&t);
      const auto t0 = std::chrono::steady_clock::now();
      l.stage2->run(in, l.outputs);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i >= warmup) l.ms.push_back(ms);
    }
  }
  std::vector<Stage2Timing> out;
  for (size_t i = 0; i < variants.size(); ++i) {
    Stage2Timing t;
    t.label = variants[i].label;
    t.fused_ops = loaded[i].stage2->fused_host_ops();
    t.p50_ms = percentile(loaded[i].ms, 0.5);
    t.p90_ms = percentile(loaded[i].ms, 0.9);
    double sum = 0;
    for (double x : loaded[i].ms) sum += x;
    t.mean_ms = loaded[i].ms.empty() ? 0 : sum / double(loaded[i].ms.size());
    out.push_back(t);
  }
  return out;
}

}  // namespace npusplit
