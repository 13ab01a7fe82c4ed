#include "npusplit/report/graph_layout.h"


#include "npusplit/error.h"

#ifdef NPUSPLIT_WITH_GRAPHVIZ
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#endif

namespace npusplit {

std::string dot_label_text(const std::string& text, size_t max_chars) {
  std::string out;
  for (unsigned char c : text) {
    // Graphviz reads \N, \n, \l ... and &entity; in labels: neither may come from a model.
    if (c == '\\') out += '/';
    else if (c == '&') out += '+';
    else if (c == '<') out += '(';
    else if (c == '>') out += ')';
    else if (c == '"') out += '\'';
    else if (c < 0x20 || c >= 0x7f) out += '?';
    else out += static_cast<char>(c);
  }
  if (out.size() > max_chars && max_chars > 3) out = "..." + out.substr(out.size() - (max_chars - 3));
  return out;
}

#ifdef NPUSPLIT_WITH_GRAPHVIZ

bool graphviz_available() { return true; }

namespace {
// cgraph's API predates const.
char* mut(const std::string& s) { return const_cast<char*>(s.c_str()); }

// SVG without every OPEN...CLOSE span (and the newline after it).
std::string strip_between(const std::string& s, const std::string& open, const std::string& close) {
  std::string out;
  out.reserve(s.size());
  size_t at = 0;
  while (true) {
    const size_t a = s.find(open, at);
    if (a == std::string::npos) break;
    const size_t b = s.find(close, a + open.size());
    if (b == std::string::npos) break;
    out.append(s, at, a - at);
    at = b + close.size();
    if (at < s.size() && s[at] == '\n') ++at;
  }
  out.append(s, at, std::string::npos);
  return out;
}

struct GraphvizSession {
  GVC_t* gvc = nullptr;
  Agraph_t* g = nullptr;
  bool laid_out = false;
  ~GraphvizSession() {
    if (laid_out) gvFreeLayout(gvc, g);
    if (g) agclose(g);
    if (gvc) gvFreeContext(gvc);
  }
};
}  // namespace

std::string render_svg(const DotGraph& dg) {
  agseterr(AGERR);  // warnings (e.g. a label font not found) are not the user's concern
  GraphvizSession s;
  s.gvc = gvContext();
  if (!s.gvc) throw Error("graphviz: no context (is the Graphviz plugin configuration installed?)");
  std::string name = "g";
  s.g = agopen(mut(name), Agdirected, nullptr);
  for (const auto& [k, v] : dg.graph_attrs) agattr(s.g, AGRAPH, mut(k), mut(v));
  for (const auto& [k, v] : dg.node_defaults) agattr(s.g, AGNODE, mut(k), mut(v));
  for (const auto& [k, v] : dg.edge_defaults) agattr(s.g, AGEDGE, mut(k), mut(v));
  std::map<std::string, Agnode_t*> nodes;
  for (const auto& n : dg.nodes) {
    Agnode_t* an = agnode(s.g, mut(n.id), 1);
    nodes[n.id] = an;
    agsafeset(an, mut(std::string("id")), mut(n.id), mut(std::string("")));
    for (const auto& [k, v] : n.attrs) agsafeset(an, mut(k), mut(v), mut(std::string("")));
  }
  for (const auto& e : dg.edges) {
    auto a = nodes.find(e.from), b = nodes.find(e.to);
    if (a == nodes.end() || b == nodes.end()) throw Error("graphviz: edge between unknown nodes " + e.from + " -> " + e.to);
    Agedge_t* ae = agedge(s.g, a->second, b->second, nullptr, 1);
    for (const auto& [k, v] : e.attrs) agsafeset(ae, mut(k), mut(v), mut(std::string("")));
  }
  if (gvLayout(s.gvc, s.g, "dot") != 0) throw Error("graphviz: the dot layout failed");
  s.laid_out = true;
  char* data = nullptr;
  unsigned int len = 0;
  if (gvRenderData(s.gvc, s.g, "svg", &data, &len) != 0 || !data) throw Error("graphviz: SVG rendering failed");
  std::string svg(data, len);
  gvFreeRenderData(data);
  const auto start = svg.find("<svg");
  if (start == std::string::npos) throw Error("graphviz: no <svg> in the rendered output");
  svg.erase(0, start);
  return strip_between(strip_between(svg, "<!--", "-->"), "<title>", "</title>");
}

#else

bool graphviz_available() { return false; }

std::string render_svg(const DotGraph&) {
  throw Error("this npusplit was built without Graphviz: no HTML report (install libgraphviz-dev and build again)");
}

#endif

}  // namespace npusplit
