#include "npusplit/app/demo_model.h"

#include <opencv2/imgproc.hpp>

#include "npusplit/ir/builder.h"

namespace npusplit {

std::vector<std::string> demo_class_names() { return {"red blob", "green blob", "blue blob", "white blob"}; }

onnx::ModelProto build_demo_detector(const DemoModelSpec& s) {
  ModelBuilder b(17, "demo_detr");
  const int S = s.size, F = S / 4, HW = F * F, Q = s.queries, C = 4;
  auto img = b.input("images", {1, 3, S, S});
  // Backbone: channel k (k = 0,1,2) carries colour k, channel 3 brightness; the rest is noise
  // of small weight, as a real backbone has many channels the head ignores.
  const int C1 = 8;
  std::vector<float> w1(C1 * 3 * 9, 0.f);
  for (int k = 0; k < 3; ++k)
    for (int t = 0; t < 9; ++t) w1[(k * 3 + k) * 9 + t] = 1.f / 9;
  for (int c = 0; c < 3; ++c)
    for (int t = 0; t < 9; ++t) w1[(3 * 3 + c) * 9 + t] = 1.f / 27;
  for (int o = 4; o < C1; ++o)
    for (int t = 0; t < 27; ++t) w1[o * 27 + t] = 0.01f * float((o * 7 + t * 3) % 11 - 5);
  auto x = b.node("Conv", "/backbone/conv1/Conv", {img, b.weight("backbone.conv1.weight", {C1, 3, 3, 3}, w1)},
                  {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1}), Attr::of("strides", std::vector<int64_t>{2, 2})});
  x = b.node("Relu", "/backbone/conv1/Relu", {x});
  std::vector<float> w2(C1 * C1 * 9, 0.f);
  for (int k = 0; k < C1; ++k)
    for (int t = 0; t < 9; ++t) w2[(k * C1 + k) * 9 + t] = 1.f / 9;
  auto feat = b.node("Conv", "/backbone/conv2/Conv", {x, b.weight("backbone.conv2.weight", {C1, C1, 3, 3}, w2)},
                     {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1}), Attr::of("strides", std::vector<int64_t>{2, 2})});
  feat = b.node("Relu", "/backbone/conv2/Relu", {feat});  // [1,C1,F,F]
  // Class logits: colour c wins when it exceeds the mean of the others; white needs all three.
  std::vector<float> wc(C * C1, 0.f), bc = {-3.f, -3.f, -3.f, -6.f};
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 3; ++k) wc[c * C1 + k] = k == c ? 12.f : -6.f;
  for (int k = 0; k < 3; ++k) wc[3 * C1 + k] = 3.f;
  wc[3 * C1 + 3] = 3.f;
  auto logits = b.node("Conv", "/head/cls/Conv", {feat, b.weight("head.cls.weight", {C, C1, 1, 1}, wc), b.weight("head.cls.bias", {C}, bc)});
  auto logits_t = b.node("Transpose", "/head/cls/Transpose",
                         {b.node("Reshape", "/head/cls/Reshape", {logits, b.ints("cls_shape", {1, C, HW})})},
                         {Attr::of("perm", std::vector<int64_t>{0, 2, 1})});  // [1,HW,C]
  // Query selection: top-Q cells by their best class logit.
  auto best = b.node("ReduceMax", "/decoder/ReduceMax", {logits_t},
                     {Attr::of("axes", std::vector<int64_t>{-1}), Attr::of("keepdims", 0)});  // [1,HW]
  // One query per object, as a trained DETR's one-to-one matching gives: only cells that are
  // the maximum of their 5x5 neighbourhood keep their logits (a disc covers about 3x3 cells),
  // every other cell loses 100. The map is blurred first so a disc's centre cell wins, and a
  // tiny ramp over the cells breaks what ties remain.
  std::vector<float> ramp(HW), blur(9, 1.f / 9);
  for (int i = 0; i < HW; ++i) ramp[i] = 0.01f * float(i) / float(HW);
  auto blurred = b.node("Conv", "/decoder/peaks/Conv",
                        {b.node("Reshape", "/decoder/peaks/Reshape", {best, b.ints("map_shape", {1, 1, F, F})}),
                         b.weight("decoder.peaks.blur", {1, 1, 3, 3}, blur)},
                        {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto best_map = b.node("Add", "/decoder/peaks/Add", {blurred, b.weight("decoder.peaks.ramp", {1, 1, F, F}, ramp)});
  auto pooled = b.node("MaxPool", "/decoder/peaks/MaxPool", {best_map},
                       {Attr::of("kernel_shape", std::vector<int64_t>{5, 5}),
                        Attr::of("pads", std::vector<int64_t>{2, 2, 2, 2}),
                        Attr::of("strides", std::vector<int64_t>{1, 1})});
  auto is_peak = b.node("Equal", "/decoder/peaks/Equal", {best_map, pooled});
  auto penalty = b.node("Where", "/decoder/peaks/Where", {is_peak, b.scalar("keep", 0.f), b.scalar("drop", -100.f)});
  penalty = b.node("Reshape", "/decoder/peaks/Reshape_1", {penalty, b.ints("pen_shape", {1, HW, 1})});
  auto logits_q = b.node("Add", "/decoder/peaks/Add_1", {logits_t, penalty});  // [1,HW,C]
  best = b.node("Add", "/decoder/peaks/Add_2",
                {best, b.node("Reshape", "/decoder/peaks/Reshape_2", {penalty, b.ints("pen_flat", {1, HW})})});
  auto topk = b.node_n("TopK", "/decoder/TopK", {best, b.ints("k", {Q})}, 2, {Attr::of("axis", -1)});
  auto idx = b.node("Unsqueeze", "/decoder/Unsqueeze", {topk[1], b.ints("axes_last", {-1})});  // [1,Q,1]
  auto idx_c = b.node("Tile", "/decoder/Tile", {idx, b.ints("rep_c", {1, 1, C})});
  auto q_logits = b.node("GatherElements", "/decoder/GatherElements", {logits_q, idx_c}, {Attr::of("axis", 1)});
  // Reference points: the cell centres (a constant anchor grid), gathered the same way.
  std::vector<float> anchors(HW * 4);
  for (int i = 0; i < F; ++i)
    for (int j = 0; j < F; ++j) {
      float* a = &anchors[(i * F + j) * 4];
      a[0] = (j + 0.5f) / F, a[1] = (i + 0.5f) / F, a[2] = 3.0f / F, a[3] = 3.0f / F;
    }
  auto anchor = b.weight("decoder.anchors", {1, HW, 4}, anchors);
  auto idx_4 = b.node("Tile", "/decoder/Tile_1", {idx, b.ints("rep_4", {1, 1, 4})});
  auto ref = b.node("GatherElements", "/decoder/GatherElements_1", {anchor, idx_4}, {Attr::of("axis", 1)});  // [1,Q,4]
  // Deformable sampling: features at the reference points (GridSample wants [-1,1] coords).
  auto centre = b.node("Slice", "/decoder/Slice", {ref, b.ints("s0", {0}), b.ints("s2", {2}), b.ints("ax2", {2})});
  auto grid = b.node("Sub", "/decoder/Sub", {b.node("Mul", "/decoder/Mul", {centre, b.scalar("two", 2.f)}), b.scalar("one", 1.f)});
  grid = b.node("Unsqueeze", "/decoder/Unsqueeze_1", {grid, b.ints("axes2", {2})});  // [1,Q,1,2]
  auto sampled = b.node("GridSample", "/decoder/cross_attn/GridSample", {feat, grid},
                        {Attr::of("align_corners", 0), Attr::of("mode", "bilinear"), Attr::of("padding_mode", "zeros")});
  sampled = b.node("Reshape", "/decoder/cross_attn/Reshape", {sampled, b.ints("samp_shape", {1, C1, Q})});
  sampled = b.node("Transpose", "/decoder/cross_attn/Transpose", {sampled}, {Attr::of("perm", std::vector<int64_t>{0, 2, 1})});
  // A small refinement of the anchor box (random weights: kept small so boxes stay on their disc).
  auto delta = b.node("MatMul", "/decoder/bbox_head/MatMul", {sampled, b.random_weight("decoder.bbox.weight", {C1, 4}, 0.001f)});
  auto box = b.node("Add", "/decoder/bbox_head/Add", {ref, b.node("Tanh", "/decoder/bbox_head/Tanh", {delta})});
  box = b.node("Clip", "/decoder/bbox_head/Clip", {box, b.scalar("zero", 0.f), b.scalar("one_clip", 1.f)});
  // Postprocess to (class, x1, y1, x2, y2, score).
  auto prob = b.node("Sigmoid", "/post/Sigmoid", {q_logits});
  auto score = b.node("ReduceMax", "/post/ReduceMax", {prob}, {Attr::of("axes", std::vector<int64_t>{-1}), Attr::of("keepdims", 1)});
  auto label = b.node("Cast", "/post/Cast",
                      {b.node("ArgMax", "/post/ArgMax", {prob}, {Attr::of("axis", -1), Attr::of("keepdims", 1)})},
                      {Attr::of("to", 1)});
  auto cxcy = b.node("Slice", "/post/Slice", {box, b.ints("p0", {0}), b.ints("p2", {2}), b.ints("pax", {2})});
  auto wh = b.node("Slice", "/post/Slice_1", {box, b.ints("q2", {2}), b.ints("q4", {4}), b.ints("qax", {2})});
  auto half = b.node("Mul", "/post/Mul", {wh, b.scalar("half", 0.5f)});
  auto xy1 = b.node("Sub", "/post/Sub", {cxcy, half});
  auto xy2 = b.node("Add", "/post/Add", {cxcy, half});
  b.node("Concat", "/post/Concat", {label, xy1, xy2, score}, {Attr::of("axis", -1)});
  b.model().mutable_graph()->mutable_node()->rbegin()->set_output(0, "label_xyxy_score");
  b.output("label_xyxy_score", {1, Q, 6});
  return b.build();
}

cv::Mat draw_demo_picture(int size, std::vector<cv::Vec4i>* blobs) {
  cv::Mat img(size, size, CV_8UC3, cv::Scalar(20, 20, 20));
  // (x, y, radius, class); colours in BGR. Each disc is centred on a cell of the detector's
  // 32x32 feature grid (its anchors are the cell centres), so its box is centred on it too.
  const int c = size / 64;
  const std::vector<cv::Vec4i> spots = {{size / 4 + c, size / 4 + c, size / 20, 0},
                                        {3 * size / 4 + c, size / 3 + c, size / 20, 1},
                                        {size / 3 + c, 3 * size / 4 + c, size / 20, 2},
                                        {3 * size / 4 + c, 3 * size / 4 + c, size / 20, 3}};
  const cv::Scalar colour[4] = {{40, 40, 230}, {40, 220, 40}, {230, 60, 40}, {240, 240, 240}};
  for (const auto& s : spots) cv::circle(img, {s[0], s[1]}, s[2], colour[s[3]], cv::FILLED, cv::LINE_AA);
  if (blobs) *blobs = spots;
  return img;
}

}  // namespace npusplit
