// rules, repro: the rule files as documents, and a minimal graph per rule.
#include <fmt/format.h>

#include <iostream>

#include "commands.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/rules/markdown.h"
#include "npusplit/rules/repro.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit::cli {

namespace {
std::vector<RuleSet> rule_sets(const std::string& target) {
  std::vector<RuleSet> out;
  if (!target.empty()) {
    out.push_back(load_rules_all_versions(target));
    return out;
  }
  return shipped_rule_sets();
}
}  // namespace

void add_rules(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("rules", "The rule files: rule ids per target, the supported-ops document (--markdown) or the research audit (--audit)");
  static std::string target, out;
  static bool markdown = false, audit = false;
  cmd->add_option("--target", target, "one target (default: every rule file)");
  cmd->add_flag("--markdown", markdown, "the supported-ops document (docs/supported-ops.md)");
  cmd->add_flag("--audit", audit, "research/hailo_ops.md rows -> rules -> tests (docs/rules-audit.md)");
  cmd->add_option("-o,--out", out, "write to FILE instead of stdout");
  cmd->callback([&] {
    if (markdown && audit) throw npusplit::Error("give --markdown or --audit, not both");
    const auto sets = rule_sets(target);
    std::string text;
    if (markdown) text = supported_ops_markdown(sets);
    else if (audit) text = audit_markdown(sets);
    else
      for (const auto& rs : sets) {
        text += fmt::format("{} (hw-arch {}, DFC {}, default {})\n", rs.target, rs.hw_arch,
                            fmt::join(rs.dfc_versions, ", "), rs.dfc);
        for (const auto& id : rule_ids(rs)) text += "  " + id + (has_repro(rs, id) ? "" : "  (no repro graph)") + "\n";
      }
    if (out.empty()) std::cout << text;
    else write_file_atomic(out, text);
    exit_code = 0;
  });
}

void add_repro(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("repro", "Write the smallest ONNX graph a rule flags, its passing neighbour and the parser commands");
  static std::string rule, out, target, dfc;
  static bool all = false;
  cmd->add_option("rule", rule, "rule id (as `check` reports it, or op:<Op> for an unsupported op)");
  cmd->add_option("-o,--out", out, "output folder")->required();
  cmd->add_option("--target", target, "target (default hailo8; with --all: every target, one folder each)");
  cmd->add_option("--dfc", dfc, "DFC version of the rules");
  cmd->add_flag("--all", all, "one repro per rule");
  cmd->callback([&] {
    if (all == !rule.empty()) throw npusplit::Error("give a RULE or --all");
    if (!all) {
      (void)load_rules(target.empty() ? "hailo8" : target, dfc);  // a wrong --dfc is a one-line error
      std::string why;
      auto r = make_repro(load_rules_all_versions(target.empty() ? "hailo8" : target), rule, &why);
      if (!r) throw npusplit::Error(fmt::format("no repro for '{}': {}", rule, why));
      for (const auto& f : write_repro(*r, out)) std::cout << "wrote " << f.string() << "\n";
      exit_code = 0;
      return;
    }
    int written = 0, skipped = 0;
    for (const auto& rs : rule_sets(target)) {
      const auto dir = target.empty() ? std::filesystem::path(out) / rs.target : std::filesystem::path(out);
      for (const auto& id : rule_ids(rs)) {
        std::string why;
        auto r = make_repro(rs, id, &why);
        if (!r) {
          std::cout << fmt::format("{} {}: no repro ({})\n", rs.target, id, why);
          ++skipped;
          continue;
        }
        write_repro(*r, dir);
        ++written;
      }
    }
    std::cout << fmt::format("{} repros written under {}, {} rules without one\n", written, out, skipped);
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
