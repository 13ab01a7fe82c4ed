#include "npusplit/verify/verify.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "npusplit/detect/preprocess.h"
#include "npusplit/error.h"
#include "npusplit/ir/graph.h"
#include "npusplit/base/progress.h"
#include "npusplit/ort/ort_util.h"

namespace npusplit {

OutputComparison compare_tensors(const HostTensor& a, const HostTensor& b, double tol) {
  OutputComparison c;
  c.name = a.name();
  if (a.spec.dims != b.spec.dims || a.spec.dtype != b.spec.dtype) {
    c.shape_mismatch = true;
    c.ok = false;
    return c;
  }
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double x = element_as_double(a, i), y = element_as_double(b, i);
    if (std::isfinite(x) && std::isfinite(y)) {
      c.max_abs_diff = std::max(c.max_abs_diff, std::abs(x - y));
    } else if ((std::isnan(x) && std::isnan(y)) || x == y) {
      ++c.nonfinite_equal;
    } else {
      ++c.nonfinite_mismatch;
    }
  }
  c.ok = c.nonfinite_mismatch == 0 && c.max_abs_diff <= tol;
  return c;
}

namespace {

std::vector<TensorSpec> fixed_input_specs(const onnx::ModelProto& original, const InputShapes& shapes) {
  onnx::ModelProto m;
  *m.mutable_graph()->mutable_input() = original.graph().input();
  for (const auto& t : original.graph().initializer()) m.mutable_graph()->add_initializer()->set_name(t.name());
  fix_input_shapes(m, shapes);
  Graph g(m.graph());
  std::vector<TensorSpec> specs;
  for (const auto& vi : m.graph().input()) {
    if (g.is_constant(vi.name())) continue;
    auto info = tensor_info_of(vi.type());
    specs.push_back({vi.name(), info.dtype, info.dims});
  }
  return specs;
}

// Integer inputs of detectors are image sizes (orig_target_sizes = [w, h]).
void fill_int_input(HostTensor& t, int64_t w, int64_t h) {
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = (t.spec.dims.size() >= 1 && t.spec.dims.back() == 2) ? (i % 2 == 0 ? w : h) : 1;
    if (t.spec.dtype == onnx::TensorProto::INT64) t.as<int64_t>()[i] = v;
    else if (t.spec.dtype == onnx::TensorProto::INT32) t.as<int32_t>()[i] = static_cast<int32_t>(v);
  }
}

std::pair<int64_t, int64_t> image_size_of(const std::vector<TensorSpec>& specs) {
  for (const auto& s : specs)
    if (s.dims.size() == 4 && s.dtype == onnx::TensorProto::FLOAT) return {s.dims[3], s.dims[2]};
  return {640, 640};
}

}  // namespace

std::vector<VerifyCase> make_verify_cases(const onnx::ModelProto& original, const InputShapes& shapes,
                                          int random_count, const std::vector<std::string>& images, uint32_t seed) {
  return make_verify_cases(fixed_input_specs(original, shapes), random_count, images, seed);
}

std::vector<VerifyCase> make_verify_cases(const std::vector<TensorSpec>& specs, int random_count,
                                          const std::vector<std::string>& images, uint32_t seed) {
  const auto [W, H] = image_size_of(specs);
  std::vector<VerifyCase> cases;
  std::mt19937 rng(seed);
  for (int r = 0; r < random_count; ++r) {
    VerifyCase c;
    c.label = "random #" + std::to_string(r);
    for (const auto& s : specs) {
      HostTensor t(s);
      if (s.dtype == onnx::TensorProto::FLOAT) {
        std::uniform_real_distribution<float> u(0.f, 1.f);
        for (int64_t i = 0; i < t.numel(); ++i) t.as<float>()[i] = u(rng);
      } else {
        fill_int_input(t, W, H);
      }
      c.inputs.push_back(std::move(t));
    }
    cases.push_back(std::move(c));
  }
  for (const auto& path : images) {
    const cv::Mat img = read_image(path);
    VerifyCase c;
    c.label = std::filesystem::path(path).filename().string();
    bool used = false;
    for (const auto& s : specs) {
      HostTensor t(s);
      if (s.dtype == onnx::TensorProto::FLOAT && s.dims.size() == 4 && !used) {
        image_to_tensor(img, t);
        used = true;
      } else if (s.dtype == onnx::TensorProto::FLOAT) {
        std::fill(t.as<float>(), t.as<float>() + t.numel(), 0.f);
      } else {
        fill_int_input(t, img.cols, img.rows);
      }
      c.inputs.push_back(std::move(t));
    }
    if (!used) fail("{}: the model has no [1,3,H,W] float input to take an image", path);
    cases.push_back(std::move(c));
  }
  return cases;
}

namespace {

std::string bytes_of(const onnx::ModelProto& m) {
  std::string b;
  if (!m.SerializeToString(&b)) fail("model too large to serialize");
  return b;
}

const HostTensor* find(const std::vector<HostTensor>& v, const std::string& name) {
  for (const auto& t : v)
    if (t.name() == name) return &t;
  return nullptr;
}

void accumulate(VerifyReport& r, const VerifyCaseResult& cr) {
  for (const auto& o : cr.outputs) {
    auto it = std::find_if(r.worst.begin(), r.worst.end(), [&](const auto& w) { return w.name == o.name; });
    if (it == r.worst.end()) {
      r.worst.push_back(o);
      continue;
    }
    it->max_abs_diff = std::max(it->max_abs_diff, o.max_abs_diff);
    it->nonfinite_equal += o.nonfinite_equal;
    it->nonfinite_mismatch += o.nonfinite_mismatch;
    it->shape_mismatch |= o.shape_mismatch;
    it->ok &= o.ok;
  }
  for (const auto& o : cr.outputs) r.ok &= o.ok;
}

}  // namespace

VerifyReport verify_split(const onnx::ModelProto& original, const onnx::ModelProto& stage1,
                          const onnx::ModelProto& stage2, const std::vector<VerifyCase>& cases, double tol,
                          const std::vector<std::pair<int64_t, int64_t>>& pack_parts) {
  OrtOptions oo;  // optimizations off: see OrtOptions
  Progress progress("verify", int64_t(cases.size()));
  progress.step(0, "loading the models into ONNX Runtime");
  auto s0 = make_session(bytes_of(original), oo, "original model");
  auto s1 = make_session(bytes_of(stage1), oo, "stage1");
  auto s2 = make_session(bytes_of(stage2), oo, "stage2");
  const auto in1 = session_inputs(s1), in2 = session_inputs(s2), out1 = session_outputs(s1);
  const auto out0 = session_outputs(s0);
  VerifyReport r;
  r.tolerance = tol;
  std::map<std::string, std::pair<double, double>> ranges;
  r.stage1_part_ranges.assign(pack_parts.size(), {INFINITY, -INFINITY});
  int64_t k = 0;
  for (const auto& c : cases) {
    progress.step(k, c.label + ": original model");
    auto ref = run_session(s0, c.inputs);
    progress.step(k, c.label + ": stage1");
    std::vector<HostTensor> a1;
    for (const auto& s : in1) {
      const auto* t = find(c.inputs, s.name);
      if (!t) fail("stage1 input '{}' is not an input of the original model", s.name);
      a1.push_back(*t);
    }
    auto f = run_session(s1, a1);
    if (!pack_parts.empty() && !f.empty() && f[0].spec.dtype == onnx::TensorProto::FLOAT) {
      const float* v = f[0].as<float>();
      for (size_t p = 0; p < pack_parts.size(); ++p) {
        const auto [off, n] = pack_parts[p];
        auto& [lo, hi] = r.stage1_part_ranges[p];
        for (int64_t i = off; i < off + n && i < f[0].numel(); ++i)
          if (std::isfinite(v[i])) lo = std::min<double>(lo, v[i]), hi = std::max<double>(hi, v[i]);
      }
    }
    for (const auto& t : f) {
      if (t.spec.dtype != onnx::TensorProto::FLOAT) continue;
      auto& [lo, hi] = ranges.try_emplace(t.name(), INFINITY, -INFINITY).first->second;
      for (int64_t i = 0; i < t.numel(); ++i) {
        const float v = t.as<float>()[i];
        if (std::isfinite(v)) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
      }
    }
    std::vector<HostTensor> a2;
    for (const auto& s : in2) {
      const HostTensor* t = find(f, s.name);
      if (!t) t = find(c.inputs, s.name);
      if (!t) fail("stage2 input '{}' is neither a stage1 output nor an original input", s.name);
      a2.push_back(*t);
    }
    progress.step(k, c.label + ": stage2");
    auto got = run_session(s2, a2);
    progress.step(k++, c.label + ": comparing");
    VerifyCaseResult cr;
    cr.label = c.label;
    for (const auto& o : out0) {
      const auto* x = find(ref, o.name);
      const auto* y = find(got, o.name);
      if (!y) fail("stage2 has no output named '{}' (the original's output)", o.name);
      cr.outputs.push_back(compare_tensors(*x, *y, tol));
    }
    accumulate(r, cr);
    r.cases.push_back(std::move(cr));
  }
  for (const auto& [name, lh] : ranges) r.stage1_ranges.emplace_back(name, lh.first, lh.second);
  return r;
}

VerifyReport verify_equivalent(const onnx::ModelProto& a, const onnx::ModelProto& b,
                               const std::vector<VerifyCase>& cases, double tol) {
  OrtOptions oo;
  Progress progress("verify", int64_t(cases.size()));
  progress.step(0, "loading the models into ONNX Runtime");
  auto sa = make_session(bytes_of(a), oo, "original model");
  auto sb = make_session(bytes_of(b), oo, "rewritten model");
  const auto outs = session_outputs(sa);
  VerifyReport r;
  r.tolerance = tol;
  int64_t k = 0;
  for (const auto& c : cases) {
    progress.step(k, c.label + ": original model");
    auto x = run_session(sa, c.inputs);
    progress.step(k++, c.label + ": rewritten model");
    auto y = run_session(sb, c.inputs);
    VerifyCaseResult cr;
    cr.label = c.label;
    for (const auto& o : outs) {
      const auto* p = find(x, o.name);
      const auto* q = find(y, o.name);
      if (!q) fail("the rewritten model has no output named '{}'", o.name);
      cr.outputs.push_back(compare_tensors(*p, *q, tol));
    }
    accumulate(r, cr);
    r.cases.push_back(std::move(cr));
  }
  return r;
}

}  // namespace npusplit
