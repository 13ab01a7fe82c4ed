#include "npusplit/verify/fused_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "npusplit/error.h"
#include "npusplit/ort/ort_util.h"

namespace npusplit {

namespace {

const HostTensor* by_name(const std::vector<HostTensor>& v, const std::string& n) {
  for (const auto& t : v)
    if (t.name() == n) return &t;
  return nullptr;
}

double value_at(const HostTensor& t, int64_t i) {
  if (t.spec.dtype == onnx::TensorProto::FLOAT) return t.as<float>()[i];
  if (t.spec.dtype == onnx::TensorProto::INT64) return double(t.as<int64_t>()[i]);
  fail("output '{}': unsupported dtype {}", t.name(), dtype_name(t.spec.dtype));
}

// Rows of a detector output: each row = label, box (4), score; score last.
std::vector<std::vector<double>> detection_rows(const std::vector<HostTensor>& outs) {
  std::vector<std::vector<double>> rows;
  if (const auto* t = by_name(outs, "label_xyxy_score")) {
    const int64_t w = t->spec.dims.back();
    for (int64_t r = 0; r < t->numel() / w; ++r) {
      std::vector<double> row;
      for (int64_t k = 0; k < w; ++k) row.push_back(value_at(*t, r * w + k));
      rows.push_back(std::move(row));
    }
    return rows;
  }
  const auto *labels = by_name(outs, "labels"), *boxes = by_name(outs, "boxes"), *scores = by_name(outs, "scores");
  if (labels && boxes && scores && boxes->numel() == 4 * scores->numel() && labels->numel() == scores->numel()) {
    for (int64_t r = 0; r < scores->numel(); ++r) {
      std::vector<double> row = {value_at(*labels, r)};
      for (int k = 0; k < 4; ++k) row.push_back(value_at(*boxes, 4 * r + k));
      row.push_back(value_at(*scores, r));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

// |a - b|, with the same non-finite value on both sides counting as 0 and a non-finite on one
// side only as infinite.
double diff(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INFINITY;
  if (std::isinf(a) || std::isinf(b)) return a == b ? 0 : INFINITY;
  return std::fabs(a - b);
}

double row_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t k = 0; k < a.size(); ++k) d = std::max(d, diff(a[k], b[k]));
  return d;
}

}  // namespace

DetectionDiff compare_detections(const std::vector<HostTensor>& a, const std::vector<HostTensor>& b, double tol) {
  DetectionDiff r;
  if (a.size() != b.size()) fail("the outputs differ in number ({} vs {})", a.size(), b.size());
  const auto ra = detection_rows(a), rb = detection_rows(b);
  if (ra.size() != rb.size()) fail("the detections differ in number ({} vs {})", ra.size(), rb.size());
  if (ra.empty()) {  // not a detector: position by position
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].spec.dims != b[i].spec.dims) fail("output '{}' differs in shape", a[i].name());
      for (int64_t k = 0; k < a[i].numel(); ++k) r.raw_max_abs_diff = std::max(r.raw_max_abs_diff, diff(value_at(a[i], k), value_at(b[i], k)));
    }
    r.max_abs_diff = r.raw_max_abs_diff;
    r.ok = r.max_abs_diff <= tol;
    return r;
  }
  const int64_t n = int64_t(ra.size());
  r.rows = n;
  std::vector<int64_t> match(size_t(n), -1);
  std::vector<char> used(size_t(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    r.raw_max_abs_diff = std::max(r.raw_max_abs_diff, row_diff(ra[size_t(i)], rb[size_t(i)]));
    // The nearest unused equal row (the same position first).
    int64_t best = -1;
    for (int64_t off = 0; off < n && best < 0; ++off)
      for (int64_t j : {i - off, i + off})
        if (best < 0 && j >= 0 && j < n && !used[size_t(j)] && row_diff(ra[size_t(i)], rb[size_t(j)]) <= tol) best = j;
    if (best < 0) {
      ++r.unmatched_rows;
      continue;
    }
    used[size_t(best)] = 1;
    match[size_t(i)] = best;
    r.reordered_rows += best != i;
    r.max_abs_diff = std::max(r.max_abs_diff, row_diff(ra[size_t(i)], rb[size_t(best)]));
  }
  // Same order wherever the scores are more than TOL apart.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = i + 1; k < n; ++k) {
      if (match[size_t(i)] < 0 || match[size_t(k)] < 0) continue;
      const bool swapped = match[size_t(i)] > match[size_t(k)];
      if (swapped && diff(ra[size_t(i)].back(), ra[size_t(k)].back()) > tol) ++r.order_violations;
    }
  r.ok = r.unmatched_rows == 0 && r.order_violations == 0 && r.max_abs_diff <= tol;
  return r;
}

FusedCheck check_fused_stage2(const onnx::ModelProto& stage1, const onnx::ModelProto& stage2,
                              const onnx::ModelProto& fused, const std::vector<VerifyCase>& cases, double tol) {
  auto bytes = [](const onnx::ModelProto& m) {
    std::string s;
    if (!m.SerializeToString(&s)) fail("cannot serialise a model for ONNX Runtime");
    return s;
  };
  OrtOptions oo;  // optimizations off, as verify
  auto s1 = make_session(bytes(stage1), oo, "stage1");
  auto s2 = make_session(bytes(stage2), oo, "stage2");
  auto sf = make_session(bytes(fused), oo, "fused stage2");
  const auto in1 = session_inputs(s1), in2 = session_inputs(s2);
  FusedCheck c;
  c.tolerance = tol;
  c.ok = true;
  for (const auto& vc : cases) {
    std::vector<HostTensor> a1;
    for (const auto& s : in1) {
      const auto* t = by_name(vc.inputs, s.name);
      if (!t) fail("stage1 input '{}' is not an input of the original model", s.name);
      a1.push_back(*t);
    }
    const auto f = run_session(s1, a1);
    std::vector<HostTensor> a2;
    for (const auto& s : in2) {
      const auto* t = by_name(f, s.name);
      if (!t) t = by_name(vc.inputs, s.name);
      if (!t) fail("stage2 input '{}' is neither a stage1 output nor a model input", s.name);
      a2.push_back(*t);
    }
    const auto d = compare_detections(run_session(s2, a2), run_session(sf, a2), tol);
    c.ok &= d.ok;
    c.worst.max_abs_diff = std::max(c.worst.max_abs_diff, d.max_abs_diff);
    c.worst.raw_max_abs_diff = std::max(c.worst.raw_max_abs_diff, d.raw_max_abs_diff);
    c.worst.rows = std::max(c.worst.rows, d.rows);
    c.worst.reordered_rows = std::max(c.worst.reordered_rows, d.reordered_rows);
    c.worst.unmatched_rows = std::max(c.worst.unmatched_rows, d.unmatched_rows);
    c.worst.order_violations = std::max(c.worst.order_violations, d.order_violations);
    c.cases.emplace_back(vc.label, d);
  }
  c.worst.ok = c.ok;
  return c;
}

}  // namespace npusplit
