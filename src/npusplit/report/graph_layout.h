#pragma once
// A small directed graph laid out by Graphviz (dot) and rendered to SVG, for the HTML report.
// Built only when CMake found Graphviz (NPUSPLIT_WITH_GRAPHVIZ); without it graphviz_available()
// is false and render_svg() throws npusplit::Error.
#include <map>
#include <string>
#include <vector>

namespace npusplit {

struct DotNode {
  std::string id;                            // also the SVG <g> id
  std::map<std::string, std::string> attrs;  // Graphviz attributes (label, shape, class, ...)
};

struct DotEdge {
  std::string from, to;                      // DotNode ids
  std::map<std::string, std::string> attrs;
};

struct DotGraph {
  std::map<std::string, std::string> graph_attrs, node_defaults, edge_defaults;
  std::vector<DotNode> nodes;
  std::vector<DotEdge> edges;
};

bool graphviz_available();
// The <svg> element of the laid-out graph (no XML prolog, no comments, no <title>s: the page
// shows its own tooltips).
std::string render_svg(const DotGraph& g);

// A Graphviz label from arbitrary (model-provided) text: printable ASCII only, no escape
// sequences, no entities, at most MAX_CHARS characters (longer text keeps its tail).
std::string dot_label_text(const std::string& text, size_t max_chars = 40);

}  // namespace npusplit
