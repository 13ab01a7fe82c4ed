#pragma once
// What `fix` prints: the passes table, the check figures before/after, the proof; its JSON
// (schema npusplit.fix/1); the list of passes.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/fix.h"

namespace npusplit {

std::string fix_text(const FixResult& r, const FixOptions& o);
nlohmann::json fix_json(const FixResult& r, const FixOptions& o);
std::string list_passes_text();

}  // namespace npusplit
