#include "npusplit/report/split_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "npusplit/base/checked_math.h"
#include "npusplit/detect/preprocess_record.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/format.h"
#include "npusplit/report/platform_report.h"
#include "npusplit/report/quant_report.h"
#include "npusplit/rules/parser_log.h"
#include "npusplit/runtime/hef_io.h"
#include "npusplit/ort/msda_op.h"

namespace npusplit {

using nlohmann::json;
namespace fs = std::filesystem;

static json hef_input_json(const HefInputRecord& r) {
  return {{"format", hef_input_name(r.format)},
          {"layout", "NHWC"},
          {"mean", r.norm.mean},
          {"std", r.norm.std},
          {"note", "a HEF compiled with the bundle's .alls (normalization layer) takes uint8 0-255 pixels, NHWC; the "
                   "chip computes (pixel - mean) / std. run/bench --hef-input float32 overrides it"}};
}

std::string fused_check_text(const FusedCheck& c) {
  std::string out = fmt::format("fused stage2 vs stage2: {} case(s), tolerance {:g}\n", c.cases.size(), c.tolerance);
  for (const auto& [label, d] : c.cases)
    out += fmt::format("  {}: max abs diff {:.3g} over {} detections ({} tied rows reordered, {} unmatched, {} order "
                       "violations; position by position {:.3g})\n",
                       label, d.max_abs_diff, d.rows, d.reordered_rows, d.unmatched_rows, d.order_violations,
                       d.raw_max_abs_diff);
  out += c.ok ? "fused: PASS\n" : "fused: FAIL\n";
  return out;
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

std::string stage1_check_verdict(const SplitResult& r) {
  // The --pack flatten + concat are host-side by design: the parser command ends before them.
  std::vector<NodeVerdict> judged;
  for (const auto& v : r.stage1_verdicts)
    if (v.name.rfind("npusplit/pack/", 0) != 0) judged.push_back(v);
  const auto c = count_verdicts(judged);
  return c.flagged() == 0 ? "clean" : (c.rejected == 0 ? "suspect only" : "unsupported nodes");
}

json split_manifest(const SplitResult& r, const SplitOptions& o) {
  const Analysis& a = r.analysis;
  const FixReport& fix = r.fix;
  json m;
  m["schema"] = "npusplit.split/1";
  m["source"] = {{"model", o.model.string()}, {"summary", summary_json(a.summary)}};
  m["target"] = {{"name", a.rules.target}, {"hw_arch", a.rules.hw_arch}, {"dfc", a.rules.dfc}};
  if (!a.parser_log_path.empty())
    m["parser_log"] = {{"file", a.parser_log_path}, {"findings_added", a.parser_log.findings_added},
                       {"unknown_lines", a.parser_log.unknown.size()}};
  m["input_shapes_notes"] = a.model.notes();
  m["preprocess"] = preprocess_json(r.preprocess);
  m["cut"] = {{"mode", o.cut.empty() ? "auto" : "manual"},
              {"packed", o.pack},
              {"moved_to_host_by_cost", a.partition.moved_to_host},
              {"quant_ranges", range_probe_json(a.ranges)},
              {"order", "topological order of the producing nodes in the original graph (manual: as given)"}};
  json crossing = json::array();
  const auto& shapes = a.model.shapes();
  for (size_t k = 0; k < r.stages.renamed.size(); ++k) {
    const auto& [orig, name] = r.stages.renamed[k];
    const auto& info = shapes.at(orig);
    json c = {{"name", name}, {"original_tensor", orig}, {"dtype", dtype_name(info.dtype)},
              {"shape", info.dims}, {"bytes_per_frame", info.bytes()}};
    if (o.pack) c["packed_offset_elements"] = r.stages.pack_layout[k].first;
    // The ONNX node(s) producing it: how a HEF output is matched to this tensor (by HailoRT's original names).
    if (k < r.stages.crossing_end_nodes.size() && !r.stages.crossing_end_nodes[k].empty())
      c["end_nodes"] = json::array({r.stages.crossing_end_nodes[k]});
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
  std::vector<NodeVerdict> judged;  // the --pack flatten + concat are host-side by design
  for (const auto& v : r.stage1_verdicts)
    if (v.name.rfind("npusplit/pack/", 0) != 0) judged.push_back(v);
  const auto s1_counts = count_verdicts(judged);
  json s1 = stage_stats(a, true), s2 = stage_stats(a, false);
  s1["file"] = r.stage1_path.filename().string();
  s2["file"] = r.stage2_path.filename().string();
  s1["npu_flops_share"] = a.partition.npu_flops_share();
  s1["check"] = {{"target", a.rules.target},
                 {"unsupported_nodes", s1_counts.rejected},
                 {"suspect_nodes", s1_counts.suspect},
                 {"verdict", stage1_check_verdict(r)}};
  if (s1_counts.flagged()) {
    json rules = json::object();
    for (const auto& v : r.stage1_verdicts)
      for (const auto& f : v.findings) rules[f.rule_id] = rules.value(f.rule_id, 0) + 1;
    s1["check"]["findings_by_rule"] = rules;
  }
  // An absolute path: the command works from any folder.
  s1["hailo_parser_command"] =
      hailo_parser_command(fs::absolute(r.stage1_path).lexically_normal().string(), a.rules.hw_arch, r.stages);
  {
    // What a HEF compiled with the bundle's .alls takes: the normalization layer on 0-255 pixels.
    HefInputRecord h;
    const auto& po = r.preprocess.options;
    for (size_t c = 0; c < 3; ++c) {
      h.norm.mean[c] = po.scale * (po.mean ? (*po.mean)[c] : 0.0f);
      h.norm.std[c] = po.scale * (po.std ? (*po.std)[c] : 1.0f);
    }
    s1["hef_input"] = hef_input_json(h);
  }
  s1["inputs"] = json::array();
  for (const auto& vi : r.stages.stage1.graph().input()) s1["inputs"].push_back(tensor_contract(vi));
  s1["outputs"] = json::array();
  for (const auto& vi : r.stages.stage1.graph().output()) s1["outputs"].push_back(tensor_contract(vi));
  s2["inputs"] = json::array();
  for (const auto& vi : r.stages.stage2.graph().input()) s2["inputs"].push_back(tensor_contract(vi));
  s2["outputs"] = json::array();
  for (const auto& vi : r.stages.stage2.graph().output()) s2["outputs"].push_back(tensor_contract(vi));
  json why = json::object();
  for (const auto& [in, reason] : r.stage2_input_reasons) why[in] = reason;
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
              {"nodes", r.stage2_fused_nodes}};
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
  if (!r.frontier.empty()) m["platform"] = frontier_json(r.frontier, true);
  if (r.calib) m["calib_bundle"] = calib_bundle_json(*r.calib);
  m["stage1"]["sha256"] = r.stage1_sha256;
  m["stage2"]["sha256"] = r.stage2_sha256;
  if (o.fused_host) m["stage2_fused"]["sha256"] = r.stage2_fused_sha256;

  return m;
}

nlohmann::json split_result_json(const SplitResult& r) {
  nlohmann::json j;
  j["manifest"] = r.manifest;
  j["stage1"] = r.stage1_path.string();
  j["stage2"] = r.stage2_path.string();
  j["manifest_path"] = r.manifest_path.string();
  j["stage2_fused"] = r.stage2_fused_path.empty() ? nlohmann::json() : nlohmann::json(r.stage2_fused_path.string());
  j["start_nodes"] = r.stages.stage1_start_nodes;
  j["end_nodes"] = r.stages.stage1_end_nodes;
  j["verify"] = r.verify ? verify_json(*r.verify) : nlohmann::json();
  j["verify_fused_ok"] = r.verify_fused ? nlohmann::json(r.verify_fused->ok) : nlohmann::json();
  j["text"] = split_text(r);
  return j;
}

std::string split_text(const SplitResult& r) {
  const auto& a = r.analysis;
  std::string out;
  out += fmt::format("split {} for {} (DFC {} rules)\n", a.summary.path, a.rules.target, a.rules.dfc);
  out += parser_log_report(a.parser_log);
  for (const auto& n : a.model.notes()) out += "note: " + n + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [orig, name] : r.stages.renamed) {
    const auto& info = a.model.shapes().at(orig);
    rows.push_back({name, orig, dims_str(info.dims), dtype_name(info.dtype), human_bytes(double(info.bytes()))});
  }
  out += format_table({"cut tensor", "original tensor", "shape", "dtype", "per frame"}, rows, 60);
  const json s1 = stage_stats(a, true), s2 = stage_stats(a, false);
  out += fmt::format("stage1 (NPU):  {} nodes, {} FLOPs ({} of the model) -> {}\n", s1["nodes"].get<int>(),
                     human_count(double(s1["flops"].get<int64_t>())), percent(a.partition.npu_flops_share()),
                     r.stage1_path.string());
  out += fmt::format("stage2 (host): {} nodes, {} FLOPs -> {}\n", s2["nodes"].get<int>(),
                     human_count(double(s2["flops"].get<int64_t>())), r.stage2_path.string());
  std::string ins;
  for (const auto& [k, v] : r.stage2_input_reasons) ins += fmt::format("\n  {}: {}", k, v);
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
  out += range_probe_text(a.ranges);
  for (const auto& m : a.ranges.npu_merges)
    out += fmt::format("warning: quant-mixed-range: {} ({}) inside stage1 merges parts whose ranges differ {}x: one 8-bit "
                       "scale for all of them (npusplit check lists the parts and the fix)\n",
                       m.node, m.op, std::isfinite(m.ratio) ? fmt::format("{:.0f}", m.ratio) : std::string("inf"));
  out += fmt::format("stage1 check: {}\n", stage1_check_verdict(r));
  out += "hailo parser: " +
         hailo_parser_command(fs::absolute(r.stage1_path).lexically_normal().string(), a.rules.hw_arch, r.stages) +
         "\n";
  out += "manifest: " + r.manifest_path.string() + "\n";
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  if (r.verify) out += verify_text(*r.verify);
  if (!r.stage2_fused_path.empty())
    out += fmt::format("stage2 fused (host ops, domain {}): {} deformable attention(s) fused -> {}\n", kHostOpDomain,
                       r.fused_ops, r.stage2_fused_path.string());
  if (r.verify_fused) out += fused_check_text(*r.verify_fused);
  if (r.calib) out += calib_bundle_text(*r.calib);
  out += summary_line(a, r.frontier.empty() ? nullptr : &r.frontier);
  return out;
}

}  // namespace npusplit
