#include "npusplit/app/rules.h"

#include <fmt/format.h>

#include "npusplit/error.h"
#include "npusplit/rules/markdown.h"
#include "npusplit/rules/repro.h"

namespace npusplit {

std::vector<RuleSet> rule_files(const std::string& target) {
  if (target.empty()) return shipped_rule_sets();
  std::vector<RuleSet> out;
  out.push_back(load_rules_all_versions(target));
  return out;
}

std::vector<std::filesystem::path> write_rule_repro(const std::string& target, const std::string& dfc,
                                                    const std::string& rule, const std::filesystem::path& out) {
  const std::string t = target.empty() ? "hailo8" : target;
  (void)load_rules(t, dfc);  // a wrong --dfc is a one-line error
  std::string why;
  auto r = make_repro(load_rules_all_versions(t), rule, &why);
  if (!r) fail("no repro for '{}': {}", rule, why);
  return write_repro(*r, out);
}

ReproBatch write_all_repros(const std::string& target, const std::filesystem::path& out) {
  ReproBatch b;
  b.out = out;
  for (const auto& rs : rule_files(target)) {
    const auto dir = target.empty() ? out / rs.target : out;
    for (const auto& id : rule_ids(rs)) {
      std::string why;
      auto r = make_repro(rs, id, &why);
      if (!r) {
        b.skipped.push_back({rs.target, id, why});
        continue;
      }
      write_repro(*r, dir);
      ++b.written;
    }
  }
  return b;
}

}  // namespace npusplit
