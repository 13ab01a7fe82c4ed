#pragma once
// What the analysis of a model gives (typed, read by report/ and by every later step): the
// model with its facts, the rules' verdicts, FLOPs, the automatic cut.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>
#include <vector>

#include "npusplit/analysis/ranges.h"
#include "npusplit/detect/preprocess_record.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/partition/partitioner.h"
#include "npusplit/rules/evaluator.h"
#include "npusplit/rules/parser_log.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

struct TensorSummary {
  std::string name;
  TensorInfo info;
};

struct ModelSummary {
  std::string path;
  int64_t file_bytes = 0;
  int64_t ir_version = 0;
  std::vector<std::pair<std::string, int64_t>> opsets;
  std::string producer;
  std::vector<TensorSummary> inputs, outputs;  // as declared in the file
  int nodes = 0;
  int64_t parameters = 0;
};

struct Timings {
  double load_ms = 0, resolve_ms = 0, check_ms = 0, partition_ms = 0;
};

// The quantization-aware cut: how check/split measure the parts of every merge on the NPU side.
// Which merges the probe measures: every one in stage1 (check, split --calib: warnings for those
// left inside), or only those ending the cut (split: what decides the cut, without running the
// whole backbone when no merge ends it).
enum class RangeScope { stage1, cut };

struct RangeProbeOptions {
  bool enabled = true;
  RangeScope scope = RangeScope::stage1;
  std::vector<std::string> images;   // split --calib: ranges from these (else one seeded synthetic image)
  uint32_t seed = 0;
  int64_t max_frames = 8;            // of the images: a bound on check's cost
  double ratio = kMixedRangeRatio;
  PreprocessOverrides preprocess;    // how an image becomes the input (as split records it)
};

struct Analysis {
  onnx::ModelProto original;   // as loaded (external data inlined)
  ModelSummary summary;
  CompiledModel model;         // the judged graph with its facts (shapes, folded constants)
  RuleSet rules;
  std::vector<NodeVerdict> verdicts;
  std::vector<int64_t> flops;  // per node of the resolved graph
  int64_t total_flops = 0;
  Partition partition;         // the automatic cut (largest stage1)
  Timings timings;
  bool allow_suspect = false;
  // A failed `hailo parser` log (--parser-log): its findings are added on every judge().
  std::string parser_log_path, parser_log_text;
  ParserLogResult parser_log;
  // Merges of parts with different measured ranges (quant-mixed-range), on every judge().
  RangeProbeOptions range_options;
  RangeProbe ranges;
  // Per node of the judged graph (empty: none): stage1 must not end on it (the mixed merges
  // and the reshape-like ops carrying them on). Every cut taken from this analysis obeys it.
  std::vector<char> no_end;
};

struct AnalyzeOptions {
  std::string target = "hailo8";
  std::string dfc;          // --dfc: DFC version of the rules (empty = newest documented)
  std::string parser_log;   // --parser-log FILE
  InputShapes input_shapes;
  bool partition = true;
  // Let nodes whose only findings are "suspect" (inferred, unconfirmed parser failures) into
  // stage1. Off by default: a stage1 should be predicted to parse.
  bool allow_suspect = false;
  // Keep the model as loaded in Analysis::original (verify needs it). Without it, the loaded
  // model is resolved in place: one copy of the weights less.
  bool keep_original = true;
  RangeProbeOptions ranges;
};

}  // namespace npusplit
