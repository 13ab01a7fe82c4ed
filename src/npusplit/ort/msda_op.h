#pragma once
// npusplit's ONNX Runtime custom operators (domain "npusplit", version 1), registered on every
// session npusplit's runtime makes. Today one operator:
//
// MultiScaleDeformableAttention (docs/fused-host.md has the full contract)
//   inputs   0 locations [B, Q, H, P, 2]   sampling points (x, y); in [0, 1] when unit_locations=1
//                                           (the exporter's 2*v - 1 is applied inside), else GridSample's [-1, 1]
//            1 weights   [B, Q, H, P]      attention weights (logits when softmax=1)
//            (2 reference [B, Q, 4]          location_mode "boxes": input 0 holds offsets and the points are
//                                           ref_xy + ((offset * point_scale[h,p]) * ref_wh) * offset_scale)
//            2.. value                      value_layout "bhwc": one [B*H, h_l, w_l, C] per level;
//                                           "bshc": one [B, S, H, C] holding every level (level l from
//                                           level_starts[l], h_l*w_l pixels)
//   output   0 [B, Q, H*C]
//   attributes  points_per_level (ints, sums to P), spatial_shapes (ints h0,w0,h1,w1,...),
//               level_starts (ints, bshc only; default: cumulative h*w), value_layout (string),
//               unit_locations, softmax, align_corners (ints, default 1, 0, 0), padding_mode
//               ("zeros" | "border", default "zeros"), location_mode ("points" | "boxes"),
//               point_scale (floats [H*P*2], boxes), offset_scale (float, boxes, default 0.5).
#include <onnxruntime_cxx_api.h>

namespace npusplit {

inline constexpr const char* kHostOpDomain = "npusplit";
inline constexpr const char* kMsdaOpType = "MultiScaleDeformableAttention";

// Adds npusplit's custom-op domain to SO (the domain lives for the whole process).
void add_host_ops(Ort::SessionOptions& so);

}  // namespace npusplit
