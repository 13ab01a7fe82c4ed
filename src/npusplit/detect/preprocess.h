#pragma once
// Image -> model input tensor, as DETR-family deployments feed them: resize to the input size
// (plain stretch as DEIMv2 does, or letterbox), BGR -> RGB (or kept BGR), /scale (255), optional
// mean/std, NCHW (run) or NHWC (the calibration set). The split manifest records these options
// (detect/preprocess_record.h), so `run` and `calib` preprocess alike.
#include <opencv2/core.hpp>

#include <array>
#include <optional>
#include <string>

#include "npusplit/ort/host_tensor.h"

namespace npusplit {

struct PreprocessOptions {
  bool letterbox = false;
  bool bgr = false;                                // the model takes BGR (default RGB)
  float scale = 255.0f;                            // pixel value / scale
  std::optional<std::array<float, 3>> mean, std;  // applied after /scale, in the model's channel order
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

// What a frame becomes before the per-pixel arithmetic: the image resized (stretch or letterbox)
// to W x H, 8-bit BGR, and how boxes map back.
cv::Mat resize_for_model(const cv::Mat& bgr, int W, int H, const PreprocessOptions& o, ImageTransform& tr);
// OUT (H*W*3 floats, NHWC, the model's channel order) from a resize_for_model() result: the model's
// input values, or with RAW_PIXELS the 0-255 pixel values a HEF with a normalization layer takes.
void pixels_to_nhwc(const cv::Mat& resized, const PreprocessOptions& o, bool raw_pixels, float* out);

}  // namespace npusplit
