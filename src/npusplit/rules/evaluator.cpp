#include "npusplit/rules/evaluator.h"

#include "npusplit/rules/checks.h"

namespace npusplit {

namespace {
Finding finding_of(const Constraint& c, std::string detail) {
  return {c.id, c.reason, std::move(detail), c.fix, c.evidence, c.source, c.severity};
}
}  // namespace

NodeVerdict evaluate_node(const RuleSet& rules, const Graph& g, const ShapeMap& shapes, int i) {
  const auto& n = g.node(i);
  NodeVerdict v;
  v.node = i;
  v.name = n.name().empty() ? (n.output_size() ? n.output(0) : std::string("?")) : n.name();
  v.op = n.op_type();
  const bool foreign = !(n.domain().empty() || n.domain() == "ai.onnx");
  const OpRule& r = foreign ? rules.unknown_op : rules.rule_for(n.op_type());
  if (r.status == OpStatus::Unsupported || r.status == OpStatus::Fold) {
    std::string id = r.op == "*" ? "unknown-op" : (r.status == OpStatus::Fold ? "must-fold" : "unsupported-op");
    std::string detail = r.status == OpStatus::Fold ? "still present after folding at the fixed input shape" : "";
    v.findings.push_back({id, r.reason, detail, r.fix, r.evidence, r.source, "error"});
  } else {
    NodeContext ctx{g, shapes, n};
    for (const auto& c : rules.defaults) {
      if (r.skip_defaults.count(c.id)) continue;
      if (auto bad = run_check(c.check, ctx, c.params)) v.findings.push_back(finding_of(c, *bad));
    }
    for (const auto& c : r.constraints)
      if (auto bad = run_check(c.check, ctx, c.params)) v.findings.push_back(finding_of(c, *bad));
  }
  v.supported = v.findings.empty();
  v.suspect_only = !v.findings.empty();
  for (const auto& f : v.findings) v.suspect_only &= f.severity == "suspect";
  return v;
}

VerdictCounts count_verdicts(const std::vector<NodeVerdict>& verdicts) {
  VerdictCounts c;
  for (const auto& v : verdicts) {
    ++c.nodes;
    if (v.suspect_only) ++c.suspect;
    else if (!v.supported) ++c.rejected;
  }
  return c;
}

std::vector<NodeVerdict> evaluate_graph(const RuleSet& rules, const Graph& g, const ShapeMap& shapes) {
  std::vector<NodeVerdict> out;
  out.reserve(g.node_count());
  for (int i = 0; i < g.node_count(); ++i) out.push_back(evaluate_node(rules, g, shapes, i));
  return out;
}

}  // namespace npusplit
