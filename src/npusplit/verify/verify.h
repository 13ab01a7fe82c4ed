#pragma once
// Proves a split: the original model and stage1 -> stage2 run in ONNX Runtime on the same
// inputs, and every output is compared element by element, NaN-aware.
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "npusplit/ort/host_tensor.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

struct VerifyCase {
  std::string label;               // "random #0", "images/cat.png"
  std::vector<HostTensor> inputs;  // by the original model's input names
};

struct OutputComparison {
  std::string name;
  double max_abs_diff = 0;
  int64_t nonfinite_equal = 0;     // same NaN/Inf at the same position on both sides
  int64_t nonfinite_mismatch = 0;  // non-finite on one side only, or different
  bool shape_mismatch = false;
  bool ok = true;
};

struct VerifyCaseResult {
  std::string label;
  std::vector<OutputComparison> outputs;
};

struct VerifyReport {
  double tolerance = 0;
  std::vector<VerifyCaseResult> cases;
  std::vector<OutputComparison> worst;  // per output over all cases
  bool ok = true;
  // Per stage1 output: min/max seen over the cases (for --pack range warnings).
  std::vector<std::tuple<std::string, double, double>> stage1_ranges;
  // With a pack layout: min/max of each packed part of stage1's first output.
  std::vector<std::pair<double, double>> stage1_part_ranges;
};

OutputComparison compare_tensors(const HostTensor& a, const HostTensor& b, double tolerance);

// Builds inputs for the original model: N seeded random cases and one per image.
std::vector<VerifyCase> make_verify_cases(const onnx::ModelProto& original, const InputShapes& shapes,
                                          int random_count, const std::vector<std::string>& images,
                                          uint32_t seed = 1234);
// The same for inputs of the given specs (e.g. a compiled model's fixed inputs).
std::vector<VerifyCase> make_verify_cases(const std::vector<TensorSpec>& specs, int random_count,
                                          const std::vector<std::string>& images, uint32_t seed = 1234);

// Two-model comparison (original vs stage1 -> stage2).
// PACK_PARTS (offset, count in elements): also measure each part of stage1's packed output.
VerifyReport verify_split(const onnx::ModelProto& original, const onnx::ModelProto& stage1,
                          const onnx::ModelProto& stage2, const std::vector<VerifyCase>& cases,
                          double tolerance, const std::vector<std::pair<int64_t, int64_t>>& pack_parts = {});
// One-model comparison (original vs rewritten), used by `fix --verify`.
VerifyReport verify_equivalent(const onnx::ModelProto& a, const onnx::ModelProto& b,
                               const std::vector<VerifyCase>& cases, double tolerance);

}  // namespace npusplit
