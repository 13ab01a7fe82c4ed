// The fused deformable attention (runtime/msda_kernel, runtime/msda_op, host/fuse_msda): the
// exporter's GridSample subgraph is built in code, run as exported in ONNX Runtime, then fused
// and run again; the two must agree (the kernel follows GridSample's arithmetic, so the only
// differences are the summation order and exp/softmax rounding).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "npusplit/report/split_report.h"
#include "npusplit/app/split.h"
#include "npusplit/host/fuse_msda.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/runtime/stage.h"
#include "npusplit/shapes/resolve.h"
#include "test_support.h"

namespace npusplit {
namespace {

using Dims = std::vector<int64_t>;

struct Level {
  int64_t h, w, points;
};

struct Case {
  int64_t B = 1, Q = 5, H = 2, C = 4;
  std::vector<Level> levels = {{4, 4, 2}};
  bool bshc = false;       // value as the [B,S,H,C] tensor sliced per level (DEIMv2), else per-level maps
  bool unit = true;        // locations in [0,1] with the exporter's 2*v-1
  bool softmax = true;     // weights through Softmax
  int64_t align = 0;
  const char* padding = "zeros";
  float lo = -0.25f, hi = 1.25f;  // location range: beyond [0,1] samples outside the map
  // Box-relative points as D-FINE/DEIMv2 export them (offsets, reference boxes, per-point scale);
  // full_scale: the scale as `fix`'s broadcast-explicit leaves it (full shape).
  bool boxes = false, full_scale = false;
};

int64_t total_points(const Case& c) {
  int64_t p = 0;
  for (const auto& l : c.levels) p += l.points;
  return p;
}

// The subgraph torch.onnx writes for deformable_attention_core_func_v2 (see host/fuse_msda.cpp).
onnx::ModelProto exported_attention(const Case& c) {
  ModelBuilder b(17);
  const int64_t P = total_points(c), N = c.B * c.H;
  std::string loc;
  if (c.boxes) {
    const std::string off = b.input("offsets", {c.B, c.Q, c.H, P, 2});
    const std::string ref = b.input("ref", {c.B, c.Q, 1, 1, 4});
    std::vector<float> scale;
    for (int64_t p = 0; p < P; ++p) scale.push_back(1.0f / float(1 + p % 3));
    std::string sc;
    if (c.full_scale) {
      std::vector<float> full;
      for (int64_t i = 0; i < c.B * c.Q * c.H; ++i)
        for (int64_t p = 0; p < P; ++p) full.insert(full.end(), {scale[size_t(p)], scale[size_t(p)]});
      sc = b.weight("scale", {c.B, c.Q, c.H, P, 2}, full);
    } else {
      sc = b.weight("scale", {P, 1}, scale);
    }
    const std::string wh = b.node("Slice", "ref_wh", {ref, b.ints("wh_st", {2}), b.ints("wh_en", {INT64_MAX}), b.ints("wh_ax", {-1})});
    const std::string xy = b.node("Slice", "ref_xy", {ref, b.ints("xy_st", {0}), b.ints("xy_en", {2}), b.ints("xy_ax", {-1})});
    const std::string m0 = b.node("Mul", "off_scale", {off, sc});
    const std::string m2 = b.node("Mul", "off_half", {b.node("Mul", "off_wh", {m0, wh}), b.scalar("half", 0.5f)});
    loc = b.node("Add", "loc", {xy, m2});
  } else {
    loc = b.input("loc", {c.B, c.Q, c.H, P, 2});
  }
  std::string attn = b.input("attn", {c.B, c.Q, c.H, P});
  std::vector<std::string> maps;
  if (c.bshc) {
    int64_t S = 0;
    for (const auto& l : c.levels) S += l.h * l.w;
    const std::string v = b.input("value", {c.B, S, c.H, c.C});
    const std::string vt = b.node("Transpose", "value_t", {v}, {Attr::of("perm", Dims{0, 2, 3, 1})});
    int64_t start = 0;
    for (size_t i = 0; i < c.levels.size(); ++i) {
      const auto& l = c.levels[i];
      const std::string s = std::to_string(i);
      const std::string sl = b.node("Slice", "slice" + s,
                                    {vt, b.ints("st" + s, {start}), b.ints("en" + s, {start + l.h * l.w}), b.ints("ax" + s, {3})});
      maps.push_back(b.node("Reshape", "map" + s, {sl, b.ints("ms" + s, {N, c.C, l.h, l.w})}));
      start += l.h * l.w;
    }
  } else {
    for (size_t i = 0; i < c.levels.size(); ++i)
      maps.push_back(b.input("map" + std::to_string(i), {N, c.C, c.levels[i].h, c.levels[i].w}));
  }
  std::string g = loc;
  if (c.unit) g = b.node("Sub", "sub", {b.node("Mul", "mul2", {loc, b.scalar("two", 2.0f)}), b.scalar("one", 1.0f)});
  g = b.node("Transpose", "grid_t", {g}, {Attr::of("perm", Dims{0, 2, 1, 3, 4})});
  g = b.node("Reshape", "grid_r", {g, b.ints("grid_shape", {N, c.Q, P, 2})});
  std::vector<std::string> grids;
  if (c.levels.size() == 1) {
    grids.push_back(g);
  } else {
    Dims sizes;
    for (const auto& l : c.levels) sizes.push_back(l.points);
    grids = b.node_n("Split", "split", {g, b.ints("split_sizes", sizes)}, int(c.levels.size()), {Attr::of("axis", int64_t(-2))});
  }
  std::vector<std::string> samples;
  for (size_t i = 0; i < c.levels.size(); ++i)
    samples.push_back(b.node("GridSample", "gs" + std::to_string(i), {maps[i], grids[i]},
                             {Attr::of("align_corners", c.align), Attr::of("mode", "bilinear"),
                              Attr::of("padding_mode", c.padding)}));
  std::string cat = samples.size() == 1 ? samples[0] : b.node("Concat", "cat", samples, {Attr::of("axis", int64_t(-1))});
  std::string w = attn;
  if (c.softmax) w = b.node("Softmax", "softmax", {w}, {Attr::of("axis", int64_t(-1))});
  w = b.node("Transpose", "w_t", {w}, {Attr::of("perm", Dims{0, 2, 1, 3})});
  w = b.node("Reshape", "w_r", {w, b.ints("w_shape", {N, 1, c.Q, P})});
  std::string s = b.node("ReduceSum", "sum", {b.node("Mul", "weighted", {cat, w}), b.ints("axes", {-1})},
                         {Attr::of("keepdims", int64_t(0))});
  s = b.node("Reshape", "out_r", {s, b.ints("out_shape", {c.B, c.H * c.C, c.Q})});
  b.node("Transpose", "out_t", {s}, {Attr::of("perm", Dims{0, 2, 1})});
  b.model().mutable_graph()->mutable_node(b.model().graph().node_size() - 1)->set_output(0, "out");
  b.output("out", {c.B, c.Q, c.H * c.C});
  return b.build();
}

uint32_t lcg(uint32_t& x) {
  x = x * 1664525u + 1013904223u;
  return x >> 8;
}

std::vector<HostTensor> inputs_for(const onnx::ModelProto& m, const Case& c, uint32_t seed) {
  std::vector<HostTensor> in;
  for (const auto& vi : m.graph().input()) {
    TensorSpec s;
    s.name = vi.name();
    s.dtype = 1;
    for (const auto& d : vi.type().tensor_type().shape().dim()) s.dims.push_back(d.dim_value());
    HostTensor t(s);
    float* p = t.as<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float u = float(lcg(seed)) / float(1u << 24);
      p[i] = s.name == "loc" ? c.lo + (c.hi - c.lo) * u : s.name == "ref" ? u : 4.0f * u - 2.0f;
    }
    in.push_back(std::move(t));
  }
  return in;
}

std::vector<HostTensor> run(const onnx::ModelProto& m, const std::vector<HostTensor>& in, int threads = 1) {
  std::string bytes;
  m.SerializeToString(&bytes);
  OrtOptions oo;
  oo.intra_threads = threads;
  auto s = make_session(bytes, oo, "test model");
  return run_session(s, in);
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

// Max abs diff; NaN must sit at the same places on both sides.
double max_diff(const HostTensor& a, const HostTensor& b) {
  EXPECT_EQ(a.spec.dims, b.spec.dims);
  double d = 0;
  const float* x = a.as<float>();
  const float* y = b.as<float>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) {
      EXPECT_TRUE(std::isnan(x[i]) && std::isnan(y[i])) << "NaN on one side only at " << i;
      continue;
    }
    d = std::max(d, double(std::fabs(x[i] - y[i])));
  }
  return d;
}

void expect_fused_equal(const Case& c, double tol = 2e-6, bool all_outside = false) {
  const auto exported = exported_attention(c);
  auto fused = exported;
  const auto rep = fuse_deformable_attention(fused);
  ASSERT_EQ(rep.fused, 1) << (rep.skipped.empty() ? "" : rep.skipped[0]);
  EXPECT_EQ(count_op(fused, "GridSample"), 0);
  EXPECT_EQ(count_op(fused, "MultiScaleDeformableAttention"), 1);
  EXPECT_EQ(count_op(fused, "Softmax"), 0) << "the softmax is fused too";
  for (uint32_t seed : {1u, 2u}) {
    const auto in = inputs_for(exported, c, seed);
    const auto want = run(exported, in);
    const auto got = run(fused, in);
    ASSERT_EQ(want.size(), 1u);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_LE(max_diff(want[0], got[0]), tol) << "seed " << seed;
    float peak = 0;
    for (int64_t i = 0; i < want[0].numel(); ++i) peak = std::max(peak, std::fabs(want[0].as<float>()[i]));
    if (all_outside) EXPECT_EQ(peak, 0.0f) << "every point is outside the maps: zeros padding gives 0";
    else EXPECT_GT(peak, 0.05f) << "the case must sample real values, not only zeros";
  }
}

TEST(FusedAttention, MatchesGridSampleOnSeveralLevelsWithPointsOutsideTheMaps) {
  Case c;
  c.levels = {{8, 8, 3}, {4, 4, 2}, {2, 2, 1}};
  expect_fused_equal(c);
}

TEST(FusedAttention, OddSizesOneLevelOnePoint) {
  Case c;
  c.levels = {{5, 7, 1}};
  c.Q = 3;
  c.H = 3;
  c.C = 5;  // not a vectorised head size: the generic loop
  expect_fused_equal(c);
}

TEST(FusedAttention, FarOutsideEverySampleIsZero) {
  Case c;
  c.levels = {{3, 5, 2}, {2, 3, 2}};
  c.lo = 1.6f;  // x = 1.6*w - 0.5 > w: right of / below every map (and huge ones, 40*w)
  c.hi = 40.0f;
  expect_fused_equal(c, 2e-6, true);
  c.lo = -40.0f;
  c.hi = -0.6f;
  expect_fused_equal(c, 2e-6, true);
}

TEST(FusedAttention, BshcValueIsReadInPlace) {
  Case c;
  c.bshc = true;
  c.levels = {{6, 5, 2}, {3, 3, 3}};
  c.C = 16;
  const auto m = exported_attention(c);
  auto fused = m;
  ASSERT_EQ(fuse_deformable_attention(fused).fused, 1);
  EXPECT_EQ(count_op(fused, "Transpose"), 0) << "the value is read as [B,S,H,C]: no transpose left";
  expect_fused_equal(c);
}

TEST(FusedAttention, AlignCornersBorderPaddingGridCoordinatesAndPlainWeights) {
  for (int64_t align : {0, 1}) {
    Case c;
    c.levels = {{4, 6, 2}, {3, 2, 2}};
    c.align = align;
    c.padding = "border";
    c.unit = false;
    c.softmax = false;
    c.lo = -1.6f;
    c.hi = 1.6f;
    c.C = 32;
    SCOPED_TRACE("align_corners " + std::to_string(align));
    const auto m = exported_attention(c);
    auto fused = m;
    ASSERT_EQ(fuse_deformable_attention(fused).fused, 1);
    const auto in = inputs_for(m, c, 7);
    EXPECT_LE(max_diff(run(m, in)[0], run(fused, in)[0]), 2e-6);
  }
}

TEST(FusedAttention, BoxRelativePointsAreComputedInside) {
  for (bool full : {false, true}) {
    Case c;
    c.boxes = true;
    c.full_scale = full;
    c.levels = {{8, 8, 3}, {4, 4, 3}};
    c.C = 16;
    SCOPED_TRACE(full ? "full-shape scale" : "broadcast scale");
    auto fused = exported_attention(c);
    ASSERT_EQ(fuse_deformable_attention(fused).fused, 1);
    EXPECT_EQ(count_op(fused, "Mul") + count_op(fused, "Add") + count_op(fused, "Slice"), 0)
        << "the location arithmetic runs inside the fused node";
    expect_fused_equal(c);
  }
}

TEST(FusedAttention, BatchOfTwoAndThreadsGiveTheSameResult) {
  Case c;
  c.B = 2;
  c.Q = 37;
  c.levels = {{8, 8, 4}, {4, 4, 4}};
  c.C = 16;
  expect_fused_equal(c);
  auto fused = exported_attention(c);
  fuse_deformable_attention(fused);
  const auto in = inputs_for(fused, c, 3);
  const auto one = run(fused, in, 1), two = run(fused, in, 2);
  EXPECT_EQ(0, std::memcmp(one[0].data.data(), two[0].data.data(), one[0].data.size())) << "rows are independent";
}

TEST(FusedAttention, NonFiniteLocationsGiveNaNWhereGridSampleDoes) {
  Case c;
  c.levels = {{4, 4, 2}};
  const auto m = exported_attention(c);
  auto fused = m;
  ASSERT_EQ(fuse_deformable_attention(fused).fused, 1);
  auto in = inputs_for(m, c, 5);
  float* loc = in[0].as<float>();
  loc[0] = std::numeric_limits<float>::quiet_NaN();
  loc[9] = std::numeric_limits<float>::infinity();
  const auto want = run(m, in), got = run(fused, in);
  int nan = 0;
  for (int64_t i = 0; i < want[0].numel(); ++i) nan += std::isnan(want[0].as<float>()[i]);
  EXPECT_GT(nan, 0);
  EXPECT_LE(max_diff(want[0], got[0]), 2e-6);  // also checks NaN positions agree
}

TEST(FusedAttention, OtherShapesAreLeftAloneWithAReason) {
  Case c;
  c.levels = {{4, 4, 2}, {2, 2, 2}};
  auto m = exported_attention(c);
  // Reflection padding is not in the kernel: not fused, and the report says why.
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "GridSample")
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "padding_mode") a.set_s("reflection");
  const auto rep = fuse_deformable_attention(m);
  EXPECT_EQ(rep.fused, 0);
  ASSERT_EQ(rep.skipped.size(), 1u);
  EXPECT_NE(rep.skipped[0].find("reflection"), std::string::npos) << rep.skipped[0];
  EXPECT_EQ(count_op(m, "GridSample"), 2);
}

TEST(FusedAttention, BadAttributesAreOneLineErrorsAtLoad) {
  Case c;
  auto m = exported_attention(c);
  fuse_deformable_attention(m);
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "MultiScaleDeformableAttention")
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "points_per_level") a.set_ints(0, 5);
  const auto in = inputs_for(exported_attention(c), c, 1);
  const std::string msg = test::error_of([&] { run(m, in); });
  EXPECT_NE(msg.find("points_per_level"), std::string::npos) << msg;
}

// The proof on real exports: split --fix --fused-host --verify, the fused stage2 against the
// original model on a random input and a photo, within 1e-4 (the unfused stage2 stays bit-exact).
void expect_shared_model_fuses(const std::string& file, int expected_layers) {
  NPUSPLIT_REQUIRE_MODEL(model, file);
  SplitOptions o;
  o.model = model;
  o.out_dir = test::temp_dir("fused_" + model.stem().string());
  o.fix = true;
  o.fused_host = true;
  o.verify = true;
  o.verify_random = 1;
  o.verify_images = {test::shared_image("chelsea.png").string()};
  const auto r = split_model(o);
  EXPECT_EQ(r.fused_ops, expected_layers);
  ASSERT_TRUE(r.verify && r.verify_fused);
  EXPECT_TRUE(r.verify->ok) << verify_text(*r.verify);
  EXPECT_TRUE(r.verify_fused->ok) << fused_check_text(*r.verify_fused);
  EXPECT_EQ(r.verify_fused->tolerance, 1e-4);
  EXPECT_LT(r.verify_fused->worst.max_abs_diff, 1e-5) << fused_check_text(*r.verify_fused);
  auto fused = load_model(r.stage2_fused_path);
  EXPECT_EQ(count_op(fused, "GridSample"), 0);
  auto plain = load_model(r.stage2_path);
  EXPECT_GT(count_op(plain, "GridSample"), 0) << "the plain stage2 stays standard ONNX";
  for (const auto& op : plain.opset_import()) EXPECT_NE(op.domain(), "npusplit");
}

TEST(DetectionCompare, TiedRowsMayTradePlacesOthersMayNot) {
  auto rows = [](std::vector<float> v) {
    TensorSpec s{"label_xyxy_score", 1, {1, int64_t(v.size() / 6), 6}};
    HostTensor t(s);
    std::memcpy(t.data.data(), v.data(), v.size() * sizeof(float));
    return std::vector<HostTensor>{t};
  };
  const auto a = rows({1, .1f, .1f, .2f, .2f, .9f, 2, .5f, .5f, .6f, .6f, .5f, 3, .7f, .7f, .8f, .8f, .5f});
  // Rows 1 and 2 tie (0.5 vs 0.5 + 1e-7): swapped is fine.
  const auto tied = rows({1, .1f, .1f, .2f, .2f, .9f, 3, .7f, .7f, .8f, .8f, .5000001f, 2, .5f, .5f, .6f, .6f, .5f});
  auto d = compare_detections(a, tied, 1e-4);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.reordered_rows, 2);
  EXPECT_GT(d.raw_max_abs_diff, 0.1);
  EXPECT_LT(d.max_abs_diff, 1e-6);
  // Row 0 (0.9) moved below a 0.5: an order violation.
  const auto moved = rows({2, .5f, .5f, .6f, .6f, .5f, 1, .1f, .1f, .2f, .2f, .9f, 3, .7f, .7f, .8f, .8f, .5f});
  d = compare_detections(a, moved, 1e-4);
  EXPECT_FALSE(d.ok);
  EXPECT_GT(d.order_violations, 0);
  // A box that moved: unmatched.
  const auto other = rows({1, .1f, .1f, .2f, .3f, .9f, 2, .5f, .5f, .6f, .6f, .5f, 3, .7f, .7f, .8f, .8f, .5f});
  d = compare_detections(a, other, 1e-4);
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.unmatched_rows, 1);
}

// `run` with and without the fused stage2 on a photo: the same detections (every one, threshold
// 0, so the 300 near-tied random-weight scores are all compared), tied ones possibly reordered.
TEST(FusedAttentionShared, RunGivesTheSameDetectionsWithAndWithoutFusion) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  const auto d = test::temp_dir("fused_run");
  auto s = test::run_cli("split '" + model.string() + "' -o '" + d.string() + "' --fix", "fused_run_split");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const std::string photo = test::shared_image("chelsea.png").string();
  auto dets = [&](const std::string& flag, const std::string& out) {
    auto r = test::run_cli("run --stage1 '" + (d / "deimv2_atto_stage1.onnx").string() + "' --stage2 '" +
                               (d / "deimv2_atto_stage2.onnx").string() + "' '" + photo + "' --threshold 0 --out '" +
                               (d / out).string() + "' " + flag,
                           "fused_run_" + out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("fused deformable attention") != std::string::npos, flag.empty()) << r.out;
    std::ifstream in(d / out / "chelsea.json");
    return nlohmann::json::parse(in)["frames"][0]["detections"];
  };
  const auto fused = dets("", "fused"), plain = dets("--no-fused-host", "plain");
  ASSERT_EQ(fused.size(), plain.size());
  ASSERT_GT(plain.size(), 100u);
  std::vector<char> used(fused.size(), 0);
  double worst_score = 0;
  for (const auto& p : plain) {
    bool found = false;
    for (size_t j = 0; j < fused.size() && !found; ++j) {
      const auto& f = fused[j];
      if (used[j] || f["class_id"] != p["class_id"]) continue;
      const double ds = std::fabs(f["score"].get<double>() - p["score"].get<double>());
      double db = 0;
      for (int k = 0; k < 4; ++k)
        db = std::max(db, std::fabs(f["box_xyxy"][k].get<double>() - p["box_xyxy"][k].get<double>()));
      // 1e-4 of the normalised box is 0.05 px on this 451-px photo.
      if (ds <= 1e-4 && db <= 0.05) {
        used[j] = 1;
        found = true;
        worst_score = std::max(worst_score, ds);
      }
    }
    EXPECT_TRUE(found) << "no fused detection equals " << p.dump();
  }
  EXPECT_LE(worst_score, 1e-4);
}

TEST(FusedAttentionShared, UserLayoutN) { expect_shared_model_fuses("deimv2_n.onnx", 3); }
TEST(FusedAttentionShared, OfficialLayoutAtto) { expect_shared_model_fuses("deimv2_atto_official.onnx", 3); }

}  // namespace
}  // namespace npusplit
