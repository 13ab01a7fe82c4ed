#pragma once
// What `check` gives: the analysis of the model and, with --platform, the estimate of its
// automatic cut beside the other candidates (report/check_report.h writes both).
#include <string>

#include "npusplit/results/analysis.h"
#include "npusplit/results/frontier.h"

namespace npusplit {

struct CheckOptions {
  AnalyzeOptions analyze;
  std::string platform;           // --platform P (empty: no estimate, no timing)
  std::string objective = "fps";
  double host_factor = 0;         // > 0: overrides the profile's
};

struct CheckResult {
  Analysis analysis;
  Frontier frontier;              // empty without --platform
};

}  // namespace npusplit
