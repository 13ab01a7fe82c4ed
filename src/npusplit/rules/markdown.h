#pragma once
// Documents generated from the rule files: the supported-ops tables (`npusplit rules
// --markdown`, committed as docs/supported-ops.md) and the research audit (`npusplit rules
// --audit`, committed as docs/rules-audit.md). Both are compared with the committed copies in
// the test suite, so the documents cannot drift from the rules.
#include <string>
#include <vector>

#include "npusplit/rules/rule_set.h"

namespace npusplit {

// The shipped rule files (hailo8 first), every DFC range of each: what the documents describe.
std::vector<RuleSet> shipped_rule_sets();
// SETS: every DFC range of each file (load_rules_all_versions).
std::string supported_ops_markdown(const std::vector<RuleSet>& sets);
std::string audit_markdown(const std::vector<RuleSet>& sets);
// The name of the generated two-way test of RULE at TARGET (tests/test_rules_audit.cpp).
std::string two_way_test_name(const std::string& target, const std::string& rule);
// The name of the generated test that a supported OP alone passes at TARGET.
std::string supported_test_name(const std::string& target, const std::string& op);

}  // namespace npusplit
