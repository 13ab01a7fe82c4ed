#include "npusplit/rules/parser_log.h"

#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "npusplit/error.h"

namespace npusplit {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Lines that are part of a Python traceback or the parser's progress output, not a verdict.
bool is_noise(const std::string& raw, const std::string& t, bool after_frame) {
  if (t.empty()) return true;
  if (t.rfind("File \"", 0) == 0 || t.rfind("Traceback", 0) == 0) return true;
  if (t.rfind("[info]", 0) == 0 || t.rfind("Would you like", 0) == 0) return true;
  if (t == "y" || t == "n" || t.rfind("```", 0) == 0) return true;
  if (t.find("\u2502") != std::string::npos) return true;  // rich-formatted traceback box
  // The source line Python prints under a frame.
  if (after_frame && !raw.empty() && (raw[0] == ' ' || raw[0] == '\t')) return true;
  return false;
}

bool looks_like_error(const std::string& t) {
  static const std::regex err(R"((Error|Exception)\b|\[error\]|Parsing failed)");
  return std::regex_search(t, err);
}

// "['a', 'b']" -> {a, b}
std::vector<std::string> name_list(const std::string& s) {
  std::vector<std::string> out;
  static const std::regex item(R"(['"]([^'"]+)['"])");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), item); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

// The nodes right after the recommended end nodes: consumers of their outputs that do not
// themselves lead to an end node. Cutting there is what the parser recommends.
std::vector<int> after_end_nodes(const Graph& g, const std::vector<int>& ends) {
  std::set<int> keep(ends.begin(), ends.end());
  std::vector<int> stack(ends.begin(), ends.end());
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    for (const auto& in : g.node(n).input()) {
      const int p = in.empty() ? -1 : g.producer(in);
      if (p >= 0 && keep.insert(p).second) stack.push_back(p);
    }
  }
  std::set<int> out;
  for (int e : ends)
    for (const auto& o : g.node(e).output())
      for (int c : g.consumers(o))
        if (!keep.count(c)) out.insert(c);
  return {out.begin(), out.end()};
}

}  // namespace

ParserLogResult apply_parser_log(const std::string& text, const std::string& path, const RuleSet& rules,
                                 const Graph& g, std::vector<NodeVerdict>& verdicts) {
  ParserLogResult r;
  r.path = path;
  struct Compiled {
    const LogSignature* sig;
    std::regex re;
  };
  std::vector<Compiled> sigs;
  for (const auto& s : rules.parser_log) {
    try {
      sigs.push_back({&s, std::regex(s.match)});
    } catch (const std::regex_error& e) {
      fail("{}: parser_log {}: invalid regex: {}", rules.origin, s.id, e.what());
    }
  }
  std::map<std::string, int> by_name;
  for (size_t i = 0; i < verdicts.size(); ++i) by_name.emplace(verdicts[i].name, static_cast<int>(i));
  std::set<std::pair<int, std::string>> added;  // (verdict, signature): one finding per pair

  auto add = [&](int vi, const LogSignature& s, const LogHit& hit) {
    if (!added.insert({vi, s.id}).second) return;
    auto& v = verdicts[vi];
    v.findings.push_back({"parser-log:" + s.id, s.reason, fmt::format("{} line {}: {}", path, hit.line_no, hit.line),
                          s.fix, "MEAS", fmt::format("the parser's own log ({}:{}); signature: {}", path, hit.line_no, s.source),
                          "error"});
    v.supported = false;
    v.suspect_only = false;
    ++r.findings_added;
  };

  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  bool after_frame = false;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string t = trim(raw);
    // Traceback frames are matched too (a crash site such as _handle_neg_feature_shuffle is
    // named only there) but are never reported as unknown.
    const bool noise = is_noise(raw, t, after_frame);
    after_frame = t.rfind("File \"", 0) == 0;
    if (t.empty()) continue;
    const Compiled* found = nullptr;
    std::smatch m;
    for (const auto& c : sigs)
      if (std::regex_search(t, m, c.re)) {
        found = &c;
        break;
      }
    if (!found) {
      if (!noise && looks_like_error(t)) r.unknown.emplace_back(line_no, t);
      continue;
    }
    const LogSignature& s = *found->sig;
    LogHit hit{line_no, t, s.id, {}, {}};
    std::vector<int> targets;
    if (s.recommendation) {
      std::vector<int> ends;
      for (const auto& name : name_list(m.size() > 1 ? m[1].str() : t)) {
        const int n = g.find_node(name);
        if (n < 0) hit.missing_nodes.push_back(name);
        else ends.push_back(n);
      }
      for (int n : after_end_nodes(g, ends)) {
        const auto& name = verdicts[n].name;
        hit.nodes.push_back(name);
        targets.push_back(n);
      }
    } else if (s.nodes_from == "capture" && m.size() > 1) {
      const std::string name = trim(m[1].str());
      auto it = by_name.find(name);
      if (it == by_name.end()) hit.missing_nodes.push_back(name);
      else {
        hit.nodes.push_back(name);
        targets.push_back(it->second);
      }
    } else if (s.nodes_from == "rule") {
      // `rule` may list several ids ("a, b": a rule and its other-version twin).
      std::vector<std::string> ids;
      for (size_t start = 0; start <= s.rule.size();) {
        auto comma = s.rule.find(',', start);
        if (comma == std::string::npos) comma = s.rule.size();
        if (auto id = trim(s.rule.substr(start, comma - start)); !id.empty()) ids.push_back(id);
        start = comma + 1;
      }
      auto matches = [&](const NodeVerdict& v, const Finding& f) {
        for (const auto& id : ids)
          if (id.rfind("op:", 0) == 0 ? v.op == id.substr(3) : f.rule_id == id) return true;
        return false;
      };
      for (size_t i = 0; i < verdicts.size(); ++i)
        for (const auto& f : verdicts[i].findings)
          if (matches(verdicts[i], f)) {
            hit.nodes.push_back(verdicts[i].name);
            targets.push_back(static_cast<int>(i));
            break;
          }
    }
    for (int vi : targets) add(vi, s, hit);
    r.hits.push_back(std::move(hit));
  }
  return r;
}

std::string parser_log_report(const ParserLogResult& r) {
  if (r.path.empty()) return "";
  std::string out = fmt::format("parser log {}: {} line(s) recognised, {} finding(s) added\n", r.path, r.hits.size(),
                                r.findings_added);
  for (const auto& h : r.hits) {
    std::string nodes;
    for (size_t k = 0; k < h.nodes.size() && k < 6; ++k) nodes += (k ? ", " : "") + h.nodes[k];
    if (h.nodes.size() > 6) nodes += fmt::format(", ... ({} nodes)", h.nodes.size());
    out += fmt::format("  line {} [{}] -> {}\n", h.line_no, h.signature, nodes.empty() ? "no node" : nodes);
    for (const auto& m : h.missing_nodes) out += fmt::format("    names '{}', which is not a node of this model\n", m);
  }
  for (const auto& [n, line] : r.unknown)
    out += fmt::format("  line {} not recognised (reported, not mapped): {}\n", n, line);
  return out;
}

}  // namespace npusplit
