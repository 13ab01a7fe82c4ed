#pragma once
// The text of `rules` (rule ids per target) and `repro` (what was written). The documents
// (`rules --markdown`, `--audit`) are rules/markdown.h's.
#include <filesystem>
#include <string>
#include <vector>

#include "npusplit/results/rules.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit {

std::string rule_ids_text(const std::vector<RuleSet>& sets);
std::string repro_files_text(const std::vector<std::filesystem::path>& files);
std::string repro_batch_text(const ReproBatch& b);

}  // namespace npusplit
