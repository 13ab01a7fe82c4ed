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

namespace {

// The frames the probe feeds, read once (several rounds of the cut scope share them).
struct ProbeFrames {
  PreprocessRecord pre;
  std::vector<cv::Mat> frames;
};

ProbeFrames probe_frames(const onnx::ModelProto& m, const RangeProbeOptions& o, RangeProbe& r) {
  ProbeFrames f;
  f.pre = detect_preprocess(m, o.preprocess);
  if (!o.images.empty()) {
    f.frames = calib_frames(o.images, std::max<int64_t>(1, o.max_frames));
    r.source = "calibration";
    r.description = fmt::format("{} calibration frame(s) of the --calib inputs through the recorded preprocessing ({})",
                                f.frames.size(), preprocess_text(f.pre.options));
    if (f.frames.empty()) r.skipped = "no calibration frame could be read";
  } else {
    f.frames.push_back(synthetic_image(std::max(1, f.pre.width), std::max(1, f.pre.height), o.seed));
    r.source = "synthetic";
    r.description = fmt::format("a synthetic input: 1 seeded random image (seed {}, uniform 0-255 pixels) through the "
                                "recorded preprocessing ({}); split --calib IMAGES measures real ones",
                                o.seed, preprocess_text(f.pre.options));
  }
  return f;
}

// Runs the frames through the part of M that computes TENSORS; their ranges go into RANGES.
// False (and r.skipped) when an input cannot be filled from an image.
bool measure(const onnx::ModelProto& m, const std::vector<std::string>& tensors, const ProbeFrames& f,
             const RangeProbeOptions& o, RangeProbe& r, std::map<std::string, RunningRange>& ranges) {
  RangeMeter meter(m, tensors, true);
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (const auto& bgr : f.frames) {
    std::vector<HostTensor> inputs;
    ImageTransform tr;
    bool have_tr = false;
    for (const auto& s : meter.inputs())
      if (is_image_spec(s)) {
        HostTensor t(s);
        tr = fill_image(bgr, f.pre.options, t);
        have_tr = true;
        inputs.push_back(std::move(t));
      }
    for (const auto& s : meter.inputs()) {
      if (is_image_spec(s)) continue;
      HostTensor t(s);
      if (is_orig_sizes_input(s)) {
        if (!have_tr) tr.src_w = tr.dst_w = f.pre.width, tr.src_h = tr.dst_h = f.pre.height;
        fill_orig_sizes(t, tr);
      } else if (s.dtype == onnx::TensorProto::FLOAT) {
        for (int64_t k = 0; k < t.numel(); ++k) t.as<float>()[k] = unit(rng);
      } else {
        r.skipped = fmt::format("input '{}' cannot be filled from an image", s.name);
        return false;
      }
      inputs.push_back(std::move(t));
    }
    meter.add(inputs);
  }
  r.frames = meter.frames();
  for (const auto& [t, range] : meter.ranges()) ranges[t] = range;
  return true;
}

// The merge a tensor "is": its producer, through layout-only ops (-1: none).
int merge_behind(const Graph& g, std::string t) {
  for (int hops = 0; hops < 16; ++hops) {
    const int p = g.producer(t);
    if (p < 0) return -1;
    const auto& n = g.node(p);
    if (is_merge_op(n.op_type())) return p;
    if (!is_layout_only_op(n.op_type()) || n.input_size() == 0) return -1;
    t = n.input(0);
  }
  return -1;
}

// The stage1 merges whose output (through layout-only ops) crosses to the host: the ones that
// end the cut.
std::vector<int> merges_at_the_cut(const Graph& g, const std::vector<char>& stage1) {
  std::set<int> out;
  for (int i : g.topo_order()) {
    if (!stage1[size_t(i)]) continue;
    for (const auto& t : g.node(i).output()) {
      bool crosses = g.is_graph_output(t);
      for (int c : g.consumers(t)) crosses = crosses || !stage1[size_t(c)];
      if (!crosses) continue;
      const int m = merge_behind(g, t);
      if (m >= 0 && stage1[size_t(m)]) out.insert(m);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace

void quant_aware_cut(Analysis& a, PartitionInput& in) {
  const auto t0 = std::chrono::steady_clock::now();
  RangeProbe& r = a.ranges;
  r = RangeProbe{};
  const RangeProbeOptions& o = a.range_options;
  r.ratio = o.ratio;
  r.seed = o.seed;
  r.scope = o.scope == RangeScope::cut ? "cut" : "stage1";
  const Graph& g = a.model.graph();
  const auto& shapes = a.model.shapes();
  // The merges to measure: every one stage1 may hold (those the cut kept, and those its cost
  // refinement moved back) for scope stage1; for scope cut, those ending the cut, round by round
  // as pulling one back exposes the next.
  const auto merges_now = [&]() {
    std::vector<int> merges;
    if (o.scope == RangeScope::cut) return merges_at_the_cut(g, a.partition.stage1);
    std::set<std::string> candidates(a.partition.moved_to_host.begin(), a.partition.moved_to_host.end());
    for (int i : g.topo_order())
      if (is_merge_op(g.node(i).op_type()) && (a.partition.stage1[size_t(i)] || candidates.count(g.node(i).name())))
        merges.push_back(i);
    return merges;
  };
  std::set<int> measured;  // merges
  std::set<std::string> seen;  // tensors
  std::map<std::string, RunningRange> ranges;
  std::vector<int> mixed_nodes;
  std::optional<ProbeFrames> frames;
  bool changed = false;
  try {
    for (int round = 0; round < 16; ++round) {
      std::vector<int> merges;
      std::vector<std::string> tensors;
      for (int i : merges_now()) {
        if (!measured.insert(i).second) continue;
        merges.push_back(i);
        const auto& n = g.node(i);
        for (int k : merged_inputs(n)) {
          const std::string& x = n.input(k);
          if (g.is_constant(x) || !seen.insert(x).second) continue;
          auto it = shapes.find(x);
          if (it != shapes.end() && it->second.dtype != onnx::TensorProto::FLOAT) continue;
          tensors.push_back(x);
        }
      }
      if (merges.empty() || (round == 0 && tensors.size() < 2 && o.scope == RangeScope::stage1)) break;
      if (!tensors.empty()) {
        if (!frames) frames = probe_frames(a.model.proto(), o, r);
        if (!r.skipped.empty() || !measure(a.model.proto(), tensors, *frames, o, r, ranges)) break;
        r.tensors += int64_t(tensors.size());
        r.measured = r.frames > 0;
      }
      bool found = false;
      for (int i : merges)
        if (auto m = mixed_range_of(g.node(i), ranges, o.ratio)) {
          r.merges.push_back(*m);
          mixed_nodes.push_back(i);
          found = true;
        }
      if (!found) break;
      // A mixed merge never ends stage1, nor do the reshape-like ops that only carry it on.
      in.no_end.assign(size_t(g.node_count()), 0);
      for (int i : mixed_nodes) in.no_end[size_t(i)] = 1;
      for (int i : g.topo_order()) {
        const auto& n = g.node(i);
        if (!is_layout_only_op(n.op_type()) || n.input_size() == 0) continue;
        const int p = g.producer(n.input(0));
        if (p >= 0 && in.no_end[size_t(p)]) in.no_end[size_t(i)] = 1;
      }
      a.partition = auto_partition(in);
      changed = true;
      if (o.scope == RangeScope::stage1) break;  // every merge measured already
    }
  } catch (const std::exception& e) {
    // Never fatal: an image the decoder or resize refuses, or memory, only skips the probe.
    r.skipped = std::string("ranges not measured: ") + clean_library_message(e.what());
    spdlog::debug("range probe: {}", r.skipped);
  }
  if (!r.measured && r.skipped.empty())
    r.skipped = o.scope == RangeScope::cut ? "no merge ends stage1" : "no merge in stage1";
  if (changed) {
    r.moved = a.partition.moved_no_end;
    a.no_end = in.no_end;
  }
  flag_npu_merges(a);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace npusplit
