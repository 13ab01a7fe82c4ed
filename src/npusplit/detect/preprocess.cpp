#include "npusplit/detect/preprocess.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include "npusplit/io/media_codecs.h"
#include <opencv2/imgproc.hpp>

#include <spdlog/spdlog.h>

#include "npusplit/base/stderr_capture.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"

namespace npusplit {

cv::Mat read_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  if (!std::filesystem::is_regular_file(path, ec)) fail("{}: not a regular file", path);
  cv::Mat img;
  std::string library_text;
  {
    // libpng (inside OpenCV) prints its own warnings and errors: they become part of
    // npusplit's message (errors) or a debug note (warnings such as "iCCP: known incorrect
    // sRGB profile"), never a stray line on stderr.
    StderrCapture capture;
    try {
      img = media_codecs().read_image(path);
    } catch (const cv::Exception&) {
    }
    library_text = capture.finish();
  }
  for (auto& c : library_text)
    if (c == '\n') c = ';';
  if (img.empty())
    fail("{}: not a readable image{}", path, library_text.empty() ? "" : " (" + printable(library_text) + ")");
  if (!library_text.empty()) spdlog::debug("{}: {}", path, printable(library_text));
  return img;
}

cv::Mat resize_for_model(const cv::Mat& bgr, int W, int H, const PreprocessOptions& o, ImageTransform& tr) {
  tr = ImageTransform{};
  tr.src_w = bgr.cols;
  tr.src_h = bgr.rows;
  tr.dst_w = W;
  tr.dst_h = H;
  cv::Mat resized;
  if (o.letterbox) {
    const float s = std::min(float(W) / bgr.cols, float(H) / bgr.rows);
    const int nw = std::max(1, int(std::round(bgr.cols * s))), nh = std::max(1, int(std::round(bgr.rows * s)));
    cv::Mat inner;
    cv::resize(bgr, inner, cv::Size(nw, nh), 0, 0, cv::INTER_LINEAR);
    resized = cv::Mat(H, W, CV_8UC3, cv::Scalar(114, 114, 114));
    tr.pad_x = float((W - nw) / 2);
    tr.pad_y = float((H - nh) / 2);
    inner.copyTo(resized(cv::Rect(int(tr.pad_x), int(tr.pad_y), nw, nh)));
    tr.scale_x = tr.scale_y = s;
  } else {
    cv::resize(bgr, resized, cv::Size(W, H), 0, 0, cv::INTER_LINEAR);
    tr.scale_x = float(W) / bgr.cols;
    tr.scale_y = float(H) / bgr.rows;
  }
  return resized;
}

namespace {
// The one per-pixel formula both layouts use: model channel C of pixel PX.
struct PixelMap {
  std::array<int, 3> src{};   // OpenCV (BGR) channel for each model channel
  std::array<float, 3> mean{}, stdv{};
  float scale = 255.0f;
  bool raw = false;
  PixelMap(const PreprocessOptions& o, bool raw_pixels) : scale(o.scale), raw(raw_pixels) {
    for (int c = 0; c < 3; ++c) src[size_t(c)] = o.bgr ? c : 2 - c;
    mean = o.mean.value_or(std::array<float, 3>{0, 0, 0});
    stdv = o.std.value_or(std::array<float, 3>{1, 1, 1});
  }
  float operator()(const cv::Vec3b& px, int c) const {
    const float p = px[src[size_t(c)]];
    if (raw) return p;
    return (p / scale - mean[size_t(c)]) / stdv[size_t(c)];
  }
};
}  // namespace

void pixels_to_nhwc(const cv::Mat& resized, const PreprocessOptions& o, bool raw_pixels, float* out) {
  const PixelMap map(o, raw_pixels);
  for (int y = 0; y < resized.rows; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    for (int x = 0; x < resized.cols; ++x)
      for (int c = 0; c < 3; ++c) *out++ = map(row[x], c);
  }
}

ImageTransform image_to_tensor(const cv::Mat& bgr, HostTensor& t, const PreprocessOptions& o) {
  const auto& d = t.spec.dims;
  if (d.size() != 4 || d[0] != 1 || d[1] != 3 || t.spec.dtype != onnx::TensorProto::FLOAT)
    fail("input '{}' is not a float [1,3,H,W] image tensor", t.name());
  if (!(o.scale > 0) || !std::isfinite(o.scale)) fail("preprocess scale must be a positive number, got {}", o.scale);
  const int H = static_cast<int>(d[2]), W = static_cast<int>(d[3]);
  ImageTransform tr;
  const cv::Mat resized = resize_for_model(bgr, W, H, o, tr);
  float* out = t.as<float>();
  const size_t plane = size_t(H) * W;
  const PixelMap map(o, false);
  for (int y = 0; y < H; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) out[c * plane + size_t(y) * W + x] = map(row[x], c);
  }
  return tr;
}

}  // namespace npusplit
