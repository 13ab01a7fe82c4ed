#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <unordered_set>

#include "npusplit/error.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/passes/pass.h"
#include "npusplit/passes/passes.h"
#include "npusplit/shapes/node_inference.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

const std::vector<std::unique_ptr<Pass>>& all_passes() {
  // The documented order: fold first (later passes need constants), then the rewrites
  // that change layouts, then the inexact ones.
  static const std::vector<std::unique_ptr<Pass>> passes = [] {
    std::vector<std::unique_ptr<Pass>> v;
    v.push_back(make_fold_static_pass());
    v.push_back(make_drop_noop_cast_pass());
    v.push_back(make_reduce_keepdims_pass());
    v.push_back(make_batch_one_pass());
    v.push_back(make_rank5_to_rank4_pass());
    v.push_back(make_rope_masked_pass());
    v.push_back(make_broadcast_explicit_pass());
    v.push_back(make_scale_into_weights_pass());
    return v;
  }();
  return passes;
}

const Pass* find_pass(const std::string& name) {
  for (const auto& p : all_passes())
    if (p->name() == name) return p.get();
  return nullptr;
}

std::vector<std::string> default_pass_names() {
  std::vector<std::string> v;
  for (const auto& p : all_passes())
    if (p->exact()) v.push_back(p->name());
  return v;
}

namespace {

// The registry's passes named in NAMES, in the documented order, with empty results.
FixReport report_for(const std::vector<std::string>& names) {
  std::unordered_set<std::string> wanted;
  for (const auto& n : names) {
    if (!find_pass(n)) {
      std::string known;
      for (const auto& p : all_passes()) known += (known.empty() ? "" : ", ") + p->name();
      fail("unknown pass '{}' (passes: {})", n, known);
    }
    wanted.insert(n);
  }
  FixReport report;
  for (const auto& p : all_passes())
    if (wanted.count(p->name())) {
      report.results.push_back({p->name(), 0, {}});
      report.exact &= p->exact();
    }
  return report;
}

// Runs REPORT's passes on M to a fixed point; SHAPES describes M and is kept current. SETTLED
// names a pass known to find nothing in M as given (fold-static after a compile that folded to
// its fixed point): it first runs once another pass has changed M.
void run_to_fixed_point(onnx::ModelProto& m, ShapeMap& shapes, FixReport& report, const std::string& settled = {}) {
  bool edited = false;
  // What M is now, for telling what a pass changed. A pass that rewrites nothing leaves M's
  // nodes as they were (fold-static may still drop dead ones: a fingerprint with extra nodes only
  // makes the next refresh look at more), so the fingerprint is taken again only after a change.
  std::optional<GraphFingerprint> current;
  for (report.iterations = 1; report.iterations <= 8; ++report.iterations) {
    int changed = 0;
    for (auto& r : report.results) {
      if (!edited && r.pass == settled) {
        spdlog::debug("pass {} iteration {}: at its fixed point already (the compile folded)", r.pass,
                      report.iterations);
        continue;
      }
      const Pass* p = find_pass(r.pass);
      const auto t0 = std::chrono::steady_clock::now();
      if (!current) current = fingerprint(m.graph());
      GraphFingerprint before = std::move(*current);
      current.reset();
      PassResult pr = p->run(m, shapes);
      spdlog::debug("pass {} iteration {}: {} rewrites in {:.0f} ms", r.pass, report.iterations, pr.rewrites,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (pr.rewrites == 0) {
        current = std::move(before);
        continue;
      }
      edited = true;
      changed += pr.rewrites;
      r.rewrites += pr.rewrites;
      r.changes.insert(r.changes.end(), pr.changes.begin(), pr.changes.end());
      remove_dead_code(*m.mutable_graph());
      // Rewrites only add ops ONNX shape inference knows: the shapes of what the pass added or
      // changed are re-derived node by node; only when that cannot be done does the whole graph
      // go through inference again (a tensor it cannot type is skipped by the later passes,
      // never guessed).
      if (!refresh_shapes(m, before, shapes)) {
        spdlog::debug("pass {}: shapes refreshed by a full inference", r.pass);
        ShapeMap fresh = infer_shapes(m);
        for (auto& [name, info] : shapes) fresh.emplace(name, info);  // keep run-time-only shapes
        shapes = std::move(fresh);
      }
    }
    if (changed == 0) break;
  }
  remove_dead_code(*m.mutable_graph());
}

}  // namespace

FixReport apply_passes(onnx::ModelProto& m, const std::vector<std::string>& names) {
  FixReport report = report_for(names);
  bool folds = false;
  for (const auto& r : report.results) folds |= r.pass == "fold-static";
  constants_to_initializers(*m.mutable_graph());
  // Folding is itself a pass (fold-static): resolve only shapes here, so every change is
  // attributed to the pass that made it.
  ResolveOptions ro;
  ro.fold = false;
  ro.label = "model before rewrite passes";
  // Before folding, a third of a DEIMv2 graph has no static shape; running the whole model in
  // ONNX Runtime to learn them costs seconds and gigabytes on the large variants, and
  // fold-static (which runs first) resolves them anyway.
  ro.ort_fallback = !folds;
  auto resolved = resolve(std::move(m), ro);
  m = std::move(resolved.model);
  ShapeMap shapes = std::move(resolved.shapes);
  run_to_fixed_point(m, shapes, report);
  return report;
}

FixReport apply_passes(CompiledModel& model, const std::vector<std::string>& names) {
  FixReport report = report_for(names);
  // The compile folded the model already (the same function as fold-static): that is
  // fold-static's first result; what it finds after the other passes adds to it.
  for (auto& r : report.results)
    if (r.pass == "fold-static") {
      r.rewrites = model.stats().folded_nodes;
      for (const auto& n : model.folded_names()) r.changes.push_back({n, "(folded into an initializer)"});
    }
  const std::string settled = model.folded_to_fixed_point() ? "fold-static" : "";
  model.edit([&](onnx::ModelProto& m, ShapeMap& shapes) { run_to_fixed_point(m, shapes, report, settled); });
  return report;
}

std::string unique_name(const onnx::GraphProto& g, const std::string& base) {
  std::unordered_set<std::string> used;
  for (const auto& n : g.node()) {
    used.insert(n.name());
    for (const auto& o : n.output()) used.insert(o);
  }
  for (const auto& t : g.initializer()) used.insert(t.name());
  for (const auto& i : g.input()) used.insert(i.name());
  if (!used.count(base)) return base;
  for (int k = 1;; ++k) {
    std::string n = base + "_" + std::to_string(k);
    if (!used.count(n)) return n;
  }
}

}  // namespace npusplit
