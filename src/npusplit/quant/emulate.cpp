#include "npusplit/quant/emulate.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "npusplit/base/sha256.h"
#include "npusplit/calib/npy.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/io/split_manifest.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/runtime/stage.h"
#include "npusplit/report/format.h"
#include "npusplit/base/progress.h"
#include "npusplit/ort/ort_util.h"

namespace npusplit {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;


namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string bytes_of(const onnx::ModelProto& m) {
  std::string b;
  if (!m.SerializeToString(&b)) fail("model too large to serialize");
  return b;
}

// Reads frame I of a float32 NHWC .npy.
class CalibReader {
 public:
  explicit CalibReader(const fs::path& p) : info_(read_npy_header(p)), f_(p, std::ios::binary) {
    if (info_.shape.size() != 4 || info_.shape[3] != 3)
      fail("{}: a calibration set is float32 [N,H,W,3] (NHWC); this one is {}", p.string(), dims_str(info_.shape));
    if (info_.shape[0] == 0) fail("{}: the calibration set holds no frame", p.string());
  }
  int64_t frames() const { return info_.shape[0]; }
  int64_t height() const { return info_.shape[1]; }
  int64_t width() const { return info_.shape[2]; }
  void read(int64_t i, std::vector<float>& buf) {
    const size_t n = size_t(height() * width() * 3);
    buf.resize(n);
    f_.seekg(std::streamoff(info_.data_offset + size_t(i) * n * sizeof(float)));
    f_.read(reinterpret_cast<char*>(buf.data()), std::streamsize(n * sizeof(float)));
    if (size_t(f_.gcount()) != n * sizeof(float)) fail("calibration set: frame {} could not be read", i);
  }

 private:
  NpyInfo info_;
  std::ifstream f_;
};

bool looks_like_pixels(const std::vector<float>& v) {
  for (float x : v)
    if (!(x >= 0 && x <= 255) || x != std::floor(x)) return false;
  return true;
}

// NHWC frame -> the model input tensor, with the manifest's arithmetic when the frame holds
// pixels (the same expression, in the same order, as detect/preprocess.cpp).
void frame_to_input(const std::vector<float>& nhwc, bool pixels, const PreprocessRecord& pre, HostTensor& t) {
  const auto& d = t.spec.dims;
  float* out = t.as<float>();
  const std::array<float, 3> mean = pre.options.mean.value_or(std::array<float, 3>{0, 0, 0});
  const std::array<float, 3> stdv = pre.options.std.value_or(std::array<float, 3>{1, 1, 1});
  const bool nchw = d[1] == 3;
  const int64_t H = nchw ? d[2] : d[1], W = nchw ? d[3] : d[2];
  const size_t plane = size_t(H * W);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) {
        const float p = nhwc[size_t((y * W + x) * 3 + c)];
        const float v = pixels ? (p / pre.options.scale - mean[size_t(c)]) / stdv[size_t(c)] : p;
        if (nchw) out[size_t(c) * plane + size_t(y * W + x)] = v;
        else out[size_t((y * W + x) * 3 + c)] = v;
      }
}

const HostTensor& by_name(const std::vector<HostTensor>& v, const std::string& n) {
  for (const auto& t : v)
    if (t.name() == n) return t;
  fail("internal: tensor '{}' missing", n);
}

double iou(const Detection& a, const Detection& b) {
  const float ix = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float iy = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double inter = double(ix) * iy;
  const double ua = double(a.x2 - a.x1) * (a.y2 - a.y1) + double(b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  if (ua > 0) return inter / ua;
  // Zero-area boxes (random-weight exports make them): the same box is a match, any other is not.
  return a.x1 == b.x1 && a.y1 == b.y1 && a.x2 == b.x2 && a.y2 == b.y2 ? 1.0 : 0.0;
}

void add_drift(DetectionDrift& d, const std::vector<Detection>& ref, const std::vector<Detection>& q, int top,
               double min_iou, double& iou_sum, double& score_sum) {
  std::vector<char> used(q.size(), 0);
  ++d.frames;
  for (size_t i = 0; i < ref.size() && int(i) < top; ++i) {
    ++d.compared;
    double best = 0;
    size_t at = q.size();
    for (size_t j = 0; j < q.size(); ++j) {
      if (used[j]) continue;
      const double v = iou(ref[i], q[j]);
      if (v > best) best = v, at = j;
    }
    if (at == q.size() || best < min_iou) continue;
    used[at] = 1;
    ++d.kept;
    iou_sum += best;
    score_sum += std::abs(double(ref[i].score) - double(q[at].score));
    if (ref[i].class_id != q[at].class_id) ++d.class_flips;
  }
}

}  // namespace

QuantReport run_quant(const QuantOptions& o) {
  // Stage files beside the manifest, each matching its recorded SHA-256 (io/split_manifest.h).
  const SplitManifest sm = read_split_manifest(o.manifest);
  const json& man = sm.doc;
  const onnx::ModelProto s1 = load_model(sm.stage1), s2 = load_model(sm.stage2);
  QuantStages in{s1, s2, manifest_preprocess(man, o.manifest), {}, o.calib, o.manifest, sm.stage1, sm.stage2, o.calib};
  if (in.preprocess.width <= 0) in.preprocess = detect_preprocess(s1, {});
  if (man.contains("crossing"))
    for (const auto& c : man["crossing"]) in.original_of[c.value("name", "")] = c.value("original_tensor", "");
  return emulate_quant(in, o);
}

QuantReport emulate_quant(const QuantStages& in, const QuantOptions& o) {
  if (o.bits != 8 && o.bits != 16) fail("--bits: must be 8 or 16, got {}", o.bits);
  QuantReport r;
  r.manifest = in.manifest;
  r.calib = in.calib;
  r.bits = o.bits;
  r.weights = o.weights;
  r.a16_threshold_db = o.a16_threshold_db;
  r.mixed_range_ratio = o.mixed_range_ratio;
  r.stage1 = in.stage1_path;
  r.stage2 = in.stage2_path;
  const onnx::ModelProto& s1 = in.stage1;
  const onnx::ModelProto& s2 = in.stage2;
  r.preprocess = in.preprocess;

  CalibReader calib(in.calib_data);
  if (calib.width() != r.preprocess.width || calib.height() != r.preprocess.height)
    fail("{}: the calibration frames are {}x{}, the model of {} takes {}x{}: a calibration set of another model?",
         in.calib.string(), calib.width(), calib.height(), in.manifest.string(), r.preprocess.width, r.preprocess.height);
  r.frames = o.max_frames > 0 ? std::min(o.max_frames, calib.frames()) : calib.frames();
  std::vector<float> frame;
  calib.read(0, frame);
  r.calib_pixels = looks_like_pixels(frame);

  OrtOptions oo;  // graph optimizations off: the Q/DQ pairs stay where they were put
  oo.cpu_arena = false;
  auto s1_float = make_session(bytes_of(s1), oo, "stage1");
  auto s2_sess = make_session(bytes_of(s2), oo, "stage2");
  const auto in1 = session_inputs(s1_float), out1 = session_outputs(s1_float);
  const auto in2 = session_inputs(s2_sess), out2 = session_outputs(s2_sess);

  // Stage1's inputs: the image, and orig_target_sizes where a model has it.
  std::vector<HostTensor> s1_inputs;
  int image = -1;
  for (const auto& s : in1) {
    HostTensor t(s);
    if (s.dtype == onnx::TensorProto::FLOAT && s.dims.size() == 4 && image < 0) image = int(s1_inputs.size());
    else if (!is_orig_sizes_input(s)) fail("stage1 input '{}' {} cannot be filled from a calibration image", s.name, spec_str(s));
    s1_inputs.push_back(std::move(t));
  }
  if (image < 0) fail("stage1 has no float image input");
  ImageTransform tr;
  tr.src_w = tr.dst_w = r.preprocess.width;
  tr.src_h = tr.dst_h = r.preprocess.height;
  for (auto& t : s1_inputs)
    if (is_orig_sizes_input(t.spec)) fill_orig_sizes(t, tr);
  std::vector<HostTensor> s2_extra;  // stage2 inputs that are not stage1 outputs
  std::set<std::string> crossing_names;
  for (const auto& s : out1) crossing_names.insert(s.name);
  for (const auto& s : in2) {
    if (crossing_names.count(s.name)) continue;
    HostTensor t(s);
    if (!is_orig_sizes_input(s)) fail("stage2 input '{}' {} is neither a stage1 output nor orig_target_sizes", s.name, spec_str(s));
    fill_orig_sizes(t, tr);
    s2_extra.push_back(std::move(t));
  }

  // ---- pass 1: ranges of every activation
  const auto t1 = Clock::now();
  const auto acts = activation_tensors(s1);
  r.activations = int64_t(acts.size());
  std::map<std::string, RunningRange> ranges;
  {
    // Min and max are reduced inside the graph (analysis/ranges.h): one frame's tensors are never copied out.
    RangeMeter meter(s1, acts, false);
    Progress progress("quant: ranges", r.frames, Progress::Style::frames);
    for (int64_t i = 0; i < r.frames; ++i) {
      calib.read(i, frame);
      frame_to_input(frame, r.calib_pixels, r.preprocess, s1_inputs[size_t(image)]);
      meter.add(s1_inputs);
      progress.advance(i + 1);
    }
    progress.finish();
    ranges = meter.ranges();
  }
  r.ranges_s = seconds_since(t1);
  for (const auto& a : acts) r.ranges.push_back({a, ranges[a].lo, ranges[a].hi});

  // Every merge inside stage1 whose parts differ in range (one scale for the merged tensor).
  for (const auto& n : s1.graph().node())
    if (is_merge_op(n.op_type()))
      if (auto m = mixed_range_of(n, ranges, o.mixed_range_ratio)) r.npu_merges.push_back(*m);

  // ---- the emulated stage1: Q/DQ on every activation except its outputs (done on the host at --bits)
  QdqPlan plan;
  plan.weights = o.weights;
  plan.quantize_weights = o.quantize_weights;
  r.quantize_activations = o.quantize_activations;
  r.quantize_weights = o.quantize_weights;
  r.every_tensor = o.every_tensor;
  const auto points = o.every_tensor ? acts : layer_outputs(s1, acts);
  for (const auto& a : o.quantize_activations ? points : std::vector<std::string>{}) {
    if (crossing_names.count(a)) continue;
    const auto& rg = ranges[a];
    if (!rg.seen) continue;
    plan.activations[a] = activation_params(rg.lo, rg.hi, 8);
    r.quantized.push_back(a);
  }
  const QdqResult q = insert_qdq(s1, plan);
  r.activation_pairs = q.activation_pairs;
  r.weight_pairs = q.weight_pairs;
  for (const auto& n : q.notes) r.notes.push_back(n);
  auto s1_quant = make_session(bytes_of(q.model), oo, "stage1 with Q/DQ");

  // Crossing tensors, in stage1's output order, with their parameters.
  std::vector<QuantParams> p8, p16, pbits;
  for (const auto& s : out1) {
    CrossingQuant c;
    c.name = s.name;
    const auto orig = in.original_of.find(s.name);
    if (orig != in.original_of.end()) c.original_tensor = orig->second;
    c.shape = s.dims;
    const auto& rg = ranges[s.name];
    c.min = rg.lo;
    c.max = rg.hi;
    if (const auto* merge = merge_behind(s1.graph(), s.name)) c.mixed = mixed_range_of(*merge, ranges, o.mixed_range_ratio);
    r.crossing.push_back(c);
    p8.push_back(activation_params(rg.lo, rg.hi, 8));
    p16.push_back(activation_params(rg.lo, rg.hi, 16));
    pbits.push_back(o.bits == 8 ? p8.back() : p16.back());
  }

  std::vector<std::string> float_outputs;
  for (const auto& s : out2)
    if (s.dtype == onnx::TensorProto::FLOAT) float_outputs.push_back(s.name);
  std::optional<DetrLayout> layout;
  try {
    layout = detr_layout(out2);
    r.layout = layout_name(*layout);
  } catch (const Error&) {
    r.layout = "not a DETR layout (no detection drift)";
  }

  // ---- pass 2
  const auto t2 = Clock::now();
  const size_t K = r.crossing.size(), O = float_outputs.size();
  std::vector<SqnrAccumulator> own8(K), own16(K), whole(O);
  std::vector<std::vector<SqnrAccumulator>> effect(K, std::vector<SqnrAccumulator>(O));
  std::vector<int64_t> levels(K, 0);
  DetectionDrift drift;
  double iou_sum = 0, score_sum = 0;
  DecodeOptions dec;
  dec.threshold = 0;
  dec.clip = false;
  const auto stage2_run = [&](const std::vector<HostTensor>& crossing) {
    std::vector<HostTensor> in = crossing;
    for (const auto& t : s2_extra) in.push_back(t);
    return run_session(s2_sess, in);
  };
  const auto add_outputs = [&](std::vector<SqnrAccumulator>& acc, const std::vector<HostTensor>& ref,
                               const std::vector<HostTensor>& test) {
    for (size_t k = 0; k < O; ++k) {
      const auto& a = by_name(ref, float_outputs[k]);
      const auto& b = by_name(test, float_outputs[k]);
      if (a.numel() == b.numel()) acc[k].add(a.as<float>(), b.as<float>(), size_t(a.numel()));
    }
  };
  Progress progress("quant: emulation", r.frames, Progress::Style::frames);
  for (int64_t i = 0; i < r.frames; ++i) {
    calib.read(i, frame);
    frame_to_input(frame, r.calib_pixels, r.preprocess, s1_inputs[size_t(image)]);
    const auto c_float = run_session(s1_float, s1_inputs);
    const auto y_float = stage2_run(c_float);
    for (size_t k = 0; k < K; ++k) {
      const HostTensor& ref = by_name(c_float, r.crossing[k].name);
      const size_t n = size_t(ref.numel());
      std::vector<HostTensor> c = c_float;
      HostTensor* t = nullptr;
      for (auto& x : c)
        if (x.name() == ref.name()) t = &x;
      std::vector<float> v16(ref.as<float>(), ref.as<float>() + n);
      fake_quant_inplace(v16.data(), n, p16[k]);
      own16[k].add(ref.as<float>(), v16.data(), n);
      fake_quant_inplace(t->as<float>(), n, p8[k]);
      own8[k].add(ref.as<float>(), t->as<float>(), n);
      levels[k] = std::max(levels[k], distinct_levels(ref.as<float>(), n, p8[k]));
      add_outputs(effect[k], y_float, stage2_run(c));
    }
    auto c_quant = run_session(s1_quant, s1_inputs);
    for (size_t k = 0; k < K; ++k)
      for (auto& t : c_quant)
        if (t.name() == r.crossing[k].name) fake_quant_inplace(t.as<float>(), size_t(t.numel()), pbits[k]);
    const auto y_quant = stage2_run(c_quant);
    add_outputs(whole, y_float, y_quant);
    if (layout) {
      try {
        add_drift(drift, decode_detections(y_float, tr, dec), decode_detections(y_quant, tr, dec), o.drift_top,
                  o.drift_iou, iou_sum, score_sum);
      } catch (const Error& e) {
        r.notes.push_back(std::string("detection drift not measured: ") + e.what());
        layout.reset();
      }
    }
    progress.advance(i + 1);
  }
  progress.finish();
  r.emulation_s = seconds_since(t2);

  for (size_t k = 0; k < K; ++k) {
    auto& c = r.crossing[k];
    c.sqnr8_db = own8[k].db();
    c.sqnr16_db = own16[k].db();
    c.levels8 = levels[k];
    for (size_t j = 0; j < O; ++j) c.effect8.push_back({float_outputs[j], effect[k][j].db()});
    c.a16 = c.sqnr8_db < o.a16_threshold_db;
  }
  for (size_t j = 0; j < O; ++j) r.outputs.push_back({float_outputs[j], whole[j].db()});
  if (layout && drift.frames > 0) {
    drift.mean_iou = drift.kept ? iou_sum / double(drift.kept) : 0;
    drift.mean_abs_score_change = drift.kept ? score_sum / double(drift.kept) : 0;
    r.drift = drift;
  }
  if (r.frames < 1024)
    r.notes.push_back(fmt::format("{} calibration frame(s): ranges from few frames are noisy (the DFC asks for 1024)", r.frames));
  return r;
}

}  // namespace npusplit
