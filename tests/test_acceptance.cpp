// Acceptance on every shared DEIMv2 model (both layouts): what `check` flags, that every split
// (plain and --fix) is bit-exact, and what the rewrites buy on the DINOv3 variants.
#include <gtest/gtest.h>

#include <set>

#include "npusplit/app/analyze.h"
#include "npusplit/app/fix.h"
#include "npusplit/app/split.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/pipeline/two_stage.h"
#include "test_support.h"

namespace npusplit {
namespace {

using test::shared_image;
using test::shared_model;

const std::vector<std::string> kModels = {
    "deimv2_atto.onnx", "deimv2_atto_official.onnx", "deimv2_femto.onnx", "deimv2_femto_official.onnx",
    "deimv2_pico.onnx", "deimv2_pico_official.onnx", "deimv2_n.onnx",     "deimv2_n_official.onnx",
    "deimv2_s.onnx",    "deimv2_s_official.onnx",    "deimv2_m.onnx",     "deimv2_m_official.onnx",
    "deimv2_l.onnx",    "deimv2_x.onnx"};

bool is_dinov3(const std::string& f) {
  for (const char* v : {"deimv2_s", "deimv2_m", "deimv2_l", "deimv2_x"})
    if (f.rfind(v, 0) == 0) return true;
  return false;
}

bool in_backbone_or_encoder(const std::string& node) {
  return node.rfind("/model/backbone", 0) == 0 || node.rfind("/model/encoder", 0) == 0;
}

bool has_rule(const NodeVerdict& v, const std::string& rule) {
  for (const auto& f : v.findings)
    if (f.rule_id == rule) return true;
  return false;
}

class EveryModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryModel, CheckFlagsWhatTheParserRejectsAndNothingInHgnetv2) {
  NPUSPLIT_REQUIRE_MODEL(path, GetParam());
  AnalyzeOptions o;
  o.keep_original = false;
  const auto a = analyze(path, o);
  EXPECT_EQ(a.model.stats().unresolved, 0);
  std::map<std::string, int> flagged;
  int ew_mult_in_backbone = 0;
  for (const auto& v : a.verdicts) {
    if (v.op == "GridSample" || v.op == "GatherElements" || v.op == "TopK") {
      EXPECT_TRUE(has_rule(v, "unsupported-op")) << v.name;
    }
    if (v.op == "ReduceMax" && v.name == "/model/decoder/ReduceMax") {
      EXPECT_TRUE(has_rule(v, "reducemax-keepdims")) << v.name;
    }
    if (!v.supported) ++flagged[v.op];
    if (has_rule(v, "ew-mult-broadcast") && v.name.rfind("/model/backbone", 0) == 0) ++ew_mult_in_backbone;
    if (!is_dinov3(GetParam()) && in_backbone_or_encoder(v.name)) {
      EXPECT_TRUE(v.supported) << "HGNetv2 backbone/encoder node flagged: " << v.name << " ("
                               << (v.findings.empty() ? "" : v.findings[0].rule_id + ": " + v.findings[0].detail) << ")";
    }
  }
  // The decoder's deformable-attention ops and the 5-D Slice (axis 4) are flagged by name.
  EXPECT_GE(flagged["GridSample"], 6);
  EXPECT_EQ(flagged["GatherElements"], 3);
  EXPECT_EQ(flagged["TopK"], 3);
  EXPECT_GT(flagged["Slice"], 0);
  EXPECT_GT(flagged["Reshape"], 0);
  if (is_dinov3(GetParam())) EXPECT_GE(ew_mult_in_backbone, 48) << "the DINOv3 RoPE multiplies";
  else EXPECT_EQ(ew_mult_in_backbone, 0);
}

TEST_P(EveryModel, SplitAndSplitFixAreBitExact) {
  NPUSPLIT_REQUIRE_MODEL(path, GetParam());
  const bool big = is_dinov3(GetParam());
  double plain_share = 0;
  for (bool fix : {false, true}) {
    SplitOptions o;
    o.model = path;
    o.out_dir = test::temp_dir("acceptance_" + path.stem().string() + (fix ? "_fix" : ""));
    o.fix = fix;
    o.verify = true;
    o.verify_random = 1;
    if (!big) o.verify_images = {shared_image("chelsea.png").string()};
    const auto r = split_model(o);
    ASSERT_TRUE(r.verify.has_value());
    for (const auto& w : r.verify->worst) {
      EXPECT_EQ(w.max_abs_diff, 0.0) << w.name << (fix ? " (--fix)" : "");
      EXPECT_EQ(w.nonfinite_mismatch, 0) << w.name;
    }
    EXPECT_TRUE(r.verify->ok);
    EXPECT_EQ(r.manifest["stage1"]["check"]["verdict"], "clean") << (fix ? "--fix" : "plain");
    // No stage2 takes the image: every host node works on stage1's features.
    for (const auto& in : r.stages.stage2.graph().input()) EXPECT_NE(in.name(), "images");
    const double share = r.analysis.partition.npu_flops_share();
    if (!fix) {
      plain_share = share;
      continue;
    }
    EXPECT_GE(share, plain_share) << "--fix must not move the frontier back";
    if (big) {
      EXPECT_GT(share, 0.9) << "the DINOv3 backbone should move onto the NPU after the rewrites";
      for (const auto& v : r.stage1_verdicts) {
        EXPECT_NE(v.op, "Neg") << v.name;
        EXPECT_FALSE(has_rule(v, "ew-mult-broadcast") || has_rule(v, "rank")) << v.name;
      }
    }
  }
}

TEST_P(EveryModel, FixVerifyIsBitExact) {
  NPUSPLIT_REQUIRE_MODEL(path, GetParam());
  FixOptions o;
  o.model = path;
  o.out = test::temp_dir("acceptance_fix_" + path.stem().string()) / "fixed.onnx";
  o.verify = true;
  o.verify_random = 1;
  const auto r = fix_model(o);
  ASSERT_TRUE(r.verify.has_value());
  EXPECT_TRUE(r.verify->ok);
  for (const auto& w : r.verify->worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
  EXPECT_TRUE(r.changed);
  EXPECT_LE(r.after.unsupported + r.after.suspect, r.before.unsupported + r.before.suspect);
}

// Split and unsplit runs give the same detections on the shared photos (run/bench use ONNX
// Runtime's full optimizations, so this is the deployment path, not the verification path).
std::vector<Detection> detect(TwoStagePipeline& p, const cv::Mat& img) {
  Frame f = p.make_frame();
  ImageTransform tr;
  for (auto& t : f.inputs)
    if (t.spec.dims.size() == 4) tr = image_to_tensor(img, t);
  for (auto& t : f.inputs)
    if (is_orig_sizes_input(t.spec)) fill_orig_sizes(t, tr);
  p.run(f);
  DecodeOptions d;
  d.threshold = 0.3f;
  return decode_detections(f.outputs, tr, d);
}

TEST_P(EveryModel, SplitAndUnsplitRunsGiveTheSameDetections) {
  NPUSPLIT_REQUIRE_MODEL(path, GetParam());
  SplitOptions o;
  o.model = path;
  o.out_dir = test::temp_dir("acceptance_run_" + path.stem().string());
  const auto r = split_model(o);
  StageOptions st;
  st.intra_threads = 2;
  auto s2 = make_ort_stage(r.stage2_path, st);
  std::vector<std::string> extra;
  for (const auto& s : s2->inputs())
    if (is_orig_sizes_input(s)) extra.push_back(s.name);
  TwoStagePipeline split(make_ort_stage(r.stage1_path, st), std::move(s2), extra);
  TwoStagePipeline whole(make_ort_stage(path, st));
  std::vector<std::string> images = {"chelsea.png", "astronaut.png"};
  if (!is_dinov3(GetParam())) images.insert(images.end(), {"coffee.png", "hubble_deep_field.jpg"});
  for (const auto& name : images) {
    const cv::Mat img = read_image(shared_image(name).string());
    const auto a = detect(split, img), b = detect(whole, img);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].class_id, b[i].class_id) << name << " #" << i;
      EXPECT_NEAR(a[i].score, b[i].score, 1e-4) << name << " #" << i;
      EXPECT_NEAR(a[i].x1, b[i].x1, 1e-2) << name << " #" << i;
      EXPECT_NEAR(a[i].y2, b[i].y2, 1e-2) << name << " #" << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, EveryModel, ::testing::ValuesIn(kModels), [](const auto& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
}  // namespace npusplit
