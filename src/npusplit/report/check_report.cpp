#include "npusplit/report/check_report.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "npusplit/report/format.h"
#include "npusplit/report/platform_report.h"

namespace npusplit {

using nlohmann::json;

namespace {
json tensor_json(const TensorSummary& t) {
  json dims = json::array();
  for (auto d : t.info.dims) dims.push_back(d < 0 ? json(nullptr) : json(d));
  return {{"name", t.name}, {"dtype", dtype_name(t.info.dtype)}, {"shape", t.info.has_rank ? dims : json(nullptr)}};
}
}  // namespace

int unsupported_count(const Analysis& a) { return count_verdicts(a.verdicts).flagged(); }

int check_exit_code(const Analysis& a) { return unsupported_count(a) == 0 ? 0 : 1; }

std::string verdict_label(const std::string& severity) {
  return severity == "suspect" ? "suspect" : severity == "warning" ? "warning" : "rejected";
}

json range_probe_json(const RangeProbe& r) {
  const auto merge_json = [](const MixedRange& m) {
    json parts = json::array();
    for (const auto& p : m.parts) parts.push_back({{"tensor", p.tensor}, {"min", p.min}, {"max", p.max}});
    return json{{"node", m.node}, {"op", m.op}, {"ratio", std::isfinite(m.ratio) ? json(m.ratio) : json(nullptr)}, {"parts", parts}};
  };
  json j = {{"measured", r.measured}, {"source", r.source}, {"description", r.description}, {"seed", r.seed},
            {"scope", r.scope}, {"frames", r.frames}, {"tensors", r.tensors}, {"ratio", r.ratio}, {"moved_to_host", r.moved}};
  if (!r.skipped.empty()) j["skipped"] = r.skipped;
  j["mixed_merges"] = json::array();
  for (const auto& m : r.merges) j["mixed_merges"].push_back(merge_json(m));
  j["npu_merges"] = json::array();
  for (const auto& m : r.npu_merges) j["npu_merges"].push_back(merge_json(m));
  return j;
}

std::string range_probe_text(const RangeProbe& r) {
  if (!r.measured)
    return r.skipped.empty() || r.skipped == "no merge in stage1" || r.skipped == "no merge ends stage1"
               ? ""
               : "quant ranges: " + r.skipped + "\n";
  std::string s = fmt::format("quant ranges: {} merge input(s){} measured on {}: {} merge(s) join parts differing more than {:g}x",
                              r.tensors, r.scope == "cut" ? " at stage1's end" : "", r.description, r.merges.size(), r.ratio);
  if (!r.moved.empty()) {
    s += "; kept off stage1's end (moved to the host):";
    for (const auto& m : r.moved) s += " " + m;
  }
  s += fmt::format("; {} left inside stage1 (quant-mixed-range) [{:.0f} ms]\n", r.npu_merges.size(), r.ms);
  return s;
}

json summary_json(const ModelSummary& s) {
  json j;
  j["path"] = s.path;
  j["file_bytes"] = s.file_bytes;
  j["ir_version"] = s.ir_version;
  j["opsets"] = json::object();
  for (const auto& [d, v] : s.opsets) j["opsets"][d] = v;
  j["producer"] = s.producer;
  j["inputs"] = json::array();
  for (const auto& t : s.inputs) j["inputs"].push_back(tensor_json(t));
  j["outputs"] = json::array();
  for (const auto& t : s.outputs) j["outputs"].push_back(tensor_json(t));
  j["nodes"] = s.nodes;
  j["parameters"] = s.parameters;
  return j;
}

json check_json(const Analysis& a) {
  json j;
  j["schema"] = "npusplit.check/1";
  j["model"] = summary_json(a.summary);
  j["target"] = {{"name", a.rules.target}, {"hw_arch", a.rules.hw_arch}, {"dfc", a.rules.dfc}, {"dfc_choice", a.rules.dfc_choice}, {"rules", a.rules.origin}};
  if (!a.parser_log_path.empty()) {
    auto& pl = j["parser_log"];
    pl["file"] = a.parser_log_path;
    pl["findings_added"] = a.parser_log.findings_added;
    pl["recognised"] = nlohmann::json::array();
    for (const auto& h : a.parser_log.hits)
      pl["recognised"].push_back({{"line", h.line_no}, {"signature", h.signature}, {"nodes", h.nodes}, {"missing_nodes", h.missing_nodes}});
    pl["unknown"] = nlohmann::json::array();
    for (const auto& [n, line] : a.parser_log.unknown) pl["unknown"].push_back({{"line", n}, {"text", line}});
  }
  j["notes"] = a.model.notes();
  const auto& st = a.model.stats();
  j["shapes"] = {{"tensors", st.tensors},          {"known_by_onnx", st.known_by_onnx},
                 {"folded_nodes", st.folded_nodes}, {"known_after_fold", st.known_after_fold},
                 {"known_by_ort", st.known_by_ort}, {"unresolved", st.unresolved}};
  j["nodes"] = json::array();
  const auto counts = count_verdicts(a.verdicts);
  for (const auto& v : a.verdicts) {
    json n = {{"name", v.name}, {"op", v.op}, {"supported", v.supported},
              {"verdict", v.supported ? "supported" : (v.suspect_only ? "suspect" : "unsupported")},
              {"flops", a.flops[v.node]}};
    {
      // Inputs and outputs with shapes, so a reader can see what the rule saw.
      const auto& node = a.model.proto().graph().node(v.node);
      auto io = [&](const std::string& t) {
        auto it = a.model.shapes().find(t);
        json shape = nullptr;
        if (it != a.model.shapes().end() && it->second.has_rank) shape = it->second.dims;
        return json{{"name", t}, {"shape", shape}};
      };
      n["inputs"] = json::array();
      for (const auto& t : node.input()) n["inputs"].push_back(io(t));
      n["outputs"] = json::array();
      for (const auto& t : node.output()) n["outputs"].push_back(io(t));
    }
    json f = json::array();
    for (const auto& x : v.findings)
      f.push_back({{"rule", x.rule_id}, {"reason", x.reason}, {"detail", x.detail}, {"fix", x.fix},
                   {"evidence", x.evidence}, {"source", x.source}, {"severity", x.severity}});
    n["findings"] = f;
    n["stage1"] = a.partition.stage1.empty() ? false : bool(a.partition.stage1[v.node]);
    j["nodes"].push_back(std::move(n));
  }
  const int total = static_cast<int>(a.verdicts.size());
  const auto& p = a.partition;
  j["summary"] = {
      {"nodes", total},
      {"supported", total - counts.flagged()},
      {"unsupported", counts.rejected},
      {"suspect", counts.suspect},
      {"folded_nodes", st.folded_nodes},
      {"flops", a.total_flops},
      {"stage1",
       {{"nodes", p.stage1_nodes},
        {"flops", p.stage1_flops},
        {"flops_share", p.npu_flops_share()},
        {"node_share", total ? double(p.stage1_nodes) / total : 0.0},
        {"crossing", p.crossing},
        {"crossing_bytes", p.crossing_bytes}}}};
  j["quant_ranges"] = range_probe_json(a.ranges);
  j["exit_code"] = check_exit_code(a);
  return j;
}

std::string check_text(const Analysis& a, bool all_nodes, const Frontier* frontier) {
  std::string out;
  const auto& s = a.summary;
  out += fmt::format("{}: IR {}, opset {}, {} nodes, {} parameters, {} FLOPs\n", s.path, s.ir_version,
                     s.opsets.empty() ? 0 : s.opsets.front().second, s.nodes, human_count(double(s.parameters)),
                     human_count(double(a.total_flops)));
  for (const auto& n : a.model.notes()) out += "note: " + n + "\n";
  const auto& st = a.model.stats();
  out += fmt::format(
      "shapes: {} of {} tensors known to ONNX shape inference; {} shape/constant nodes folded; {} taken from an "
      "ONNX Runtime run; {} unresolved\n",
      st.known_by_onnx, st.tensors, st.folded_nodes, st.known_by_ort, st.unresolved);
  out += fmt::format("target: {} (hw-arch {}, DFC {} rules ({}), from {})\n", a.rules.target, a.rules.hw_arch,
                     a.rules.dfc, a.rules.dfc_choice == "--dfc" ? "chosen with --dfc" : "default: newest documented",
                     a.rules.origin);
  out += parser_log_report(a.parser_log) + "\n";
  // Group findings so 40 GridSample nodes make one row.
  struct Group {
    std::string op, rule, reason, fix, evidence, severity;
    std::vector<std::string> nodes;
    std::string detail;
  };
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  std::vector<std::vector<std::string>> node_rows;
  for (const auto& v : a.verdicts) {
    for (const auto& f : v.findings) {
      const std::string key = v.op + "|" + f.rule_id + "|" + f.reason + "|" + f.severity;
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, groups.size()).first;
        groups.push_back({v.op, f.rule_id, f.reason, f.fix, f.evidence, f.severity, {}, f.detail});
      }
      groups[it->second].nodes.push_back(v.name);
      if (all_nodes) node_rows.push_back({v.name, v.op, verdict_label(f.severity), f.rule_id, f.fix, f.reason + (f.detail.empty() ? "" : " (" + f.detail + ")")});
    }
  }
  if (groups.empty()) {
    out += "Every node is supported.\n";
  } else if (all_nodes) {
    out += format_table({"node", "op", "verdict", "rule", "fix", "reason"}, node_rows, 90);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& g : groups) {
      std::string names = g.nodes.front();
      if (g.nodes.size() > 1) names += fmt::format(" (+{} more)", g.nodes.size() - 1);
      rows.push_back({g.op, verdict_label(g.severity), std::to_string(g.nodes.size()), names,
                      g.evidence, g.fix, g.reason + (g.detail.empty() ? "" : " [e.g. " + g.detail + "]")});
    }
    out += format_table({"op", "verdict", "nodes", "node names", "evidence", "fix", "reason"}, rows, 60);
    out += "(--all lists every node; --json gives the full record)\n";
  }
  const int total = static_cast<int>(a.verdicts.size());
  const auto counts = count_verdicts(a.verdicts);
  const auto& p = a.partition;
  out += range_probe_text(a.ranges);
  out += fmt::format("\nsummary: {} nodes after folding: {} supported, {} unsupported, {} suspect (inferred parser "
                     "failure, not confirmed)\n", total, total - counts.flagged(), counts.rejected, counts.suspect);
  out += fmt::format(
      "largest stage1 (NPU): {} nodes ({} of nodes), {} FLOPs ({} of FLOPs); {} tensor(s) cross to the host, "
      "{} per frame\n",
      p.stage1_nodes, percent(total ? double(p.stage1_nodes) / total : 0), human_count(double(p.stage1_flops)),
      percent(p.npu_flops_share()), p.crossing.size(), human_bytes(double(p.crossing_bytes)));
  out += summary_line(a, frontier);
  return out;
}

json check_json(const CheckResult& r, bool explain) {
  json j = check_json(r.analysis);
  if (!r.frontier.empty()) j["platform"] = frontier_json(r.frontier, explain);
  return j;
}

}  // namespace npusplit
