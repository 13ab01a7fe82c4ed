#include "npusplit/ort/msda_kernel.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include <limits>

namespace npusplit {

namespace {

// GridSample's unnormalisation of a [-1, 1] coordinate onto LENGTH pixels, in the same float
// operations as ONNX Runtime's kernel (so both round alike).
inline float denormalize(float n, float length, bool align_corners) {
  return align_corners ? (n + 1) / 2 * (length - 1) : ((n + 1) * length - 1) / 2;
}

// One bilinear sample of C contiguous channels, weighted by W, added to ACC. The four corners
// are given as pointers (a corner outside the map points at a row of zeros), so the loop has no
// branch and the same arithmetic order as GridSample: dy2*(dx2*p11 + dx1*p12) + dy1*(dx2*p21 + dx1*p22).
template <int64_t kC>
__attribute__((always_inline)) inline void accumulate(float* __restrict acc, const float* __restrict p11, const float* __restrict p12,
                       const float* __restrict p21, const float* __restrict p22, float dx1, float dx2, float dy1,
                       float dy2, float w, int64_t channels) {
  const int64_t n = kC > 0 ? kC : channels;
  for (int64_t c = 0; c < n; ++c) {
    const float v = dy2 * (dx2 * p11[c] + dx1 * p12[c]) + dy1 * (dx2 * p21[c] + dx1 * p22[c]);
    acc[c] += w * v;
  }
}

template <int64_t kC>
inline void accumulate_nan(float* __restrict acc, int64_t channels) {
  const int64_t n = kC > 0 ? kC : channels;
  for (int64_t c = 0; c < n; ++c) acc[c] += std::numeric_limits<float>::quiet_NaN();
}

// KC > 0: the channel count known at compile time (the common head sizes), so the inner loop is
// fully unrolled and vectorised; 0: any channel count.
// Always inlined into dispatch_rows, so each of its target clones compiles the whole loop nest
// for its own instruction set (floor becomes one instruction with SSE4.1/AVX).
template <int64_t kC>
__attribute__((always_inline)) inline void compute_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end, const float* zeros, float* weights) {
  const int64_t H = p.heads, C = p.channels, P = p.total_points();
  const bool border = p.padding == MsdaPadding::border;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t b = row / p.queries;
    const float* ref = p.reference ? p.reference + row * 4 : nullptr;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t head_row = row * H + h;  // index of (b, q, h)
      const float* w_in = p.weights + head_row * P;
      if (p.softmax) {
        float mx = w_in[0];
        for (int64_t i = 1; i < P; ++i) mx = std::max(mx, w_in[i]);
        float sum = 0;
        for (int64_t i = 0; i < P; ++i) {
          weights[i] = std::exp(w_in[i] - mx);
          sum += weights[i];
        }
        const float scale = 1.0f / sum;
        for (int64_t i = 0; i < P; ++i) weights[i] *= scale;
      } else {
        std::copy(w_in, w_in + P, weights);
      }
      const float* loc = p.locations + head_row * P * 2;
      float* out = p.out + head_row * C;
      // With the channel count known, the sum lives in registers; else in the output row.
      float local[kC > 0 ? kC : 1];
      float* acc = kC > 0 ? local : out;
      std::fill(acc, acc + C, 0.0f);
      int64_t pt = 0;
      for (const MsdaLevel& lv : p.levels) {
        const float* map = lv.base + b * lv.batch_stride + h * lv.head_stride;
        const int64_t Hl = lv.height, Wl = lv.width;
        const float fw = float(Wl), fh = float(Hl);
        for (int64_t k = 0; k < lv.points; ++k, ++pt) {
          float gx = loc[2 * pt], gy = loc[2 * pt + 1];
          if (ref) {
            const float* s = p.point_scale + (h * P + pt) * 2;
            gx = ref[0] + ((gx * s[0]) * ref[2]) * p.offset_scale;
            gy = ref[1] + ((gy * s[1]) * ref[3]) * p.offset_scale;
          }
          if (p.unit_locations) {
            gx = gx * 2.0f - 1.0f;
            gy = gy * 2.0f - 1.0f;
          }
          float x = denormalize(gx, fw, p.align_corners);
          float y = denormalize(gy, fh, p.align_corners);
          if (!std::isfinite(x) || !std::isfinite(y)) {
            // GridSample's corner weights become NaN (inf - inf, NaN * 0): so does the sample.
            accumulate_nan<kC>(acc, C);
            continue;
          }
          if (border) {
            x = std::clamp(x, 0.0f, fw - 1);
            y = std::clamp(y, 0.0f, fh - 1);
          } else {
            // Far outside, every corner reads zero whatever the fraction: clamping keeps the
            // integer conversion defined and changes nothing.
            x = std::clamp(x, -2.0f, fw + 1);
            y = std::clamp(y, -2.0f, fh + 1);
          }
          const int64_t x1 = int64_t(std::floor(x)), y1 = int64_t(std::floor(y));
          const int64_t x2 = x1 + 1, y2 = y1 + 1;
          const float dx2 = float(x2) - x, dx1 = x - float(x1);
          const float dy2 = float(y2) - y, dy1 = y - float(y1);
          // Corner validity once per axis (not per corner); border mode clamps instead.
          int64_t cx1 = x1, cx2 = x2, cy1 = y1, cy2 = y2;
          bool ox1 = false, ox2 = false, oy1 = false, oy2 = false;  // outside the map
          if (border) {
            cx1 = std::clamp<int64_t>(x1, 0, Wl - 1), cx2 = std::clamp<int64_t>(x2, 0, Wl - 1);
            cy1 = std::clamp<int64_t>(y1, 0, Hl - 1), cy2 = std::clamp<int64_t>(y2, 0, Hl - 1);
          } else {
            ox1 = x1 < 0 || x1 >= Wl, ox2 = x2 < 0 || x2 >= Wl;
            oy1 = y1 < 0 || y1 >= Hl, oy2 = y2 < 0 || y2 >= Hl;
          }
          const int64_t ps = lv.pixel_stride;
          const float* r1 = oy1 ? map : map + cy1 * Wl * ps;
          const float* r2 = oy2 ? map : map + cy2 * Wl * ps;
          auto at = [&](const float* row, bool out_y, int64_t xx, bool out_x) -> const float* {
            return out_y || out_x ? zeros : row + xx * ps;
          };
          accumulate<kC>(acc, at(r1, oy1, cx1, ox1), at(r1, oy1, cx2, ox2), at(r2, oy2, cx1, ox1), at(r2, oy2, cx2, ox2), dx1,
                         dx2, dy1, dy2, weights[pt], C);
        }
      }
      if (kC > 0) std::copy(acc, acc + C, out);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
// x86-64's baseline is SSE2; an AVX2 clone doubles the vector width where the CPU has it (no FMA:
// contraction would change the rounding against GridSample). Not under ThreadSanitizer: the
// clones' resolver runs while the dynamic loader relocates, before TSan's runtime exists, and
// its instrumented entry crashes the program at start-up.
#define NPUSPLIT_MSDA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NPUSPLIT_MSDA_CLONES
#endif

NPUSPLIT_MSDA_CLONES
void dispatch_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end, const float* zeros, float* weights) {
  switch (p.channels) {
    case 16: compute_rows<16>(p, row_begin, row_end, zeros, weights); break;
    case 32: compute_rows<32>(p, row_begin, row_end, zeros, weights); break;
    case 64: compute_rows<64>(p, row_begin, row_end, zeros, weights); break;
    default: compute_rows<0>(p, row_begin, row_end, zeros, weights); break;
  }
}

}  // namespace

int64_t MsdaProblem::total_points() const {
  int64_t n = 0;
  for (const auto& l : levels) n += l.points;
  return n;
}

std::string msda_check(const MsdaProblem& p) {
  if (p.batch < 1 || p.queries < 1 || p.heads < 1 || p.channels < 1)
    return fmt::format("batch {}, queries {}, heads {}, channels {}: each must be >= 1", p.batch, p.queries, p.heads,
                       p.channels);
  if (p.levels.empty()) return "no value level";
  for (size_t i = 0; i < p.levels.size(); ++i) {
    const auto& l = p.levels[i];
    if (l.height < 1 || l.width < 1 || l.points < 1 || !l.base)
      return fmt::format("level {}: {}x{} with {} points", i, l.height, l.width, l.points);
  }
  if (!p.locations || !p.weights || !p.out) return "missing tensor";
  return "";
}

void msda_compute_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end) {
  // Per-thread scratch: a zero pixel for corners outside the map, and one head's weights.
  thread_local std::vector<float> zeros, weights;
  if (int64_t(zeros.size()) < p.channels) zeros.assign(size_t(p.channels), 0.0f);
  if (int64_t(weights.size()) < p.total_points()) weights.resize(size_t(p.total_points()));
  dispatch_rows(p, row_begin, row_end, zeros.data(), weights.data());
}

}  // namespace npusplit
