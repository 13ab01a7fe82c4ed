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
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/quant/qdq.h"
#include "npusplit/results/quant.h"

namespace npusplit {

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

// The stages and facts the emulation runs on, in memory (split --calib has them; `quant` reads
// them from a manifest).
struct QuantStages {
  const onnx::ModelProto& stage1;
  const onnx::ModelProto& stage2;
  PreprocessRecord preprocess;
  std::map<std::string, std::string> original_of;  // crossing tensor -> the original model's name
  std::filesystem::path calib_data;                // the .npy to read (may be a temporary file)
  // Labels for the report: the manifest, the stage files and the calibration set by final name.
  std::filesystem::path manifest, stage1_path, stage2_path, calib;
};

QuantReport emulate_quant(const QuantStages& in, const QuantOptions& o);
// O.manifest's stages (each matching its recorded SHA-256) on O.calib: emulate_quant.
QuantReport run_quant(const QuantOptions& o);
// quant_json / quant_text: report/quant_report.h

}  // namespace npusplit
