#include "npusplit/app/fix.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/report/format.h"
#include "npusplit/report/progress.h"

namespace npusplit {

using nlohmann::json;

CheckFigures figures_of(const Analysis& a) {
  CheckFigures f;
  const auto c = count_verdicts(a.verdicts);
  f.nodes = c.nodes;
  f.unsupported = c.rejected;
  f.suspect = c.suspect;
  f.npu_flops_share = a.partition.npu_flops_share();
  return f;
}

FixResult fix_model(const FixOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  FixResult r;
  AnalyzeOptions ao;
  ao.target = o.target;
  ao.input_shapes = o.input_shapes;
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && std::filesystem::equivalent(o.out, o.model, ec))
    fail("{}: -o would overwrite the input model", o.out.string());
  // One copy of the weights is judged and folded for the "before" figures; when fold-static is
  // among the passes, that folded model is where the rewriting starts (folding twice would
  // cost the same time again on the large variants).
  const auto t_load = std::chrono::steady_clock::now();
  Progress progress("fix", 0);
  progress.step(0, "loading and analysing");
  auto original = load_model(o.model);
  ao.keep_original = false;
  const auto names = o.passes.empty() ? default_pass_names() : o.passes;
  const bool folds = std::find(names.begin(), names.end(), "fold-static") != names.end();
  const bool need_original = o.verify || !folds;
  Analysis before = analyze_proto(need_original ? original : std::move(original), o.model.string(), ao);
  spdlog::debug("fix: analysis before: load+resolve {:.0f} ms",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count());
  r.before = figures_of(before);
  onnx::ModelProto m;
  PassResult folded{"fold-static", 0, {}};
  if (folds) {
    m = std::move(before.resolved.model);
    folded.rewrites = before.resolved.stats.folded_nodes;
    for (const auto& n : before.resolved.folded_names) folded.changes.push_back({n, "(folded into an initializer)"});
  } else {
    m = o.verify ? original : std::move(original);
    fix_input_shapes(m, o.input_shapes);
  }
  before = Analysis{};  // release its copy of the graph
  progress.step(0, "rewrite passes");
  r.report = apply_passes(m, names);
  for (auto& pr : r.report.results)
    if (pr.pass == "fold-static" && folded.rewrites) {
      pr.rewrites += folded.rewrites;
      pr.changes.insert(pr.changes.begin(), folded.changes.begin(), folded.changes.end());
    }
  for (const auto& pr : r.report.results) r.changed |= pr.rewrites > 0;
  spdlog::debug("fix: passes done");
  r.tolerance = o.tolerance.value_or(r.report.exact ? 0.0 : 1e-4);
  if (r.changed) {
    progress.step(0, "checking and saving");
    check_model(m, "rewritten model");
    spdlog::debug("fix: checker done");
    save_model(m, o.out);
    spdlog::debug("fix: saved");
    if (o.verify) {
      auto cases = make_verify_cases(original, o.input_shapes, o.verify_random, o.verify_images);
      r.verify = verify_equivalent(original, m, cases, r.tolerance);
    }
    progress.step(0, "analysing the result");
    auto after = analyze_proto(std::move(m), o.out.string(), ao);
    r.after = figures_of(after);
  } else {
    r.after = r.before;
    // "No rewrite applied": OUT is the loaded model written anew, its external data inlined,
    // never a byte copy (a copy would point at data files that are not beside it).
    save_model(load_model(o.model), o.out);
    if (o.verify) {
      auto cases = make_verify_cases(original, o.input_shapes, o.verify_random, o.verify_images);
      r.verify = verify_equivalent(original, original, cases, r.tolerance);
    }
  }
  r.fix_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

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
