#pragma once
// What `info` prints: the file's summary, FLOPs and the node count after folding (text, or JSON
// with schema npusplit.info/1).
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/analysis.h"

namespace npusplit {

nlohmann::json info_json(const Analysis& a);
std::string info_text(const Analysis& a);

}  // namespace npusplit
