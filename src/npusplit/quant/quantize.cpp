#include "npusplit/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "npusplit/error.h"

namespace npusplit {

QuantParams activation_params(float lo, float hi, int bits) {
  if (bits != 8 && bits != 16) fail("activation bits must be 8 or 16, got {}", bits);
  QuantParams p;
  p.qmin = 0;
  p.qmax = bits == 8 ? 255 : 65535;
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  const float width = hi - lo;
  // A constant-zero tensor: any scale represents it exactly.
  p.scale = width > 0 && std::isfinite(width) ? width / float(p.qmax) : 1.0f;
  const float zp = std::nearbyint(-lo / p.scale);
  p.zero_point = int32_t(std::clamp(zp, float(p.qmin), float(p.qmax)));
  return p;
}

QuantParams weight_params(float abs_max, int bits) {
  if (bits != 8 && bits != 16) fail("weight bits must be 8 or 16, got {}", bits);
  QuantParams p;
  p.qmax = bits == 8 ? 127 : 32767;
  p.qmin = -p.qmax - 1;
  p.zero_point = 0;
  p.scale = abs_max > 0 && std::isfinite(abs_max) ? abs_max / float(p.qmax) : 1.0f;
  return p;
}

float fake_quant(float x, const QuantParams& p) {
  // ONNX QuantizeLinear: saturate(round(x / y_scale) + y_zero_point), rounding half to even
  // (nearbyint in the default rounding mode); NaN has no integer: it stays NaN here.
  if (std::isnan(x)) return x;
  const float r = std::nearbyint(x / p.scale);
  const float q = std::clamp(r + float(p.zero_point), float(p.qmin), float(p.qmax));
  return (q - float(p.zero_point)) * p.scale;
}

void fake_quant_inplace(float* v, size_t n, const QuantParams& p) {
  for (size_t i = 0; i < n; ++i) v[i] = fake_quant(v[i], p);
}

int64_t distinct_levels(const float* v, size_t n, const QuantParams& p) {
  std::unordered_set<int32_t> seen;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(v[i])) continue;
    const float r = std::nearbyint(v[i] / p.scale);
    seen.insert(int32_t(std::clamp(r + float(p.zero_point), float(p.qmin), float(p.qmax))));
  }
  return int64_t(seen.size());
}

void SqnrAccumulator::add(const float* ref, const float* test, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(ref[i])) continue;
    const double r = ref[i], d = double(ref[i]) - double(test[i]);
    signal_ += r * r;
    noise_ += std::isfinite(d) ? d * d : r * r;
  }
}

double SqnrAccumulator::db() const {
  if (noise_ == 0) return std::numeric_limits<double>::infinity();
  if (signal_ == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal_ / noise_);
}


}  // namespace npusplit
