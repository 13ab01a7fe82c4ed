#pragma once
// `split --calib IMAGES...`: after the split, the calibration set, the 8-bit emulation and the
// DFC bundle, all beside the stages.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/bundle/dfc_bundle.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/quant/emulate.h"

namespace npusplit {

struct SplitCalibOptions {
  std::filesystem::path manifest;      // the split's manifest
  std::vector<std::string> images;     // empty: bundle without calibration set or emulation
  int64_t count = 0;
  uint32_t seed = 0;
  WeightGranularity weights = WeightGranularity::per_channel;
};

struct SplitCalibResult {
  std::optional<CalibResult> calib;
  std::filesystem::path calib_path;
  std::optional<QuantReport> quant;
  DfcBundle bundle;
  std::vector<std::filesystem::path> bundle_files;
};

SplitCalibResult calib_quant_bundle(const SplitCalibOptions& o);
std::string split_calib_text(const SplitCalibResult& r);

}  // namespace npusplit
