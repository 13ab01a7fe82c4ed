#include "npusplit/app/range_probe.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "npusplit/calib/calib_set.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/error.h"
#include "npusplit/media/inputs.h"

namespace npusplit {

namespace {

constexpr const char* kRule = "quant-mixed-range";
// rules/quant/hailo_quant.yaml one_scale_per_output (COMM) and mixed_range_ratio (INF).
constexpr const char* kSource =
    "https://community.hailo.ai/t/17956 (do not concatenate outputs of different value ranges into one NPU output); "
    "rules/quant/hailo_quant.yaml one_scale_per_output, mixed_range_ratio";

bool is_image_spec(const TensorSpec& s) {
  return s.dtype == onnx::TensorProto::FLOAT && s.dims.size() == 4 && (s.dims[1] == 3 || s.dims[3] == 3);
}

// BGR -> the model input as the recorded preprocessing makes it (NCHW or NHWC).
ImageTransform fill_image(const cv::Mat& bgr, const PreprocessOptions& o, HostTensor& t) {
  const auto& d = t.spec.dims;
  const bool nchw = d[1] == 3;
  const int H = int(nchw ? d[2] : d[1]), W = int(nchw ? d[3] : d[2]);
  ImageTransform tr;
  const cv::Mat resized = resize_for_model(bgr, W, H, o, tr);
  std::vector<float> nhwc(size_t(H) * size_t(W) * 3);
  pixels_to_nhwc(resized, o, false, nhwc.data());
  float* out = t.as<float>();
  const size_t plane = size_t(H) * size_t(W);
  if (!nchw) std::copy(nhwc.begin(), nhwc.end(), out);
  else
    for (size_t p = 0; p < plane; ++p)
      for (size_t c = 0; c < 3; ++c) out[c * plane + p] = nhwc[p * 3 + c];
  return tr;
}

// Up to MAX frames of the calibration inputs: images in name order, then video frames evenly spaced.
std::vector<cv::Mat> calib_frames(const std::vector<std::string>& specs, int64_t max) {
  std::vector<cv::Mat> out;
  for (const auto& in : expand_inputs(specs)) {
    if (int64_t(out.size()) >= max) break;
    if (!in.error.empty() || in.kind == MediaKind::camera) continue;
    try {
      FrameSource s(in);
      cv::Mat bgr;
      if (in.kind == MediaKind::image) {
        if (s.next(bgr)) out.push_back(bgr.clone());
        continue;
      }
      const int64_t want = std::max<int64_t>(1, (max - int64_t(out.size())) / 2);
      // The same evenly spaced, distinct frames the calibration set takes.
      const std::vector<int64_t> frames =
          s.frame_count() > 0 ? evenly_spaced_frames(s.frame_count(), want) : std::vector<int64_t>{0};
      size_t k = 0;
      for (int64_t f = 0; k < frames.size() && s.next(bgr); ++f)
        if (f == frames[k]) out.push_back(bgr.clone()), ++k;
    } catch (const std::exception&) {
      // calib reports unreadable inputs itself; the probe uses what it can read (a decoder's
      // own exception included)
    }
  }
  return out;
}

std::string part_text(const RangePart& p) { return fmt::format("{} [{:.3g}, {:.3g}]", p.tensor, p.min, p.max); }

}  // namespace

cv::Mat synthetic_image(int width, int height, uint32_t seed) {
  cv::Mat img(height, width, CV_8UC3);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> px(0, 255);
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<uint8_t>(y);
    for (int x = 0; x < width * 3; ++x) row[x] = uint8_t(px(rng));
  }
  return img;
}

void flag_npu_merges(Analysis& a) {
  for (auto& v : a.verdicts)
    v.findings.erase(std::remove_if(v.findings.begin(), v.findings.end(), [](const Finding& f) { return f.rule_id == kRule; }),
                     v.findings.end());
  a.ranges.npu_merges.clear();
  const Graph& g = a.model.graph();
  for (const auto& m : a.ranges.merges) {
    const int i = m.node.empty() ? -1 : g.find_node(m.node);
    if (i < 0 || a.partition.stage1.empty() || !a.partition.stage1[size_t(i)]) continue;
    a.ranges.npu_merges.push_back(m);
    std::string parts;
    for (const auto& p : m.parts) parts += (parts.empty() ? "" : ", ") + part_text(p);
    Finding f;
    f.rule_id = kRule;
    f.severity = "warning";
    f.reason = std::isfinite(m.ratio)
                   ? fmt::format("merges parts whose measured value ranges differ {:.0f}x (more than {:g}x) into one "
                                 "tensor: the NPU's 8-bit quantizer gives it one scale, so the narrowest part keeps about "
                                 "{:.1f} of its 8 bits",
                                 m.ratio, a.ranges.ratio, std::max(0.0, 8 - std::log2(m.ratio)))
                   : fmt::format("merges a constant part with varying ones into one tensor: the NPU's 8-bit quantizer "
                                 "gives it one scale (parts differing more than {:g}x)",
                                 a.ranges.ratio);
    f.detail = fmt::format("{}; ranges from {}", parts, a.ranges.description);
    f.fix = "end stage1 before this merge (split --cut at its inputs) so each part gets its own scale, or give its output "
            "16 bits (quantization_param(..., precision_mode=a16_w16)); the automatic cut does the first when the merge "
            "would end stage1";
    f.evidence = "COMM";
    f.source = kSource;
    a.verdicts[size_t(i)].findings.push_back(std::move(f));
  }
}

void quant_aware_cut(Analysis& a, PartitionInput& in) {
  const auto t0 = std::chrono::steady_clock::now();
  RangeProbe& r = a.ranges;
  r = RangeProbe{};
  const RangeProbeOptions& o = a.range_options;
  r.ratio = o.ratio;
  r.seed = o.seed;
  const Graph& g = a.model.graph();
  // The merges stage1 may hold: those the cut kept, and those its cost refinement moved back.
  std::set<std::string> candidates(a.partition.moved_to_host.begin(), a.partition.moved_to_host.end());
  std::vector<int> merges;
  std::vector<std::string> tensors;
  std::set<std::string> seen;
  const auto& shapes = a.model.shapes();
  for (int i : g.topo_order()) {
    const auto& n = g.node(i);
    if (!is_merge_op(n.op_type()) || !(a.partition.stage1[size_t(i)] || candidates.count(n.name()))) continue;
    merges.push_back(i);
    for (int k : merged_inputs(n)) {
      const std::string& x = n.input(k);
      if (g.is_constant(x) || !seen.insert(x).second) continue;
      auto it = shapes.find(x);
      if (it != shapes.end() && it->second.dtype != onnx::TensorProto::FLOAT) continue;
      tensors.push_back(x);
    }
  }
  if (merges.empty() || tensors.size() < 2) {
    r.skipped = "no merge in stage1";
    return;
  }
  std::vector<int> mixed_nodes;
  try {
    RangeMeter meter(a.model.proto(), tensors, true);
    const PreprocessRecord pre = detect_preprocess(a.model.proto(), o.preprocess);
    std::vector<cv::Mat> frames;
    if (!o.images.empty()) {
      frames = calib_frames(o.images, std::max<int64_t>(1, o.max_frames));
      r.source = "calibration";
      r.description = fmt::format("{} calibration frame(s) of the --calib inputs through the recorded preprocessing ({})",
                                  frames.size(), preprocess_text(pre.options));
      if (frames.empty()) r.skipped = "no calibration frame could be read";
    } else {
      frames.push_back(synthetic_image(std::max(1, pre.width), std::max(1, pre.height), o.seed));
      r.source = "synthetic";
      r.description = fmt::format("a synthetic input: 1 seeded random image (seed {}, uniform 0-255 pixels) through the "
                                  "recorded preprocessing ({}); split --calib IMAGES measures real ones",
                                  o.seed, preprocess_text(pre.options));
    }
    std::mt19937 rng(o.seed);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (const auto& bgr : frames) {
      std::vector<HostTensor> inputs;
      ImageTransform tr;
      bool have_tr = false;
      for (const auto& s : meter.inputs())
        if (is_image_spec(s)) {
          HostTensor t(s);
          tr = fill_image(bgr, pre.options, t);
          have_tr = true;
          inputs.push_back(std::move(t));
        }
      for (const auto& s : meter.inputs()) {
        if (is_image_spec(s)) continue;
        HostTensor t(s);
        if (is_orig_sizes_input(s)) {
          if (!have_tr) tr.src_w = tr.dst_w = pre.width, tr.src_h = tr.dst_h = pre.height;
          fill_orig_sizes(t, tr);
        } else if (s.dtype == onnx::TensorProto::FLOAT) {
          for (int64_t k = 0; k < t.numel(); ++k) t.as<float>()[k] = unit(rng);
        } else {
          r.skipped = fmt::format("input '{}' cannot be filled from an image", s.name);
          return;
        }
        inputs.push_back(std::move(t));
      }
      meter.add(inputs);
    }
    r.frames = meter.frames();
    r.tensors = int64_t(tensors.size());
    r.measured = r.frames > 0;
    for (int i : merges)
      if (auto m = mixed_range_of(g.node(i), meter.ranges(), o.ratio)) {
        r.merges.push_back(*m);
        mixed_nodes.push_back(i);
      }
  } catch (const std::exception& e) {
    // Never fatal: an image the decoder or resize refuses, or memory, only skips the probe.
    r.skipped = std::string("ranges not measured: ") + clean_library_message(e.what());
    spdlog::debug("range probe: {}", r.skipped);
  }
  // A mixed merge never ends stage1, nor do the reshape-like ops that only carry it on.
  if (!r.merges.empty()) {
    in.no_end.assign(size_t(g.node_count()), 0);
    for (int i : mixed_nodes) in.no_end[size_t(i)] = 1;
    for (int i : g.topo_order()) {
      const auto& n = g.node(i);
      if (!is_layout_only_op(n.op_type()) || n.input_size() == 0) continue;
      const int p = g.producer(n.input(0));
      if (p >= 0 && in.no_end[size_t(p)]) in.no_end[size_t(i)] = 1;
    }
    a.partition = auto_partition(in);
    r.moved = a.partition.moved_no_end;
    a.no_end = in.no_end;
  }
  flag_npu_merges(a);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace npusplit
