#include "npusplit/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "npusplit/analysis/cost.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/report/format.h"
#include "npusplit/report/graph_layout.h"
#include "npusplit/report/split_report.h"

namespace npusplit {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------- escaping
std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "?"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON inside <script type="application/json">: no "</script>" (or any markup) can close it.
std::string script_json(const json& j) {
  const std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

// ---------------------------------------------------------------- the scope tree
constexpr size_t kChunk = 100;        // a module with more direct nodes is drawn in parts
constexpr size_t kChunkAbove = 150;

struct Scope {
  std::string label, path;
  int parent = -1;
  std::vector<int> children, nodes;
  bool alive = true;
  // filled by finish()
  int pre = 0, last = 0, depth = 0;
  int count = 0, stage1 = 0, unsupported = 0, suspect = 0;
  int64_t flops = 0;
};

struct ScopeTree {
  std::vector<Scope> scopes;  // 0 = root, then DFS pre-order
  std::vector<int> node_scope;
};

std::vector<std::string> split_path(const std::string& name) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : name) {
    if (c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

ScopeTree build_scopes(const GraphSketch& g) {
  std::vector<Scope> sc(1);
  sc[0].label = "graph";
  std::map<std::pair<int, std::string>, int> child;
  for (int i = 0; i < int(g.nodes.size()); ++i) {
    auto parts = split_path(g.nodes[i].name);
    int cur = 0;
    for (size_t k = 0; k + 1 < parts.size(); ++k) {
      auto [it, fresh] = child.try_emplace({cur, parts[k]}, int(sc.size()));
      if (fresh) {
        Scope s;
        s.label = parts[k];
        s.path = sc[cur].path + "/" + parts[k];
        s.parent = cur;
        sc.push_back(std::move(s));
        sc[cur].children.push_back(it->second);
      }
      cur = it->second;
    }
    sc[cur].nodes.push_back(i);
  }
  // A module holding only one module (/model -> /model/backbone) is one box: fewer clicks.
  std::vector<int> stack{0};
  while (!stack.empty()) {
    const int s = stack.back();
    stack.pop_back();
    while (sc[s].nodes.empty() && sc[s].children.size() == 1) {
      const int c = sc[s].children[0];
      sc[s].label = s == 0 ? sc[c].label : sc[s].label + "/" + sc[c].label;
      sc[s].path = sc[c].path;
      sc[s].children = sc[c].children;
      sc[s].nodes = sc[c].nodes;
      for (int cc : sc[s].children) sc[cc].parent = s;
      sc[c].alive = false;
    }
    // Too many nodes side by side (an unscoped model): parts of kChunk nodes in graph order.
    if (sc[s].nodes.size() > kChunkAbove) {
      auto nodes = std::move(sc[s].nodes);
      sc[s].nodes.clear();
      for (size_t a = 0; a < nodes.size(); a += kChunk) {
        const size_t b = std::min(nodes.size(), a + kChunk);
        Scope part;
        part.label = fmt::format("nodes {}-{}", a + 1, b);
        part.path = sc[s].path + "/[" + part.label + "]";
        part.parent = s;
        part.nodes.assign(nodes.begin() + long(a), nodes.begin() + long(b));
        sc[s].children.push_back(int(sc.size()));
        sc.push_back(std::move(part));
      }
    }
    for (int c : sc[s].children) stack.push_back(c);
  }
  // Renumber the live scopes in DFS pre-order (root = 0, a subtree = one id range).
  ScopeTree t;
  std::vector<int> renum(sc.size(), -1);
  std::vector<int> order;
  std::vector<int> st{0};
  while (!st.empty()) {
    const int s = st.back();
    st.pop_back();
    renum[s] = int(order.size());
    order.push_back(s);
    for (auto it = sc[s].children.rbegin(); it != sc[s].children.rend(); ++it) st.push_back(*it);
  }
  t.scopes.resize(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    Scope s = std::move(sc[order[k]]);
    s.parent = s.parent < 0 ? -1 : renum[s.parent];
    for (int& c : s.children) c = renum[c];
    s.pre = int(k);
    t.scopes[k] = std::move(s);
  }
  t.node_scope.assign(g.nodes.size(), 0);
  for (int s = int(t.scopes.size()) - 1; s >= 0; --s) {
    auto& x = t.scopes[s];
    x.last = s;
    for (int c : x.children) x.last = std::max(x.last, t.scopes[c].last);
    for (int n : x.nodes) t.node_scope[n] = s;
  }
  for (auto& x : t.scopes) x.depth = x.parent < 0 ? 0 : t.scopes[x.parent].depth + 1;
  return t;
}

// ---------------------------------------------------------------- what the page draws
struct NodeFacts {
  int stage = 2;             // 1 = NPU, 2 = host
  int verdict = 0;           // 0 supported, 1 suspect, 2 unsupported
  const NodeVerdict* v = nullptr;
  int64_t flops = 0;
};

struct PageInput {
  const GraphSketch& g;
  const ShapeMap& shapes;
  const std::vector<NodeVerdict>& verdicts;
  const std::vector<int64_t>& flops;
  const Partition& p;
};

const char* kNpuFill = "#9ecae1";
const char* kHostFill = "#fdd0a2";
const char* kUnsupported = "#d62728";
const char* kSuspect = "#ff7f0e";

std::string shape_text(const ShapeMap& shapes, const std::string& t) {
  auto it = shapes.find(t);
  if (it == shapes.end() || !it->second.has_rank) return "?";
  if (it->second.dims.empty()) return "scalar";
  std::string s;
  for (auto d : it->second.dims) s += (s.empty() ? "" : "x") + (d < 0 ? std::string("?") : std::to_string(d));
  return s;
}

std::string dtype_text(const ShapeMap& shapes, const std::string& t) {
  auto it = shapes.find(t);
  return it == shapes.end() ? "?" : dtype_name(it->second.dtype);
}

// "op\nlast name part", or the op alone when the name says no more (Conv named ".../Conv").
std::string op_label(const SketchNode& nd) {
  const auto parts = split_path(nd.name);
  const std::string last = parts.empty() ? "" : parts.back();
  if (last.empty() || last == nd.op) return dot_label_text(nd.op, 24);
  return dot_label_text(nd.op, 24) + "\\n" + dot_label_text(last, 26);
}

struct Views {
  std::vector<std::string> svg;  // per scope
  int crossing_edges = 0;
};

Views draw_views(const PageInput& in, const ScopeTree& t, const std::vector<NodeFacts>& facts) {
  const auto& g = in.g;
  const int n = int(g.nodes.size());
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
  std::unordered_map<std::string, int> input_index, output_index;
  for (size_t k = 0; k < g.inputs.size(); ++k) input_index[g.inputs[k]] = int(k);
  for (size_t k = 0; k < g.outputs.size(); ++k) output_index[g.outputs[k]] = int(k);
  std::unordered_map<std::string, int64_t> crossing;
  for (const auto& c : in.p.crossing) crossing[c] = std::max<int64_t>(0, tensor_bytes(in.shapes, c));

  Views out;
  out.svg.resize(t.scopes.size());
  for (int S = 0; S < int(t.scopes.size()); ++S) {
    const Scope& view = t.scopes[S];
    auto inside = [&](int sc) { return sc >= view.pre && sc <= view.last; };
    std::vector<char> is_ancestor(t.scopes.size(), 0);
    for (int a = S; a >= 0; a = t.scopes[a].parent) is_ancestor[a] = 1;
    DotGraph dg;
    dg.graph_attrs = {{"rankdir", "TB"}, {"nodesep", "0.25"}, {"ranksep", "0.35"}, {"bgcolor", "transparent"}};
    dg.node_defaults = {{"fontname", "Helvetica"}, {"fontsize", "10"}, {"shape", "box"}, {"margin", "0.08,0.04"}};
    dg.edge_defaults = {{"fontname", "Helvetica"}, {"fontsize", "9"}, {"color", "#888888"}, {"arrowsize", "0.6"}};
    std::map<std::string, size_t> placed;
    auto place = [&](const std::string& id, std::map<std::string, std::string> attrs) {
      if (placed.count(id)) return;
      placed[id] = dg.nodes.size();
      dg.nodes.push_back({id, std::move(attrs)});
    };
    // The node's key in this drawing: itself, the child module holding it, or an outside box.
    auto key = [&](int x) -> std::string {
      int sx = t.node_scope[x];
      if (sx == S) return "n" + std::to_string(x);
      if (inside(sx)) {
        while (t.scopes[sx].parent != S) sx = t.scopes[sx].parent;
        return "s" + std::to_string(sx);
      }
      if (is_ancestor[sx]) return "xn" + std::to_string(x);
      while (!is_ancestor[t.scopes[sx].parent]) sx = t.scopes[sx].parent;
      return "xs" + std::to_string(sx);
    };
    auto place_key = [&](const std::string& k) {
      if (k[0] == 'n') {
        const int x = std::stoi(k.substr(1));
        const auto& f = facts[x];
        std::map<std::string, std::string> a = {
            {"class", std::string("op ") + (f.stage == 1 ? "npu" : "host") +
                          (f.verdict == 2 ? " unsupported" : f.verdict == 1 ? " suspect" : "")},
            {"label", op_label(g.nodes[x])},
            {"style", f.verdict == 1 ? "rounded,filled,dashed" : "rounded,filled"},
            {"fillcolor", f.stage == 1 ? kNpuFill : kHostFill},
            {"color", f.verdict == 2 ? kUnsupported : f.verdict == 1 ? kSuspect : "#555555"},
            {"penwidth", f.verdict ? "2.5" : "1"}};
        place(k, std::move(a));
      } else if (k[0] == 's') {
        const auto& s = t.scopes[std::stoi(k.substr(1))];
        std::string issues = s.unsupported || s.suspect
                                 ? fmt::format("{} unsupported, {} suspect", s.unsupported, s.suspect)
                                 : "all supported";
        const double npu = s.count ? double(s.stage1) / s.count : 0;
        std::map<std::string, std::string> a = {
            {"class", std::string("mod") + (s.unsupported ? " unsupported" : s.suspect ? " suspect" : "")},
            {"label", dot_label_text(s.label, 34) + "\\n" + fmt::format("{} nodes, {} FLOPs", s.count, human_count(double(s.flops))) +
                          "\\n" + issues},
            {"fontsize", "11"},
            {"color", s.unsupported ? kUnsupported : s.suspect ? kSuspect : "#333333"},
            {"penwidth", s.unsupported || s.suspect ? "3" : "1.5"}};
        if (npu > 0.001 && npu < 0.999) {
          a["style"] = "filled,striped";
          a["fillcolor"] = fmt::format("{};{:.3f}:{}", kNpuFill, npu, kHostFill);
        } else {
          a["style"] = "filled";
          a["fillcolor"] = npu >= 0.999 ? kNpuFill : kHostFill;
        }
        place(k, std::move(a));
      } else if (k.rfind("xs", 0) == 0) {
        const auto& s = t.scopes[std::stoi(k.substr(2))];
        place(k, {{"class", "ext"}, {"label", dot_label_text(s.path, 40)}, {"style", "dashed"},
                  {"fontcolor", "#666666"}, {"color", "#999999"}});
      } else if (k.rfind("xn", 0) == 0) {
        const int x = std::stoi(k.substr(2));
        place(k, {{"class", "ext"}, {"label", dot_label_text(g.nodes[x].name, 40)}, {"style", "dashed"},
                  {"fontcolor", "#666666"}, {"color", "#999999"}});
      }
    };
    // The drawing's own items first, in graph order (dot keeps the order within a rank).
    for (int c : view.children) place_key("s" + std::to_string(c));
    for (int x : view.nodes) place_key("n" + std::to_string(x));
    struct Agg {
      int tensors = 0, crossing = 0;
      int64_t crossing_bytes = 0;
    };
    std::map<std::pair<std::string, std::string>, Agg> edges;
    auto add_edge = [&](const std::string& a, const std::string& b, const std::string& tensor) {
      if (a == b) return;
      auto& e = edges[{a, b}];
      ++e.tensors;
      auto c = crossing.find(tensor);
      if (c != crossing.end()) {
        ++e.crossing;
        e.crossing_bytes += c->second;
      }
    };
    for (int v = 0; v < n; ++v) {
      const bool v_in = inside(t.node_scope[v]);
      for (const auto& tn : g.nodes[v].inputs) {
        if (tn.empty() || g.constants.count(tn)) continue;
        auto pit = producer.find(tn);
        if (pit != producer.end()) {
          const bool u_in = inside(t.node_scope[pit->second]);
          if (!u_in && !v_in) continue;
          add_edge(key(pit->second), key(v), tn);
        } else if (v_in) {
          auto ii = input_index.find(tn);
          if (ii == input_index.end()) continue;
          const std::string id = "in" + std::to_string(ii->second);
          place(id, {{"class", "io"}, {"shape", "ellipse"}, {"label", "input\\n" + dot_label_text(tn, 30)},
                     {"style", "filled"}, {"fillcolor", "#eeeeee"}});
          add_edge(id, key(v), tn);
        }
      }
    }
    for (const auto& [tn, k] : output_index) {
      auto pit = producer.find(tn);
      if (pit == producer.end() || !inside(t.node_scope[pit->second])) continue;
      const std::string id = "out" + std::to_string(k);
      place(id, {{"class", "io"}, {"shape", "ellipse"}, {"label", "output\\n" + dot_label_text(tn, 30)},
                 {"style", "filled"}, {"fillcolor", "#eeeeee"}});
      add_edge(key(pit->second), id, tn);
    }
    for (const auto& [ab, e] : edges) {
      place_key(ab.first);
      place_key(ab.second);
      DotEdge de{ab.first, ab.second, {}};
      if (e.crossing) {
        de.attrs = {{"class", "cross"}, {"color", kUnsupported}, {"penwidth", "2.5"},
                    {"label", human_bytes(double(e.crossing_bytes))}, {"fontcolor", kUnsupported}};
        ++out.crossing_edges;
      } else if (e.tensors > 1) {
        de.attrs = {{"penwidth", fmt::format("{:.1f}", std::min(4.0, 1.0 + std::log2(double(e.tensors))))}};
      }
      dg.edges.push_back(std::move(de));
    }
    out.svg[S] = render_svg(dg);
  }
  return out;
}

json tensor_list(const ShapeMap& shapes, const std::vector<std::string>& ts) {
  json a = json::array();
  for (const auto& t : ts)
    if (!t.empty()) a.push_back({t, shape_text(shapes, t), dtype_text(shapes, t)});
  return a;
}

std::vector<NodeFacts> node_facts(const PageInput& in) {
  std::vector<NodeFacts> f(in.g.nodes.size());
  for (const auto& v : in.verdicts) {
    if (v.node < 0 || v.node >= int(f.size())) continue;
    f[v.node].v = &v;
    f[v.node].verdict = v.supported ? 0 : v.suspect_only ? 1 : 2;
  }
  for (size_t i = 0; i < f.size(); ++i) {
    f[i].stage = i < in.p.stage1.size() && in.p.stage1[i] ? 1 : 2;
    f[i].flops = i < in.flops.size() ? in.flops[i] : 0;
  }
  return f;
}

void count_scopes(ScopeTree& t, const std::vector<NodeFacts>& facts) {
  for (int s = int(t.scopes.size()) - 1; s >= 0; --s) {
    auto& x = t.scopes[s];
    for (int nd : x.nodes) {
      ++x.count;
      x.stage1 += facts[nd].stage == 1;
      x.unsupported += facts[nd].verdict == 2;
      x.suspect += facts[nd].verdict == 1;
      x.flops += facts[nd].flops;
    }
    for (int c : x.children) {
      const auto& y = t.scopes[c];
      x.count += y.count;
      x.stage1 += y.stage1;
      x.unsupported += y.unsupported;
      x.suspect += y.suspect;
      x.flops += y.flops;
    }
  }
}

json page_data(const PageInput& in, const ScopeTree& t, const std::vector<NodeFacts>& facts) {
  json nodes = json::array();
  for (size_t i = 0; i < in.g.nodes.size(); ++i) {
    const auto& nd = in.g.nodes[i];
    const auto& f = facts[i];
    json fs = json::array();
    if (f.v)
      for (const auto& x : f.v->findings)
        fs.push_back({{"rule", x.rule_id}, {"severity", x.severity}, {"reason", x.reason}, {"detail", x.detail},
                      {"fix", x.fix}, {"evidence", x.evidence}, {"source", x.source}});
    nodes.push_back({{"name", nd.name}, {"op", nd.op}, {"stage", f.stage},
                     {"verdict", f.verdict == 2 ? "unsupported" : f.verdict == 1 ? "suspect" : "supported"},
                     {"flops", f.flops}, {"scope", t.node_scope[i]}, {"in", tensor_list(in.shapes, nd.inputs)},
                     {"out", tensor_list(in.shapes, nd.outputs)}, {"findings", fs}});
  }
  json scopes = json::array();
  for (const auto& s : t.scopes)
    scopes.push_back({{"label", s.label}, {"path", s.path.empty() ? "/" : s.path}, {"parent", s.parent},
                      {"nodes", s.count}, {"stage1", s.stage1}, {"unsupported", s.unsupported},
                      {"suspect", s.suspect}, {"flops", s.flops}});
  return {{"nodes", nodes}, {"scopes", scopes}};
}

// ---------------------------------------------------------------- the page around the drawings
const char* kCss = R"CSS(
body{font:14px/1.4 system-ui,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#243b55;color:#fff;padding:10px 18px}
header h1{font-size:19px;margin:0}
header .sub{opacity:.85;font-size:13px}
section{margin:12px 18px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px}
h2{font-size:16px;margin:4px 0 8px}
table{border-collapse:collapse;font-size:12.5px}
td,th{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f1f1}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#d62728;font-weight:600}
.legend span{display:inline-block;margin-right:14px;font-size:12.5px}
.sw{display:inline-block;width:14px;height:11px;border:1px solid #555;vertical-align:-1px;margin-right:4px}
#crumbs a{cursor:pointer;color:#1f5fa8;text-decoration:underline}
#toolbar{margin:6px 0}
#toolbar button{font-size:12px;margin-right:6px}
#canvas{overflow:auto;height:70vh;border:1px solid #ccc;background:#fff}
#canvas g.mod,#canvas g.ext{cursor:pointer}
#canvas g.flash polygon,#canvas g.flash path{stroke:#6a1b9a;stroke-width:5}
#tip{position:fixed;display:none;max-width:560px;background:#fff;border:1px solid #888;border-radius:4px;
  box-shadow:0 2px 8px rgba(0,0,0,.25);padding:8px 10px;font-size:12px;z-index:10;pointer-events:none}
#tip .t{font-weight:600;word-break:break-all}
#tip .f{margin-top:4px;border-top:1px solid #eee;padding-top:3px}
.note{color:#555;font-style:italic}
a.node{cursor:pointer;color:#1f5fa8}
#selftest{display:none}
)CSS";

// Runs first: every error or console.error of the page is counted (the browser test reads it).
const char* kErrorHook = R"JS(
window.__errors=[];
window.addEventListener('error',function(e){window.__errors.push(String(e.message||e));});
(function(){var ce=console.error;console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};})();
)JS";

const char* kScript = R"JS(
(function(){
'use strict';
var D=JSON.parse(document.getElementById('npusplit-data').textContent);
var canvas=document.getElementById('canvas'),crumbs=document.getElementById('crumbs'),tip=document.getElementById('tip');
var current=-1,zoom=1;
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
function human(n){if(n<1e3)return String(n);if(n<1e6)return (n/1e3).toFixed(1)+'K';if(n<1e9)return (n/1e6).toFixed(1)+'M';return (n/1e9).toFixed(2)+'G';}
function show(s,flash){
  var tpl=document.getElementById('v'+s);if(!tpl)return;
  if(s!==current){
    canvas.replaceChildren(tpl.content.cloneNode(true));current=s;applyZoom();
    crumbs.replaceChildren();
    var chain=[];for(var a=s;a>=0;a=D.scopes[a].parent)chain.unshift(a);
    chain.forEach(function(a,i){
      if(i)crumbs.appendChild(document.createTextNode(' / '));
      var l=el('a',null,D.scopes[a].label);l.dataset.scope=a;crumbs.appendChild(l);
    });
    var sc=D.scopes[s];
    crumbs.appendChild(document.createTextNode('  ('+sc.nodes+' nodes: '+sc.stage1+' on the NPU, '+(sc.nodes-sc.stage1)+' on the host; '+sc.unsupported+' unsupported, '+sc.suspect+' suspect)'));
    if(location.hash!=='#s'+s)history.replaceState(null,'','#s'+s);
  }
  if(flash!==undefined){var g=canvas.querySelector('#'+flash);if(g){g.classList.add('flash');g.scrollIntoView({block:'center',inline:'center'});}}
}
function applyZoom(){var svg=canvas.querySelector('svg');if(!svg)return;
  if(!svg.dataset.w){svg.dataset.w=parseFloat(svg.getAttribute('width'));svg.dataset.h=parseFloat(svg.getAttribute('height'));}
  svg.setAttribute('width',(svg.dataset.w*zoom)+'pt');svg.setAttribute('height',(svg.dataset.h*zoom)+'pt');}
function openNode(i){var sc=D.nodes[i].scope;show(sc,'n'+i);}
function target(e){var g=e.target.closest?e.target.closest('g.node'):null;return g&&canvas.contains(g)?g:null;}
function nodeTip(i){
  var n=D.nodes[i],box=el('div');
  box.appendChild(el('div','t',n.name));
  box.appendChild(el('div',null,n.op+' \u00b7 '+(n.stage===1?'stage1 (NPU)':'stage2 (host)')+' \u00b7 '+n.verdict+' \u00b7 '+human(n.flops)+' FLOPs'));
  [['in',n.in],['out',n.out]].forEach(function(p){p[1].forEach(function(t){box.appendChild(el('div',null,p[0]+': '+t[0]+'  ['+t[1]+'] '+t[2]));});});
  n.findings.forEach(function(f){var d=el('div','f');
    d.appendChild(el('div',f.severity==='suspect'?'':'bad',(f.severity==='suspect'?'suspect':'rejected')+': '+f.rule));
    d.appendChild(el('div',null,'reason: '+f.reason+(f.detail?' ('+f.detail+')':'')));
    if(f.fix)d.appendChild(el('div',null,'fix: '+f.fix));
    d.appendChild(el('div',null,'source: '+f.source+(f.evidence?' ['+f.evidence+']':'')));
    box.appendChild(d);});
  return box;
}
function scopeTip(s,ext){
  var sc=D.scopes[s],box=el('div');
  box.appendChild(el('div','t',sc.path));
  box.appendChild(el('div',null,sc.nodes+' nodes, '+human(sc.flops)+' FLOPs; '+sc.stage1+' on the NPU, '+(sc.nodes-sc.stage1)+' on the host'));
  box.appendChild(el('div',sc.unsupported?'bad':null,sc.unsupported+' unsupported, '+sc.suspect+' suspect'));
  box.appendChild(el('div','note',ext?'outside this module: click to open it':'click to open'));
  return box;
}
canvas.addEventListener('mousemove',function(e){
  var g=target(e);if(!g){tip.style.display='none';return;}
  var id=g.id,m,box=null;
  if((m=/^x?n(\d+)$/.exec(id)))box=nodeTip(+m[1]);
  else if((m=/^(x?)s(\d+)$/.exec(id)))box=scopeTip(+m[2],m[1]==='x');
  if(!box){tip.style.display='none';return;}
  if(tip.dataset.id!==id){tip.replaceChildren(box);tip.dataset.id=id;}
  tip.style.display='block';
  var x=e.clientX+14,y=e.clientY+14,r=tip.getBoundingClientRect();
  if(x+r.width>innerWidth)x=Math.max(0,e.clientX-r.width-14);
  if(y+r.height>innerHeight)y=Math.max(0,e.clientY-r.height-14);
  tip.style.left=x+'px';tip.style.top=y+'px';
});
canvas.addEventListener('mouseleave',function(){tip.style.display='none';});
canvas.addEventListener('click',function(e){
  var g=target(e);if(!g)return;var m;
  if((m=/^x?s(\d+)$/.exec(g.id))){tip.style.display='none';show(+m[1]);}
  else if((m=/^xn(\d+)$/.exec(g.id))){tip.style.display='none';openNode(+m[1]);}
});
document.addEventListener('click',function(e){
  var a=e.target.closest?e.target.closest('[data-scope],[data-node]'):null;if(!a||canvas.contains(a))return;
  if(a.dataset.node!==undefined){openNode(+a.dataset.node);canvas.scrollIntoView();}
  else show(+a.dataset.scope);
});
document.getElementById('zin').onclick=function(){zoom*=1.25;applyZoom();};
document.getElementById('zout').onclick=function(){zoom/=1.25;applyZoom();};
document.getElementById('zfit').onclick=function(){var svg=canvas.querySelector('svg');if(!svg)return;
  zoom=Math.min(1,(canvas.clientWidth-20)/(svg.dataset.w*4/3),(canvas.clientHeight-20)/(svg.dataset.h*4/3));applyZoom();};
document.getElementById('up').onclick=function(){var p=D.scopes[current].parent;if(p>=0)show(p);};
var find=document.getElementById('find'),hits=document.getElementById('hits');
find.addEventListener('input',function(){
  var q=find.value.toLowerCase();hits.replaceChildren();if(q.length<2)return;var k=0;
  for(var i=0;i<D.nodes.length&&k<20;i++){if(D.nodes[i].name.toLowerCase().indexOf(q)>=0||D.nodes[i].op.toLowerCase()===q){
    var a=el('a','node',D.nodes[i].name+' ('+D.nodes[i].op+')');a.dataset.node=i;hits.appendChild(a);hits.appendChild(el('br'));k++;}}
});
window.addEventListener('hashchange',function(){var m=/^#s(\d+)$/.exec(location.hash);if(m)show(+m[1]);});
var m0=/^#s(\d+)$/.exec(location.hash);
show(m0&&D.scopes[+m0[1]]?+m0[1]:0);
var st=document.getElementById('selftest');
st.dataset.views=document.querySelectorAll('template.view').length;
st.dataset.shown=canvas.querySelectorAll('g.node.op,g.node.mod').length;
st.dataset.readyMs=Math.round(performance.now());
st.dataset.state='ready';
})();
)JS";

const char* kFinalCheck = R"JS(
setTimeout(function(){var st=document.getElementById('selftest');st.dataset.errors=window.__errors.length;
st.textContent=window.__errors.join('\n');},0);
)JS";

std::string stat_table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string s = "<table>";
  for (const auto& [k, v] : rows) s += "<tr><th>" + esc(k) + "</th><td>" + v + "</td></tr>";
  return s + "</table>";
}

std::string rule_summary_table(const std::vector<NodeVerdict>& verdicts) {
  struct Group {
    std::string op, rule, reason, fix, evidence, source, severity, detail;
    std::vector<int> nodes;
    std::vector<std::string> names;
  };
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (const auto& v : verdicts)
    for (const auto& f : v.findings) {
      const std::string key = v.op + "|" + f.rule_id + "|" + f.reason + "|" + f.severity;
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, groups.size()).first;
        groups.push_back({v.op, f.rule_id, f.reason, f.fix, f.evidence, f.source, f.severity, f.detail, {}, {}});
      }
      groups[it->second].nodes.push_back(v.node);
      groups[it->second].names.push_back(v.name);
    }
  if (groups.empty()) return "<p class=\"ok\">Every node is supported.</p>";
  std::string s =
      "<table><tr><th>op</th><th>verdict</th><th>nodes</th><th>node names</th><th>rule</th><th>evidence</th>"
      "<th>fix</th><th>reason</th><th>source</th></tr>";
  for (const auto& g : groups) {
    std::string names;
    for (size_t k = 0; k < g.nodes.size() && k < 3; ++k)
      names += fmt::format("<a class=\"node\" data-node=\"{}\">{}</a><br>", g.nodes[k], esc(g.names[k]));
    if (g.nodes.size() > 3) names += fmt::format("(+{} more)", g.nodes.size() - 3);
    s += fmt::format("<tr><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
                     "<td>{}</td><td>{}</td><td>{}</td></tr>",
                     esc(g.op), g.severity == "suspect" ? "" : "bad", g.severity == "suspect" ? "suspect" : "rejected",
                     g.nodes.size(), names, esc(g.rule), esc(g.evidence), esc(g.fix),
                     esc(g.reason + (g.detail.empty() ? "" : " [e.g. " + g.detail + "]")), esc(g.source));
  }
  return s + "</table>";
}

std::string crossing_table(const PageInput& in) {
  if (in.p.crossing.empty()) return "<p class=\"note\">No tensor crosses: nothing is cut.</p>";
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < int(in.g.nodes.size()); ++i)
    for (const auto& o : in.g.nodes[i].outputs) producer[o] = i;
  std::string s = "<table><tr><th>tensor</th><th>from node (stage1)</th><th>shape</th><th>dtype</th><th>bytes per frame</th></tr>";
  int64_t total = 0;
  for (const auto& c : in.p.crossing) {
    const int64_t b = std::max<int64_t>(0, tensor_bytes(in.shapes, c));
    total += b;
    auto it = producer.find(c);
    std::string from = it == producer.end()
                           ? "-"
                           : fmt::format("<a class=\"node\" data-node=\"{}\">{}</a>", it->second, esc(in.g.nodes[it->second].name));
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>", esc(c), from,
                     esc(shape_text(in.shapes, c)), esc(dtype_text(in.shapes, c)), esc(human_bytes(double(b))));
  }
  s += fmt::format("<tr><th colspan=\"4\">total ({} tensors)</th><td class=\"num\"><b>{}</b></td></tr></table>",
                   in.p.crossing.size(), esc(human_bytes(double(total))));
  return s;
}

struct PageParts {
  std::string title, subtitle;
  std::vector<std::pair<std::string, std::string>> facts;  // (label, HTML)
  std::string extra_sections;                              // HTML, after the drawing
};

std::string page(const PageInput& in, const PageParts& parts) {
  require_html_report();
  ScopeTree t = build_scopes(in.g);
  const auto facts = node_facts(in);
  count_scopes(t, facts);
  const Views views = draw_views(in, t, facts);

  std::string h;
  h.reserve(1 << 20);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // No network: nothing may be fetched, even by a hostile name that got through.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">\n";
  h += "<title>" + esc(parts.title) + "</title>\n<style>" + std::string(kCss) + "</style>\n";
  h += "<script>" + std::string(kErrorHook) + "</script>\n</head><body>\n";
  h += "<header><h1>" + esc(parts.title) + "</h1><div class=\"sub\">" + esc(parts.subtitle) + "</div></header>\n";
  h += "<section><h2>Summary</h2>" + stat_table(parts.facts) + "</section>\n";
  h += "<section><h2>Graph</h2><div class=\"legend\">"
       "<span><i class=\"sw\" style=\"background:" + std::string(kNpuFill) + "\"></i>stage1 (NPU)</span>"
       "<span><i class=\"sw\" style=\"background:" + std::string(kHostFill) + "\"></i>stage2 (host)</span>"
       "<span><i class=\"sw\" style=\"background:#fff;border:3px solid " + std::string(kUnsupported) + "\"></i>unsupported</span>"
       "<span><i class=\"sw\" style=\"background:#fff;border:3px dashed " + std::string(kSuspect) + "\"></i>suspect</span>"
       "<span style=\"color:" + std::string(kUnsupported) + "\">&#8594; red edge: tensor crossing to the host (bytes per frame)</span>"
       "<span>module box: striped by its NPU/host share; click to open, hover for details</span></div>\n";
  h += "<div id=\"toolbar\"><button id=\"up\">&#8593; up</button><button id=\"zout\">&#8722;</button>"
       "<button id=\"zin\">+</button><button id=\"zfit\">fit</button> find node: <input id=\"find\" size=\"30\">"
       " <span id=\"crumbs\"></span></div><div id=\"hits\"></div>\n";
  h += "<div id=\"canvas\"></div></section>\n";
  h += "<section><h2>Tensors crossing to the host</h2>" + crossing_table(in) + "</section>\n";
  h += "<section><h2>Rule summary</h2>" + rule_summary_table(in.verdicts) + "</section>\n";
  h += parts.extra_sections;
  h += "<div id=\"tip\"></div>\n";
  h += fmt::format("<div id=\"selftest\" data-state=\"loading\" data-nodes=\"{}\" data-modules=\"{}\"></div>\n",
                   in.g.nodes.size(), t.scopes.size() - 1);
  // One inert <template> per module: only the one shown is ever laid out by the browser.
  for (size_t s = 0; s < views.svg.size(); ++s)
    h += fmt::format("<template class=\"view\" id=\"v{}\">", s) + views.svg[s] + "</template>\n";
  h += "<script type=\"application/json\" id=\"npusplit-data\">" + script_json(page_data(in, t, facts)) + "</script>\n";
  h += "<script>" + std::string(kScript) + "</script>\n<script>" + std::string(kFinalCheck) + "</script>\n";
  h += "</body></html>\n";
  return h;
}

std::vector<std::pair<std::string, std::string>> analysis_facts(const Analysis& a, const GraphSketch& g) {
  const auto counts = count_verdicts(a.verdicts);
  const auto& p = a.partition;
  const int total = int(g.nodes.size());
  return {
      {"model", esc(a.summary.path)},
      {"target", esc(fmt::format("{} (hw-arch {}, DFC {} rules, from {})", a.rules.target, a.rules.hw_arch, a.rules.dfc,
                                 a.rules.origin))},
      {"nodes", fmt::format("{} after folding: {} supported, <span class=\"{}\">{} unsupported</span>, {} suspect",
                            total, total - counts.flagged(), counts.rejected ? "bad" : "", counts.rejected,
                            counts.suspect)},
      {"stage1 (NPU)", esc(fmt::format("{} nodes, {} FLOPs ({} of the FLOPs)", p.stage1_nodes,
                                       human_count(double(p.stage1_flops)), percent(p.npu_flops_share())))},
      {"stage2 (host)", esc(fmt::format("{} nodes, {} FLOPs", total - p.stage1_nodes,
                                        human_count(double(p.total_flops - p.stage1_flops))))},
      {"crossing", esc(fmt::format("{} tensor(s), {} per frame (float32 as in the model)", p.crossing.size(),
                                   human_bytes(double(p.crossing_bytes))))}};
}

std::string verify_section(const SplitResult& r) {
  std::string s = "<section><h2>Verify</h2>";
  if (!r.verify) return s + "<p class=\"note\">Not verified: split --verify proves the split in ONNX Runtime.</p></section>\n";
  const auto& v = *r.verify;
  s += fmt::format("<p>original vs stage1 &#8594; stage2 on {} case(s), tolerance {}: <span class=\"{}\">{}</span></p>",
                   v.cases.size(), v.tolerance, v.ok ? "ok" : "bad", v.ok ? "PASS" : "FAIL");
  s += "<table><tr><th>output</th><th>max abs diff</th><th>non-finite equal</th><th>non-finite mismatch</th><th>result</th></tr>";
  for (const auto& o : v.worst)
    s += fmt::format("<tr><td>{}</td><td class=\"num\">{:.3g}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                     "<td class=\"{}\">{}</td></tr>",
                     esc(o.name), o.max_abs_diff, o.nonfinite_equal, o.nonfinite_mismatch, o.ok ? "ok" : "bad",
                     o.shape_mismatch ? "shape mismatch" : o.ok ? "ok" : "differs");
  s += "</table>";
  if (r.verify_fused)
    s += fmt::format("<p>fused stage2 vs plain stage2: <span class=\"{}\">{}</span></p>", r.verify_fused->ok ? "ok" : "bad",
                     r.verify_fused->ok ? "PASS" : "FAIL");
  return s + "</section>\n";
}

std::string frontier_table(const Frontier& f) {
  std::string s =
      "<table><tr><th></th><th>candidate</th><th>NPU FLOPs</th><th>stage1 nodes</th><th>crossing (wire)</th>"
      "<th>crossing (float32)</th><th>NPU ms</th><th>transfer ms</th><th>host ms</th><th>fps</th><th>latency ms</th></tr>";
  for (int i = 0; i < int(f.candidates.size()); ++i) {
    const auto& c = f.candidates[i];
    std::string mark = i == f.chosen ? "chosen" : "";
    if (i == f.baseline) mark += mark.empty() ? "today's cut" : ", today's cut";
    s += fmt::format("<tr><td><b>{}</b></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td>"
                     "<td class=\"num\">{}</td><td class=\"num\">{:.2f}</td><td class=\"num\">{:.2f}</td><td class=\"num\">{:.2f}</td>"
                     "<td class=\"num\">{:.1f}</td><td class=\"num\">{:.2f}</td></tr>",
                     esc(mark), esc(c.label), esc(percent(c.npu_flops_share())), c.stage1_nodes, c.total_nodes,
                     esc(human_bytes(double(c.crossing_bytes_wire))), esc(human_bytes(double(c.crossing_bytes_f32))),
                     c.estimate.npu_ms, c.estimate.transfer_ms, c.estimate.host_ms, c.estimate.fps, c.estimate.latency_ms);
  }
  return s + "</table>";
}

}  // namespace

void require_html_report() {
  if (!graphviz_available())
    throw Error("this npusplit was built without Graphviz: no HTML report (install libgraphviz-dev and build again)");
}

GraphSketch sketch_graph(const Graph& g) {
  GraphSketch s;
  s.nodes.reserve(size_t(g.node_count()));
  for (int i = 0; i < g.node_count(); ++i) {
    const auto& n = g.node(i);
    s.nodes.push_back({n.name(), n.op_type(), {n.input().begin(), n.input().end()}, {n.output().begin(), n.output().end()}});
  }
  s.inputs = g.runtime_inputs();
  s.outputs = g.output_names();
  for (const auto& t : g.proto().initializer()) s.constants.insert(t.name());
  return s;
}

HtmlLayoutFigures html_layout_figures(const GraphSketch& g) {
  const auto t = build_scopes(g);
  return {int(g.nodes.size()), int(t.scopes.size()) - 1, int(t.scopes.size())};
}

std::string frontier_svg(const Frontier& f) {
  if (f.empty())
    return "<p class=\"note\">No --platform given: no candidate cuts were estimated (split --platform P draws the "
           "frontier of candidate cuts here).</p>";
  const double W = 680, H = 380, L = 70, R = 150, T = 20, B = 50;
  double max_bytes = 1, min_fps = 1e300, max_fps = 0;
  for (const auto& c : f.candidates) {
    max_bytes = std::max(max_bytes, double(c.crossing_bytes_wire));
    min_fps = std::min(min_fps, c.estimate.fps);
    max_fps = std::max(max_fps, c.estimate.fps);
  }
  const double mib = 1024.0 * 1024.0;
  const double xmax = max_bytes / mib * 1.1;
  auto X = [&](double bytes) { return L + (W - L - R) * (bytes / mib) / xmax; };
  auto Y = [&](double share) { return T + (H - T - B) * (1.0 - share); };
  // Green = the fastest estimated frame rate, red = the slowest.
  auto colour = [&](double fps) {
    const double u = max_fps > min_fps ? (fps - min_fps) / (max_fps - min_fps) : 1.0;
    const int r = int(215 + (26 - 215) * u), g = int(48 + (152 - 48) * u), b = int(39 + (80 - 39) * u);
    return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
  };
  std::string s = fmt::format(
      "<svg id=\"frontier\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"Helvetica,Arial,sans-serif\" font-size=\"11\">",
      W, H);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fcfcfc\" stroke=\"#999\"/>", L, T, W - L - R, H - T - B);
  for (int k = 0; k <= 5; ++k) {
    const double share = k / 5.0, bytes = xmax * mib * k / 5.0;
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{3}\" y=\"{4}\" "
                     "text-anchor=\"end\">{5:.0f}%</text>",
                     L, W - R, Y(share), L - 6, Y(share) + 4, share * 100);
    s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{0}\" y=\"{3}\" "
                     "text-anchor=\"middle\">{4:.1f}</text>",
                     X(bytes), T, H - B, H - B + 15, bytes / mib);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">bytes crossing per frame (MiB, at the wire precision)</text>",
                   L + (W - L - R) / 2, H - 12);
  s += fmt::format("<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">NPU share of the FLOPs</text>",
                   T + (H - T - B) / 2);
  for (int i = 0; i < int(f.candidates.size()); ++i) {
    const auto& c = f.candidates[i];
    const double x = X(double(c.crossing_bytes_wire)), y = Y(c.npu_flops_share());
    s += fmt::format("<g class=\"cand{}\"><title>{}: {} of FLOPs on the NPU, {} crossing, {:.1f} fps, {:.2f} ms latency</title>",
                     i == f.chosen ? " chosen" : "", esc(c.label), esc(percent(c.npu_flops_share())),
                     esc(human_bytes(double(c.crossing_bytes_wire))), c.estimate.fps, c.estimate.latency_ms);
    if (i == f.baseline)
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"18\" fill=\"none\" stroke=\"#333\" stroke-dasharray=\"3,2\"/>",
                       x - 9, y - 9);
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#333\"/>", x, y, colour(c.estimate.fps));
    if (i == f.chosen)
      s += fmt::format("<circle cx=\"{0}\" cy=\"{1}\" r=\"11\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/>"
                       "<text x=\"{2}\" y=\"{3}\" font-weight=\"bold\">chosen: {4:.1f} fps</text>",
                       x, y, x + 14, y - 8, c.estimate.fps);
    else if (i == f.baseline)
      s += fmt::format("<text x=\"{}\" y=\"{}\">today's cut: {:.1f} fps</text>", x + 12, y + 14, c.estimate.fps);
    s += "</g>";
  }
  // Legend: the colour scale.
  const double lx = W - R + 20;
  s += fmt::format("<text x=\"{}\" y=\"{}\">estimated fps</text>", lx, T + 10);
  for (int k = 0; k <= 4; ++k) {
    const double fps = max_fps - (max_fps - min_fps) * k / 4.0;
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#333\"/><text x=\"{}\" y=\"{}\">{:.1f}</text>",
                     lx + 6, T + 28 + 20 * k, colour(fps), lx + 18, T + 32 + 20 * k, fps);
  }
  s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"10\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/><text x=\"{}\" "
                   "y=\"{}\">chosen</text>",
                   lx + 6, T + 140, lx + 22, T + 144);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"16\" fill=\"none\" stroke=\"#333\" stroke-dasharray=\"3,2\"/>"
                   "<text x=\"{}\" y=\"{}\">today's cut</text>",
                   lx - 2, T + 162, lx + 22, T + 174);
  return s + "</svg>";
}

namespace {
std::string frontier_section(const Frontier& f, const std::string& without) {
  std::string fr = "<section><h2>Candidate cuts</h2>";
  if (f.empty()) return fr + "<p class=\"note\">" + without + "</p></section>\n";
  fr += esc(fmt::format("platform {}, objective {}: ", f.platform, f.objective)) +
        fmt::format("{} candidates (hover a point for its figures)<br>", f.candidates.size());
  return fr + frontier_svg(f) + frontier_table(f) + "</section>\n";
}
}  // namespace

std::string check_html(const Analysis& a, const Frontier* frontier) {
  require_html_report();
  const GraphSketch g = sketch_graph(a.model.graph());
  PageInput in{g, a.model.shapes(), a.verdicts, a.flops, a.partition};
  PageParts parts;
  parts.title = "npusplit check: " + std::filesystem::path(a.summary.path).filename().string();
  parts.subtitle = a.summary.path + " on " + a.rules.target + " (the largest stage1 the rules allow)";
  parts.facts = analysis_facts(a, g);
  parts.extra_sections = frontier_section(frontier ? *frontier : Frontier{},
                                          "No --platform given: check --platform P --html FILE (or split --platform P "
                                          "--html FILE) draws the frontier of candidate cuts.");
  return page(in, parts);
}

std::string split_html(const SplitResult& r) {
  require_html_report();
  const Analysis& a = r.analysis;
  if (r.graph.empty()) throw Error("split_html: the split result holds no graph sketch");
  PageInput in{r.graph, a.model.shapes(), a.verdicts, a.flops, a.partition};
  PageParts parts;
  parts.title = "npusplit split: " + std::filesystem::path(a.summary.path).filename().string();
  parts.subtitle = a.summary.path + " on " + a.rules.target;
  parts.facts = analysis_facts(a, r.graph);
  parts.facts.push_back({"stage1 file", esc(r.stage1_path.string()) + " (check of stage1 alone: " + esc(stage1_check_verdict(r)) + ")"});
  parts.facts.push_back({"stage2 file", esc(r.stage2_path.string())});
  parts.facts.push_back({"manifest", esc(r.manifest_path.string())});
  for (const auto& w : r.warnings) parts.facts.push_back({"warning", esc(w)});
  for (const auto& n : r.notes) parts.facts.push_back({"note", esc(n)});
  parts.extra_sections = verify_section(r) + frontier_section(r.frontier, "No --platform given: split --platform P --html "
                                                                            "FILE draws the frontier of candidate cuts.");
  return page(in, parts);
}

void write_html_report(const std::filesystem::path& file, const std::string& html) { write_file_atomic(file, html); }

}  // namespace npusplit
