#pragma once
// `npusplit split`: cut a model into stage1 (accelerator) and stage2 (host), write both and a
// manifest, optionally prove the cut with `verify`.
#include <string>

#include "npusplit/app/analyze.h"
#include "npusplit/report/split_report.h"
#include "npusplit/results/split.h"

namespace npusplit {

SplitResult split_model(const SplitOptions& o);

}  // namespace npusplit
