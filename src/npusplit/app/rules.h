#pragma once
// The rule files as documents and as repro graphs (`rules`, `repro`): the recipes; their text is
// report/rules_report.h's.
#include <filesystem>
#include <string>
#include <vector>

#include "npusplit/results/rules.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit {

// TARGET's rule file with every DFC version's constraints, or every shipped file (TARGET empty).
std::vector<RuleSet> rule_files(const std::string& target);
// One repro graph (RULE of TARGET's rules at DFC) written into OUT; the files written. A rule
// without a repro, or a wrong --dfc, is a one-line error.
std::vector<std::filesystem::path> write_rule_repro(const std::string& target, const std::string& dfc,
                                                    const std::string& rule, const std::filesystem::path& out);
// A repro per rule of TARGET (OUT), or of every target (one folder each under OUT).
ReproBatch write_all_repros(const std::string& target, const std::filesystem::path& out);

}  // namespace npusplit
