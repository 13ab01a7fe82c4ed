#pragma once
// Judges every node of a resolved graph against a target's rules.
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit {

struct Finding {
  std::string rule_id, reason, detail, fix, evidence, source;
  std::string severity = "error";  // or "suspect"
};

struct NodeVerdict {
  int node = -1;
  std::string name, op;
  bool supported = true;   // no finding at all
  bool suspect_only = false;  // findings, but only "suspect" ones
  std::vector<Finding> findings;
};

// How many nodes have findings: `rejected` (at least one error-severity finding) and
// `suspect` (only suspect findings).
struct VerdictCounts {
  int nodes = 0, rejected = 0, suspect = 0;
  int flagged() const { return rejected + suspect; }
};
VerdictCounts count_verdicts(const std::vector<NodeVerdict>& verdicts);

NodeVerdict evaluate_node(const RuleSet& rules, const Graph& g, const ShapeMap& shapes, int node);
std::vector<NodeVerdict> evaluate_graph(const RuleSet& rules, const Graph& g, const ShapeMap& shapes);

}  // namespace npusplit
