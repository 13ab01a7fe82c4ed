#pragma once
// What quantization gives: the 8-bit emulation's report (quant/emulate.h computes it), the DFC
// bundle (bundle/dfc_bundle.h) and, for split --calib, the calibration set with both. Plain data:
// report/quant_report.h writes their text and JSON.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/analysis/ranges.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/detect/preprocess_record.h"

namespace npusplit {

// Facts with their evidence in rules/quant/hailo_quant.yaml (a test keeps the two equal).
constexpr double kA16SqnrThresholdDb = 30.0;  // a crossing tensor below this gets a16_w16 in the .alls
// kMixedRangeRatio (parts of one output whose ranges differ more than it): analysis/ranges.h

enum class WeightGranularity { per_channel, per_tensor };

// RangePart, MixedRange: analysis/ranges.h

struct OutputEffect {
  std::string output;
  double sqnr_db = 0;
};

struct CrossingQuant {
  std::string name, original_tensor;
  std::vector<int64_t> shape;
  float min = 0, max = 0;
  double sqnr8_db = 0, sqnr16_db = 0;
  int64_t levels8 = 0;                  // distinct 8-bit levels used (over all frames, max per frame)
  std::vector<OutputEffect> effect8;    // this tensor alone at 8 bits -> each model output
  std::optional<MixedRange> mixed;      // it concatenates parts of different ranges
  bool a16 = false;                     // 8-bit SQNR below the threshold: 16-bit output advised
};

struct DetectionDrift {
  int64_t frames = 0, compared = 0, kept = 0, class_flips = 0;
  double mean_iou = 0, mean_abs_score_change = 0;
  double kept_share() const { return compared ? double(kept) / double(compared) : 0; }
};

struct QuantReport {
  std::filesystem::path manifest, calib, stage1, stage2;
  int64_t frames = 0;
  bool calib_pixels = true;             // the .npy held 0-255 pixels (normalized here as the manifest says)
  PreprocessRecord preprocess;
  int bits = 8;
  WeightGranularity weights = WeightGranularity::per_channel;
  int64_t activations = 0, activation_pairs = 0, weight_pairs = 0;
  bool quantize_activations = true, quantize_weights = true, every_tensor = false;
  double a16_threshold_db = kA16SqnrThresholdDb, mixed_range_ratio = kMixedRangeRatio;
  std::vector<CrossingQuant> crossing;
  std::vector<OutputEffect> outputs;    // whole emulated stage1 -> each model output
  std::optional<DetectionDrift> drift;  // DETR layouts
  std::string layout;
  std::vector<MixedRange> npu_merges;   // every merge inside stage1 with parts of different ranges
  std::vector<RangePart> ranges;        // every activation's range, in graph order
  std::vector<std::string> quantized;   // the activations given a Q/DQ pair
  std::vector<std::string> notes;
  double ranges_s = 0, emulation_s = 0;
};

struct DfcBundle {
  std::string alls, script;
  std::vector<std::string> a16;        // crossing tensors given 16-bit outputs
  std::vector<std::string> commands;   // parser, optimize, compiler (CLI path)
};

// split --calib IMAGES...: the calibration set, the emulation on it and the DFC bundle, written
// in the split's own set of files (before its manifest, which names them with their hashes).
struct CalibBundle {
  std::vector<std::string> inputs;     // what the set was made from (--calib), with its count and seed
  int64_t count = 0;
  uint32_t seed = 0;
  CalibResult calib;
  std::filesystem::path calib_path;   // not hashed: at 1024 frames it is gigabytes
  QuantReport quant;
  DfcBundle bundle;
  std::filesystem::path alls_path, script_path;
  std::string alls_sha256, script_sha256;
};

}  // namespace npusplit
