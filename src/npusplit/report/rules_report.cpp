#include "npusplit/report/rules_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "npusplit/rules/repro.h"

namespace npusplit {

std::string rule_ids_text(const std::vector<RuleSet>& sets) {
  std::string text;
  for (const auto& rs : sets) {
    text += fmt::format("{} (hw-arch {}, DFC {}, default {})\n", rs.target, rs.hw_arch, fmt::join(rs.dfc_versions, ", "),
                        rs.dfc);
    for (const auto& id : rule_ids(rs)) text += "  " + id + (has_repro(rs, id) ? "" : "  (no repro graph)") + "\n";
  }
  return text;
}

std::string repro_files_text(const std::vector<std::filesystem::path>& files) {
  std::string text;
  for (const auto& f : files) text += "wrote " + f.string() + "\n";
  return text;
}

std::string repro_batch_text(const ReproBatch& b) {
  std::string text;
  for (const auto& s : b.skipped) text += fmt::format("{} {}: no repro ({})\n", s.target, s.rule, s.why);
  text += fmt::format("{} repros written under {}, {} rules without one\n", b.written, b.out.string(), b.skipped.size());
  return text;
}

}  // namespace npusplit
