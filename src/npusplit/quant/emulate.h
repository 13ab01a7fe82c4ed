#pragma once
// `npusplit quant`: a simple min/max emulation of the NPU's 8-bit arithmetic on stage1, measured
// on the calibration set. Pessimistic next to the DFC (no equalization, bias correction,
// fine-tuning or per-layer choices) and never the DFC's result: a warning sign, not a figure of
// the HEF's accuracy.
//   pass 1: ranges of every stage1 activation (stage1 in ONNX Runtime with all of them exposed);
//   pass 2: per frame, float stage1 -> stage2 (the reference); each crossing tensor alone
//           quantized at 8 and 16 bits (its SQNR) and at 8 bits through stage2 (its effect on
//           each model output); stage1 with Q/DQ pairs on every activation and weight, its
//           outputs at --bits, through stage2 (SQNR of each model output, detection drift).
// Memory: one frame's activations at a time, plus a running min/max per tensor.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/quant/qdq.h"

namespace npusplit {

// Facts with their evidence in rules/quant/hailo_quant.yaml (a test keeps the two equal).
constexpr double kA16SqnrThresholdDb = 30.0;  // a crossing tensor below this gets a16_w16 in the .alls
// kMixedRangeRatio (parts of one output whose ranges differ more than it): analysis/ranges.h

struct QuantOptions {
  std::filesystem::path manifest, calib;
  int bits = 8;                         // crossing tensors in the whole-stage1 emulation
  WeightGranularity weights = WeightGranularity::per_channel;
  int64_t max_frames = 0;               // 0: every frame of the calibration set
  double a16_threshold_db = kA16SqnrThresholdDb;
  double mixed_range_ratio = kMixedRangeRatio;
  bool quantize_activations = true;     // false: weights only (which one hurts?)
  bool quantize_weights = true;
  bool every_tensor = false;            // Q/DQ after every activation, not only at fused-layer outputs
  int drift_top = 100;                  // top-scoring float detections compared per frame
  double drift_iou = 0.5;               // IoU that counts as the same detection
};

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
  std::vector<MixedRange> npu_merges;
  std::vector<RangePart> ranges;        // every activation's range, in graph order
  std::vector<std::string> quantized;   // the activations given a Q/DQ pair   // every merge inside stage1 with parts of different ranges
  std::vector<std::string> notes;
  double ranges_s = 0, emulation_s = 0;
};

QuantReport run_quant(const QuantOptions& o);
nlohmann::json quant_json(const QuantReport& r);
std::string quant_text(const QuantReport& r);
// The caveat every output carries.
const char* quant_caveat();

}  // namespace npusplit
