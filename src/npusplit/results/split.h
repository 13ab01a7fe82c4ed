#pragma once
// What `split` gives: the options it ran with and its typed results (the manifest and the text
// report are written from these by report/split_report.h).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/results/analysis.h"
#include "npusplit/results/frontier.h"
#include "npusplit/results/graph_sketch.h"
#include "npusplit/results/quant.h"
#include "npusplit/passes/pass.h"
#include "npusplit/split/splitter.h"
#include "npusplit/verify/fused_check.h"
#include "npusplit/verify/verify.h"

namespace npusplit {

struct SplitOptions {
  std::filesystem::path model;
  std::filesystem::path out_dir;
  std::string stem;                    // output file stem (default: the model's)
  std::string target = "hailo8";
  std::string dfc;                     // --dfc (empty = newest documented)
  std::string parser_log;              // --parser-log FILE: a failed parser run to learn from
  std::vector<std::string> cut;        // empty = auto
  std::string feature_name = "hailo_stage1_feat";
  bool pack = false;
  bool allow_suspect = false;          // put "suspect" nodes in stage1 too
  InputShapes input_shapes;
  std::vector<std::string> fix_passes; // rewrite passes applied before cutting (default: every exact one)
  bool fix = true;                     // false: --no-fix
  // With fix off: also run the passes on a copy to say what they would have given.
  bool compare_with_fix = true;
  bool verify = false;
  // One seeded random case (plus any images): verify costs two inferences of the model per case.
  int verify_random = 1;
  std::vector<std::string> verify_images;
  double tolerance = 0.0;
  int stage1_opset = 0;                // 0: the model's, moved into the target's opset range
  // Also write <stem>_stage2_fused.onnx: stage2 with npusplit's fused host operators (custom
  // domain "npusplit", host/fuse_msda.h); --verify compares it with the plain stage2 within
  // FUSED_TOLERANCE (verify/fused_check.h).
  bool fused_host = false;
  double fused_tolerance = 1e-4;
  PreprocessOverrides preprocess;      // --letterbox/--bgr/--scale/--mean/--std, recorded in the manifest
  // --calib: the quantization-aware cut measures the merges on these (else on a synthetic image),
  // and the calibration set, the 8-bit emulation and the DFC bundle are written with the stages.
  std::vector<std::string> calib_images;
  int64_t calib_count = 0;             // frames in the calibration set (0: all, at most 1024)
  uint32_t range_seed = 0;
  bool quant_ranges = true;            // --no-quant-ranges: off
  // --platform P (issue 14): pick the cut with the best estimated frame time on P among the
  // candidate cuts (empty: today's automatic cut, no timing). With --cut: that cut, estimated.
  std::string platform;
  std::string objective = "fps";       // fps | latency
  double host_factor = 0;              // > 0: overrides the profile's host factor
  double min_gain_percent = 3;         // --min-gain: what a cut must beat the baseline by (plus the timing spreads)
};

// What split did to stage1's opset (converted only when outside the target parser's range).
struct Stage1Opset {
  int64_t model = 0, written = 0;
  std::string reason;                  // why it was converted (empty: not converted)
  std::optional<VerifyReport> check;   // converted vs unconverted stage1 in ONNX Runtime
};

struct SplitResult {
  std::filesystem::path stage1_path, stage2_path, manifest_path;
  Analysis analysis;                   // of the (rewritten, folded) model that was cut
  StageModels stages;
  std::vector<NodeVerdict> stage1_verdicts;  // `check` of stage1 alone
  Stage1Opset stage1_opset;
  nlohmann::json manifest;             // written by report/ from the fields here (never read back)
  PreprocessRecord preprocess;         // as recorded in the manifest
  std::optional<VerifyReport> verify;
  std::filesystem::path stage2_fused_path;  // with fused_host
  int fused_ops = 0;
  std::optional<FusedCheck> verify_fused;  // fused vs plain stage2 on the verify cases
  std::vector<std::string> warnings;
  std::vector<std::string> notes;      // e.g. what --no-fix costs
  FixReport fix;                       // the passes that ran (empty with --no-fix)
  std::optional<double> share_with_fix;  // --no-fix: the NPU FLOPs share the passes would give
  std::string pack_ranges;             // with --pack and --verify: each part's value range
  // Why stage2 reads (or does not read) each original runtime input.
  std::map<std::string, std::string> stage2_input_reasons;
  std::string stage1_sha256, stage2_sha256, stage2_fused_sha256;  // of the files written
  int stage2_fused_nodes = 0;
  double split_ms = 0, verify_ms = 0;
  // split --platform P: the candidate cuts with their frame-time estimates (empty without).
  Frontier frontier;
  // --calib: the calibration set, the emulation and the DFC bundle written with the stages.
  std::optional<CalibBundle> calib;
  // The cut model's nodes and edges (the HTML report draws them; the proto moved into the stages).
  GraphSketch graph;
};

}  // namespace npusplit
