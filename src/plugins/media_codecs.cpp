// The image/video plugin (npusplit/io/media_codecs.h): OpenCV's imgcodecs and videoio behind the
// MediaCodecs interface, so only the commands that decode pictures load them. It depends on
// OpenCV alone, never on npusplit's library (each binary links its own static copy).
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "npusplit/io/media_codecs.h"

namespace {

using npusplit::VideoProp;

class CvVideo final : public npusplit::VideoReader {
 public:
  explicit CvVideo(cv::VideoCapture cap) : cap_(std::move(cap)) {}
  bool is_open() const override { return cap_.isOpened(); }
  bool read(cv::Mat& bgr) override { return cap_.read(bgr); }
  double get(VideoProp p) const override {
    switch (p) {
      case VideoProp::fps: return cap_.get(cv::CAP_PROP_FPS);
      case VideoProp::frame_count: return cap_.get(cv::CAP_PROP_FRAME_COUNT);
      case VideoProp::width: return cap_.get(cv::CAP_PROP_FRAME_WIDTH);
      case VideoProp::height: return cap_.get(cv::CAP_PROP_FRAME_HEIGHT);
    }
    return 0;
  }

 private:
  cv::VideoCapture cap_;
};

class CvWriter final : public npusplit::VideoWriter {
 public:
  CvWriter(const std::string& path, const char* c, double fps, cv::Size size)
      : w_(path, cv::VideoWriter::fourcc(c[0], c[1], c[2], c[3]), fps, size) {}
  bool is_open() const override { return w_.isOpened(); }
  void write(const cv::Mat& bgr) override { w_.write(bgr); }
  void release() override { w_.release(); }

 private:
  cv::VideoWriter w_;
};

class CvCodecs final : public npusplit::MediaCodecs {
 public:
  cv::Mat read_image(const std::string& path) override { return cv::imread(path, cv::IMREAD_COLOR); }
  bool encode_image(const std::string& ext, const cv::Mat& img, std::vector<uchar>& out) override {
    return cv::imencode(ext, img, out);
  }
  bool have_image_reader(const std::string& path) override { return cv::haveImageReader(path); }
  std::unique_ptr<npusplit::VideoReader> open_video(const std::string& path) override {
    return std::make_unique<CvVideo>(cv::VideoCapture(path));
  }
  std::unique_ptr<npusplit::VideoReader> open_camera(int index) override {
    return std::make_unique<CvVideo>(cv::VideoCapture(index));
  }
  std::unique_ptr<npusplit::VideoWriter> open_writer(const std::string& path, const char* fourcc, double fps,
                                                     cv::Size size) override {
    return std::make_unique<CvWriter>(path, fourcc, fps, size);
  }
};

}  // namespace

extern "C" __attribute__((visibility("default"))) npusplit::MediaCodecs* npusplit_media_codecs() {
  static CvCodecs codecs;
  return &codecs;
}
