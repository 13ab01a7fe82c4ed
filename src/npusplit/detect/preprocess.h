#pragma once
// Image -> model input tensor, as DETR-family deployments feed them: resize to the input size
// (plain stretch as DEIMv2 does, or letterbox), BGR -> RGB, /255, optional mean/std, NCHW.
#include <opencv2/core.hpp>

#include <array>
#include <optional>
#include <string>

#include "npusplit/ort/host_tensor.h"

namespace npusplit {

struct PreprocessOptions {
  bool letterbox = false;
  std::optional<std::array<float, 3>> mean, std;  // applied after /255, RGB order
};

// How a box in model-input pixels maps back to the original image.
struct ImageTransform {
  int src_w = 0, src_h = 0;       // original image
  int dst_w = 0, dst_h = 0;       // model input
  float scale_x = 1, scale_y = 1; // input pixels per source pixel
  float pad_x = 0, pad_y = 0;     // letterbox offsets in input pixels
};

cv::Mat read_image(const std::string& path);  // throws npusplit::Error when unreadable
// Fills TENSOR (float, [1,3,H,W]) from a BGR image.
ImageTransform image_to_tensor(const cv::Mat& bgr, HostTensor& tensor, const PreprocessOptions& o = {});

}  // namespace npusplit
