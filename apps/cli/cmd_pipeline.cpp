// run, bench: the two-stage pipeline (stage1 -> stage2, or an unsplit model) on the host.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <thread>

#include "commands.h"
#include "npusplit/detect/draw.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/report/format.h"
#include "npusplit/report/json_text.h"
#include "npusplit/runtime/stage.h"

namespace npusplit::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// ------------------------------------------------------------------------------------------
// Which models, on which backend

struct ModelArgs {
  std::string model, stage1, stage2, hef, backend = "ort";
  int threads = 0;
};

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--model", a.model, "an unsplit ONNX model (instead of --stage1/--stage2)");
  cmd->add_option("--stage1", a.stage1, "stage1 ONNX (from `npusplit split`)");
  cmd->add_option("--stage2", a.stage2, "stage2 ONNX (from `npusplit split`)");
  cmd->add_option("--backend", a.backend, "stage1 backend: ort (ONNX Runtime on the CPU) | hailo (needs --hef)")
      ->check(CLI::IsMember({"ort", "hailo"}))
      ->capture_default_str();
  cmd->add_option("--hef", a.hef, "with --backend hailo: the compiled stage1 (.hef)");
  cmd->add_option("--threads", a.threads, "ONNX Runtime intra-op threads per stage (0: one per core)")
      ->check(CLI::NonNegativeNumber);
}

// Stage2 inputs that are model inputs only stage2 reads and the detector fills itself.
std::vector<std::string> extra_model_inputs(const Stage& stage2) {
  std::vector<std::string> extra;
  for (const auto& s : stage2.inputs())
    if (is_orig_sizes_input(s)) extra.push_back(s.name);
  return extra;
}

struct Built {
  std::unique_ptr<TwoStagePipeline> pipeline;
  std::string what;  // for reports
};

// PIPELINED: the two stages will run at the same time, so each gets half the cores (unless
// --threads says otherwise) and ORT's worker threads do not spin.
Built build_pipeline(const ModelArgs& a, bool pipelined) {
  if (a.backend == "hailo") {
#ifndef NPUSPLIT_WITH_HAILORT
    fail("--backend hailo: this build has no HailoRT support (rebuild with the HailoRT SDK installed)");
#endif
  }
  const bool split = !a.stage1.empty() || !a.stage2.empty() || !a.hef.empty();
  if (!a.model.empty() && split) fail("give either --model, or --stage1 and --stage2, not both");
  if (a.model.empty() && !split) fail("no model: give --stage1 S1 --stage2 S2, or --model M");

  StageOptions so;
  so.graph_optimization = 99;  // ORT_ENABLE_ALL
  so.intra_threads = a.threads;
  if (pipelined) {
    so.allow_spinning = false;
    if (a.threads == 0) so.intra_threads = std::max(1, int(std::thread::hardware_concurrency()) / 2);
  }

  Built b;
  if (!a.model.empty()) {
    if (a.backend == "hailo") fail("--backend hailo runs stage1 from --hef: give --hef H --stage2 S2 instead of --model");
    b.pipeline = std::make_unique<TwoStagePipeline>(make_ort_stage(a.model, so));
    b.what = a.model;
    return b;
  }
  if (a.stage2.empty()) fail("--stage1 needs --stage2 (or use --model for an unsplit model)");
  if (a.backend == "ort") {
    if (!a.hef.empty()) fail("--hef needs --backend hailo");
    if (a.stage1.empty()) fail("--stage2 needs --stage1 (or --backend hailo --hef H)");
    // Two ONNX Runtime sessions = two thread pools: a pool still spinning after its stage ended
    // steals the cores the other stage needs. So pools spin only inside their own Run (measured on
    // 2 cores: atto 4.9 ms vs 6.5 ms without spinning and 11.7 ms with ORT's default spinning).
    so.stop_spinning_after_run = true;
    auto s1 = make_ort_stage(a.stage1, so);
    auto s2 = make_ort_stage(a.stage2, so);
    auto extra = extra_model_inputs(*s2);
    b.pipeline = std::make_unique<TwoStagePipeline>(std::move(s1), std::move(s2), extra);
    b.what = a.stage1 + " -> " + a.stage2;
    return b;
  }
  // hailo
  if (a.hef.empty()) fail("--backend hailo needs --hef FILE (the compiled stage1)");
  if (!a.stage1.empty()) fail("--backend hailo takes stage1 from --hef; drop --stage1");
#ifdef NPUSPLIT_WITH_HAILORT
  auto s2 = make_ort_stage(a.stage2, so);
  auto extra = extra_model_inputs(*s2);
  HailoStageOptions ho;
  // What stage1 must deliver: stage2's inputs, less the model inputs the host fills itself.
  for (const auto& s : s2->inputs())
    if (std::find(extra.begin(), extra.end(), s.name) == extra.end() && s.name != ho.input_name)
      ho.expected_outputs.push_back(s);
  auto s1 = make_hailo_stage(a.hef, ho);
  b.pipeline = std::make_unique<TwoStagePipeline>(std::move(s1), std::move(s2), extra);
  b.what = a.hef + " (hailo) -> " + a.stage2;
#endif
  return b;
}

std::string stage_names(TwoStagePipeline& p) {
  if (!p.is_split()) return p.stage1().backend();
  return fmt::format("stage1 {}, stage2 {}", p.stage1().backend(), p.stage2()->backend());
}

// ------------------------------------------------------------------------------------------
// Filling a frame from an image

class Feeder {
 public:
  explicit Feeder(const TwoStagePipeline& p) {
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
  ImageTransform fill(Frame& f, const cv::Mat& bgr, const PreprocessOptions& o) const {
    ImageTransform tr = image_to_tensor(bgr, f.inputs[size_t(image_)], o);
    for (int i : sizes_) fill_orig_sizes(f.inputs[size_t(i)], tr);
    return tr;
  }
  // Bench: a fixed pseudo-random image of the input size.
  void fill_synthetic(Frame& f) const {
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
  int width() const { return w_; }
  int height() const { return h_; }

 private:
  int image_ = -1;
  std::vector<int> sizes_;
  int w_ = 0, h_ = 0;
};

// ------------------------------------------------------------------------------------------
// Inputs of `run`: images, videos, cameras

struct Source {
  std::string spec;           // as given
  std::string stem;           // for output names
  bool single_image = false;
  cv::Mat image;
  cv::VideoCapture cap;
  bool camera = false;
};

Source open_source(const std::string& spec) {
  Source s;
  s.spec = spec;
  if (spec.rfind("cam:", 0) == 0) {
    const std::string id = spec.substr(4);
    int index = -1;
    try {
      size_t used = 0;
      index = std::stoi(id, &used);
      if (used != id.size()) index = -1;
    } catch (const std::exception&) {
    }
    if (index < 0) fail("{}: a camera is cam:N with N a device number (cam:0)", spec);
    s.camera = true;
    s.stem = "cam" + id;
    try {
      s.cap.open(index);
    } catch (const cv::Exception&) {
    }
    if (!s.cap.isOpened()) fail("{}: cannot open camera {}", spec, index);
    return s;
  }
  s.stem = fs::path(spec).stem().string();
  if (!fs::exists(spec)) fail("{}: no such file", spec);
  if (fs::is_directory(spec)) fail("{}: is a folder, not an image or video", spec);
  bool image = false;
  try {
    image = cv::haveImageReader(spec);
  } catch (const cv::Exception&) {
  }
  if (image) {
    s.image = read_image(spec);
    s.single_image = true;
    return s;
  }
  try {
    s.cap.open(spec);
  } catch (const cv::Exception&) {
  }
  if (!s.cap.isOpened()) fail("{}: not a readable image or video", spec);
  return s;
}

// Next frame into BGR; false at the end. Errors when a video gives no frame at all.
bool next_frame(Source& s, int64_t n, cv::Mat& bgr) {
  if (s.single_image) {
    if (n > 0) return false;
    bgr = s.image;
    return true;
  }
  bool ok = false;
  try {
    ok = s.cap.read(bgr);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok || bgr.empty()) {
    if (n == 0) fail("{}: {} gave no frame (unreadable or empty)", s.spec, s.camera ? "the camera" : "the video");
    return false;
  }
  return true;
}

std::string unique_stem(std::set<std::string>& used, const std::string& stem) {
  std::string s = stem.empty() ? "input" : stem;
  for (int k = 2; used.count(s); ++k) s = fmt::format("{}_{}", stem, k);
  used.insert(s);
  return s;
}

// ------------------------------------------------------------------------------------------
// Statistics

struct Dist {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

Dist dist_of(std::vector<double> v) {
  Dist d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    const double pos = p * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
  };
  d.p50 = q(0.50);
  d.p90 = q(0.90);
  d.p99 = q(0.99);
  d.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  return d;
}

nlohmann::json dist_json(const Dist& d) { return {{"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"mean", d.mean}}; }

double peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) * 1024.0;  // Linux: KiB
}

std::string ms(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : v >= 10 ? fmt::format("{:.1f}", v) : fmt::format("{:.2f}", v); }

// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class Progress {
 public:
  Progress(std::string label, int64_t total) : label_(std::move(label)), total_(total), tty_(isatty(STDERR_FILENO)) {}
  ~Progress() { finish(); }
  void update(int64_t done) {
    if (!tty_ || total_ <= 0) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30;
    const int fill = int(double(done) / double(total_) * width);
    std::cerr << fmt::format("\r{} [{}{}] {}/{}", label_, std::string(size_t(fill), '#'),
                             std::string(size_t(width - fill), '.'), done, total_)
              << std::flush;
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  bool drawn_ = false;
  Clock::time_point last_{};
};

// ------------------------------------------------------------------------------------------
// bench

struct ModeResult {
  std::string mode;
  int threads = 0;
  int64_t frames = 0;
  Dist stage1, stage2, e2e, wait;
  double fps = 0;
  double rss = 0;
  double s1_overhead_ms = 0, s2_overhead_ms = 0, s2_mean_ms = 0, s1_mean_ms = 0;
  bool split = false;
};

ModeResult summarise(const std::string& mode, int threads, bool split, const std::vector<FrameTiming>& t, double fps) {
  ModeResult r;
  r.mode = mode;
  r.threads = threads;
  r.split = split;
  r.frames = int64_t(t.size());
  std::vector<double> s1, s2, e2e, wait, o1, o2;
  for (const auto& x : t) {
    s1.push_back(x.stage1_ms);
    s2.push_back(x.stage2_ms);
    e2e.push_back(x.total_ms);
    wait.push_back(x.wait_ms);
    o1.push_back(x.stage1_ms - x.stage1_inner_ms);
    o2.push_back(x.stage2_ms - x.stage2_inner_ms);
  }
  r.stage1 = dist_of(s1);
  r.stage2 = dist_of(s2);
  r.e2e = dist_of(e2e);
  r.wait = dist_of(wait);
  r.s1_overhead_ms = dist_of(o1).mean;
  r.s2_overhead_ms = dist_of(o2).mean;
  r.s1_mean_ms = r.stage1.mean;
  r.s2_mean_ms = r.stage2.mean;
  r.fps = fps;
  r.rss = peak_rss_bytes();
  return r;
}

ModeResult bench_sequential(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads) {
  Frame f = p.make_frame();
  feed.fill_synthetic(f);
  Progress bar("bench sequential", warmup + frames);
  std::vector<FrameTiming> times;
  times.reserve(size_t(frames));
  Clock::time_point t0;
  for (int64_t i = 0; i < warmup + frames; ++i) {
    if (i == warmup) t0 = Clock::now();
    p.run(f);
    if (i >= warmup) times.push_back(f.timing);
    bar.update(i + 1);
  }
  const double wall = ms_since(t0);
  bar.finish();
  return summarise("sequential", threads, p.is_split(), times, frames > 0 ? double(frames) / (wall / 1000.0) : 0);
}

ModeResult bench_pipelined(TwoStagePipeline& p, const Feeder& feed, int64_t frames, int64_t warmup, int threads) {
  std::set<const Frame*> filled;  // each buffer set is filled once, then reused
  std::vector<FrameTiming> times;
  times.reserve(size_t(frames));
  Clock::time_point first_done, last_done;
  Progress bar("bench pipelined", warmup + frames);
  int64_t n_done = 0;
  p.run_pipelined(
      warmup + frames,
      [&](Frame& f) {
        if (filled.insert(&f).second) feed.fill_synthetic(f);
        return true;
      },
      [&](Frame& f) {
        const auto now = Clock::now();
        if (f.index == warmup - 1 || (warmup == 0 && f.index == 0)) first_done = now;
        if (f.index >= warmup) times.push_back(f.timing);
        last_done = now;
        bar.update(++n_done);
      });
  bar.finish();
  // Steady state: frames completed after the warm-up, over the time they took.
  const double wall = std::chrono::duration<double>(last_done - first_done).count();
  const int64_t counted = warmup > 0 ? frames : frames - 1;
  const double fps = wall > 0 && counted > 0 ? double(counted) / wall : 0;
  return summarise("pipelined", threads, p.is_split(), times, fps);
}

std::string bench_text(const std::string& what, const std::string& backends, const std::vector<ModeResult>& rs) {
  std::string out = fmt::format("bench {}\n  {}\n", what, backends);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rs) {
    auto row = [&](const std::string& part, const Dist& d, bool totals) {
      rows.push_back({r.mode, part, ms(d.p50), ms(d.p90), ms(d.p99), ms(d.mean),
                      totals ? fmt::format("{:.1f}", r.fps) : "", totals ? human_bytes(r.rss) : ""});
    };
    if (r.split) {
      row("stage1", r.stage1, false);
      row("stage2", r.stage2, false);
      if (r.mode == "pipelined") row("queue wait", r.wait, false);
    } else {
      row("model", r.stage1, false);
    }
    row("end-to-end", r.e2e, true);
  }
  out += format_table({"mode", "part", "p50 ms", "p90 ms", "p99 ms", "mean ms", "frames/s", "peak RSS"}, rows);
  for (const auto& r : rs) {
    out += fmt::format("{}: {} frames, {} ORT thread(s) per stage", r.mode, r.frames,
                       r.threads > 0 ? std::to_string(r.threads) : "default");
    if (r.split)
      out += fmt::format("; runtime overhead around ORT Run: stage2 {:.1f} us/frame = {} of stage2, stage1 {:.1f} us/frame",
                         r.s2_overhead_ms * 1000, percent(r.s2_mean_ms > 0 ? r.s2_overhead_ms / r.s2_mean_ms : 0),
                         r.s1_overhead_ms * 1000);
    else
      out += fmt::format("; runtime overhead around ORT Run: {:.1f} us/frame = {} of the model", r.s1_overhead_ms * 1000,
                         percent(r.s1_mean_ms > 0 ? r.s1_overhead_ms / r.s1_mean_ms : 0));
    out += "\n";
  }
  out += "end-to-end = stage1 start to stage2 end (pipelined: includes the wait for stage2); frames/s in steady state\n";
  return out;
}

nlohmann::json bench_json(const std::string& what, const std::vector<ModeResult>& rs) {
  nlohmann::json j;
  j["schema"] = "npusplit.bench/1";
  j["model"] = what;
  auto modes = nlohmann::json::array();
  for (const auto& r : rs) {
    nlohmann::json m;
    m["mode"] = r.mode;
    m["frames"] = r.frames;
    m["threads"] = r.threads;
    m["split"] = r.split;
    if (r.split) {
      m["stage1_ms"] = dist_json(r.stage1);
      m["stage2_ms"] = dist_json(r.stage2);
      m["wait_ms"] = dist_json(r.wait);
    } else {
      m["model_ms"] = dist_json(r.stage1);
    }
    m["end_to_end_ms"] = dist_json(r.e2e);
    m["frames_per_s"] = r.fps;
    m["peak_rss_bytes"] = r.rss;
    m["ort_overhead"] = {{"stage1_us", r.s1_overhead_ms * 1000},
                         {"stage2_us", r.s2_overhead_ms * 1000},
                         {"share_of_stage2", r.s2_mean_ms > 0 ? r.s2_overhead_ms / r.s2_mean_ms : 0},
                         {"share_of_stage1", r.s1_mean_ms > 0 ? r.s1_overhead_ms / r.s1_mean_ms : 0}};
    modes.push_back(m);
  }
  j["modes"] = modes;
  return j;
}

}  // namespace

// ------------------------------------------------------------------------------------------

void add_run(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Detect objects in images, videos or a camera: stage1 -> stage2 (or --model), annotated PNGs + JSON");
  static ModelArgs ma;
  static std::vector<std::string> inputs;
  static float threshold = 0.5f;
  static std::string out_dir = "npusplit_out", labels_file;
  static bool as_json = false, letterbox = false;
  static int64_t max_frames = 0;
  add_model_options(cmd, ma);
  cmd->add_option("inputs", inputs, "image files, video files, or cam:N for a camera")->required();
  cmd->add_option("--threshold", threshold, "minimum score")->capture_default_str();
  cmd->add_option("--out", out_dir, "output folder")->capture_default_str();
  cmd->add_option("--labels", labels_file, "class names, one per line (default: COCO-80)");
  cmd->add_flag("--letterbox", letterbox, "letterbox instead of a plain resize (DEIMv2 uses a plain resize)");
  cmd->add_option("--max-frames", max_frames, "videos and cameras: stop after N frames (0: every frame; cameras: 100)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", as_json, "print a JSON summary (schema npusplit.run/1) instead of text");
  cmd->callback([&] {
    // OpenCV's video back ends log every probe of a non-video file; the error below says it once.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    DecodeOptions dopt;
    dopt.threshold = threshold;
    if (!labels_file.empty()) dopt.class_names = load_labels(labels_file);
    PreprocessOptions popt;
    popt.letterbox = letterbox;

    Built b = build_pipeline(ma, false);
    TwoStagePipeline& p = *b.pipeline;
    const DetrLayout layout = detr_layout(p.outputs());
    Feeder feed(p);
    Frame frame = p.make_frame();
    p.run(frame);  // warm-up on zeros: the latencies below are steady-state, not first-run
    std::set<std::string> stems;

    nlohmann::json summary;
    summary["schema"] = "npusplit.run/1";
    summary["model"] = b.what;
    summary["backend"] = stage_names(p);
    summary["layout"] = layout_name(layout);
    summary["threshold"] = threshold;
    summary["inputs"] = nlohmann::json::array();
    if (!as_json)
      std::cout << fmt::format("run {} ({}; input {}x{}, {} layout)\n", b.what, stage_names(p), feed.width(),
                               feed.height(), layout_name(layout));

    for (const auto& spec : inputs) {
      Source src = open_source(spec);
      const std::string stem = unique_stem(stems, src.stem);
      const int64_t limit = max_frames > 0 ? max_frames : (src.camera ? 100 : 0);
      nlohmann::json frames_json = nlohmann::json::array();
      std::vector<double> pre, s1, s2, post, tot;
      int64_t n = 0, total_dets = 0;
      std::string last_png;
      cv::Mat bgr;
      for (; (limit == 0 || n < limit) && next_frame(src, n, bgr); ++n) {
        const auto t0 = Clock::now();
        const ImageTransform tr = feed.fill(frame, bgr, popt);
        pre.push_back(ms_since(t0));
        p.run(frame);
        const auto t1 = Clock::now();
        auto dets = decode_detections(frame.outputs, tr, dopt);
        cv::Mat canvas = bgr.clone();
        draw_detections(canvas, dets);
        const fs::path png =
            fs::path(out_dir) / (src.single_image ? stem + ".png" : fmt::format("{}_{:06d}.png", stem, n));
        write_image(png, canvas);
        post.push_back(ms_since(t1));
        s1.push_back(frame.timing.stage1_ms);
        s2.push_back(frame.timing.stage2_ms);
        tot.push_back(frame.timing.total_ms);
        total_dets += int64_t(dets.size());
        last_png = png.string();
        frames_json.push_back({{"frame", n},
                               {"png", png.string()},
                               {"width", tr.src_w},
                               {"height", tr.src_h},
                               {"timing_ms",
                                {{"preprocess", pre.back()},
                                 {"stage1", frame.timing.stage1_ms},
                                 {"stage2", frame.timing.stage2_ms},
                                 {"pipeline", frame.timing.total_ms},
                                 {"decode_draw_write", post.back()}}},
                               {"detections", detections_json(dets)}});
      }
      const fs::path json_path = fs::path(out_dir) / (stem + ".json");
      nlohmann::json doc = {{"schema", "npusplit.detections/1"},
                            {"input", spec},
                            {"model", b.what},
                            {"layout", layout_name(layout)},
                            {"threshold", threshold},
                            {"letterbox", letterbox},
                            {"frames", frames_json}};
      std::error_code ec;
      fs::create_directories(out_dir, ec);
      write_file_atomic(json_path, dump_json(doc));
      const Dist dpre = dist_of(pre), ds1 = dist_of(s1), ds2 = dist_of(s2), dpost = dist_of(post), dt = dist_of(tot);
      summary["inputs"].push_back({{"input", spec},
                                   {"frames", n},
                                   {"detections", total_dets},
                                   {"json", json_path.string()},
                                   {"last_png", last_png},
                                   {"mean_ms",
                                    {{"preprocess", dpre.mean},
                                     {"stage1", ds1.mean},
                                     {"stage2", ds2.mean},
                                     {"pipeline", dt.mean},
                                     {"decode_draw_write", dpost.mean}}}});
      if (!as_json) {
        const std::string stages = p.is_split() ? fmt::format("stage1 {} ms, stage2 {} ms", ms(ds1.mean), ms(ds2.mean))
                                                : fmt::format("model {} ms", ms(ds1.mean));
        if (src.single_image)
          std::cout << fmt::format("{}: {} detection(s) >= {}; preprocess {} ms, {}, postprocess {} ms -> {}\n", spec,
                                   total_dets, threshold, ms(dpre.mean), stages, ms(dpost.mean), last_png);
        else
          std::cout << fmt::format("{}: {} frame(s), {} detection(s) >= {}; per frame (mean) preprocess {} ms, {}, "
                                   "postprocess {} ms -> {}_NNNNNN.png\n",
                                   spec, n, total_dets, threshold, ms(dpre.mean), stages, ms(dpost.mean),
                                   (fs::path(out_dir) / stem).string());
        std::cout << fmt::format("  detections: {}\n", json_path.string());
      }
    }
    if (as_json) std::cout << dump_json(summary);
    exit_code = 0;
  });
}

void add_bench(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("bench", "Latency (p50/p90/p99) and throughput of stage1 -> stage2 or --model, "
                                          "sequential and pipelined");
  static ModelArgs ma;
  static int64_t frames = 100, warmup = 10;
  static bool pipelined = false, sequential = false, as_json = false;
  add_model_options(cmd, ma);
  cmd->add_option("--frames", frames, "measured frames per mode")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", warmup, "frames run before measuring")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--pipelined", pipelined, "only the pipelined mode (stage1 of frame n+1 overlaps stage2 of frame n)");
  cmd->add_flag("--sequential", sequential, "only the sequential mode");
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.bench/1)");
  cmd->callback([&] {
    bool do_seq = sequential, do_pipe = pipelined;
    if (!do_seq && !do_pipe) {
      do_seq = true;
      do_pipe = ma.model.empty();  // unsplit: nothing to overlap unless asked
    }
    std::vector<ModeResult> results;
    std::string what, backends;
    if (do_seq) {
      Built b = build_pipeline(ma, false);
      Feeder feed(*b.pipeline);
      what = b.what;
      backends = stage_names(*b.pipeline);
      results.push_back(bench_sequential(*b.pipeline, feed, frames, warmup, ma.threads));
    }
    if (do_pipe) {
      Built b = build_pipeline(ma, true);
      Feeder feed(*b.pipeline);
      what = b.what;
      backends = stage_names(*b.pipeline);
      const int threads = ma.threads > 0 ? ma.threads : std::max(1, int(std::thread::hardware_concurrency()) / 2);
      results.push_back(bench_pipelined(*b.pipeline, feed, frames, warmup, threads));
    }
    if (as_json) std::cout << dump_json(bench_json(what, results));
    else std::cout << bench_text(what, backends, results);
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
