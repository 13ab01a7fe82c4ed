#include "npusplit/report/fix_report.h"

#include <fmt/format.h>

#include "npusplit/passes/pass.h"
#include "npusplit/report/format.h"
#include "npusplit/report/split_report.h"

namespace npusplit {

using nlohmann::json;

std::string list_passes_text() {
  std::vector<std::vector<std::string>> rows;
  int k = 1;
  for (const auto& p : all_passes())
    rows.push_back({std::to_string(k++), p->name(), p->exact() ? "yes" : "no", p->description()});
  return format_table({"order", "pass", "exact", "what it does"}, rows, 100) +
         "Default: every exact pass. Inexact passes run only when named with --passes.\n";
}

std::string fix_text(const FixResult& r, const FixOptions& o) {
  std::string out;
  if (!r.changed) {
    out += "no rewrite applied: " + o.out.string() + " is a copy of the input\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& pr : r.report.results) {
      std::string nodes;
      for (size_t i = 0; i < pr.changes.size() && i < 2; ++i) nodes += (i ? "; " : "") + pr.changes[i].before;
      if (pr.changes.size() > 2) nodes += fmt::format(" (+{} more)", pr.changes.size() - 2);
      const Pass* p = find_pass(pr.pass);
      rows.push_back({pr.pass, p && p->exact() ? "yes" : "no", std::to_string(pr.rewrites), nodes.empty() ? "-" : nodes});
    }
    out += format_table({"pass", "exact", "rewrites", "nodes affected"}, rows, 80);
    out += fmt::format("wrote {} ({} iteration(s) to a fixed point)\n", o.out.string(), r.report.iterations);
  }
  out += format_table({"check (" + o.target + ")", "before", "after"},
                      {{"unsupported nodes", std::to_string(r.before.unsupported), std::to_string(r.after.unsupported)},
                       {"suspect nodes", std::to_string(r.before.suspect), std::to_string(r.after.suspect)},
                       {"NPU share of FLOPs (auto cut)", percent(r.before.npu_flops_share), percent(r.after.npu_flops_share)}});
  if (r.verify) out += verify_text(*r.verify);
  return out;
}

json fix_json(const FixResult& r, const FixOptions& o) {
  json j;
  j["schema"] = "npusplit.fix/1";
  j["model"] = o.model.string();
  j["out"] = o.out.string();
  j["changed"] = r.changed;
  j["exact"] = r.report.exact;
  j["passes"] = json::array();
  for (const auto& pr : r.report.results) {
    json changes = json::array();
    for (const auto& c : pr.changes) changes.push_back({{"before", c.before}, {"after", c.after}});
    j["passes"].push_back({{"pass", pr.pass}, {"rewrites", pr.rewrites}, {"changes", changes}});
  }
  auto fig = [](const CheckFigures& f) {
    return json{{"unsupported", f.unsupported}, {"suspect", f.suspect}, {"nodes", f.nodes},
                {"npu_flops_share", f.npu_flops_share}};
  };
  j["check_before"] = fig(r.before);
  j["check_after"] = fig(r.after);
  if (r.verify) j["verify"] = verify_json(*r.verify);
  return j;
}

}  // namespace npusplit
