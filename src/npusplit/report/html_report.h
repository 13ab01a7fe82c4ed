#pragma once
// `check --html` / `split --html`: one self-contained HTML page (no network access) from the
// typed results: the graph laid out by Graphviz, one drawing per module scope (a module is one
// box in its parent's drawing; clicking it opens it), nodes coloured by stage and verdict,
// tooltips with op, shapes and findings, the crossing tensors, the rule summary table, and for a
// split the verify result and the frontier of candidate cuts.
#include <filesystem>
#include <string>

#include "npusplit/ir/graph.h"
#include "npusplit/results/analysis.h"
#include "npusplit/results/graph_sketch.h"
#include "npusplit/results/split.h"

namespace npusplit {

// Throws npusplit::Error (one line) when this build has no Graphviz: call before the work.
void require_html_report();

GraphSketch sketch_graph(const Graph& g);

std::string check_html(const Analysis& a, const Frontier* frontier = nullptr);  // frontier: check --platform
// Draws r.graph (split keeps the sketch: the model's proto moved into the stages).
std::string split_html(const SplitResult& r);

// The frontier plot alone (inline <svg>; a note when the frontier is empty).
std::string frontier_svg(const Frontier& f);

// How the page groups nodes: the module scopes it draws (one box each, in its parent's drawing).
struct HtmlLayoutFigures {
  int nodes = 0, modules = 0, views = 0;
};
HtmlLayoutFigures html_layout_figures(const GraphSketch& g);

// Writes HTML to FILE atomically (io/atomic_output.h).
void write_html_report(const std::filesystem::path& file, const std::string& html);

}  // namespace npusplit
