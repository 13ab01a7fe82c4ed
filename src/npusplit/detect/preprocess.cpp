#include "npusplit/detect/preprocess.h"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
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
      img = cv::imread(path, cv::IMREAD_COLOR);
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

ImageTransform image_to_tensor(const cv::Mat& bgr, HostTensor& t, const PreprocessOptions& o) {
  const auto& d = t.spec.dims;
  if (d.size() != 4 || d[0] != 1 || d[1] != 3 || t.spec.dtype != onnx::TensorProto::FLOAT)
    fail("input '{}' is not a float [1,3,H,W] image tensor", t.name());
  const int H = static_cast<int>(d[2]), W = static_cast<int>(d[3]);
  ImageTransform tr;
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
  float* out = t.as<float>();
  const size_t plane = size_t(H) * W;
  const std::array<float, 3> mean = o.mean.value_or(std::array<float, 3>{0, 0, 0});
  const std::array<float, 3> stdv = o.std.value_or(std::array<float, 3>{1, 1, 1});
  for (int y = 0; y < H; ++y) {
    const auto* row = resized.ptr<cv::Vec3b>(y);
    for (int x = 0; x < W; ++x) {
      for (int c = 0; c < 3; ++c) {  // c is the RGB channel; OpenCV stores BGR
        const float v = row[x][2 - c] / 255.0f;
        out[c * plane + size_t(y) * W + x] = (v - mean[c]) / stdv[c];
      }
    }
  }
  return tr;
}

}  // namespace npusplit
