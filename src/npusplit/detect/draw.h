#pragma once
// Detections drawn on the image (boxes and "name score" labels), and writing images.
#include <opencv2/core.hpp>

#include <filesystem>
#include <vector>

#include "npusplit/detect/postprocess.h"

namespace npusplit {

// Draws each detection on BGR (in place): a box in a colour per class, and "name 0.87" on a
// filled tag above the box (inside it when the box touches the top edge).
void draw_detections(cv::Mat& bgr, const std::vector<Detection>& dets);

// Writes IMG (PNG, JPEG... by extension), creating the parent folder; one-line Error on failure.
void write_image(const std::filesystem::path& path, const cv::Mat& img);

}  // namespace npusplit
