#pragma once
// What `fix` gives: the passes' report, the check figures before and after, the proof.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/results/analysis.h"
#include "npusplit/passes/pass.h"
#include "npusplit/verify/verify.h"

namespace npusplit {

struct FixOptions {
  std::filesystem::path model, out;
  std::string target = "hailo8";
  std::vector<std::string> passes;  // empty = every exact pass
  InputShapes input_shapes;
  bool verify = false;
  int verify_random = 2;
  std::vector<std::string> verify_images;
  std::optional<double> tolerance;  // default: 0 for exact passes, 1e-4 otherwise
};

struct CheckFigures {
  int unsupported = 0, suspect = 0, nodes = 0;
  double npu_flops_share = 0;
};

struct FixResult {
  FixReport report;
  CheckFigures before, after;
  bool changed = false;
  std::optional<VerifyReport> verify;
  double tolerance = 0;
  double fix_ms = 0;
};

}  // namespace npusplit
