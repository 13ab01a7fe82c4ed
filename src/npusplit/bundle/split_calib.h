#pragma once
// `split --calib IMAGES...` (and `prepare --calib`): the calibration set, the 8-bit emulation on
// it and the DFC bundle, computed from the stages in memory and added to the split's own set of
// files, so the stages, these and the manifest naming them land together or not at all.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/results/quant.h"

namespace npusplit {

struct CalibBundleInputs {
  const onnx::ModelProto& stage1;      // as written
  const onnx::ModelProto& stage2;
  PreprocessRecord preprocess;         // as the manifest records it
  std::map<std::string, std::string> original_of;  // crossing tensor -> original tensor
  std::filesystem::path dir;           // beside the stages
  std::string stem;                    // <stem>_calib.npy, <stem>.alls, <stem>_dfc.py
  std::string stage1_file, stage2_file, hw_arch;
  std::filesystem::path manifest;      // named in the reports (written after these)
  std::vector<std::string> images;
  int64_t count = 0;
  uint32_t seed = 0;
  WeightGranularity weights = WeightGranularity::per_channel;
};

CalibBundle add_calib_bundle(const CalibBundleInputs& in, OutputSet& files);

}  // namespace npusplit
