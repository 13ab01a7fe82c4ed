#pragma once
// A small DETR-like detector built in code for `npusplit demo` and the tests: a conv
// backbone, TopK + GatherElements query selection, GridSample deformable sampling and a
// postprocess to label_xyxy_score [1,Q,6] -- the same op mix that stops the Hailo parser on
// DEIMv2, at a size that runs in milliseconds. Its weights are set by hand so it finds
// bright coloured blobs (class = dominant colour), which makes the demo's output checkable.
#include <onnx/onnx_pb.h>

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace npusplit {

struct DemoModelSpec {
  int size = 128;     // input H = W
  int queries = 8;    // TopK k
};

onnx::ModelProto build_demo_detector(const DemoModelSpec& spec = {});
std::vector<std::string> demo_class_names();  // red, green, blue, white
// A dark picture with coloured discs; returns where they are (x, y, radius, class).
cv::Mat draw_demo_picture(int size, std::vector<cv::Vec4i>* blobs = nullptr);

}  // namespace npusplit
