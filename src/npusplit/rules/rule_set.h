#pragma once
// A target's parser rules, loaded from rules/<target>.yaml (schema: docs/rules-schema.md).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace npusplit {

enum class OpStatus { Supported, Constrained, Unsupported, Fold };

struct Constraint {
  std::string id, check, reason, fix, evidence, source, note;
  // "error": the parser is known to reject it; "suspect": inferred to crash or fail (the
  // partitioner may still place it on the NPU, and `check` reports it separately).
  std::string severity = "error";
  // The DFC versions (inclusive, "major.minor") the rule applies to; empty = every version of
  // the file's generation. Lets a file say "measured on 5.4" apart from "inferred for 5.2/5.3".
  std::string dfc_min, dfc_max;
  YAML::Node params;
};

struct OpRule {
  std::string op;
  OpStatus status = OpStatus::Unsupported;
  std::string reason, fix, evidence, source, note;
  std::vector<Constraint> constraints;
  std::set<std::string> skip_defaults;
};

// The default-domain opsets the target's parser is documented or measured to take; `split`
// converts stage1 into this range when the model is outside it.
struct OpsetRange {
  int min = 7, max = 24;
  std::string evidence, source, note;
  bool contains(int64_t v) const { return v >= min && v <= max; }
};

// One row of research/hailo_ops.md and what this file does with it: the rule ids that encode
// it, or the reason it cannot be a rule (evidence INF when the row says nothing about this
// file's DFC generation).
struct ResearchRow {
  std::string row, evidence, reason, note;
  std::vector<std::string> rules;
};

// A parser log signature (the error-string table): a regex over one log line, where the node
// it names comes from (the first capture group, or every node a rule flags), and the finding.
struct LogSignature {
  std::string id, match, reason, fix, evidence, source, rule;
  std::string nodes_from;  // "capture" (default), "rule" (nodes with a finding of `rule`), "none"
  bool recommendation = false;  // the parser's "recommendations for end node names" list
};

struct RuleSet {
  std::string target, hw_arch, dfc, origin;
  OpsetRange opset;
  std::vector<std::string> dfc_versions;  // documented, oldest first; the default is the last
  std::string dfc_choice = "default";     // how `dfc` was chosen: "default" or "--dfc"
  std::vector<ResearchRow> research;
  std::vector<LogSignature> parser_log;
  std::vector<std::string> aliases;
  std::vector<Constraint> defaults;
  OpRule unknown_op;
  std::map<std::string, OpRule> ops;
  const OpRule& rule_for(const std::string& op) const;
};

// By target name (hailo8, hailo8l, hailo10h, ...: the embedded files and their aliases) or
// by the path of a YAML file. Throws npusplit::Error naming the valid targets.
// DFC selects the rules of that compiler version (same generation as the file, "3.33" or
// "3.33.1"); empty = the newest documented version.
RuleSet load_rules(const std::string& target_or_path, const std::string& dfc = "");
// Every constraint of the file, whatever its DFC range (the rules document, the audit).
RuleSet load_rules_all_versions(const std::string& target_or_path);
// Keeps the constraints whose dfc_min/dfc_max include VERSION. Throws on another generation.
void select_dfc(RuleSet& rs, const std::string& version);
// -1, 0, 1 comparing "3.28" with "3.33.1" by their numeric parts.
int compare_versions(const std::string& a, const std::string& b);
// A constraint id, a default id, or "op:<Op>" for an unsupported/fold op entry.
std::vector<std::string> rule_ids(const RuleSet& rs);
RuleSet parse_rules(const std::string& yaml_text, const std::string& origin);
std::vector<std::string> known_targets();

}  // namespace npusplit
