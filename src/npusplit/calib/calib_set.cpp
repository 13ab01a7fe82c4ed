#include "npusplit/calib/calib_set.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "npusplit/base/fd_io.h"
#include "npusplit/calib/npy.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/media/inputs.h"
#include "npusplit/base/progress.h"

namespace npusplit {

namespace fs = std::filesystem;

std::vector<int64_t> evenly_spaced_frames(int64_t frames, int64_t k) {
  std::vector<int64_t> idx;
  if (frames <= 0 || k <= 0) return idx;
  k = std::min(k, frames);
  for (int64_t i = 0; i < k; ++i) idx.push_back(std::min(frames - 1, int64_t((double(i) + 0.5) * double(frames) / double(k))));
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  return idx;
}

namespace {

struct Source {
  MediaInput in;
  int64_t frames = 0;  // 1 for an image
};

}  // namespace

namespace {
// Why IN cannot be a calibration source, as far as its name tells (empty: it may be one).
std::string unusable(const MediaInput& in) {
  if (!in.error.empty()) return fmt::format("{}: {}", in.spec, in.error);
  if (in.kind == MediaKind::camera) return fmt::format("{}: a camera is not a calibration source (record a video)", in.spec);
  return "";
}
}  // namespace

void require_calibration_inputs(const std::vector<std::string>& inputs) {
  if (inputs.empty()) fail("calib: no images given");
  std::string first;
  for (const auto& in : expand_inputs(inputs)) {
    const std::string why = unusable(in);
    if (why.empty()) return;
    if (first.empty()) first = why;
  }
  fail("calib: no readable image or video among the inputs{}", first.empty() ? "" : " (" + first + ")");
}

CalibResult write_calibration_set(const CalibOptions& o) {
  OutputSet files;
  CalibResult r = add_calibration_set(o, files);
  files.commit();
  return r;
}

CalibResult add_calibration_set(const CalibOptions& o, OutputSet& files) {
  const auto t0 = std::chrono::steady_clock::now();
  CalibResult r;
  const int W = o.preprocess.width, H = o.preprocess.height;
  if (W <= 0 || H <= 0) fail("calib: the model input size is unknown (the manifest records none)");
  if (o.count < 0) fail("{}: must be at least 1, got {}", o.count_option, o.count);
  if (o.inputs.empty()) fail("calib: no images given");

  // Every usable source, with its frame count; what cannot be used is one line each.
  std::vector<Source> images, videos;
  for (const auto& in : expand_inputs(o.inputs)) {
    if (std::string why = unusable(in); !why.empty()) {
      r.skipped.push_back(std::move(why));
      continue;
    }
    if (in.path == o.out || (fs::exists(o.out) && fs::equivalent(in.path, o.out)))
      fail("{}: the output would overwrite an input", o.out.string());
    if (in.kind == MediaKind::image) {
      images.push_back({in, 1});
      continue;
    }
    try {
      FrameSource fs_(in);
      if (fs_.frame_count() <= 0) {
        r.skipped.push_back(fmt::format("{}: the video does not say how many frames it has", in.spec));
        continue;
      }
      videos.push_back({in, fs_.frame_count()});
    } catch (const Error& e) {
      r.skipped.push_back(e.what());
    }
  }
  int64_t video_total = 0;
  for (const auto& v : videos) video_total += v.frames;
  r.available = int64_t(images.size()) + video_total;
  if (r.available == 0)
    fail("calib: no readable image or video among the inputs{}", r.skipped.empty() ? "" : " (" + r.skipped.front() + ")");
  int64_t n = o.count > 0 ? o.count : std::min(r.available, kDfcCalibrationSize);
  if (n > r.available) {
    r.warnings.push_back(
        fmt::format("{} {}: the inputs hold {} frame(s): writing {}", o.count_option, o.count, r.available, r.available));
    n = r.available;
  }
  r.wanted = n;

  // Videos get their share of N in proportion to their frames, evenly spaced; images the rest,
  // a seeded random choice (in name order) with the next ones standing in for unreadable ones.
  int64_t for_videos = video_total == 0 ? 0 : std::llround(double(n) * double(video_total) / double(r.available));
  if (images.empty()) for_videos = n;
  for_videos = std::min(for_videos, video_total);
  std::vector<int64_t> per_video(videos.size(), 0);
  {
    int64_t given = 0;
    for (size_t i = 0; i < videos.size(); ++i) {
      per_video[i] = int64_t(double(for_videos) * double(videos[i].frames) / double(video_total));
      given += per_video[i];
    }
    for (size_t i = 0; given < for_videos && !videos.empty(); i = (i + 1) % videos.size())
      if (per_video[i] < videos[i].frames) ++per_video[i], ++given;
  }
  const int64_t for_images = n - for_videos;
  std::vector<size_t> order(images.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(o.seed);
  std::shuffle(order.begin(), order.end(), rng);

  const std::vector<int64_t> full_shape = {n, H, W, 3};
  const size_t header_bytes = npy_header_f32(full_shape).size();
  const size_t frame_floats = size_t(H) * size_t(W) * 3;
  std::vector<float> buf(frame_floats);
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  int64_t written = 0;
  std::string error;
  Progress progress("calib", n, Progress::Style::frames);

  const auto put = [&](int fd, const cv::Mat& bgr) -> bool {
    ImageTransform tr;
    const cv::Mat resized = resize_for_model(bgr, W, H, o.preprocess.options, tr);
    pixels_to_nhwc(resized, o.preprocess.options, o.raw_pixels, buf.data());
    for (float v : buf) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!write_all(fd, reinterpret_cast<const char*>(buf.data()), buf.size() * sizeof(float))) return false;
    ++written;
    progress.advance(written);
    return true;
  };

  try {
    files.add(o.out, [&](int fd) {
      try {
        const std::string placeholder = npy_header_f32(full_shape, header_bytes);
        if (!write_all(fd, placeholder.data(), placeholder.size())) return false;
        // Images: the chosen ones in name order; an unreadable one is replaced by the next of
        // the shuffle (appended), so N stays N while the inputs allow.
        std::vector<size_t> chosen(order.begin(), order.begin() + std::min<int64_t>(for_images, int64_t(order.size())));
        std::sort(chosen.begin(), chosen.end());
        size_t next = chosen.size();
        for (size_t q = 0; q < chosen.size(); ++q) {
          cv::Mat bgr;
          try {
            FrameSource s(images[chosen[q]].in);
            if (!s.next(bgr)) continue;
          } catch (const Error& e) {
            r.skipped.push_back(e.what());
            if (next < order.size()) chosen.push_back(order[next++]);
            continue;
          }
          if (!put(fd, bgr)) return false;
          ++r.images;
        }
        for (size_t v = 0; v < videos.size(); ++v) {
          const auto want = evenly_spaced_frames(videos[v].frames, per_video[v]);
          if (want.empty()) continue;
          try {
            FrameSource s(videos[v].in);
            cv::Mat bgr;
            size_t k = 0;
            for (int64_t f = 0; k < want.size() && s.next(bgr); ++f)
              if (f == want[k]) {
                if (!put(fd, bgr)) return false;
                ++k;
                ++r.video_frames;
              }
            if (k < want.size())
              r.skipped.push_back(fmt::format("{}: ended after fewer frames than it announced ({} of {} taken)",
                                              videos[v].in.spec, k, want.size()));
          } catch (const Error& e) {
            r.skipped.push_back(e.what());
          }
        }
        if (written == 0) {
          error = "calib: no frame could be read: nothing written";
          return false;
        }
        // The final count, in a header of the same length.
        const std::string header = npy_header_f32({written, H, W, 3}, header_bytes);
        return ::pwrite(fd, header.data(), header.size(), 0) == ssize_t(header.size());
      } catch (const std::exception& e) {
        error = e.what();
        return false;
      }
    });
  } catch (const Error&) {
    progress.finish();
    if (!error.empty()) fail("{}", error);
    throw;
  }
  progress.finish();
  r.shape = {written, H, W, 3};
  r.min = lo;
  r.max = hi;
  if (written < r.wanted)
    r.warnings.push_back(fmt::format("{} of the {} frame(s) wanted could be read", written, r.wanted));
  if (written < kDfcCalibrationSize)
    r.warnings.push_back(fmt::format(
        "{} calibration frame(s): the DFC asks for {} (its own warning is easy to miss); fewer frames measure the "
        "activation ranges on less data, and below {} the DFC lowers its optimization level",
        written, kDfcCalibrationSize, kDfcCalibrationSize));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace npusplit
