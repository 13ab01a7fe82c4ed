#include "npusplit/rules/rule_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <mutex>

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
  c.dfc_min = str(n, "dfc_min");
  c.dfc_max = str(n, "dfc_max");
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
  if (root["dfc_versions"])
    for (const auto& v : root["dfc_versions"]) rs.dfc_versions.push_back(v.as<std::string>());
  std::sort(rs.dfc_versions.begin(), rs.dfc_versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  if (rs.dfc_versions.empty() && !rs.dfc.empty()) rs.dfc_versions.push_back(rs.dfc);
  if (!rs.dfc_versions.empty()) rs.dfc = rs.dfc_versions.back();
  if (const auto r = root["research"]) {
    for (const auto& kv : r) {
      ResearchRow row;
      row.row = kv.first.as<std::string>();
      const auto& n = kv.second;
      row.evidence = str(n, "evidence");
      row.reason = str(n, "reason");
      row.note = str(n, "note");
      if (n["rules"])
        for (const auto& id : n["rules"]) row.rules.push_back(id.as<std::string>());
      if (row.rules.empty() && row.reason.empty())
        fail("{}: research row '{}' has neither rules nor a reason", origin, row.row);
      rs.research.push_back(std::move(row));
    }
  }
  if (const auto pl = root["parser_log"]) {
    for (const auto& n : pl) {
      LogSignature sig;
      sig.id = str(n, "id");
      sig.match = str(n, "match");
      sig.reason = str(n, "reason");
      sig.fix = str(n, "fix");
      sig.evidence = str(n, "evidence");
      sig.source = str(n, "source");
      sig.rule = str(n, "rule");
      sig.nodes_from = n["nodes_from"] ? str(n, "nodes_from") : "capture";
      sig.recommendation = n["recommendation"] && n["recommendation"].as<bool>();
      if (sig.id.empty() || sig.match.empty()) fail("{}: parser_log entry without id or match", origin);
      if (sig.nodes_from != "capture" && sig.nodes_from != "rule" && sig.nodes_from != "none")
        fail("{}: parser_log {}: nodes_from must be capture, rule or none", origin, sig.id);
      rs.parser_log.push_back(std::move(sig));
    }
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

namespace {
// One embedded file, parsed once per process and only when asked for (parsing YAML is the slow
// part of loading: ~20 ms per 110 KB file). The map's nodes never move, so the references stay.
const RuleSet& embedded_rule_set(const std::string& name, const std::string& text) {
  static std::mutex mutex;
  static std::map<std::string, RuleSet> parsed;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = parsed.find(name);
  if (it == parsed.end()) it = parsed.emplace(name, parse_rules(text, "rules/" + name)).first;
  return it->second;
}

// Every embedded file (a target given by an alias, or the list of targets).
std::vector<const RuleSet*> embedded_rule_sets() {
  std::vector<const RuleSet*> v;
  for (const auto& [name, text] : embedded_rule_files()) v.push_back(&embedded_rule_set(name, text));
  return v;
}

std::vector<long> version_parts(const std::string& v) {
  std::vector<long> out;
  size_t i = 0;
  while (i < v.size()) {
    size_t j = i;
    while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
    if (j == i) break;
    out.push_back(std::stol(v.substr(i, j - i)));
    if (j < v.size() && v[j] == '.') ++j;
    else break;
    i = j;
  }
  return out;
}
// "5.4" covers "5.4.0" and "5.4.2": only the parts both spell out are compared.
int compare_prefix(const std::string& a, const std::string& b) {
  auto x = version_parts(a), y = version_parts(b);
  const size_t n = std::min(x.size(), y.size());
  for (size_t k = 0; k < n; ++k)
    if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
  return 0;
}
}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
  auto x = version_parts(a), y = version_parts(b);
  for (size_t k = 0; k < std::max(x.size(), y.size()); ++k) {
    const long p = k < x.size() ? x[k] : 0, q = k < y.size() ? y[k] : 0;
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

void select_dfc(RuleSet& rs, const std::string& version) {
  const auto parts = version_parts(version);
  if (parts.size() < 2) fail("--dfc '{}': give a DFC version like {}", version, rs.dfc.empty() ? "3.33" : rs.dfc);
  if (!rs.dfc.empty() && version_parts(rs.dfc).front() != parts.front()) {
    std::string list;
    for (const auto& v : rs.dfc_versions) list += (list.empty() ? "" : ", ") + v;
    fail("--dfc {}: target {} is DFC {}.x (documented: {}); use the other generation's target", version, rs.target,
         version_parts(rs.dfc).front(), list);
  }
  auto applies = [&](const Constraint& c) {
    if (!c.dfc_min.empty() && compare_prefix(version, c.dfc_min) < 0) return false;
    if (!c.dfc_max.empty() && compare_prefix(version, c.dfc_max) > 0) return false;
    return true;
  };
  auto keep = [&](std::vector<Constraint>& v) { std::erase_if(v, [&](const Constraint& c) { return !applies(c); }); };
  keep(rs.defaults);
  for (auto& [op, r] : rs.ops) keep(r.constraints);
  rs.dfc = version;
}

std::vector<std::string> rule_ids(const RuleSet& rs) {
  std::vector<std::string> out;
  for (const auto& d : rs.defaults) out.push_back(d.id);
  for (const auto& [op, r] : rs.ops) {
    if (r.status == OpStatus::Unsupported || r.status == OpStatus::Fold) out.push_back("op:" + op);
    for (const auto& c : r.constraints) out.push_back(c.id);
  }
  return out;
}

std::vector<std::string> known_targets() {
  std::vector<std::string> out;
  for (const RuleSet* rs : embedded_rule_sets()) {
    out.push_back(rs->target);
    for (const auto& a : rs->aliases) out.push_back(a);
  }
  return out;
}

RuleSet load_rules(const std::string& target_or_path, const std::string& dfc) {
  RuleSet rs = load_rules_all_versions(target_or_path);
  if (!dfc.empty()) select_dfc(rs, dfc);
  else if (!rs.dfc.empty()) select_dfc(rs, rs.dfc);
  if (!dfc.empty()) rs.dfc_choice = "--dfc";
  return rs;
}

RuleSet load_rules_all_versions(const std::string& target_or_path) {
  namespace fs = std::filesystem;
  if (target_or_path.find('/') != std::string::npos || target_or_path.ends_with(".yaml"))
    return parse_rules(read_file(fs::path(target_or_path)), target_or_path);
  // The file named after the target first, so a command parses only that one; an alias
  // (hailo8l) still looks through all of them.
  for (const auto& [name, text] : embedded_rule_files())
    if (name == target_or_path + ".yaml")
      if (const RuleSet& rs = embedded_rule_set(name, text); rs.target == target_or_path) return rs;
  std::string names;
  for (const RuleSet* rs0 : embedded_rule_sets()) {
    RuleSet rs = *rs0;
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
