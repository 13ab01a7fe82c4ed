#include "npusplit/detect/draw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include "npusplit/io/media_codecs.h"
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
  // Labels of the best detections are placed first; a later one takes the first spot (above
  // the box, inside its top, below it) that overlaps no placed label, so texts never collide.
  std::vector<cv::Rect> placed;
  std::vector<cv::Rect> tag_of(dets.size());
  for (size_t k = 0; k < dets.size(); ++k) {
    const Detection& d = dets[k];
    const std::string text = fmt::format("{} {:.2f}", d.label, d.score);
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(text, font, font_scale, std::max(1, thick - 1), &baseline);
    const int h = ts.height + baseline + 2, w = ts.width + 2;
    const int x1 = int(std::lround(d.x1)), y1 = int(std::lround(d.y1)), y2 = int(std::lround(d.y2));
    const int left = std::clamp(x1, 0, std::max(0, img.cols - w));
    std::vector<int> tops = {y1 - h, y1, y2};
    for (int step = 1; step <= 8; ++step) tops.push_back(y2 + step * h);
    cv::Rect best(left, std::clamp(y1 - h, 0, std::max(0, img.rows - h)), w, h);
    for (int top : tops) {
      if (top < 0 || top + h > img.rows) continue;
      const cv::Rect r(left, top, w, h);
      if (std::none_of(placed.begin(), placed.end(), [&](const cv::Rect& p) { return (p & r).area() > 0; })) {
        best = r;
        break;
      }
    }
    placed.push_back(best);
    tag_of[k] = best;
  }
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
    const cv::Rect tag = tag_of[size_t(std::distance(it, dets.rend()) - 1)];
    const int left = tag.x, top = tag.y;
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
    ok = media_codecs().encode_image(ext.empty() ? ".png" : ext, img, buf);
  } catch (const cv::Exception& e) {
    fail("{}: cannot encode the image: {}", path.string(), e.msg);
  }
  if (!ok) fail("{}: cannot encode the image", path.string());
  write_file_atomic(path, std::string(buf.begin(), buf.end()));
}

}  // namespace npusplit
