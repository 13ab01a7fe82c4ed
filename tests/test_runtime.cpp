// The host runtime: ONNX Runtime stages (IoBinding, views, pre-allocated outputs), the two-stage
// pipeline (validation, sequential and pipelined runs), DETR decoding (both layouts, stretch and
// letterbox, threshold) and drawing. Models are built in the test; the shared DEIMv2 files are
// used only where noted (skipped when absent).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <stdexcept>

#include "npusplit/detect/draw.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/report/detections_report.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/runtime/stage.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::temp_dir;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;

// Exact comparisons need the same kernels on both sides: no graph rewrites, one thread.
StageOptions exact_options() {
  StageOptions o;
  o.graph_optimization = 0;
  o.intra_threads = 1;
  return o;
}

void conv(ModelBuilder& b, const std::string& name, const std::string& in, const std::string& out_name, int64_t cin,
          int64_t cout, int64_t k) {
  const int64_t p = k / 2;
  auto c = b.node("Conv", name,
                  {in, b.random_weight(name + "_w", {cout, cin, k, k}, 0.4f), b.random_weight(name + "_b", {cout})},
                  {Attr::of("pads", std::vector<int64_t>{p, p, p, p})});
  // Rename the node's output so stage files can share tensor names with the unsplit model.
  auto& g = *b.model().mutable_graph();
  g.mutable_node(g.node_size() - 1)->set_output(0, out_name);
  (void)c;
}

// Unsplit: x [1,4,8,8] -> conv1 -> Relu -> feat [1,8,8,8] -> conv2 (1x1) -> Sigmoid -> y [1,6,8,8].
// Stage1: x -> feat. Stage2: feat -> y. Same weights everywhere (weights are seeded by name).
fs::path write_full(const fs::path& dir) {
  ModelBuilder b;
  b.input("x", {1, 4, 8, 8});
  conv(b, "conv1", "x", "c1", 4, 8, 3);
  b.node("Relu", "relu", {"c1"});
  b.model().mutable_graph()->mutable_node(1)->set_output(0, "feat");
  conv(b, "conv2", "feat", "c2", 8, 6, 1);
  b.node("Sigmoid", "sig", {"c2"});
  b.model().mutable_graph()->mutable_node(3)->set_output(0, "y");
  b.output("y", {1, 6, 8, 8});
  const auto p = dir / "full.onnx";
  save_model(b.build(), p);
  return p;
}

fs::path write_stage1(const fs::path& dir, const std::string& file = "stage1.onnx") {
  ModelBuilder b;
  b.input("x", {1, 4, 8, 8});
  conv(b, "conv1", "x", "c1", 4, 8, 3);
  b.node("Relu", "relu", {"c1"});
  b.model().mutable_graph()->mutable_node(1)->set_output(0, "feat");
  b.output("feat", {1, 8, 8, 8});
  const auto p = dir / file;
  save_model(b.build(), p);
  return p;
}

// FEAT_DIMS lets a test build a stage2 that does not fit stage1. WITH_SIZES adds an
// orig_target_sizes input (int64 [1,2]) passed through to an output.
fs::path write_stage2(const fs::path& dir, const std::string& file = "stage2.onnx",
                      std::vector<int64_t> feat_dims = {1, 8, 8, 8}, bool with_sizes = false) {
  ModelBuilder b;
  b.input("feat", feat_dims);
  if (with_sizes) b.input("orig_target_sizes", {1, 2}, kInt64);
  conv(b, "conv2", "feat", "c2", feat_dims[1], 6, 1);
  b.node("Sigmoid", "sig", {"c2"});
  b.model().mutable_graph()->mutable_node(1)->set_output(0, "y");
  b.output("y", {1, 6, feat_dims[2], feat_dims[3]});
  if (with_sizes) {
    b.node("Identity", "sizes", {"orig_target_sizes"});
    b.model().mutable_graph()->mutable_node(2)->set_output(0, "sizes_out");
    b.output("sizes_out", {1, 2}, kInt64);
  }
  const auto p = dir / file;
  save_model(b.build(), p);
  return p;
}

void fill_pattern(HostTensor& t, float seed) {
  float* p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::sin(seed + 0.37f * float(i));
}

void expect_equal(const HostTensor& a, const HostTensor& b) {
  ASSERT_EQ(a.spec.dtype, b.spec.dtype);
  ASSERT_EQ(a.spec.dims, b.spec.dims);
  ASSERT_EQ(a.data.size(), b.data.size());
  EXPECT_EQ(0, std::memcmp(a.data.data(), b.data.data(), a.data.size())) << "tensor " << a.name() << " differs";
}

std::vector<HostTensor> direct_run(const fs::path& model, const std::vector<HostTensor>& in) {
  OrtOptions oo;
  oo.intra_threads = 1;
  auto s = make_session(read_file(model), oo, model.string());
  return run_session(s, in);
}

// ------------------------------------------------------------------------------------------
// OrtStage

TEST(OrtStage, OutputsEqualADirectRunAndFollowInputChangesInPlace) {
  const auto dir = temp_dir("runtime_ortstage");
  const auto model = write_full(dir);
  auto stage = make_ort_stage(model, exact_options());
  ASSERT_EQ(stage->inputs().size(), 1u);
  EXPECT_EQ(stage->inputs()[0].name, "x");
  EXPECT_EQ(stage->inputs()[0].dims, (std::vector<int64_t>{1, 4, 8, 8}));
  ASSERT_EQ(stage->outputs().size(), 1u);
  EXPECT_EQ(stage->outputs()[0].dims, (std::vector<int64_t>{1, 6, 8, 8}));
  EXPECT_EQ(stage->backend(), "onnxruntime-cpu");

  auto in = stage->allocate_inputs();
  auto out = stage->allocate_outputs();
  std::vector<const HostTensor*> ptrs{&in[0]};
  const uint8_t* out_mem = out[0].data.data();

  for (float seed : {0.5f, 1.5f, -2.0f}) {
    fill_pattern(in[0], seed);  // same buffer, new content: the bound view must see it
    stage->run(ptrs, out);
    EXPECT_EQ(out[0].data.data(), out_mem) << "outputs are written in place";
    const auto ref = direct_run(model, in);
    ASSERT_EQ(ref.size(), 1u);
    expect_equal(out[0], ref[0]);
    EXPECT_GT(stage->last_timing().total_ms, 0.0);
    EXPECT_GE(stage->last_timing().total_ms, stage->last_timing().inner_ms);
  }

  // A second buffer set (double buffering) and back again: each gets the right answer.
  auto in2 = stage->allocate_inputs();
  auto out2 = stage->allocate_outputs();
  fill_pattern(in2[0], 7.0f);
  fill_pattern(in[0], 3.0f);
  std::vector<const HostTensor*> ptrs2{&in2[0]};
  for (int round = 0; round < 2; ++round) {
    stage->run(ptrs2, out2);
    stage->run(ptrs, out);
    expect_equal(out2[0], direct_run(model, in2)[0]);
    expect_equal(out[0], direct_run(model, in)[0]);
  }
}

TEST(OrtStage, RejectsTensorsOfTheWrongShape) {
  const auto dir = temp_dir("runtime_ortstage_wrong");
  auto stage = make_ort_stage(write_full(dir), exact_options());
  TensorSpec s{"x", kFloat, {1, 4, 8, 9}};
  HostTensor bad(s);
  auto out = stage->allocate_outputs();
  std::vector<const HostTensor*> ptrs{&bad};
  try {
    stage->run(ptrs, out);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[1,4,8,8]"), std::string::npos) << e.what();
  }
  std::vector<const HostTensor*> none;
  EXPECT_THROW(stage->run(none, out), Error);
}

TEST(OrtStage, DynamicBatchIsFixedAndDynamicOutputsAreProbed) {
  const auto dir = temp_dir("runtime_ortstage_dynamic");
  ModelBuilder b;
  b.input("x", {-1, 3, 4});
  auto flat = b.node("Reshape", "flat", {"x", b.ints("shape", {0, -1})});  // [N,12]
  b.node("Relu", "relu", {flat});
  b.output("relu_out");  // no shape declared
  const auto p = dir / "dyn.onnx";
  save_model(b.build(), p);

  auto stage = make_ort_stage(p, exact_options());
  EXPECT_EQ(stage->inputs()[0].dims, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(stage->outputs()[0].dims, (std::vector<int64_t>{1, 12}));
  auto in = stage->allocate_inputs();
  fill_pattern(in[0], 0.3f);
  auto out = stage->run_copy(in);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(out[0].as<float>()[i], std::max(0.0f, in[0].as<float>()[i]));

  StageOptions o = exact_options();
  o.input_shapes["x"] = {2, 3, 4};
  auto stage2 = make_ort_stage(p, o);
  EXPECT_EQ(stage2->outputs()[0].dims, (std::vector<int64_t>{2, 12}));
}

TEST(OrtStage, LoadErrorsAreOneLine) {
  const auto dir = temp_dir("runtime_ortstage_errors");
  auto one_line = [](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "expected an Error";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  one_line([&] { make_ort_stage(dir / "missing.onnx"); }, "missing.onnx");
  {
    std::ofstream f(dir / "corrupt.onnx");
    f << "this is not a protobuf";
  }
  one_line([&] { make_ort_stage(dir / "corrupt.onnx"); }, "corrupt.onnx");
}

TEST(OrtStage, SharedDeimv2AttoHasStaticOutputsAfterLoad) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  auto stage = make_ort_stage(model);
  ASSERT_EQ(stage->outputs().size(), 1u);
  EXPECT_EQ(stage->outputs()[0].name, "label_xyxy_score");
  EXPECT_EQ(stage->outputs()[0].dims, (std::vector<int64_t>{1, 300, 6}));
  EXPECT_EQ(detr_layout(stage->outputs()), DetrLayout::LabelXyxyScore);
}

// ------------------------------------------------------------------------------------------
// TwoStagePipeline

TEST(TwoStagePipeline, SequentialRunEqualsTheUnsplitModel) {
  const auto dir = temp_dir("runtime_pipeline_seq");
  const auto full = write_full(dir);
  TwoStagePipeline split(make_ort_stage(write_stage1(dir), exact_options()),
                         make_ort_stage(write_stage2(dir), exact_options()));
  TwoStagePipeline unsplit(make_ort_stage(full, exact_options()));
  EXPECT_TRUE(split.is_split());
  EXPECT_FALSE(unsplit.is_split());
  ASSERT_EQ(split.inputs().size(), 1u);
  EXPECT_EQ(split.inputs()[0].name, "x");
  ASSERT_EQ(split.cut().size(), 1u);
  EXPECT_EQ(split.cut()[0].name, "feat");

  Frame a = split.make_frame(), b = unsplit.make_frame();
  // The cut tensor stage2 reads is the very tensor stage1 wrote (no copy between stages).
  ASSERT_EQ(a.stage2_in.size(), 1u);
  EXPECT_EQ(a.stage2_in[0], &a.cut[0]);
  for (float seed : {0.1f, 2.2f}) {
    fill_pattern(*a.input("x"), seed);
    fill_pattern(*b.input("x"), seed);
    split.run(a);
    unsplit.run(b);
    expect_equal(*a.output("y"), *b.output("y"));
    EXPECT_GT(a.timing.stage1_ms, 0);
    EXPECT_GT(a.timing.stage2_ms, 0);
    EXPECT_GE(a.timing.total_ms, a.timing.stage1_ms + a.timing.stage2_ms - 1e-6);
  }
}

TEST(TwoStagePipeline, RejectsStage2InputsThatMatchNothing) {
  const auto dir = temp_dir("runtime_pipeline_validate");
  const auto s1 = write_stage1(dir);
  const auto s2 = write_stage2(dir);
  const auto s2_other = write_stage2(dir, "stage2_other.onnx", {1, 8, 4, 4});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };

  // Wrong order.
  auto m = message([&] { TwoStagePipeline p(make_ort_stage(s2), make_ort_stage(s1)); });
  EXPECT_NE(m.find("stage2 input 'x'"), std::string::npos) << m;
  EXPECT_NE(m.find("matches no stage1 output or model input (wrong stage order?)"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;

  // Same name, other shape (stages of different splits).
  m = message([&] { TwoStagePipeline p(make_ort_stage(s1), make_ort_stage(s2_other)); });
  EXPECT_NE(m.find("stage2 input 'feat'"), std::string::npos) << m;
  EXPECT_NE(m.find("[1,8,4,4]"), std::string::npos) << m;
  EXPECT_NE(m.find("[1,8,8,8]"), std::string::npos) << m;

  // A model input only stage2 reads is fine when the caller says it fills it, not otherwise.
  const auto s2_sizes = write_stage2(dir, "stage2_sizes.onnx", {1, 8, 8, 8}, true);
  m = message([&] { TwoStagePipeline p(make_ort_stage(s1), make_ort_stage(s2_sizes)); });
  EXPECT_NE(m.find("stage2 input 'orig_target_sizes'"), std::string::npos) << m;
  TwoStagePipeline ok(make_ort_stage(s1), make_ort_stage(s2_sizes), {"orig_target_sizes"});
  ASSERT_EQ(ok.inputs().size(), 2u);
  EXPECT_EQ(ok.inputs()[1].name, "orig_target_sizes");
  Frame f = ok.make_frame();
  fill_pattern(*f.input("x"), 1.0f);
  f.input("orig_target_sizes")->as<int64_t>()[0] = 640;
  f.input("orig_target_sizes")->as<int64_t>()[1] = 480;
  ok.run(f);
  EXPECT_EQ(f.output("sizes_out")->as<int64_t>()[0], 640);
  EXPECT_EQ(f.output("sizes_out")->as<int64_t>()[1], 480);
}

TEST(TwoStagePipeline, PipelinedRunGivesEachFrameItsOwnResultInOrder) {
  const auto dir = temp_dir("runtime_pipeline_pipelined");
  const auto full = write_full(dir);
  TwoStagePipeline p(make_ort_stage(write_stage1(dir), exact_options()),
                     make_ort_stage(write_stage2(dir), exact_options()));
  auto ref_stage = make_ort_stage(full, exact_options());

  constexpr int64_t kFrames = 9;
  std::vector<HostTensor> expected;
  for (int64_t n = 0; n < kFrames; ++n) {
    auto in = ref_stage->allocate_inputs();
    fill_pattern(in[0], float(n));
    expected.push_back(ref_stage->run_copy(in)[0]);
  }
  std::vector<int64_t> seen;
  std::set<const Frame*> buffers;
  const double wall = p.run_pipelined(
      kFrames,
      [&](Frame& f) {
        buffers.insert(&f);
        fill_pattern(*f.input("x"), float(f.index));
        return true;
      },
      [&](Frame& f) {
        seen.push_back(f.index);
        expect_equal(*f.output("y"), expected[size_t(f.index)]);
        EXPECT_GT(f.timing.stage1_ms, 0);
        EXPECT_GT(f.timing.stage2_ms, 0);
        EXPECT_GE(f.timing.total_ms, f.timing.stage2_ms);
      });
  EXPECT_GT(wall, 0);
  ASSERT_EQ(seen.size(), size_t(kFrames));
  for (int64_t n = 0; n < kFrames; ++n) EXPECT_EQ(seen[size_t(n)], n);
  EXPECT_EQ(buffers.size(), 2u) << "double buffering: two frames of buffers, reused";

  // FILL returning false stops early.
  int64_t done = 0;
  p.run_pipelined(100, [&](Frame& f) { return f.index < 3; }, [&](Frame&) { ++done; });
  EXPECT_EQ(done, 3);
}

TEST(TwoStagePipeline, PipelinedRunPassesErrorsOn) {
  const auto dir = temp_dir("runtime_pipeline_errors");
  TwoStagePipeline p(make_ort_stage(write_stage1(dir), exact_options()),
                     make_ort_stage(write_stage2(dir), exact_options()));
  EXPECT_THROW(p.run_pipelined(
                   10,
                   [](Frame& f) {
                     if (f.index == 4) throw Error("fill failed");
                     return true;
                   },
                   nullptr),
               Error);
  EXPECT_THROW(p.run_pipelined(
                   10, nullptr,
                   [](Frame& f) {
                     if (f.index == 2) throw std::runtime_error("done failed");
                   }),
               std::runtime_error);
}

// ------------------------------------------------------------------------------------------
// Decoding

HostTensor user_layout(const std::vector<std::array<float, 6>>& rows) {
  HostTensor t(TensorSpec{"label_xyxy_score", kFloat, {1, int64_t(rows.size()), 6}});
  float* p = t.as<float>();
  for (const auto& r : rows)
    for (float v : r) *p++ = v;
  return t;
}

ImageTransform stretch_640x480_to_320() {
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar(10, 20, 30));
  HostTensor in(TensorSpec{"images", kFloat, {1, 3, 320, 320}});
  return image_to_tensor(img, in, {});
}

ImageTransform letterbox_640x480_to_320() {
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar(10, 20, 30));
  HostTensor in(TensorSpec{"images", kFloat, {1, 3, 320, 320}});
  PreprocessOptions o;
  o.letterbox = true;
  return image_to_tensor(img, in, o);
}

TEST(Decode, UserLayoutStretchMapsToOriginalPixels) {
  const auto tr = stretch_640x480_to_320();
  std::vector<HostTensor> outs;
  outs.push_back(user_layout({{0, 0.25f, 0.5f, 0.75f, 1.0f, 0.9f}}));
  DecodeOptions o;
  o.threshold = 0.5f;
  const auto d = decode_detections(outs, tr, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_EQ(d[0].label, "person");
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_NEAR(d[0].x1, 160, 1e-3);  // 0.25 * 640
  EXPECT_NEAR(d[0].y1, 240, 1e-3);  // 0.5 * 480
  EXPECT_NEAR(d[0].x2, 480, 1e-3);
  EXPECT_NEAR(d[0].y2, 480, 1e-3);
}

TEST(Decode, UserLayoutLetterboxRemovesThePadding) {
  const auto tr = letterbox_640x480_to_320();
  // 640x480 -> 320x240 placed at y = 40 of the 320x320 input.
  ASSERT_FLOAT_EQ(tr.scale_x, 0.5f);
  ASSERT_FLOAT_EQ(tr.pad_y, 40.0f);
  std::vector<HostTensor> outs;
  // Source box (160,120)-(480,360) is (80,100)-(240,220) in the input, normalised by 320.
  outs.push_back(user_layout({{2, 80 / 320.f, 100 / 320.f, 240 / 320.f, 220 / 320.f, 0.8f}}));
  const auto d = decode_detections(outs, tr, {});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].label, "car");
  EXPECT_NEAR(d[0].x1, 160, 1e-3);
  EXPECT_NEAR(d[0].y1, 120, 1e-3);
  EXPECT_NEAR(d[0].x2, 480, 1e-3);
  EXPECT_NEAR(d[0].y2, 360, 1e-3);
}

TEST(Decode, ThresholdOrderClippingAndNonFiniteRows) {
  const auto tr = stretch_640x480_to_320();
  std::vector<HostTensor> outs;
  outs.push_back(user_layout({{1, 0.1f, 0.1f, 0.2f, 0.2f, 0.3f},
                              {2, 0.1f, 0.1f, 0.2f, 0.2f, 0.6f},
                              {3, -0.5f, 0.1f, 1.5f, 0.2f, 0.9f},  // leaves the image: clipped
                              {4, NAN, 0.1f, 0.2f, 0.2f, 0.99f},
                              {5, 0.1f, 0.1f, 0.2f, 0.2f, 0.5f}}));
  DecodeOptions o;
  o.threshold = 0.5f;
  const auto d = decode_detections(outs, tr, o);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].class_id, 3);  // best score first
  EXPECT_EQ(d[1].class_id, 2);
  EXPECT_EQ(d[2].class_id, 5);  // score == threshold is kept
  EXPECT_FLOAT_EQ(d[0].x1, 0);
  EXPECT_FLOAT_EQ(d[0].x2, 640);
  o.threshold = 0.0f;
  EXPECT_EQ(decode_detections(outs, tr, o).size(), 4u);  // all finite rows
  o.threshold = 0.95f;
  EXPECT_TRUE(decode_detections(outs, tr, o).empty());
}

TEST(Decode, OfficialLayoutInPixelsOfOrigTargetSizes) {
  std::vector<HostTensor> outs;
  outs.emplace_back(TensorSpec{"labels", kInt64, {1, 2}});
  outs.emplace_back(TensorSpec{"boxes", kFloat, {1, 2, 4}});
  outs.emplace_back(TensorSpec{"scores", kFloat, {1, 2}});
  outs[0].as<int64_t>()[0] = 16;  // dog
  outs[0].as<int64_t>()[1] = 99;  // beyond COCO-80
  const float boxes[8] = {160, 120, 480, 360, 10, 20, 30, 40};
  std::memcpy(outs[1].as<float>(), boxes, sizeof boxes);
  outs[2].as<float>()[0] = 0.7f;
  outs[2].as<float>()[1] = 0.6f;
  EXPECT_EQ(detr_layout({outs[0].spec, outs[1].spec, outs[2].spec}), DetrLayout::Official);

  // The pipeline fills orig_target_sizes with the source size.
  HostTensor sizes(TensorSpec{"orig_target_sizes", kInt64, {1, 2}});
  ASSERT_TRUE(is_orig_sizes_input(sizes.spec));
  fill_orig_sizes(sizes, stretch_640x480_to_320());
  EXPECT_EQ(sizes.as<int64_t>()[0], 640);
  EXPECT_EQ(sizes.as<int64_t>()[1], 480);

  // Stretch: the boxes already are source pixels.
  auto d = decode_detections(outs, stretch_640x480_to_320(), {});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].label, "dog");
  EXPECT_EQ(d[1].label, "class 99");
  EXPECT_NEAR(d[0].x1, 160, 1e-3);
  EXPECT_NEAR(d[0].y1, 120, 1e-3);
  EXPECT_NEAR(d[0].x2, 480, 1e-3);
  EXPECT_NEAR(d[0].y2, 360, 1e-3);

  // Letterbox: the model saw the padded image, so its box (normalised to the input, then scaled
  // by orig_target_sizes) must be unpadded. Source box (160,120)-(480,360) is (80,100)-(240,220)
  // in the 320x320 input = (0.25,0.3125)-(0.75,0.6875) -> times (640,480).
  const float lb[4] = {0.25f * 640, 0.3125f * 480, 0.75f * 640, 0.6875f * 480};
  std::memcpy(outs[1].as<float>(), lb, sizeof lb);
  DecodeOptions o;
  o.threshold = 0.65f;
  d = decode_detections(outs, letterbox_640x480_to_320(), o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].x1, 160, 1e-3);
  EXPECT_NEAR(d[0].y1, 120, 1e-3);
  EXPECT_NEAR(d[0].x2, 480, 1e-3);
  EXPECT_NEAR(d[0].y2, 360, 1e-3);
}

TEST(Decode, LabelsFileOverridesCocoNames) {
  const auto dir = temp_dir("runtime_labels");
  {
    std::ofstream f(dir / "labels.txt");
    f << "cat\r\ndog\n\n";
  }
  const auto names = load_labels(dir / "labels.txt");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "cat");
  EXPECT_EQ(names[1], "dog");
  std::vector<HostTensor> outs;
  outs.push_back(user_layout({{1, 0.1f, 0.1f, 0.2f, 0.2f, 0.9f}, {5, 0.1f, 0.1f, 0.2f, 0.2f, 0.8f}}));
  DecodeOptions o;
  o.class_names = names;
  const auto d = decode_detections(outs, stretch_640x480_to_320(), o);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].label, "dog");
  EXPECT_EQ(d[1].label, "class 5");
  EXPECT_THROW(load_labels(dir / "absent.txt"), Error);
  const auto j = detections_json(d);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["label"], "dog");
  EXPECT_EQ(j[0]["box_xyxy"].size(), 4u);
}

TEST(Decode, RejectsOutputsThatAreNotADetector) {
  std::vector<TensorSpec> specs{{"y", kFloat, {1, 6, 8, 8}}};
  EXPECT_THROW(detr_layout(specs), Error);
}

// ------------------------------------------------------------------------------------------
// Drawing

TEST(Draw, WritesAReadablePngWithTheBoxes) {
  const auto dir = temp_dir("runtime_draw");
  cv::Mat img(120, 160, CV_8UC3, cv::Scalar(0, 0, 0));
  Detection d;
  d.class_id = 0;
  d.label = "person";
  d.score = 0.87f;
  d.x1 = 20, d.y1 = 40, d.x2 = 140, d.y2 = 110;
  draw_detections(img, {d});
  const auto png = dir / "sub" / "out.png";
  write_image(png, img);
  const cv::Mat back = cv::imread(png.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(back.cols, 160);
  EXPECT_EQ(back.rows, 120);
  // The box's bottom edge is drawn; the middle of the box is untouched; the label tag above the
  // box is filled.
  EXPECT_GT(cv::norm(back.at<cv::Vec3b>(110, 80)), 100.0);
  EXPECT_EQ(cv::norm(back.at<cv::Vec3b>(75, 80)), 0.0);
  EXPECT_GT(cv::countNonZero(back(cv::Rect(20, 25, 40, 12)).reshape(1)), 100);
  EXPECT_THROW(write_image("/proc/no/such/dir/x.png", img), Error);
}

}  // namespace
}  // namespace npusplit
