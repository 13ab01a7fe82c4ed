// Calibration set, 8-bit emulation and the DFC bundle (issue 11): the .npy header against the
// format spec, preprocessing equal to run's, Q/DQ in ONNX Runtime against the closed-form
// quantization error, the report on a split, the bundle's content and Python syntax, bad input.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "npusplit/app/demo_model.h"
#include "npusplit/app/split.h"
#include "npusplit/base/sha256.h"
#include "npusplit/bundle/dfc_bundle.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/calib/npy.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/detect/preprocess_record.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/media/inputs.h"
#include "npusplit/quant/emulate.h"
#include "npusplit/quant/qdq.h"
#include "npusplit/quant/quantize.h"
#include "npusplit/report/quant_report.h"
#include "npusplit/ort/ort_util.h"
#include "test_support.h"

using namespace npusplit;
using namespace npusplit::test;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<float> npy_floats(const fs::path& p) {
  const auto info = read_npy_header(p);
  const std::string all = slurp(p);
  std::vector<float> v(size_t(info.numel()));
  std::memcpy(v.data(), all.data() + info.data_offset, v.size() * sizeof(float));
  return v;
}

std::string model_bytes(const onnx::ModelProto& m) {
  std::string b;
  m.SerializeToString(&b);
  return b;
}

// x [1,1,1,N] -> 1x1 Conv with weight W (per output channel) -> y [1,C,1,N].
onnx::ModelProto conv_model(int64_t n, const std::vector<float>& w, int opset = 17) {
  ModelBuilder b(opset);
  const auto x = b.input("x", {1, 1, 1, n});
  const auto wt = b.weight("w", {int64_t(w.size()), 1, 1, 1}, w);
  const auto y = b.node("Conv", "conv", {x, wt});
  b.model().mutable_graph()->mutable_node(0)->set_output(0, "y");
  (void)y;
  b.output("y", {1, int64_t(w.size()), 1, n});
  return b.build();
}

HostTensor ramp(int64_t n, float lo, float hi) {
  HostTensor t(TensorSpec{"x", 1, {1, 1, 1, n}});
  for (int64_t i = 0; i < n; ++i) t.as<float>()[i] = lo + (hi - lo) * float(i) / float(n - 1);
  return t;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// .npy

TEST(Npy, HeaderIsByteForByteTheFormatSpec) {
  // Spec: magic \x93NUMPY, version 1.0, uint16 little-endian header length, then the dict as
  // Python writes it, padded with spaces and ended by '\n' so the data starts at a multiple of 64.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string expected = std::string("\x93NUMPY", 6) + std::string("\x01\x00", 2);
  const size_t hlen = 128 - 10;  // 10 + len(dict) 59 + '\n' = 70 bytes, rounded up to 128
  expected += char(hlen & 0xff);
  expected += char(hlen >> 8);
  expected += dict + std::string(hlen - dict.size() - 1, ' ') + "\n";
  EXPECT_EQ(npy_header_f32({2, 3}), expected);
  EXPECT_EQ(expected.size(), 128u);
  EXPECT_EQ(expected[8], 'v');  // 118, as NumPy writes it for this dict

  // One dimension: Python's one-element tuple "(5,)".
  const std::string h1 = npy_header_f32({5});
  EXPECT_NE(h1.find("'shape': (5,), }"), std::string::npos);
  EXPECT_EQ(h1.size() % 64, 0u);
  EXPECT_EQ(h1.back(), '\n');
  // A calibration set's header, and the same header padded to a fixed length (the streamed file
  // is written with the count wanted, then rewritten with the count read).
  const std::string big = npy_header_f32({1024, 640, 640, 3});
  EXPECT_EQ(big.size(), 128u);
  EXPECT_NE(big.find("(1024, 640, 640, 3)"), std::string::npos);
  const std::string small = npy_header_f32({7, 640, 640, 3}, big.size());
  EXPECT_EQ(small.size(), big.size());
  EXPECT_EQ(uint8_t(small[8]) | uint8_t(small[9]) << 8, int(big.size() - 10));
  EXPECT_NE(error_of([] { npy_header_f32({1024, 640, 640, 3}, 64); }).find("cannot fit"), std::string::npos);
}

TEST(Npy, ReadsBackWhatItWritesAndRefusesBrokenFiles) {
  const auto d = temp_dir("npy_read");
  std::string bytes = npy_header_f32({2, 2, 2, 3});
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  write_file_atomic(d / "a.npy", bytes);
  const auto info = read_npy_header(d / "a.npy");
  EXPECT_EQ(info.shape, (std::vector<int64_t>{2, 2, 2, 3}));
  EXPECT_EQ(info.data_offset % 64, 0u);
  EXPECT_EQ(npy_floats(d / "a.npy"), v);
  write_file_atomic(d / "short.npy", bytes.substr(0, bytes.size() - 4));
  EXPECT_NE(error_of([&] { read_npy_header(d / "short.npy"); }).find("truncated"), std::string::npos);
  write_file_atomic(d / "text.npy", "hello");
  EXPECT_NE(error_of([&] { read_npy_header(d / "text.npy"); }).find("not a NumPy"), std::string::npos);
}

// ------------------------------------------------------------------------------------------
// Preprocessing

TEST(Preprocess, CalibrationFramesAreRunsInputExactly) {
  cv::Mat img(37, 53, CV_8UC3);
  cv::randu(img, 0, 256);
  for (bool letterbox : {false, true})
    for (bool bgr : {false, true}) {
      PreprocessOptions o;
      o.letterbox = letterbox;
      o.bgr = bgr;
      o.mean = std::array<float, 3>{0.485f, 0.456f, 0.406f};
      o.std = std::array<float, 3>{0.229f, 0.224f, 0.225f};
      HostTensor t(TensorSpec{"images", 1, {1, 3, 24, 32}});
      image_to_tensor(img, t, o);
      ImageTransform tr;
      const cv::Mat resized = resize_for_model(img, 32, 24, o, tr);
      std::vector<float> nhwc(24 * 32 * 3), raw(24 * 32 * 3);
      pixels_to_nhwc(resized, o, false, nhwc.data());
      pixels_to_nhwc(resized, o, true, raw.data());
      for (int y = 0; y < 24; ++y)
        for (int x = 0; x < 32; ++x)
          for (int c = 0; c < 3; ++c) {
            const size_t i = size_t((y * 32 + x) * 3 + c);
            ASSERT_EQ(nhwc[i], t.as<float>()[c * 24 * 32 + y * 32 + x]) << letterbox << bgr;
            // The raw pixel through the manifest's formula is the model input, bit for bit.
            ASSERT_EQ(raw[i], std::floor(raw[i]));
            const float back = (raw[i] / o.scale - (*o.mean)[size_t(c)]) / (*o.std)[size_t(c)];
            ASSERT_EQ(back, nhwc[i]);
          }
    }
}

TEST(Preprocess, DefaultIsTheOldRunPreprocessing) {
  // Before the record existed run did v = pixel / 255 in RGB: the defaults must not change it.
  cv::Mat img(16, 16, CV_8UC3);
  cv::randu(img, 0, 256);
  HostTensor t(TensorSpec{"images", 1, {1, 3, 16, 16}});
  image_to_tensor(img, t, {});
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(t.as<float>()[c * 256 + y * 16 + x], img.at<cv::Vec3b>(y, x)[2 - c] / 255.0f);
}

TEST(Preprocess, RecordRoundTripsAndIsDetected) {
  ModelBuilder b(17);
  const auto x = b.input("images", {1, 3, 48, 64});
  const auto s = b.node("Sub", "norm_sub", {x, b.weight("m", {1, 3, 1, 1}, {0.5f, 0.5f, 0.5f})});
  b.model().mutable_graph()->mutable_node(0)->set_output(0, "y");
  (void)s;
  b.output("y", {1, 3, 48, 64});
  PreprocessOverrides given;
  given.letterbox = true;
  given.std = std::array<float, 3>{0.25f, 0.5f, 1.0f};
  const auto rec = detect_preprocess(b.build(), given);
  EXPECT_EQ(rec.input, "images");
  EXPECT_EQ(rec.width, 64);
  EXPECT_EQ(rec.height, 48);
  EXPECT_TRUE(rec.options.letterbox);
  EXPECT_EQ(rec.source.at("resize"), "given");
  EXPECT_EQ(rec.source.at("channels"), "default");
  ASSERT_FALSE(rec.notes.empty());
  EXPECT_NE(rec.notes[0].find("normalizes its input itself"), std::string::npos);
  const auto back = preprocess_from_json(preprocess_json(rec), "m.json");
  EXPECT_EQ(back.width, 64);
  EXPECT_TRUE(back.options.letterbox);
  ASSERT_TRUE(back.options.std);
  EXPECT_EQ((*back.options.std)[1], 0.5f);
  EXPECT_FALSE(back.options.mean);
  EXPECT_NE(error_of([] { parse_triplet("1,2", "--mean"); }).find("three"), std::string::npos);
  EXPECT_NE(error_of([] { parse_triplet("1,x,2", "--mean"); }).find("not a number"), std::string::npos);
}

// ------------------------------------------------------------------------------------------
// Quantization arithmetic and Q/DQ in ONNX Runtime

TEST(Quantize, SqnrOfAUniformRampIsTheClosedForm) {
  // Uniform rounding with step D on a signal uniform over [0, A]: noise D^2/12, power A^2/3,
  // SQNR = 20 log10(2 * 255) = 54.15 dB at 8 bits; over [-A, A]: 20 log10(255) = 48.13 dB.
  const int64_t n = 1 << 18;
  for (auto [lo, want8] : {std::pair{0.0f, 20 * std::log10(510.0)}, std::pair{-1.0f, 20 * std::log10(255.0)}}) {
    const auto x = ramp(n, lo, 1.0f);
    std::vector<float> q(x.as<float>(), x.as<float>() + n);
    fake_quant_inplace(q.data(), q.size(), activation_params(lo, 1.0f, 8));
    SqnrAccumulator acc;
    acc.add(x.as<float>(), q.data(), size_t(n));
    EXPECT_NEAR(acc.db(), want8, 0.05) << lo;
    std::vector<float> q16(x.as<float>(), x.as<float>() + n);
    fake_quant_inplace(q16.data(), q16.size(), activation_params(lo, 1.0f, 16));
    SqnrAccumulator a16;
    a16.add(x.as<float>(), q16.data(), size_t(n));
    // 8 more bits: 48.2 dB more (20 log10 257 for the step ratio 65535/255).
    EXPECT_NEAR(a16.db() - acc.db(), 20 * std::log10(65535.0 / 255.0), 0.1);
  }
  // A narrow signal in a wide range (a score tensor next to large values): few levels, low SQNR.
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) / 999.0f;  // [0, 1]
  const auto p = activation_params(0.0f, 40.0f, 8);                  // range set by a larger part
  EXPECT_LE(distinct_levels(v.data(), v.size(), p), 8);
  std::vector<float> q = v;
  fake_quant_inplace(q.data(), q.size(), p);
  SqnrAccumulator bad;
  bad.add(v.data(), q.data(), v.size());
  EXPECT_LT(bad.db(), 30.0);
}

TEST(Quantize, QdqInOnnxRuntimeEqualsTheHostQuantizerWithinHalfAStep) {
  // x ramp -> identity 1x1 conv (weight 1: exact in int8) -> y, Q/DQ on x and on y.
  const int64_t n = 4096;
  const auto m = conv_model(n, {1.0f});
  const auto x = ramp(n, -0.3f, 2.0f);
  QdqPlan plan;
  plan.activations["x"] = activation_params(-0.3f, 2.0f, 8);
  plan.activations["y"] = activation_params(-0.3f, 2.0f, 8);
  const auto q = insert_qdq(m, plan);
  EXPECT_EQ(q.activation_pairs, 2);
  EXPECT_EQ(q.weight_pairs, 1);
  auto s = make_session(model_bytes(q.model), OrtOptions{}, "qdq");
  const auto out = run_session(s, {x});
  const float* y = out.at(0).as<float>();
  const auto& p = plan.activations["x"];
  SqnrAccumulator acc;
  acc.add(x.as<float>(), y, size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const float host = fake_quant(fake_quant(x.as<float>()[i], p), p);
    ASSERT_EQ(y[i], host) << i;  // ORT's QuantizeLinear rounds as the host quantizer does
    ASSERT_LE(std::abs(y[i] - x.as<float>()[i]), p.scale / 2 * 1.0001f) << i;
  }
  EXPECT_GT(acc.db(), 40.0);
  EXPECT_LT(acc.db(), 60.0);
}

TEST(Quantize, PerChannelWeightsKeepASmallChannelPerTensorLosesIt) {
  // Two output channels, weights 1 and 0.002: one int8 scale for both (1/127) rounds the small
  // one to 0; per-channel scales keep it.
  const int64_t n = 64;
  const auto m = conv_model(n, {1.0f, 0.002f});
  const auto x = ramp(n, 0.0f, 1.0f);
  auto f = make_session(model_bytes(m), OrtOptions{}, "float");
  const auto ref = run_session(f, {x}).at(0);
  double err[2] = {0, 0};
  int k = 0;
  for (auto g : {WeightGranularity::per_channel, WeightGranularity::per_tensor}) {
    QdqPlan plan;
    plan.weights = g;
    auto s = make_session(model_bytes(insert_qdq(m, plan).model), OrtOptions{}, "q");
    const auto y = run_session(s, {x}).at(0);
    for (int64_t i = 0; i < n; ++i) err[k] = std::max(err[k], double(std::abs(y.as<float>()[n + i] - ref.as<float>()[n + i])));
    ++k;
  }
  EXPECT_LT(err[0], 0.002 / 127);  // per channel: within half a step of the small channel's scale
  EXPECT_NEAR(err[1], 0.002, 1e-6);  // per tensor: the channel is gone (all zeros)
}

TEST(Quantize, ActivationTensorsSkipConstantsAndExposeKeepsOutputs) {
  ModelBuilder b(17);
  const auto x = b.input("x", {1, 4});
  const auto c = b.node("Add", "const_add", {b.scalar("a", 1.0f), b.scalar("bb", 2.0f)});  // constants only
  const auto y = b.node("Mul", "mul", {x, c});
  b.output(y, {1, 4});
  const auto m = b.build();
  const auto acts = activation_tensors(m);
  EXPECT_EQ(acts, (std::vector<std::string>{"x", y}));
  const auto e = expose_tensors(m, {"x", y});
  EXPECT_EQ(e.graph().output_size(), 2);
}

// ------------------------------------------------------------------------------------------
// quant + bundle on a split made in the test (the demo detector: conv backbone on the NPU)

namespace {

struct DemoSplit {
  fs::path dir, manifest;
  std::vector<std::string> images;
  std::optional<CalibBundle> calib;  // split --calib (the images)
};

DemoSplit demo_split(const std::string& name, bool with_calib = false) {
  DemoSplit d;
  d.dir = temp_dir(name);
  save_model(build_demo_detector(), d.dir / "det.onnx");
  for (int i = 0; i < 3; ++i) {
    const auto p = d.dir / ("pic" + std::to_string(i) + ".png");
    cv::Mat pic = draw_demo_picture(160 + 32 * i);
    cv::imwrite(p.string(), pic);
    d.images.push_back(p.string());
  }
  SplitOptions o;
  o.model = d.dir / "det.onnx";
  o.out_dir = d.dir / "out";
  o.preprocess.mean = std::array<float, 3>{0.1f, 0.2f, 0.3f};
  o.preprocess.std = std::array<float, 3>{0.5f, 0.5f, 0.5f};
  if (with_calib) o.calib_images = d.images;
  auto r = split_model(o);
  d.manifest = r.manifest_path;
  d.calib = std::move(r.calib);
  return d;
}

}  // namespace

TEST(QuantFlow, SplitRecordsPreprocessCalibQuantAndBundle) {
  const auto d = demo_split("quant_flow", true);
  const auto man = load_split_manifest(d.manifest);
  ASSERT_TRUE(man.contains("preprocess"));
  EXPECT_EQ(man["preprocess"]["width"], 128);
  EXPECT_EQ(man["preprocess"]["source"]["mean"], "given");

  ASSERT_TRUE(d.calib) << "split --calib writes the calibration set, the emulation and the bundle";
  const CalibBundle& r = *d.calib;
  // One set with the stages: the manifest names each bundle file with its hash, nothing is left behind.
  EXPECT_EQ(pending_temp_files(), 0);
  ASSERT_TRUE(man.contains("calib_bundle"));
  EXPECT_EQ(man["calib_bundle"]["calib"]["file"], "det_calib.npy");
  EXPECT_EQ(man["calib_bundle"]["calib"]["shape"], (std::vector<int64_t>{3, 128, 128, 3}));
  EXPECT_EQ(man["calib_bundle"]["calib"]["inputs"], d.images) << "what the set was made from";
  EXPECT_EQ(man["calib_bundle"]["alls"]["sha256"], sha256_hex(slurp(d.dir / "out" / "det.alls")));
  EXPECT_EQ(man["calib_bundle"]["dfc_script"]["sha256"], sha256_hex(slurp(d.dir / "out" / "det_dfc.py")));
  EXPECT_EQ(r.calib_path, d.dir / "out" / "det_calib.npy");
  EXPECT_EQ(r.quant.calib, r.calib_path) << "the report names the set by its final name, not the temporary one";
  EXPECT_EQ(r.quant.manifest, d.manifest);
  // calib: [3,128,128,3] 0-255 pixels; the first frame is run's preprocessing of pic0 before the
  // arithmetic (name order; the seed only matters when there are more images than --count).
  EXPECT_EQ(r.calib.shape, (std::vector<int64_t>{3, 128, 128, 3}));
  ASSERT_FALSE(r.calib.warnings.empty());
  EXPECT_NE(r.calib.warnings.back().find("1024"), std::string::npos);
  const auto v = npy_floats(r.calib_path);
  PreprocessOptions po;
  ImageTransform tr;
  const cv::Mat resized = resize_for_model(cv::imread(d.images[0]), 128, 128, po, tr);
  std::vector<float> want(128 * 128 * 3);
  pixels_to_nhwc(resized, po, true, want.data());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), v.begin()));

  // quant: every crossing tensor with its figures; 16 bits beat 8 by >= 40 dB.
  const auto& q = r.quant;
  EXPECT_EQ(q.frames, 3);
  EXPECT_TRUE(q.calib_pixels);
  ASSERT_FALSE(q.crossing.empty());
  EXPECT_GT(q.activation_pairs, 0);
  EXPECT_GT(q.weight_pairs, 0);
  for (const auto& c : q.crossing) {
    EXPECT_LE(c.min, c.max);
    if (std::isfinite(c.sqnr8_db)) {
      EXPECT_GE(c.sqnr16_db - c.sqnr8_db, 40.0) << c.name;
    }
    EXPECT_EQ(c.effect8.size(), q.outputs.size());
  }
  ASSERT_FALSE(q.outputs.empty());
  ASSERT_TRUE(q.drift);  // label_xyxy_score: a DETR layout
  EXPECT_EQ(q.drift->frames, 3);
  const json j = quant_json(q);
  EXPECT_EQ(j["schema"], "npusplit.quant/1");
  EXPECT_NE(j["caveat"].get<std::string>().find("never the DFC's result"), std::string::npos);
  EXPECT_TRUE(j.contains("detection_drift"));

  // bundle: the normalization on pixels is scale*mean, scale*std; calibset_size = frames.
  const std::string alls = slurp(d.dir / "out" / "det.alls");
  EXPECT_NE(alls.find("normalization1 = normalization([25.5, 51.0, 76.5], [127.5, 127.5, 127.5])"), std::string::npos)
      << alls;
  EXPECT_NE(alls.find("model_optimization_config(calibration, batch_size=3, calibset_size=3)"), std::string::npos);
  EXPECT_NE(alls.find("8-bit SQNR"), std::string::npos);
  EXPECT_NE(alls.find("npusplit did not run the Dataflow Compiler"), std::string::npos);
  const std::string py = slurp(d.dir / "out" / "det_dfc.py");
  EXPECT_NE(py.find("translate_onnx_model(ONNX, NET, start_node_names=START_NODES, end_node_names=END_NODES"),
            std::string::npos);
  EXPECT_NE(py.find("ONNX = os.path.join(HERE, 'det_stage1.onnx')"), std::string::npos);
  EXPECT_NE(py.find("original_names"), std::string::npos);
  EXPECT_NE(py.find("runner.optimize(calib)"), std::string::npos);
  EXPECT_NE(py.find("recommended"), std::string::npos);
  if (std::system("python3 -c pass >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 absent: py_compile not run";
  const auto pyc = d.dir / "pyc";
  const std::string cmd = "python3 -c \"import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                          "doraise=True)\" '" + (d.dir / "out" / "det_dfc.py").string() + "' '" + pyc.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "the generated script is not valid Python";
}

// A split --calib that fails leaves the previous set whole: a --calib naming nothing usable fails
// before any work, one that fails while writing the calibration set writes nothing at all.
TEST(QuantFlow, FailedSplitCalibLeavesThePreviousSet) {
  const auto d = demo_split("quant_calib_fail");
  const std::string before = slurp(d.manifest);
  const std::string split = "split '" + (d.dir / "det.onnx").string() + "' -o '" + (d.dir / "out").string() + "'";
  auto r = run_cli(split + " --calib '" + (d.dir / "no_such_folder").string() + "'", "calib_missing");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("no readable image or video"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing was split";
  fs::create_directories(d.dir / "broken");
  write_file_atomic(d.dir / "broken" / "a.png", "not a png");
  r = run_cli(split + " --calib '" + (d.dir / "broken").string() + "'", "calib_broken_only");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(slurp(d.manifest), before) << "the earlier manifest (and the stages it hashes) stay";
  EXPECT_FALSE(fs::exists(d.dir / "out" / "det_calib.npy"));
  EXPECT_FALSE(fs::exists(d.dir / "out" / "det.alls"));
  for (const auto& e : fs::directory_iterator(d.dir / "out"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  r = run_cli(split + " --calib-count 3", "calib_count_alone");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--calib-count needs --calib"), std::string::npos) << r.err;
}

TEST(QuantFlow, RunReadsThePreprocessingFromTheManifest) {
  const auto d = demo_split("quant_run_manifest");
  const auto s1 = d.dir / "out" / "det_stage1.onnx";
  ASSERT_EQ(manifest_beside_stage1(s1).value_or(""), d.manifest);
  auto r = run_cli("run --stage1 '" + s1.string() + "' --stage2 '" + (d.dir / "out" / "det_stage2.onnx").string() +
                       "' '" + d.images[0] + "' -o '" + (d.dir / "res").string() + "'",
                   "run_manifest");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("preprocess RGB, plain resize, /255, mean 0.1,0.2,0.3, std 0.5,0.5,0.5"), std::string::npos)
      << r.err;
  // --manifest alone names the stages too.
  r = run_cli("run --manifest '" + d.manifest.string() + "' '" + d.images[0] + "' -o '" + (d.dir / "res2").string() + "'",
              "run_manifest2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("mean 0.1,0.2,0.3"), std::string::npos) << r.err;
  // An option given overrides the record.
  r = run_cli("run --manifest '" + d.manifest.string() + "' --mean 0,0,0 '" + d.images[0] + "' -o '" +
                  (d.dir / "res3").string() + "'",
              "run_manifest3");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("mean 0,0,0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("with the options given"), std::string::npos) << r.err;
}

TEST(QuantFlow, BadInputIsOneLineAndNoPartialNpy) {
  const auto d = demo_split("quant_bad");
  const auto out = d.dir / "c.npy";
  const std::string m = " --manifest '" + d.manifest.string() + "' -o '" + out.string() + "'";
  fs::create_directories(d.dir / "empty");
  auto r = run_cli("calib '" + (d.dir / "empty").string() + "'" + m, "calib_empty");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("npusplit: error:"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
  write_file_atomic(d.dir / "broken.png", "not a png");
  r = run_cli("calib '" + (d.dir / "broken.png").string() + "'" + m, "calib_broken");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli("calib '" + (d.dir / "broken.png").string() + "' '" + d.images[1] + "' --count 5" + m, "calib_some");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("broken.png"), std::string::npos);
  EXPECT_NE(r.err.find("--count 5"), std::string::npos);  // more than the inputs hold: a warning
  EXPECT_EQ(read_npy_header(out).shape[0], 1);
  r = run_cli("calib '" + d.images[1] + "' --count 0" + m, "calib_zero");
  EXPECT_EQ(r.exit_code, 2);
  // A calibration set of another size is refused by quant.
  std::string bytes = npy_header_f32({1, 64, 64, 3});
  bytes.append(64 * 64 * 3 * 4, '\0');
  write_file_atomic(d.dir / "other.npy", bytes);
  r = run_cli("quant '" + d.manifest.string() + "' --calib '" + (d.dir / "other.npy").string() + "'", "quant_other");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("another model"), std::string::npos) << r.err;
  r = run_cli("quant '" + (d.dir / "det.onnx").string() + "' --calib '" + out.string() + "'", "quant_not_manifest");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(pending_temp_files(), 0);
}

TEST(QuantFacts, MatchTheCode) {
  const auto y = YAML::LoadFile((fs::path(NPUSPLIT_SOURCE_DIR) / "rules" / "quant" / "hailo_quant.yaml").string());
  const auto f = y["facts"];
  EXPECT_EQ(f["calibset_size"]["value"].as<int64_t>(), kDfcCalibrationSize);
  EXPECT_EQ(f["a16_sqnr_threshold_db"]["value"].as<double>(), kA16SqnrThresholdDb);
  EXPECT_EQ(f["mixed_range_ratio"]["value"].as<double>(), kMixedRangeRatio);
  for (const auto& kv : f) {
    EXPECT_TRUE(kv.second["evidence"]) << kv.first.as<std::string>();
    EXPECT_TRUE(kv.second["source"]) << kv.first.as<std::string>();
  }
}

// ------------------------------------------------------------------------------------------
// The real-weight model (PicoDet layout): the acceptance figures need trained weights.

TEST(QuantReal, PicodetLayoutSplitCalibQuant) {
  NPUSPLIT_REQUIRE_SHARED();
  const auto model = shared_dir() / "models" / "real" / "picodet_layout_cdla.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << "picodet_layout_cdla.onnx absent";
  const auto d = temp_dir("quant_picodet");
  SplitOptions o;
  o.model = model;
  o.out_dir = d;
  o.preprocess.mean = std::array<float, 3>{0.485f, 0.456f, 0.406f};
  o.preprocess.std = std::array<float, 3>{0.229f, 0.224f, 0.225f};
  o.calib_images = {(shared_dir() / "models" / "real" / "document_page1.png").string(),
                    (shared_dir() / "models" / "real" / "document_page2.png").string()};
  const auto s = split_model(o);
  ASSERT_TRUE(s.calib);
  const CalibBundle& r = *s.calib;
  ASSERT_FALSE(r.quant.crossing.empty());
  for (const auto& c : r.quant.crossing) {
    ASSERT_TRUE(std::isfinite(c.sqnr8_db)) << c.name;
    EXPECT_GE(c.sqnr16_db - c.sqnr8_db, 40.0) << c.name;
    EXPECT_GT(c.sqnr8_db, 10.0) << c.name;  // trained weights: far from noise
  }
  for (const auto& x : r.quant.outputs) EXPECT_GT(x.sqnr_db, 5.0) << x.output;
}

TEST(Quantize, QdqGoesAfterTheFusedLayerNotBetweenItsOps) {
  // conv -> BN -> Relu: one layer on the NPU, one quantization point (after the Relu).
  // a -> Sigmoid -> Mul(a, .): SiLU, one activation; b -> Add 3 -> Clip -> Mul(b, .) -> Div 6: hard-swish.
  ModelBuilder b(17);
  const auto x = b.input("x", {1, 2, 4, 4});
  const auto conv = b.node("Conv", "conv", {x, b.random_weight("w", {2, 2, 1, 1})});
  const auto bn = b.node("BatchNormalization", "bn",
                         {conv, b.weight("s", {2}, {1, 1}), b.weight("bb", {2}, {0, 0}), b.weight("m", {2}, {0, 0}),
                          b.weight("v", {2}, {1, 1})});
  const auto relu = b.node("Relu", "relu", {bn});
  const auto sig = b.node("Sigmoid", "sig", {relu});
  const auto silu = b.node("Mul", "silu", {relu, sig});
  const auto add3 = b.node("Add", "add3", {silu, b.scalar("three", 3.0f)});
  const auto clip = b.node("Clip", "clip", {add3, b.scalar("lo", 0.0f), b.scalar("hi", 6.0f)});
  const auto mul = b.node("Mul", "hs_mul", {silu, clip});
  const auto hs = b.node("Div", "hs_div", {mul, b.scalar("six", 6.0f)});
  const auto two = b.node("Add", "residual", {hs, x});  // two activations: a layer of its own
  b.output(two, {1, 2, 4, 4});
  const auto m = b.build();
  const auto acts = activation_tensors(m);
  EXPECT_EQ(acts.size(), 11u);
  const auto pts = layer_outputs(m, acts);
  // silu's output feeds only the hard-swish (an activation function of the layer): not stored either.
  EXPECT_EQ(pts, (std::vector<std::string>{x, hs, two})) << fmt::format("{}", fmt::join(pts, " "));
  // The same model with every tensor quantized would store all 11.
  (void)silu;
}

namespace {

// A hand-made split: stage1 = x -> two convs (weights 1 and W) -> Concat (axis 1) and a third conv
// alone; stage2 = Identity of each. The manifest names both, with the preprocessing.
fs::path concat_split(const fs::path& d, float w) {
  ModelBuilder b(17);
  const auto x = b.input("images", {1, 3, 8, 8});
  const auto c1 = b.node("Conv", "small", {x, b.weight("w1", {1, 3, 1, 1}, {1.0f / 765, 1.0f / 765, 1.0f / 765})});
  const auto c2 = b.node("Conv", "large", {x, b.weight("w2", {1, 3, 1, 1}, {w, w, w})});
  const auto cat = b.node("Concat", "merge", {c1, c2}, {Attr::of("axis", int64_t(1))});
  b.model().mutable_graph()->mutable_node(2)->set_output(0, "hailo_stage1_feat_0");
  const auto c3 = b.node("Conv", "alone", {x, b.weight("w3", {1, 3, 1, 1}, {0.001f, 0.001f, 0.001f})});
  b.model().mutable_graph()->mutable_node(3)->set_output(0, "hailo_stage1_feat_1");
  (void)cat;
  (void)c3;
  b.output("hailo_stage1_feat_0", {1, 2, 8, 8});
  b.output("hailo_stage1_feat_1", {1, 1, 8, 8});
  save_model(b.build(), d / "t_stage1.onnx");
  ModelBuilder s(17);
  const auto i0 = s.input("hailo_stage1_feat_0", {1, 2, 8, 8});
  const auto i1 = s.input("hailo_stage1_feat_1", {1, 1, 8, 8});
  s.model().mutable_graph()->add_node();
  auto* n0 = s.model().mutable_graph()->mutable_node(0);
  n0->set_op_type("Identity"), n0->set_name("id0"), n0->add_input(i0), n0->add_output("out0");
  auto* n1 = s.model().mutable_graph()->add_node();
  n1->set_op_type("Identity"), n1->set_name("id1"), n1->add_input(i1), n1->add_output("out1");
  s.output("out0", {1, 2, 8, 8});
  s.output("out1", {1, 1, 8, 8});
  save_model(s.build(), d / "t_stage2.onnx");
  PreprocessRecord pre;
  pre.input = "images";
  pre.width = pre.height = 8;
  const json man = {{"schema", "npusplit.split/1"},
                    {"stage1", {{"file", "t_stage1.onnx"}, {"sha256", sha256_file(d / "t_stage1.onnx")}}},
                    {"stage2", {{"file", "t_stage2.onnx"}, {"sha256", sha256_file(d / "t_stage2.onnx")}}},
                    {"preprocess", preprocess_json(pre)}};
  write_file_atomic(d / "t_split.json", man.dump());
  // Two frames of pixels 0..255 (a gradient and its reverse).
  std::string bytes = npy_header_f32({2, 8, 8, 3});
  for (int f = 0; f < 2; ++f)
    for (int i = 0; i < 8 * 8 * 3; ++i) {
      const float v = std::floor(float(f ? 191 - i : i) * 255.0f / 191.0f);
      bytes.append(reinterpret_cast<const char*>(&v), 4);
    }
  write_file_atomic(d / "t_calib.npy", bytes);
  return d / "t_split.json";
}

}  // namespace

TEST(QuantFlow, AConcatOfDifferentRangesIsFlaggedAndOneOfLikeRangesIsNot) {
  for (float w : {1000.0f / 765, 1.0f / 765}) {
    const auto d = temp_dir(w > 0.1f ? "quant_mixed" : "quant_unmixed");
    QuantOptions o;
    o.manifest = concat_split(d, w);
    o.calib = d / "t_calib.npy";
    const auto r = run_quant(o);
    ASSERT_EQ(r.crossing.size(), 2u);
    EXPECT_TRUE(r.calib_pixels);
    const auto& cat = r.crossing[0];
    if (w > 0.1f) {
      ASSERT_TRUE(cat.mixed) << "parts [0,1] and [0,1000] in one tensor";
      EXPECT_EQ(cat.mixed->node, "merge");
      EXPECT_NEAR(cat.mixed->ratio, 1000.0, 1.0);
      // The small part lands on a handful of levels; the SQNR of the tensor as a whole stays
      // high (the large part dominates it): the flag, not the SQNR, tells.
      EXPECT_EQ(r.npu_merges.size(), 1u);
      const json j = quant_json(r);
      EXPECT_TRUE(j["crossing"][0].contains("mixed_range"));
      EXPECT_NE(j["crossing"][0]["mixed_range"]["fix"].get<std::string>().find("a16_w16"), std::string::npos);
    } else {
      EXPECT_FALSE(cat.mixed);
      EXPECT_TRUE(r.npu_merges.empty());
    }
    // Each crossing tensor alone changes only its own output.
    EXPECT_FALSE(std::isfinite(cat.effect8[1].sqnr_db));
    EXPECT_TRUE(std::isfinite(cat.effect8[0].sqnr_db) || cat.sqnr8_db == INFINITY);
    EXPECT_GE(cat.sqnr16_db - cat.sqnr8_db, 40.0);
  }
}

TEST(Calib, VideosGiveEvenlySpacedFramesImagesTheRest) {
  EXPECT_EQ(evenly_spaced_frames(20, 5), (std::vector<int64_t>{2, 6, 10, 14, 18}));
  EXPECT_EQ(evenly_spaced_frames(3, 10), (std::vector<int64_t>{0, 1, 2}));
  const auto d = temp_dir("calib_video");
  const auto video = d / "clip.avi";
  {
    cv::VideoWriter w(video.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25, cv::Size(64, 48));
    ASSERT_TRUE(w.isOpened()) << "OpenCV cannot write MJPEG here";
    for (int f = 0; f < 20; ++f) w.write(cv::Mat(48, 64, CV_8UC3, cv::Scalar(f * 12, 255 - f * 12, 128)));
  }
  for (int i = 0; i < 2; ++i) cv::imwrite((d / ("img" + std::to_string(i) + ".png")).string(), draw_demo_picture(64));
  CalibOptions o;
  o.inputs = {(d / "img0.png").string(), (d / "img1.png").string(), video.string()};
  o.preprocess.width = 32;
  o.preprocess.height = 24;
  o.count = 6;
  o.out = d / "c.npy";
  const auto r = write_calibration_set(o);
  EXPECT_EQ(r.available, 22);
  EXPECT_EQ(r.shape[0], 6);
  EXPECT_EQ(r.video_frames, 5);  // round(6 * 20 / 22)
  EXPECT_EQ(r.images, 1);
  // The video frames are 2, 6, 10, 14, 18, decoded and preprocessed as run does.
  const auto v = npy_floats(o.out);
  MediaInput in;
  in.spec = video.string();
  in.path = video;
  in.kind = MediaKind::video;
  FrameSource src(in);
  cv::Mat bgr;
  std::vector<float> want(32 * 24 * 3);
  size_t k = 0;
  for (int64_t f = 0; src.next(bgr); ++f) {
    if (k >= 5 || f != evenly_spaced_frames(20, 5)[k]) continue;
    ImageTransform tr;
    pixels_to_nhwc(resize_for_model(bgr, 32, 24, o.preprocess.options, tr), o.preprocess.options, true, want.data());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), v.begin() + long((1 + k) * want.size()))) << "frame " << f;
    ++k;
  }
  EXPECT_EQ(k, 5u);
}
