#pragma once
// Multi-scale deformable attention (Deformable DETR / RT-DETR / D-FINE / DEIMv2 cross-attention)
// on the CPU, as one pass over the sampling points:
//
//   out[b, q, h*C + c] = sum over levels l, points p of
//       weight[b, q, h, p] * bilinear(value_l[b, h, :, :, c], location[b, q, h, p])
//
// with GridSample's semantics (bilinear; align_corners 0/1; zeros or border padding), so the
// result matches the exporter's GridSample subgraph. The value maps are read channels-last
// (the C channels of one pixel of one head are contiguous): one sampling point reads four
// contiguous runs of C floats, which the compiler vectorises; GridSample instead reads one float
// per channel plane.
#include <cstdint>
#include <string>
#include <vector>

namespace npusplit {

enum class MsdaPadding { zeros, border };

struct MsdaLevel {
  const float* base = nullptr;  // element [b=0, h=0, pixel 0, c=0] of this level
  int64_t height = 0, width = 0;
  int64_t points = 0;           // sampling points of each head on this level
  // Strides in elements: batch, head, pixel (row-major y*w+x); channels are contiguous.
  // One [B*H, h, w, C] map per level: {H*h*w*C, h*w*C, C}; one [B, S, H, C] tensor: {S*H*C, C, H*C}.
  int64_t batch_stride = 0, head_stride = 0, pixel_stride = 0;
};

struct MsdaProblem {
  int64_t batch = 1, queries = 0, heads = 0, channels = 0;  // channels per head
  std::vector<MsdaLevel> levels;
  const float* locations = nullptr;  // [B, Q, H, P, 2] (x, y); offsets when REFERENCE is set
  // DEIMv2/D-FINE's box-relative points, computed in the exporter's float order:
  //   location = ref_xy + ((offset * point_scale[h, p]) * ref_wh) * offset_scale
  const float* reference = nullptr;    // [B, Q, 4] (cx, cy, w, h) or null
  const float* point_scale = nullptr;  // [H, P, 2]
  float offset_scale = 0.5f;
  const float* weights = nullptr;    // [B, Q, H, P]
  float* out = nullptr;              // [B, Q, H*C]
  // Locations in [0, 1] (turned into GridSample's [-1, 1] as the exporter does: 2*v - 1), else
  // already in [-1, 1].
  bool unit_locations = true;
  bool softmax = false;  // WEIGHTS are logits: softmax over each head's P points first
  bool align_corners = false;
  MsdaPadding padding = MsdaPadding::zeros;

  int64_t total_points() const;
};

// Computes rows [ROW_BEGIN, ROW_END) of the output (a row = one (b, q) pair, all heads).
// Rows are independent: callers split them over threads.
void msda_compute_rows(const MsdaProblem& p, int64_t row_begin, int64_t row_end);

// Checks the problem's sizes (positive dims, at least one level, points >= 1); returns an
// explanation, empty when valid.
std::string msda_check(const MsdaProblem& p);

}  // namespace npusplit
