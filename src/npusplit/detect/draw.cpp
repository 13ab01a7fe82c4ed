#include "npusplit/detect/draw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"

namespace npusplit {

namespace {

// Distinct, bright colours; the class id picks one.
cv::Scalar class_colour(int class_id) {
  static const cv::Scalar palette[] = {
      {56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207}, {10, 249, 72},
      {23, 204, 146}, {134, 219, 61},  {52, 147, 26},  {187, 212, 0},  {168, 153, 44}, {255, 194, 0},
      {147, 69, 52},  {255, 115, 100}, {236, 24, 0},   {255, 56, 132}, {133, 0, 82},   {255, 56, 203},
      {200, 149, 255}, {199, 55, 255}};
  const size_t n = sizeof(palette) / sizeof(palette[0]);
  return palette[size_t(class_id < 0 ? 0 : class_id) % n];
}

}  // namespace

void draw_detections(cv::Mat& img, const std::vector<Detection>& dets) {
  if (img.empty()) return;
  const double diag = std::sqrt(double(img.cols) * img.cols + double(img.rows) * img.rows);
  const int thick = std::max(1, int(std::lround(diag / 600.0)));
  const double font_scale = std::max(0.35, diag / 1800.0);
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  // Lowest score first, so the best detections end up on top.
  for (auto it = dets.rbegin(); it != dets.rend(); ++it) {
    const Detection& d = *it;
    const cv::Scalar c = class_colour(d.class_id);
    const cv::Point p1(int(std::lround(d.x1)), int(std::lround(d.y1)));
    const cv::Point p2(int(std::lround(d.x2)), int(std::lround(d.y2)));
    cv::rectangle(img, p1, p2, c, thick, cv::LINE_AA);

    const std::string text = fmt::format("{} {:.2f}", d.label, d.score);
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(text, font, font_scale, std::max(1, thick - 1), &baseline);
    int top = p1.y - ts.height - baseline - 2;
    if (top < 0) top = p1.y;  // no room above: put the tag inside the box
    const int left = std::clamp(p1.x, 0, std::max(0, img.cols - ts.width - 2));
    const cv::Rect tag(left, top, ts.width + 2, ts.height + baseline + 2);
    cv::rectangle(img, tag & cv::Rect(0, 0, img.cols, img.rows), c, cv::FILLED);
    // Black or white text, whichever reads better on the tag colour.
    const double lum = 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2];
    const cv::Scalar ink = lum > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
    cv::putText(img, text, cv::Point(left + 1, top + ts.height + 1), font, font_scale, ink, std::max(1, thick - 1),
                cv::LINE_AA);
  }
}

void write_image(const std::filesystem::path& path, const cv::Mat& img) {
  // Encoded in memory, then written through the atomic writer like every other output.
  std::vector<uchar> buf;
  bool ok = false;
  try {
    std::string ext = path.extension().string();
    ok = cv::imencode(ext.empty() ? ".png" : ext, img, buf);
  } catch (const cv::Exception& e) {
    fail("{}: cannot encode the image: {}", path.string(), e.msg);
  }
  if (!ok) fail("{}: cannot encode the image", path.string());
  write_file_atomic(path, std::string(buf.begin(), buf.end()));
}

}  // namespace npusplit
