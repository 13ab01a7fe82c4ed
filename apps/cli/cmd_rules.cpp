// rules, repro: the rule files as documents, and a minimal graph per rule.
#include <iostream>

#include "commands.h"
#include "npusplit/app/rules.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/report/rules_report.h"
#include "npusplit/rules/markdown.h"

namespace npusplit::cli {

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
    const auto sets = rule_files(target);
    const std::string text = markdown ? supported_ops_markdown(sets) : audit ? audit_markdown(sets) : rule_ids_text(sets);
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
    std::cout << (all ? repro_batch_text(write_all_repros(target, out))
                      : repro_files_text(write_rule_repro(target, dfc, rule, out)));
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
