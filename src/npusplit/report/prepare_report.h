#pragma once
// `prepare`'s table: a row per variant (status, cut, NPU share, stage1 check, verify, time) and
// the DFC bundle files of each.
#include <string>
#include <vector>

#include "npusplit/results/prepare.h"

namespace npusplit {

std::string prepare_text(const std::vector<PrepareRow>& rows);

}  // namespace npusplit
