// The HEF's contract from the manifest (issue 11 item 6), in plain C++: HEF outputs matched to
// crossing tensors by HailoRT's original names (never by shape), the uint8 pixel input of a HEF
// with a normalization layer, and the ONNX Runtime path fed the same way giving today's detections.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "npusplit/app/demo_model.h"
#include "npusplit/app/split.h"
#include "npusplit/base/json_text.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/io/model_io.h"
#include "npusplit/media/bench.h"
#include "npusplit/runtime/hef_io.h"
#include "test_support.h"

using namespace npusplit;
using namespace npusplit::test;
using nlohmann::json;

namespace {

const std::vector<CrossingEnd> kEnds = {{"feat_0", {"/enc/Conv_1"}}, {"feat_1", {"/enc/Conv_2"}}};

struct Pair {
  std::vector<Detection> dets;
  std::vector<HostTensor> outputs;
};

Pair run_once(const PipelineSpec& spec, const cv::Mat& bgr, const PreprocessOptions& pre) {
  Built b = build_pipeline(spec, false);
  Frame f = b.pipeline->make_frame();
  ImageTransform tr;
  for (auto& t : f.inputs)
    if (t.spec.dims.size() == 4) tr = image_to_tensor(bgr, t, pre);
  for (auto& t : f.inputs)
    if (is_orig_sizes_input(t.spec)) fill_orig_sizes(t, tr);
  b.pipeline->run(f);
  DecodeOptions d;
  d.threshold = 0;
  return {decode_detections(f.outputs, tr, d), f.outputs};
}

// split MODEL into DIR, then the float path and the uint8-pixel path on the same picture.
void expect_same_detections(const fs::path& model, const fs::path& dir, const cv::Mat& bgr, double box_tol) {
  SplitOptions so;
  so.model = model;
  so.out_dir = dir;
  so.verify = false;
  const SplitResult r = split_model(so);
  PipelineSpec flt;
  flt.manifest = r.manifest_path.string();
  PipelineSpec px = flt;
  px.hef_input = "uint8";
  const Pair a = run_once(flt, bgr, r.preprocess.options), b = run_once(px, bgr, r.preprocess.options);
  ASSERT_EQ(a.dets.size(), b.dets.size());
  ASSERT_FALSE(a.dets.empty());
  for (size_t i = 0; i < a.dets.size(); ++i) {
    EXPECT_EQ(a.dets[i].class_id, b.dets[i].class_id) << i;
    EXPECT_NEAR(a.dets[i].score, b.dets[i].score, 1e-4) << i;
    EXPECT_NEAR(a.dets[i].x1, b.dets[i].x1, box_tol) << i;
    EXPECT_NEAR(a.dets[i].y1, b.dets[i].y1, box_tol) << i;
    EXPECT_NEAR(a.dets[i].x2, b.dets[i].x2, box_tol) << i;
    EXPECT_NEAR(a.dets[i].y2, b.dets[i].y2, box_tol) << i;
  }
}

}  // namespace

TEST(HefIo, OutputsOfOneShapeAreMatchedByOriginalNames) {
  // Two HEF outputs of the same shape, in the opposite order: the names decide.
  const auto m = map_hef_outputs(kEnds, {{"net/conv9", {"/enc/Conv_2"}}, {"net/conv4", {"/enc/Relu", "/enc/Conv_1"}}}, "x.hef");
  EXPECT_EQ(m.at("net/conv9"), "feat_1");
  EXPECT_EQ(m.at("net/conv4"), "feat_0");
}

TEST(HefIo, UnknownMissingAndAmbiguousOutputsAreOneLineErrors) {
  EXPECT_NE(error_of([] { map_hef_outputs(kEnds, {{"net/a", {"/enc/Conv_1"}}, {"net/b", {"/other/Conv"}}}, "x.hef"); })
                .find("'net/b' (original names: /other/Conv) is none of"),
            std::string::npos);
  EXPECT_NE(error_of([] { map_hef_outputs(kEnds, {{"net/a", {"/enc/Conv_1"}}}, "x.hef"); }).find("no HEF output carries crossing tensor 'feat_1'"),
            std::string::npos);
  EXPECT_NE(error_of([] { map_hef_outputs(kEnds, {{"net/a", {"/enc/Conv_1", "/enc/Conv_2"}}}, "x.hef"); }).find("ambiguous"),
            std::string::npos);
  EXPECT_NE(error_of([] { map_hef_outputs(kEnds, {{"net/a", {"/enc/Conv_1"}}, {"net/b", {"/enc/Conv_1"}}, {"net/c", {"/enc/Conv_2"}}}, "x.hef"); })
                .find("both carry crossing tensor 'feat_0'"),
            std::string::npos);
}

TEST(HefIo, ManifestWithoutEndNodesIsAnError) {
  const json old = {{"crossing", {{{"name", "feat_0"}, {"original_tensor", "t"}}}}};
  EXPECT_NE(error_of([&] { crossing_ends(old, "m.json"); }).find("has no end_nodes"), std::string::npos);
  EXPECT_NE(error_of([] { crossing_ends(json::object(), "m.json"); }).find("no crossing tensors"), std::string::npos);
  EXPECT_NE(error_of([] { parse_hef_input("int8"); }).find("uint8 or float32"), std::string::npos);
  const json ok = {{"crossing", {{{"name", "feat_0"}, {"end_nodes", {"/a"}}}}}};
  EXPECT_EQ(crossing_ends(ok, "m.json")[0].end_nodes, std::vector<std::string>{"/a"});
}

TEST(HefIo, PixelsRoundTripThroughTheNormalization) {
  PixelNormalization n;
  n.mean = {123.675f, 116.28f, 103.53f};
  n.std = {58.395f, 57.12f, 57.375f};
  HostTensor f(TensorSpec{"images", 1, {1, 3, 2, 2}}), px(TensorSpec{"images", 2, {1, 2, 2, 3}});
  const uint8_t pixels[12] = {0, 1, 2, 127, 128, 129, 200, 254, 255, 17, 99, 3};  // NHWC
  for (size_t p = 0; p < 4; ++p)
    for (size_t c = 0; c < 3; ++c) f.as<float>()[c * 4 + p] = (float(pixels[p * 3 + c]) - n.mean[c]) / n.std[c];
  float_nchw_to_pixels_nhwc(f, n, px);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(px.as<uint8_t>()[i], pixels[i]) << i;
}

TEST(HefIo, SplitRecordsEndNodesAndTheHefInput) {
  const fs::path d = temp_dir("hef_io_manifest");
  const fs::path model = d / "demo.onnx";
  {
    std::string b;
    build_demo_detector().SerializeToString(&b);
    std::ofstream(model, std::ios::binary) << b;
  }
  SplitOptions so;
  so.model = model;
  so.out_dir = d;
  so.verify = false;
  const auto r = split_model(so);
  const auto ends = crossing_ends(r.manifest, "m");
  ASSERT_EQ(ends.size(), r.stages.renamed.size());
  // Each end node is stage1's node that writes the crossing tensor.
  for (const auto& e : ends) {
    bool found = false;
    for (const auto& n : r.stages.stage1.graph().node())
      if (n.name() == e.end_nodes[0])
        for (const auto& o : n.output()) found |= o == e.tensor;
    EXPECT_TRUE(found) << e.tensor << " " << e.end_nodes[0];
  }
  const auto h = hef_input_record(r.manifest);
  EXPECT_EQ(h.format, HefInput::uint8);
  EXPECT_FLOAT_EQ(h.norm.std[0], 255.0f);  // the default /255, no mean/std
  EXPECT_FLOAT_EQ(h.norm.mean[0], 0.0f);
  // --backend hailo (or --hef-input) without a manifest, or with one lacking end_nodes: one line, exit 2.
  json old = r.manifest;
  for (auto& c : old["crossing"]) c.erase("end_nodes");
  std::ofstream(d / "old_split.json") << dump_json(old);
  const auto cli = run_cli(fmt::format("bench --backend hailo --hef '{}' --manifest '{}' --frames 1",
                                       (d / "x.hef").string(), (d / "old_split.json").string()), "hef_old");
  EXPECT_EQ(cli.exit_code, 2) << cli.err;
  EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;
  EXPECT_NE(cli.err.find("npusplit: error:"), std::string::npos) << cli.err;
}

TEST(HefIo, OrtStage1FedPixelsGivesTheSameDetectionsOnTheDemoModel) {
  const fs::path d = temp_dir("hef_io_demo");
  const fs::path model = d / "demo.onnx";
  {
    std::string b;
    build_demo_detector().SerializeToString(&b);
    std::ofstream(model, std::ios::binary) << b;
  }
  expect_same_detections(model, d, draw_demo_picture(128), 1e-3);
}

TEST(HefIo, OrtStage1FedPixelsGivesTheSameDetectionsOnDeimv2) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  expect_same_detections(model, temp_dir("hef_io_deimv2"), read_image(shared_image("chelsea.png").string()), 0.05);
}
