#pragma once
// Uniform quantization as the NPU's simplest model of it (and ONNX's QuantizeLinear /
// DequantizeLinear): q = saturate(round_half_even(x / scale) + zero_point), x' = (q - zp) * scale.
// Activations: per tensor, asymmetric unsigned (uint8 or uint16), the range widened to hold 0 so
// that zero stays exact. Weights: symmetric signed, per output channel or per tensor.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "npusplit/analysis/ranges.h"

namespace npusplit {

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t qmin = 0, qmax = 255;
};

// Asymmetric unsigned BITS-bit parameters for values in [LO, HI] (min/max calibration).
QuantParams activation_params(float lo, float hi, int bits);
// Symmetric signed BITS-bit parameters for weights whose largest magnitude is ABS_MAX.
QuantParams weight_params(float abs_max, int bits);

// One value through QuantizeLinear + DequantizeLinear, in float as ONNX Runtime computes it.
float fake_quant(float x, const QuantParams& p);
void fake_quant_inplace(float* v, size_t n, const QuantParams& p);
// Distinct quantization levels N values land on (the "23 levels" figure).
int64_t distinct_levels(const float* v, size_t n, const QuantParams& p);

// Signal-to-quantization-noise ratio over everything added: 10 log10(sum ref^2 / sum (ref - q)^2).
// Non-finite reference values are left out. +inf when the quantized values equal the reference.
class SqnrAccumulator {
 public:
  void add(const float* ref, const float* test, size_t n);
  double db() const;
  double signal() const { return signal_; }
  double noise() const { return noise_; }

 private:
  double signal_ = 0, noise_ = 0;
};

// RunningRange (min/max over frames): analysis/ranges.h.

}  // namespace npusplit
