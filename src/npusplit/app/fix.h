#pragma once
// `npusplit fix`: apply rewrite passes, report their effect on `check`, optionally verify.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/app/analyze.h"
#include "npusplit/report/fix_report.h"
#include "npusplit/results/fix.h"

namespace npusplit {

FixResult fix_model(const FixOptions& o);
CheckFigures figures_of(const Analysis& a);

}  // namespace npusplit
