// Writes a Motion-JPEG AVI of N frames made from the given pictures (each shown in turn, shifted
// a little every frame), for `bench/quant_bench.sh`: `calib` of 1024 frames needs a source that
// holds them, and the shared data has four photos.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OUT.avi FRAMES PICTURE...\n", argv[0]);
    return 2;
  }
  const int frames = std::atoi(argv[2]);
  std::vector<cv::Mat> pics;
  for (int i = 3; i < argc; ++i) {
    cv::Mat m = cv::imread(argv[i], cv::IMREAD_COLOR);
    if (m.empty()) continue;
    cv::resize(m, m, cv::Size(640, 480));
    pics.push_back(m);
  }
  if (pics.empty() || frames <= 0) return 2;
  cv::VideoWriter w(argv[1], cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25, cv::Size(640, 480));
  if (!w.isOpened()) return 1;
  for (int f = 0; f < frames; ++f) {
    cv::Mat shifted;
    const cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, f % 17, 0, 1, f % 11);
    cv::warpAffine(pics[size_t(f) % pics.size()], shifted, m, pics[0].size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
    w.write(shifted);
  }
  return 0;
}
