#include "npusplit/rules/rule_set.h"

#include <filesystem>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/rules/checks.h"
#include "npusplit/rules/embedded_rules.h"

namespace npusplit {

const OpRule& RuleSet::rule_for(const std::string& op) const {
  auto it = ops.find(op);
  return it == ops.end() ? unknown_op : it->second;
}

namespace {

std::string str(const YAML::Node& n, const char* key) {
  return n[key] ? n[key].as<std::string>() : std::string();
}

Constraint parse_constraint(const YAML::Node& n, const std::string& where) {
  Constraint c;
  c.id = str(n, "id");
  c.check = str(n, "check");
  c.reason = str(n, "reason");
  c.fix = str(n, "fix");
  c.evidence = str(n, "evidence");
  c.source = str(n, "source");
  c.note = str(n, "note");
  if (n["severity"]) c.severity = n["severity"].as<std::string>();
  if (c.severity != "error" && c.severity != "suspect") fail("{}: severity must be error or suspect", where);
  c.params = n;
  if (c.check.empty()) fail("{}: a constraint without 'check'", where);
  if (!is_known_check(c.check)) fail("{}: unknown check '{}'", where, c.check);
  if (c.id.empty()) c.id = c.check;
  return c;
}

OpStatus parse_status(const std::string& s, const std::string& where) {
  if (s == "supported") return OpStatus::Supported;
  if (s == "constrained") return OpStatus::Constrained;
  if (s == "unsupported") return OpStatus::Unsupported;
  if (s == "fold") return OpStatus::Fold;
  fail("{}: status '{}' is not supported|constrained|unsupported|fold", where, s);
}

}  // namespace

RuleSet parse_rules(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}: invalid YAML: {}", origin, e.what());
  }
  RuleSet rs;
  rs.origin = origin;
  rs.target = str(root, "target");
  rs.hw_arch = str(root, "hw_arch");
  rs.dfc = root["dfc"] ? root["dfc"].as<std::string>() : "";
  if (rs.target.empty()) fail("{}: missing 'target'", origin);
  if (rs.hw_arch.empty()) rs.hw_arch = rs.target;
  if (const auto o = root["opset"]) {
    if (!o.IsMap() || !o["min"] || !o["max"]) fail("{}: 'opset' needs min and max", origin);
    rs.opset.min = o["min"].as<int>();
    rs.opset.max = o["max"].as<int>();
    rs.opset.evidence = str(o, "evidence");
    rs.opset.source = str(o, "source");
    rs.opset.note = str(o, "note");
    if (rs.opset.min < 7 || rs.opset.max > max_supported_opset() || rs.opset.min > rs.opset.max)
      fail("{}: opset range {}-{} is not within 7-{}", origin, rs.opset.min, rs.opset.max, max_supported_opset());
  }
  if (root["aliases"])
    for (const auto& a : root["aliases"]) rs.aliases.push_back(a.as<std::string>());
  if (root["defaults"])
    for (const auto& d : root["defaults"]) rs.defaults.push_back(parse_constraint(d, origin + ": defaults"));
  rs.unknown_op.op = "*";
  rs.unknown_op.status = OpStatus::Unsupported;
  rs.unknown_op.reason = "op not in the rule file: the parser is not known to take it";
  rs.unknown_op.fix = "run on the host";
  rs.unknown_op.evidence = "INF";
  if (const auto u = root["unknown_op"]) {
    if (u["reason"]) rs.unknown_op.reason = u["reason"].as<std::string>();
    if (u["fix"]) rs.unknown_op.fix = u["fix"].as<std::string>();
    if (u["evidence"]) rs.unknown_op.evidence = u["evidence"].as<std::string>();
  }
  if (!root["ops"] || !root["ops"].IsMap()) fail("{}: missing 'ops' map", origin);
  for (const auto& kv : root["ops"]) {
    OpRule r;
    r.op = kv.first.as<std::string>();
    const auto& n = kv.second;
    const std::string where = origin + ": " + r.op;
    r.status = parse_status(str(n, "status"), where);
    r.reason = str(n, "reason");
    r.fix = str(n, "fix");
    r.evidence = str(n, "evidence");
    r.source = str(n, "source");
    r.note = str(n, "note");
    if (n["constraints"])
      for (const auto& c : n["constraints"]) r.constraints.push_back(parse_constraint(c, where));
    if (n["skip_defaults"])
      for (const auto& s : n["skip_defaults"]) r.skip_defaults.insert(s.as<std::string>());
    if ((r.status == OpStatus::Unsupported || r.status == OpStatus::Fold) && r.reason.empty())
      fail("{}: an unsupported op needs a 'reason'", where);
    rs.ops[r.op] = std::move(r);
  }
  return rs;
}

std::vector<std::string> known_targets() {
  std::vector<std::string> out;
  for (const auto& [name, text] : embedded_rule_files()) {
    auto rs = parse_rules(text, name);
    out.push_back(rs.target);
    for (const auto& a : rs.aliases) out.push_back(a);
  }
  return out;
}

RuleSet load_rules(const std::string& target_or_path) {
  namespace fs = std::filesystem;
  if (target_or_path.find('/') != std::string::npos || target_or_path.ends_with(".yaml"))
    return parse_rules(read_file(fs::path(target_or_path)), target_or_path);
  std::string names;
  for (const auto& [name, text] : embedded_rule_files()) {
    auto rs = parse_rules(text, "rules/" + name);
    if (rs.target == target_or_path) return rs;
    for (const auto& a : rs.aliases)
      if (a == target_or_path) {
        rs.hw_arch = a;  // same parser rules, but `hailo parser --hw-arch` must name the chip
        return rs;
      }
    names += (names.empty() ? "" : ", ") + rs.target;
    for (const auto& a : rs.aliases) names += ", " + a;
  }
  fail("unknown target '{}' (known: {}; or give a rules .yaml path)", target_or_path, names);
}

}  // namespace npusplit
