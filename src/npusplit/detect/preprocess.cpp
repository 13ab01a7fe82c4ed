#include "npusplit/detect/preprocess.h"

#include <onnx/onnx_pb.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "npusplit/error.h"

namespace npusplit {

namespace {

// libpng writes its warnings ("iCCP: known incorrect sRGB profile", harmless) straight to
// stderr from inside OpenCV, once per image. The decoder runs with stderr captured; libpng's
// lines become one note per run, anything else is passed on unchanged.
class CapturedStderr {
 public:
  CapturedStderr() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    saved_ = file_ ? ::dup(STDERR_FILENO) : -1;
    if (saved_ >= 0) ::dup2(::fileno(file_), STDERR_FILENO);
  }
  // Restores stderr and returns what was written meanwhile.
  std::string release() {
    std::string text;
    if (saved_ < 0) return text;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
    std::rewind(file_);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text.append(buf, n);
    return text;
  }
  ~CapturedStderr() {
    release();
    if (file_) std::fclose(file_);
  }

 private:
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

void report_decoder_output(const std::string& path, const std::string& text) {
  static std::atomic<bool> noted{false};
  std::string others, first_png;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.rfind("libpng warning: ", 0) == 0) {
      if (first_png.empty()) first_png = line.substr(16);
    } else if (!line.empty()) {
      others += line + "\n";
    }
    start = end + 1;
  }
  if (!others.empty()) std::fputs(others.c_str(), stderr);
  if (!first_png.empty() && !noted.exchange(true))
    std::fprintf(stderr, "npusplit: note: %s: libpng warns '%s' (harmless; further libpng warnings are not shown)\n",
                 path.c_str(), first_png.c_str());
}

}  // namespace

cv::Mat read_image(const std::string& path) {
  if (!std::filesystem::exists(path)) fail("{}: no such file", path);
  cv::Mat img;
  CapturedStderr captured;
  try {
    img = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
  }
  report_decoder_output(path, captured.release());
  if (img.empty()) fail("{}: not a readable image", path);
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
