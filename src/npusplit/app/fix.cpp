#include "npusplit/app/fix.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/base/progress.h"

namespace npusplit {

CheckFigures figures_of(const Analysis& a) {
  CheckFigures f;
  const auto c = count_verdicts(a.verdicts);
  f.nodes = c.nodes;
  f.unsupported = c.rejected;
  f.suspect = c.suspect;
  f.npu_flops_share = a.partition.npu_flops_share();
  return f;
}

// The recipe: load -> compile (the one resolve) -> judge (before) -> passes -> save -> verify
// -> judge (after).
FixResult fix_model(const FixOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  FixResult r;
  AnalyzeOptions ao;
  ao.target = o.target;
  ao.input_shapes = o.input_shapes;
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && std::filesystem::equivalent(o.out, o.model, ec))
    fail("{}: -o would overwrite the input model", o.out.string());
  Progress progress("fix", 0);
  progress.step(0, "loading and analysing");
  auto loaded = load_model(o.model);
  ModelSummary summary = summarize(loaded, o.model.string(), static_cast<int64_t>(loaded.ByteSizeLong()));
  const auto names = o.passes.empty() ? default_pass_names() : o.passes;
  const bool folds = std::find(names.begin(), names.end(), "fold-static") != names.end();
  onnx::ModelProto original;
  if (o.verify || !folds) original = loaded;
  // The "before" figures judge the compiled (folded) model; when fold-static is among the
  // passes, that same model is where the rewriting starts (its folding is fold-static's).
  Analysis a = analyze_compiled(CompiledModel::compile(std::move(loaded), o.input_shapes, o.model.string()),
                                std::move(summary), ao);
  r.before = figures_of(a);
  progress.step(0, "rewrite passes");
  // Without fold-static the passes rewrite the model as given: compiled once more, without
  // folding (a second model, so a second resolve), and judged afterwards as it is.
  std::optional<CompiledModel> unfolded;
  if (folds) {
    r.report = apply_passes(a.model, names);
  } else {
    unfolded = CompiledModel::compile(o.verify ? original : std::move(original), o.input_shapes,
                                      o.model.string() + " (as given)", false);
    r.report = apply_passes(*unfolded, names);
  }
  for (const auto& pr : r.report.results) r.changed |= pr.rewrites > 0;
  spdlog::debug("fix: passes done");
  r.tolerance = o.tolerance.value_or(r.report.exact ? 0.0 : 1e-4);
  if (r.changed) {
    progress.step(0, "checking and saving");
    const onnx::ModelProto& m = folds ? a.model.proto() : unfolded->proto();
    check_model(m, "rewritten model");
    save_model(m, o.out);
    if (o.verify) {
      auto cases = make_verify_cases(original, o.input_shapes, o.verify_random, o.verify_images);
      r.verify = verify_equivalent(original, m, cases, r.tolerance);
    }
    progress.step(0, "analysing the result");
    if (folds) {
      judge(a, true);
      r.after = figures_of(a);
    } else {
      // Judged folded, as every "after" is (fold-static on the compiled model: no new resolve).
      ModelSummary after = summarize(m, o.out.string(), static_cast<int64_t>(m.ByteSizeLong()));
      apply_passes(*unfolded, {"fold-static"});
      r.after = figures_of(analyze_compiled(std::move(*unfolded), std::move(after), ao));
    }
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

}  // namespace npusplit
