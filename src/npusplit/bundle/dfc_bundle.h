#pragma once
// The Dataflow Compiler bundle `split --calib` writes beside the stages: the model script
// (<stem>.alls) and a script for the DFC's Python API (<stem>_dfc.py), plus the calibration set.
// npusplit runs none of it: the DFC is Hailo's (behind a login), not part of npusplit.
// Syntax from the Hailo Model Zoo's public model scripts (hailo_model_zoo/cfg/alls/generic/,
// e.g. detr_resnet_v1_18_bn.alls, nanodet_repvgg.alls) and the ClientRunner calls the Zoo's
// parse_utils.py and public conversion scripts use (research/hailo_ops.md, "The CLI and Python API").
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/results/quant.h"

namespace npusplit {

struct BundleInputs {
  std::string stem;                    // <stem>.alls, <stem>_dfc.py
  std::string hw_arch = "hailo8";
  std::string stage1_file;             // beside the bundle
  std::string calib_file;              // beside the bundle
  int64_t calib_frames = 0;
  PreprocessRecord preprocess;
  const onnx::ModelProto* stage1 = nullptr;
  const QuantReport* quant = nullptr;  // a16 choices and figures (optional)
};


DfcBundle make_dfc_bundle(const BundleInputs& in);

// The normalization layer's mean/std on 0-255 pixels: the manifest's (pixel/scale - mean)/std
// is (pixel - scale*mean)/(scale*std).
std::pair<std::array<double, 3>, std::array<double, 3>> normalization_on_pixels(const PreprocessOptions& o);

}  // namespace npusplit
