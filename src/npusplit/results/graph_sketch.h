#pragma once
// The cut model's nodes and edges as plain data, for the HTML report: split moves the model's
// proto into the stages, so what the drawing needs is kept here (names, ops, tensors; no weights).
#include <string>
#include <unordered_set>
#include <vector>

namespace npusplit {

struct SketchNode {
  std::string name, op;
  std::vector<std::string> inputs, outputs;  // as in the proto ("" = absent optional input)
};

struct GraphSketch {
  std::vector<SketchNode> nodes;              // node i = node i of the judged graph (verdict/flops index)
  std::vector<std::string> inputs, outputs;   // runtime inputs, graph outputs
  std::unordered_set<std::string> constants;  // initializer names (not drawn)
  bool empty() const { return nodes.empty(); }
};

}  // namespace npusplit
