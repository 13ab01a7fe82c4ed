#pragma once
// The `check` recipe: a bad --platform fails first, then analyze (load, compile, judge, cut),
// then with --platform the automatic cut estimated among the candidates.
#include <filesystem>

#include "npusplit/results/check.h"

namespace npusplit {

CheckResult run_check(const std::filesystem::path& model, const CheckOptions& o);

}  // namespace npusplit
