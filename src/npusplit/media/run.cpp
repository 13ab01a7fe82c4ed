#include "npusplit/media/run.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <chrono>
#include <numeric>
#include <opencv2/core/utils/logger.hpp>
#include <set>

#include "npusplit/detect/draw.h"
#include "npusplit/io/media_codecs.h"
#include "npusplit/error.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/base/progress.h"

namespace npusplit {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
double mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

std::string unique_stem(std::set<std::string>& used, const std::string& stem) {
  const std::string base = stem.empty() ? "input" : stem;
  std::string s = base;
  for (int k = 2; used.count(s); ++k) s = fmt::format("{}_{}", base, k);
  used.insert(s);
  return s;
}

// Inputs are never overwritten, even with --out pointing at their folder.
void refuse_overwrite(const fs::path& out, const MediaInput& in) {
  std::error_code ec;
  if (!in.path.empty() && fs::exists(out, ec) && fs::equivalent(out, in.path, ec))
    fail("{}: the output would overwrite the input (choose another --out folder)", out.string());
}
}  // namespace

// ------------------------------------------------------------------------------------------
// Feeder

Feeder::Feeder(const TwoStagePipeline& p) {
  const auto& ins = p.inputs();
  for (size_t i = 0; i < ins.size(); ++i) {
    const auto& s = ins[i];
    const bool image = s.dtype == onnx::TensorProto::FLOAT && s.dims.size() == 4 && s.dims[0] == 1 && s.dims[1] == 3;
    if (image && image_ < 0) image_ = int(i);
    else if (is_orig_sizes_input(s)) sizes_.push_back(int(i));
    else
      fail("model input '{}' {} cannot be filled: npusplit feeds one image input float [1,3,H,W] and "
           "orig_target_sizes [N,2]",
           s.name, spec_str(s));
  }
  if (image_ < 0) fail("the model has no image input float [1,3,H,W]");
  const auto& d = ins[size_t(image_)].dims;
  h_ = int(d[2]);
  w_ = int(d[3]);
}

ImageTransform Feeder::fill(Frame& f, const cv::Mat& bgr, const PreprocessOptions& o) const {
  ImageTransform tr = image_to_tensor(bgr, f.inputs[size_t(image_)], o);
  for (int i : sizes_) fill_orig_sizes(f.inputs[size_t(i)], tr);
  return tr;
}

void Feeder::fill_synthetic(Frame& f) const {
  HostTensor& t = f.inputs[size_t(image_)];
  uint32_t x = 12345;
  float* p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = float(x >> 8) / float(1u << 24);
  }
  ImageTransform tr;
  tr.src_w = tr.dst_w = w_;
  tr.src_h = tr.dst_h = h_;
  for (int i : sizes_) fill_orig_sizes(f.inputs[size_t(i)], tr);
}

// ------------------------------------------------------------------------------------------
// RunReport

int RunReport::failed() const {
  int n = 0;
  for (const auto& i : inputs) n += !i.error.empty();
  return n;
}
int RunReport::succeeded() const { return int(inputs.size()) - failed(); }
int RunReport::exit_code() const {
  if (interrupted) return 130;
  if (failed() == 0) return 0;
  return succeeded() > 0 ? 1 : 2;
}

// ------------------------------------------------------------------------------------------
// The loop

namespace {

struct Context {
  TwoStagePipeline& p;
  const RunOptions& o;
  const Feeder& feed;
  Frame& frame;
  Progress& progress;
  int64_t& frames_done;
  std::set<std::string>& stems;
  const FrameSinks& sinks;
};

void run_one(Context& c, const MediaInput& in, InputReport& r) {
  FrameSource src(in);
  const std::string stem =
      unique_stem(c.stems, in.kind == MediaKind::camera ? "cam" + std::to_string(in.camera_index) : in.path.stem().string());
  const bool video_out = !src.is_image() && !c.o.frames_as_png;
  const int64_t limit = c.o.max_frames > 0 ? c.o.max_frames : (in.kind == MediaKind::camera ? 100 : 0);

  const fs::path det_path = c.o.out_dir / (stem + (c.o.detections == DetectionsFormat::jsonl ? ".jsonl" : ".json"));
  refuse_overwrite(det_path, in);
  std::unique_ptr<AnnotatedVideo> video;
  if (video_out) video = std::make_unique<AnnotatedVideo>(c.o.out_dir / (stem + "_annotated"), in.path, src.fps());
  const std::unique_ptr<FrameSink> dets_out = c.sinks(InputStart{in.spec, det_path, &c.o});
  r.detections_path = det_path;

  std::vector<double> pre, s1, s2, post, tot;
  cv::Mat bgr;
  for (int64_t n = 0; (limit == 0 || n < limit) && src.next(bgr); ++n) {
    const auto t0 = Clock::now();
    const ImageTransform tr = c.feed.fill(c.frame, bgr, c.o.preprocess);
    pre.push_back(ms_since(t0));
    c.p.run(c.frame);
    const auto t1 = Clock::now();
    auto dets = decode_detections(c.frame.outputs, tr, c.o.decode);
    cv::Mat canvas = bgr.clone();
    draw_detections(canvas, dets);
    FrameRecord fr;
    fr.frame = n;
    fr.width = tr.src_w;
    fr.height = tr.src_h;
    if (video) {
      video->write(canvas);
      r.annotated_path = video->path();
      r.codec = video->codec();
    } else {
      const fs::path png = c.o.out_dir / (src.is_image() ? stem + ".png" : fmt::format("{}_{:06d}.png", stem, n));
      refuse_overwrite(png, in);
      write_image(png, canvas);
      fr.png = png;
      r.annotated_path = src.is_image() ? png : c.o.out_dir / (stem + "_NNNNNN.png");
    }
    post.push_back(ms_since(t1));
    s1.push_back(c.frame.timing.stage1_ms);
    s2.push_back(c.frame.timing.stage2_ms);
    tot.push_back(c.frame.timing.total_ms);
    fr.preprocess_ms = pre.back();
    fr.stage1_ms = c.frame.timing.stage1_ms;
    fr.stage2_ms = c.frame.timing.stage2_ms;
    fr.pipeline_ms = c.frame.timing.total_ms;
    fr.post_ms = post.back();
    const auto found = int64_t(dets.size());
    fr.detections = std::move(dets);
    dets_out->add(fr);
    r.frames = n + 1;
    r.detections += found;
    c.progress.advance(++c.frames_done);
    if (InterruptGuard::requested()) {
      r.interrupted = true;
      break;
    }
  }
  if (video) video->close();
  dets_out->close(!r.interrupted);
  r.mean_preprocess_ms = mean(pre);
  r.mean_stage1_ms = mean(s1);
  r.mean_stage2_ms = mean(s2);
  r.mean_pipeline_ms = mean(tot);
  r.mean_post_ms = mean(post);
}

// Frames to expect, for the progress bar (0 when a camera or stream makes it unknown).
int64_t expected_frames(const std::vector<MediaInput>& inputs, const RunOptions& o) {
  int64_t total = 0;
  for (const auto& in : inputs) {
    if (!in.error.empty()) continue;
    if (in.kind == MediaKind::image) {
      ++total;
      continue;
    }
    if (in.kind == MediaKind::camera) {
      total += o.max_frames > 0 ? o.max_frames : 100;
      continue;
    }
    int64_t n = 0;
    try {
      const auto cap = media_codecs().open_video(in.path.string());
      const double c = cap->is_open() ? cap->get(VideoProp::frame_count) : 0;
      n = c > 0 && c < 1e9 ? int64_t(c) : 0;
    } catch (const cv::Exception&) {
    }
    if (n == 0) return 0;
    total += o.max_frames > 0 ? std::min(n, o.max_frames) : n;
  }
  return total;
}

}  // namespace

RunReport run_media(TwoStagePipeline& p, const std::vector<MediaInput>& inputs, const RunOptions& o,
                    const FrameSinks& sinks, const std::function<void(const InputReport&)>& on_input) {
  // OpenCV's video back ends log every probe of a non-video file; each failure is reported once below.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  Feeder feed(p);
  Frame frame = p.make_frame();
  p.run(frame);  // warm-up on zeros: the latencies reported are steady-state, not first-run
  std::set<std::string> stems;
  RunReport report;
  InterruptGuard interrupt;
  Progress progress("run", expected_frames(inputs, o), Progress::Style::frames);
  int64_t frames_done = 0;
  Context c{p, o, feed, frame, progress, frames_done, stems, sinks};
  for (size_t k = 0; k < inputs.size(); ++k) {
    const auto& in = inputs[k];
    InputReport r;
    r.spec = in.spec;
    r.kind = in.kind;
    progress.step(frames_done, fs::path(in.spec).filename().string());
    try {
      run_one(c, in, r);
    } catch (const Error& e) {
      r.error = e.what();
    }
    progress.clear();
    report.inputs.push_back(r);
    if (on_input) on_input(report.inputs.back());
    if (r.interrupted || InterruptGuard::requested()) {
      report.interrupted = true;
      report.not_started = int64_t(inputs.size() - k - 1);
      break;
    }
  }
  progress.finish();
  return report;
}

}  // namespace npusplit
