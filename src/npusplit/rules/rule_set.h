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

struct RuleSet {
  std::string target, hw_arch, dfc, origin;
  OpsetRange opset;
  std::vector<std::string> aliases;
  std::vector<Constraint> defaults;
  OpRule unknown_op;
  std::map<std::string, OpRule> ops;
  const OpRule& rule_for(const std::string& op) const;
};

// By target name (hailo8, hailo8l, hailo10h, ...: the embedded files and their aliases) or
// by the path of a YAML file. Throws npusplit::Error naming the valid targets.
RuleSet load_rules(const std::string& target_or_path);
RuleSet parse_rules(const std::string& yaml_text, const std::string& origin);
std::vector<std::string> known_targets();

}  // namespace npusplit
