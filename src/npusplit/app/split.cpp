#include "npusplit/app/split.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <cmath>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"
#include "npusplit/host/fuse_msda.h"
#include "npusplit/io/model_io.h"
#include "npusplit/passes/pass.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/format.h"
#include "npusplit/report/progress.h"
#include "npusplit/report/suggest.h"
#include "npusplit/report/json_text.h"
#include "npusplit/runtime/msda_op.h"
#include "npusplit/runtime/ort_util.h"
#include "npusplit/split/opset_convert.h"

namespace npusplit {

using nlohmann::json;

namespace {
// Peak resident memory so far (MiB), for NPUSPLIT_LOG=debug traces.
double hwm_mib() {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}
}  // namespace
namespace fs = std::filesystem;

// --cut takes tensor names, or node names (Hailo's tools speak nodes) standing for their outputs.
std::vector<std::string> resolve_cut_names(const Graph& g, const std::vector<std::string>& names) {
  std::vector<std::string> tensors;
  std::vector<std::string> known;  // for suggestions: every tensor and node name
  auto candidates = [&]() -> const std::vector<std::string>& {
    if (known.empty())
      for (int i = 0; i < g.node_count(); ++i) {
        known.push_back(g.node(i).name());
        for (const auto& t : g.node(i).output())
          if (!t.empty()) known.push_back(t);
      }
    return known;
  };
  for (const auto& n : names) {
    if (g.producer(n) >= 0 || g.is_graph_input(n)) {
      tensors.push_back(n);
      continue;
    }
    int node = -1;
    for (int i = 0; i < g.node_count() && node < 0; ++i)
      if (g.node(i).name() == n) node = i;
    if (node < 0)
      fail("--cut {}: no tensor or node of that name (after folding){}", n, did_you_mean(n, candidates()));
    for (const auto& t : g.node(node).output())
      if (!t.empty()) tensors.push_back(t);
  }
  return tensors;
}

std::string hailo_parser_command(const std::string& stage1_file, const std::string& hw_arch, const StageModels& s) {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += " '" + x + "'";
    return out;
  };
  return fmt::format("hailo parser onnx '{}' --hw-arch {} --start-node-names{} --end-node-names{}", stage1_file,
                     hw_arch, join(s.stage1_start_nodes), join(s.stage1_end_nodes));
}

json verify_json(const VerifyReport& r) {
  json j;
  j["schema"] = "npusplit.verify/1";
  j["tolerance"] = r.tolerance;
  j["ok"] = r.ok;
  j["outputs"] = json::array();
  for (const auto& o : r.worst)
    j["outputs"].push_back({{"name", o.name},
                            {"max_abs_diff", o.max_abs_diff},
                            {"nonfinite_equal", o.nonfinite_equal},
                            {"nonfinite_mismatch", o.nonfinite_mismatch},
                            {"shape_mismatch", o.shape_mismatch},
                            {"ok", o.ok}});
  j["cases"] = json::array();
  for (const auto& c : r.cases) {
    json cj = {{"label", c.label}, {"outputs", json::array()}};
    for (const auto& o : c.outputs)
      cj["outputs"].push_back({{"name", o.name}, {"max_abs_diff", o.max_abs_diff},
                               {"nonfinite_equal", o.nonfinite_equal}, {"nonfinite_mismatch", o.nonfinite_mismatch},
                               {"ok", o.ok}});
    j["cases"].push_back(cj);
  }
  return j;
}

std::string verify_text(const VerifyReport& r) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : r.worst)
    rows.push_back({o.name, o.shape_mismatch ? "shape/dtype differ" : fmt::format("{:.6g}", o.max_abs_diff),
                    std::to_string(o.nonfinite_equal), std::to_string(o.nonfinite_mismatch), o.ok ? "ok" : "FAIL"});
  std::string out = fmt::format("verify: {} input case(s), tolerance {}\n", r.cases.size(), r.tolerance);
  out += format_table({"output", "max abs diff", "same NaN/Inf", "NaN/Inf mismatch", "result"}, rows);
  out += r.ok ? "verify: PASS\n" : "verify: FAIL\n";
  return out;
}

namespace {

json tensor_contract(const onnx::ValueInfoProto& vi) {
  auto info = tensor_info_of(vi.type());
  return {{"name", vi.name()}, {"dtype", dtype_name(info.dtype)}, {"shape", info.dims}, {"bytes", info.bytes()}};
}

json stage_stats(const Analysis& a, bool stage1) {
  int nodes = 0;
  int64_t flops = 0;
  for (size_t i = 0; i < a.flops.size(); ++i)
    if (bool(a.partition.stage1[i]) == stage1) ++nodes, flops = sat_add(flops, a.flops[i]);
  return {{"nodes", nodes}, {"flops", flops}};
}

}  // namespace

namespace {

// Stage1 into the opset range the target's parser takes (or --stage1-opset), after the cut:
// the host-only ops (GridSample has no down-conversion adapter) stay at the model's opset in
// stage2. The converted stage1 is checked against the unconverted one, which is returned
// (the cut itself is proven on it: ONNX Runtime may run an op's two versions with kernels
// that round differently, which says nothing about the cut).
std::optional<onnx::ModelProto> convert_stage1_opset(SplitResult& r, const SplitOptions& o, const RuleSet& rules) {
  auto& st = r.stage1_opset;
  st.model = st.written = default_opset(r.stages.stage1);
  int64_t want = st.model;
  if (o.stage1_opset) {
    want = o.stage1_opset;
    st.reason = fmt::format("--stage1-opset {}", o.stage1_opset);
  } else if (!rules.opset.contains(st.model)) {
    want = st.model > rules.opset.max ? rules.opset.max : rules.opset.min;
    st.reason = fmt::format("the {} parser (DFC {}) takes opsets {}-{} [{}]", rules.target, rules.dfc, rules.opset.min,
                            rules.opset.max, rules.opset.evidence);
  }
  if (want == st.model) {
    st.reason.clear();
    return std::nullopt;
  }
  auto converted = convert_opset(r.stages.stage1, static_cast<int>(want), "stage1");
  check_model(converted, fmt::format("stage1 converted to opset {}", want));
  const auto cases = make_verify_cases(r.stages.stage1, o.input_shapes, 1, o.verify_images);
  st.check = verify_equivalent(r.stages.stage1, converted, cases, 0.0);
  if (!st.check->ok) {
    double worst = 0;
    for (const auto& w : st.check->worst) worst = std::max(worst, w.max_abs_diff);
    std::string changed;
    for (const auto& c : ops_changed_between(r.stages.stage1, static_cast<int>(st.model), static_cast<int>(want)))
      changed += (changed.empty() ? "" : ", ") + c;
    r.warnings.push_back(fmt::format("stage1 converted from opset {} to {} differs from the unconverted stage1 in "
                                     "ONNX Runtime by up to {:.3g} (ops of another version: {})",
                                     st.model, want, worst, changed.empty() ? "none" : changed));
  }
  st.written = want;
  onnx::ModelProto unconverted = std::move(r.stages.stage1);
  r.stages.stage1 = std::move(converted);
  return unconverted;
}

}  // namespace

SplitResult split_model(const SplitOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  SplitResult r;
  if (o.stage1_opset && (o.stage1_opset < 7 || o.stage1_opset > max_supported_opset()))
    fail("--stage1-opset {}: must be within 7-{}", o.stage1_opset, max_supported_opset());
  AnalyzeOptions ao;
  ao.target = o.target;
  ao.dfc = o.dfc;
  ao.parser_log = o.parser_log;
  ao.input_shapes = o.input_shapes;
  ao.allow_suspect = o.allow_suspect;
  // Copies of the weights are what bounds memory on the large variants: keep the loaded model
  // only when verify needs it, and rewrite/resolve the other copy in place.
  auto original = load_model(o.model);
  spdlog::debug("split: loaded, peak {:.0f} MiB", hwm_mib());
  // --no-fix on an automatic cut: the same analysis of the rewritten model says what the
  // passes would have given (one line in the report, only when they would move the cut).
  const bool what_if = !o.fix && o.compare_with_fix && o.cut.empty();
  onnx::ModelProto to_cut;
  if (o.verify || o.fix || what_if) to_cut = original;
  else to_cut = std::move(original);
  if (what_if) {
    Progress progress("split", 0);
    progress.step(0, "what the exact passes would give");
    onnx::ModelProto fixed = std::move(original);
    if (o.verify) original = to_cut;
    fix_input_shapes(fixed, o.input_shapes);
    apply_passes(fixed, default_pass_names());
    ao.keep_original = false;
    const Analysis with_fix = analyze_proto(std::move(fixed), o.model.string(), ao);
    r.share_with_fix = with_fix.partition.npu_flops_share();
  }
  FixReport& fix = r.fix;
  std::vector<std::string> shape_notes;  // the passes need fixed input shapes: say so as resolve would
  if (o.fix) {
    Progress progress("split", 0);
    progress.step(0, "rewrite passes");
    shape_notes = fix_input_shapes(to_cut, o.input_shapes);
    fix = apply_passes(to_cut, o.fix_passes.empty() ? default_pass_names() : o.fix_passes);
  }
  ao.keep_original = false;
  r.analysis = analyze_proto(std::move(to_cut), o.model.string(), ao);
  Analysis& a = r.analysis;
  a.resolved.notes.insert(a.resolved.notes.begin(), shape_notes.begin(), shape_notes.end());
  if (r.share_with_fix) {
    const double without = a.partition.npu_flops_share();
    if (std::abs(*r.share_with_fix - without) >= 0.0005)
      r.notes.push_back(fmt::format("--no-fix: stage1 holds {} of the FLOPs; the exact rewrite passes would put {} "
                                    "on the NPU (drop --no-fix)",
                                    percent(without), percent(*r.share_with_fix)));
  }
  spdlog::debug("split: analysed, peak {:.0f} MiB", hwm_mib());
  if (o.verify) a.original = std::move(original);
  {
    std::error_code ec;
    a.summary.file_bytes = static_cast<int64_t>(std::filesystem::file_size(o.model, ec));
  }
  Graph g(a.resolved.model.graph());
  if (!o.cut.empty()) {
    std::vector<std::string> reasons;
    for (const auto& v : a.verdicts)
      reasons.push_back(v.findings.empty() ? "" : v.findings.front().reason + (v.findings.front().detail.empty() ? "" : " (" + v.findings.front().detail + ")"));
    a.partition = manual_partition(partition_input(a, g), resolve_cut_names(g, o.cut), reasons);
  }
  if (a.partition.stage1_nodes == 0)
    fail("{}: no node at the model's inputs is supported by {}: nothing to put in stage1", o.model.string(),
         a.rules.target);
  SplitNames names{o.feature_name, o.pack};
  r.stages = build_stages(std::move(a.resolved.model), a.resolved.shapes, a.partition, names);
  a.resolved.model.mutable_graph()->clear_initializer();  // moved into the stages
  spdlog::debug("split: stages built, peak {:.0f} MiB", hwm_mib());
  check_model(r.stages.stage1, "stage1");
  check_model(r.stages.stage2, "stage2");
  const auto unconverted_stage1 = convert_stage1_opset(r, o, a.rules);

  const std::string stem = o.stem.empty() ? o.model.stem().string() : o.stem;
  r.stage1_path = o.out_dir / (stem + "_stage1.onnx");
  r.stage2_path = o.out_dir / (stem + "_stage2.onnx");
  r.manifest_path = o.out_dir / (stem + "_split.json");
  for (const auto& p : {r.stage1_path, r.stage2_path})
    if (fs::exists(p) && fs::equivalent(p, o.model)) fail("{}: output would overwrite the input model", p.string());

  // stage1 judged on its own, as `npusplit check stage1.onnx` would (its shapes are known: the
  // cut tensors are renamed copies of resolved tensors).
  {
    ShapeMap s1_shapes = a.resolved.shapes;
    for (const auto& [from, to] : r.stages.renamed) s1_shapes[to] = s1_shapes.at(from);
    for (const auto& vi : r.stages.stage1.graph().value_info()) s1_shapes[vi.name()] = tensor_info_of(vi.type());
    for (const auto& vi : r.stages.stage1.graph().output()) s1_shapes[vi.name()] = tensor_info_of(vi.type());
    Graph g1(r.stages.stage1.graph());
    r.stage1_verdicts = evaluate_graph(a.rules, g1, s1_shapes);
  }
  // The --pack flatten + concat are host-side by design: the parser command below ends
  // before them, and the packing is done on what HailoRT returns.
  std::vector<NodeVerdict> judged;
  for (const auto& v : r.stage1_verdicts)
    if (v.name.rfind("npusplit/pack/", 0) != 0) judged.push_back(v);
  const auto s1_counts = count_verdicts(judged);

  if (o.pack && r.stages.pack_layout.size() > 1)
    r.warnings.push_back(
        "--pack joins tensors into one output: on the NPU the 8-bit quantizer would give them one scale (Hailo's "
        "guidance is to keep them separate), and the packing Reshape/Concat are not parsable -- the hailo parser "
        "command ends before them, so pack what HailoRT returns on the host");
  onnx::ModelProto fused_stage2;
  if (o.fused_host) {
    fused_stage2 = r.stages.stage2;
    r.fused_ops = fuse_deformable_attention(fused_stage2).fused;
    r.stage2_fused_path = o.out_dir / (stem + "_stage2_fused.onnx");
  }
  r.split_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  if (o.verify) {
    const auto tv = std::chrono::steady_clock::now();
    auto cases = make_verify_cases(a.original, o.input_shapes, o.verify_random, o.verify_images);
    // The reference stage1 is the unconverted one: the opset conversion is checked on its own.
    const onnx::ModelProto& stage1_ref = unconverted_stage1 ? *unconverted_stage1 : r.stages.stage1;
    r.verify = verify_split(a.original, stage1_ref, r.stages.stage2, cases, o.tolerance);
    if (o.fused_host)
      r.verify_fused = check_fused_stage2(stage1_ref, r.stages.stage2, fused_stage2, cases, o.fused_tolerance);
    r.verify_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - tv).count();
    if (o.pack && r.stages.pack_layout.size() > 1 &&
        r.stages.stage1.graph().output(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT) {
      // Measure each packed part's value range on the verify inputs: one quantization scale
      // for parts whose ranges differ widely wastes most of the 8 bits on the small ones.
      std::string bytes;
      r.stages.stage1.SerializeToString(&bytes);
      auto s1 = make_session(bytes, OrtOptions{}, "stage1");
      std::vector<std::pair<double, double>> range(r.stages.pack_layout.size(), {INFINITY, -INFINITY});
      for (const auto& c : cases) {
        std::vector<HostTensor> in;
        for (const auto& spec : session_inputs(s1))
          for (const auto& t : c.inputs)
            if (t.name() == spec.name) in.push_back(t);
        auto outs = run_session(s1, in);
        const float* v = outs.at(0).as<float>();
        for (size_t k = 0; k < range.size(); ++k) {
          const auto [off, n] = r.stages.pack_layout[k];
          for (int64_t i = off; i < off + n; ++i)
            if (std::isfinite(v[i])) range[k].first = std::min<double>(range[k].first, v[i]),
                                     range[k].second = std::max<double>(range[k].second, v[i]);
        }
      }
      double lo = INFINITY, hi = 0;
      std::string desc;
      for (size_t k = 0; k < range.size(); ++k) {
        const double span = std::max(std::abs(range[k].first), std::abs(range[k].second));
        lo = std::min(lo, span);
        hi = std::max(hi, span);
        desc += fmt::format("{}part {}: [{:.3g}, {:.3g}]", k ? "; " : "", k, range[k].first, range[k].second);
      }
      r.pack_ranges = desc;
      if (lo > 0 && hi / lo > 4.0)
        r.warnings.push_back(fmt::format("packed parts differ in value range by {:.1f}x ({}): expect quantization "
                                         "loss; consider separate outputs (no --pack)", hi / lo, desc));
    }
  }

  // ---- manifest
  json m;
  m["schema"] = "npusplit.split/1";
  m["source"] = {{"model", o.model.string()}, {"summary", summary_json(a.summary)}};
  m["target"] = {{"name", a.rules.target}, {"hw_arch", a.rules.hw_arch}, {"dfc", a.rules.dfc}};
  if (!a.parser_log_path.empty())
    m["parser_log"] = {{"file", a.parser_log_path}, {"findings_added", a.parser_log.findings_added},
                       {"unknown_lines", a.parser_log.unknown.size()}};
  m["input_shapes_notes"] = a.resolved.notes;
  r.preprocess = detect_preprocess(r.stages.stage1, o.preprocess);
  m["preprocess"] = preprocess_json(r.preprocess);
  m["cut"] = {{"mode", o.cut.empty() ? "auto" : "manual"},
              {"packed", o.pack},
              {"moved_to_host_by_cost", a.partition.moved_to_host},
              {"order", "topological order of the producing nodes in the original graph (manual: as given)"}};
  json crossing = json::array();
  const auto& shapes = a.resolved.shapes;
  for (size_t k = 0; k < r.stages.renamed.size(); ++k) {
    const auto& [orig, name] = r.stages.renamed[k];
    const auto& info = shapes.at(orig);
    json c = {{"name", name}, {"original_tensor", orig}, {"dtype", dtype_name(info.dtype)},
              {"shape", info.dims}, {"bytes_per_frame", info.bytes()}};
    if (o.pack) c["packed_offset_elements"] = r.stages.pack_layout[k].first;
    crossing.push_back(c);
  }
  m["crossing"] = crossing;
  m["crossing_bytes_per_frame"] = a.partition.crossing_bytes;
  {
    const auto& st = r.stage1_opset;
    json op = {{"model", st.model}, {"stage1", st.written}, {"stage2", st.model},
               {"target_range", {a.rules.opset.min, a.rules.opset.max}},
               {"target_range_evidence", a.rules.opset.evidence}, {"converted", !st.reason.empty()}};
    if (!st.reason.empty()) op["reason"] = st.reason;
    if (st.check) {
      op["conversion_check"] = verify_json(*st.check);
      op["conversion_check"]["compares"] = "the written stage1 with stage1 at the model's opset (the one verify proves the cut on)";
    }
    m["opset"] = op;
  }
  m["passes"] = json::array();
  for (const auto& pr : fix.results) m["passes"].push_back({{"pass", pr.pass}, {"rewrites", pr.rewrites}});
  m["fix"] = {{"applied", o.fix}, {"exact", fix.exact}};
  if (!o.fix) m["fix"]["skipped_by"] = "--no-fix";
  if (r.share_with_fix) m["fix"]["npu_flops_share_with_fix"] = *r.share_with_fix;
  m["notes"] = r.notes;
  json s1 = stage_stats(a, true), s2 = stage_stats(a, false);
  s1["file"] = r.stage1_path.filename().string();
  s2["file"] = r.stage2_path.filename().string();
  s1["npu_flops_share"] = a.partition.npu_flops_share();
  s1["check"] = {{"target", a.rules.target},
                 {"unsupported_nodes", s1_counts.rejected},
                 {"suspect_nodes", s1_counts.suspect},
                 {"verdict", s1_counts.flagged() == 0 ? "clean" : (s1_counts.rejected == 0 ? "suspect only" : "unsupported nodes")}};
  if (s1_counts.flagged()) {
    json rules = json::object();
    for (const auto& v : r.stage1_verdicts)
      for (const auto& f : v.findings) rules[f.rule_id] = rules.value(f.rule_id, 0) + 1;
    s1["check"]["findings_by_rule"] = rules;
  }
  // An absolute path: the command works from any folder.
  s1["hailo_parser_command"] =
      hailo_parser_command(fs::absolute(r.stage1_path).lexically_normal().string(), a.rules.hw_arch, r.stages);
  s1["inputs"] = json::array();
  for (const auto& vi : r.stages.stage1.graph().input()) s1["inputs"].push_back(tensor_contract(vi));
  s1["outputs"] = json::array();
  for (const auto& vi : r.stages.stage1.graph().output()) s1["outputs"].push_back(tensor_contract(vi));
  s2["inputs"] = json::array();
  for (const auto& vi : r.stages.stage2.graph().input()) s2["inputs"].push_back(tensor_contract(vi));
  s2["outputs"] = json::array();
  for (const auto& vi : r.stages.stage2.graph().output()) s2["outputs"].push_back(tensor_contract(vi));
  json why = json::object();
  for (const auto& in : g.runtime_inputs()) {
    const bool used = std::find(a.partition.stage2_inputs.begin(), a.partition.stage2_inputs.end(), in) !=
                      a.partition.stage2_inputs.end();
    std::string reason;
    if (used) {
      for (int c : g.consumers(in))
        if (!a.partition.stage1[c]) {
          reason = fmt::format("needed: host node '{}' ({}) reads it", g.node(c).name(), g.node(c).op_type());
          break;
        }
    } else {
      reason = "not needed: no host node reads it (only stage1 does)";
    }
    why[in] = reason;
  }
  s2["original_inputs"] = why;
  m["stage1"] = s1;
  m["stage2"] = s2;
  m["warnings"] = r.warnings;
  if (!r.pack_ranges.empty()) m["cut"]["packed_value_ranges"] = r.pack_ranges;
  if (r.verify) m["verify"] = verify_json(*r.verify);
  if (o.fused_host) {
    json f = {{"file", r.stage2_fused_path.filename().string()},
              {"domain", kHostOpDomain},
              {"fused_deformable_attention", r.fused_ops},
              {"nodes", fused_stage2.graph().node_size()}};
    if (r.verify_fused) {
      const auto& w = r.verify_fused->worst;
      f["verify"] = {{"tolerance", r.verify_fused->tolerance},
                     {"ok", r.verify_fused->ok},
                     {"cases", r.verify_fused->cases.size()},
                     {"max_abs_diff", w.max_abs_diff},
                     {"max_abs_diff_by_position", w.raw_max_abs_diff},
                     {"tied_rows_reordered", w.reordered_rows},
                     {"unmatched_rows", w.unmatched_rows},
                     {"order_violations", w.order_violations}};
    }
    m["stage2_fused"] = f;
  }

  // One set: both stages (and the fused stage2), then the manifest that names them with their
  // hashes. An interrupted split leaves the previous set; a reader can tell a stage that does not
  // belong to its manifest.
  OutputSet files;
  m["stage1"]["sha256"] = files.add_model(r.stage1_path, r.stages.stage1);
  m["stage2"]["sha256"] = files.add_model(r.stage2_path, r.stages.stage2);
  if (o.fused_host) m["stage2_fused"]["sha256"] = files.add_model(r.stage2_fused_path, fused_stage2);
  r.manifest = m;
  files.add_bytes(r.manifest_path, dump_json(m));
  files.commit();
  return r;
}

std::string split_text(const SplitResult& r) {
  const auto& a = r.analysis;
  std::string out;
  out += fmt::format("split {} for {} (DFC {} rules)\n", a.summary.path, a.rules.target, a.rules.dfc);
  out += parser_log_report(a.parser_log);
  for (const auto& n : a.resolved.notes) out += "note: " + n + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.manifest["crossing"])
    rows.push_back({c["name"].get<std::string>(), c["original_tensor"].get<std::string>(),
                    dims_str(c["shape"].get<std::vector<int64_t>>()), c["dtype"].get<std::string>(),
                    human_bytes(double(c["bytes_per_frame"].get<int64_t>()))});
  out += format_table({"cut tensor", "original tensor", "shape", "dtype", "per frame"}, rows, 60);
  const auto& s1 = r.manifest["stage1"];
  const auto& s2 = r.manifest["stage2"];
  out += fmt::format("stage1 (NPU):  {} nodes, {} FLOPs ({} of the model) -> {}\n", s1["nodes"].get<int>(),
                     human_count(double(s1["flops"].get<int64_t>())), percent(s1["npu_flops_share"].get<double>()),
                     r.stage1_path.string());
  out += fmt::format("stage2 (host): {} nodes, {} FLOPs -> {}\n", s2["nodes"].get<int>(),
                     human_count(double(s2["flops"].get<int64_t>())), r.stage2_path.string());
  std::string ins;
  for (const auto& [k, v] : s2["original_inputs"].items()) ins += fmt::format("\n  {}: {}", k, v.get<std::string>());
  out += "stage2 original inputs:" + ins + "\n";
  if (!r.fix.results.empty()) {
    std::string ran;
    int total = 0;
    for (const auto& pr : r.fix.results)
      if (pr.rewrites > 0) ran += fmt::format("{}{} {}", ran.empty() ? "" : ", ", pr.pass, pr.rewrites), total += pr.rewrites;
    out += fmt::format("passes: {} rewrite(s){}{} (--no-fix to cut the model as given)\n", total,
                       ran.empty() ? "" : ": ", ran);
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  if (!r.stage1_opset.reason.empty()) {
    double worst = 0;
    for (const auto& w : r.stage1_opset.check->worst) worst = std::max(worst, w.max_abs_diff);
    out += fmt::format("stage1 opset: {} -> {} ({}); converted vs unconverted max abs diff {:.6g}\n",
                       r.stage1_opset.model, r.stage1_opset.written, r.stage1_opset.reason, worst);
  }
  out += fmt::format("stage1 check: {}\n", s1["check"]["verdict"].get<std::string>());
  out += "hailo parser: " + s1["hailo_parser_command"].get<std::string>() + "\n";
  out += "manifest: " + r.manifest_path.string() + "\n";
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  if (r.verify) out += verify_text(*r.verify);
  if (!r.stage2_fused_path.empty())
    out += fmt::format("stage2 fused (host ops, domain {}): {} deformable attention(s) fused -> {}\n", kHostOpDomain,
                       r.fused_ops, r.stage2_fused_path.string());
  if (r.verify_fused) out += fused_check_text(*r.verify_fused);
  return out;
}

}  // namespace npusplit
