#include "npusplit/shapes/resolve.h"

#include <onnx/shape_inference/implementation.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"
#include "npusplit/ir/graph.h"
#include "npusplit/runtime/ort_util.h"
#include "npusplit/shapes/isolated_inference.h"
#include "npusplit/shapes/kernel_preconditions.h"

namespace npusplit {

InputShapes parse_input_shapes(const std::vector<std::string>& specs) {
  InputShapes out;
  for (const auto& spec_all : specs) {
    std::stringstream parts(spec_all);
    std::string spec;
    while (std::getline(parts, spec, ';')) {
      if (spec.empty()) continue;
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        fail("--input-shape '{}': expected NAME=D0,D1,... (e.g. images=1,3,640,640)", spec);
      std::vector<int64_t> dims;
      std::stringstream ds(spec.substr(eq + 1));
      std::string d;
      while (std::getline(ds, d, ',')) {
        try {
          size_t used = 0;
          long long v = std::stoll(d, &used);
          if (used != d.size() || v <= 0) throw std::invalid_argument(d);
          dims.push_back(v);
        } catch (const std::exception&) {
          fail("--input-shape '{}': '{}' is not a positive integer", spec, d);
        }
      }
      if (dims.empty()) fail("--input-shape '{}': no dims given", spec);
      const auto numel = checked_numel(dims);
      if (!numel || *numel > kMaxTensorBytes / 8)
        fail("--input-shape '{}': the shape is larger than npusplit accepts ({} GiB per tensor)", spec,
             kMaxTensorBytes >> 30);
      out[spec.substr(0, eq)] = dims;
    }
  }
  return out;
}

std::vector<std::string> fix_input_shapes(onnx::ModelProto& m, const InputShapes& shapes) {
  std::vector<std::string> notes;
  auto* g = m.mutable_graph();
  std::unordered_set<std::string> inits;
  for (const auto& t : g->initializer()) inits.insert(t.name());
  std::unordered_set<std::string> seen;
  std::string names;
  for (auto& in : *g->mutable_input()) {
    if (inits.count(in.name())) continue;
    names += (names.empty() ? "" : ", ") + in.name();
    auto info = tensor_info_of(in.type());
    auto it = shapes.find(in.name());
    if (it != shapes.end()) {
      seen.insert(in.name());
      if (info.has_rank && info.rank() != static_cast<int>(it->second.size()))
        fail("--input-shape {}: rank {} given, the model's input has rank {}", in.name(), it->second.size(),
             info.rank());
      for (size_t i = 0; info.has_rank && i < info.dims.size(); ++i)
        if (info.dims[i] >= 0 && info.dims[i] != it->second[i])
          fail("--input-shape {}: dim {} is fixed to {} in the model, {} given", in.name(), i, info.dims[i],
               it->second[i]);
      info.has_rank = true;
      info.dims = it->second;
    } else {
      if (!info.has_rank) fail("input '{}' has no shape; give --input-shape {}=...", in.name(), in.name());
      for (size_t i = 0; i < info.dims.size(); ++i) {
        if (info.dims[i] >= 0) continue;
        if (i == 0) {
          info.dims[0] = 1;
          notes.push_back(fmt::format("dynamic batch of input '{}' fixed to 1 (use --input-shape to change)", in.name()));
        } else {
          fail("input '{}' has a dynamic dim {}; give --input-shape {}=...", in.name(), i, in.name());
        }
      }
    }
    set_value_info_type(in, info);
  }
  for (const auto& [name, dims] : shapes)
    if (!seen.count(name)) fail("--input-shape names '{}', which is not a model input (inputs: {})", name, names);
  return notes;
}

int constants_to_initializers(onnx::GraphProto& g) {
  int moved = 0;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (auto& n : *g.mutable_node()) {
    if (n.op_type() != "Constant" || n.output_size() != 1 || n.attribute_size() != 1) {
      kept.Add(std::move(n));
      continue;
    }
    const auto& a = n.attribute(0);
    onnx::TensorProto t;
    if (a.name() == "value") {
      t = a.t();
    } else if (a.name() == "value_float") {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_float_data(a.f());
    } else if (a.name() == "value_int") {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_int64_data(a.i());
    } else if (a.name() == "value_floats") {
      t.set_data_type(onnx::TensorProto::FLOAT);
      t.add_dims(a.floats_size());
      for (auto f : a.floats()) t.add_float_data(f);
    } else if (a.name() == "value_ints") {
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_dims(a.ints_size());
      for (auto i : a.ints()) t.add_int64_data(i);
    } else {
      kept.Add(std::move(n));  // sparse or string constants: leave them alone
      continue;
    }
    t.set_name(n.output(0));
    *g.add_initializer() = std::move(t);
    ++moved;
  }
  g.mutable_node()->Swap(&kept);
  return moved;
}

ShapeMap infer_shapes(onnx::ModelProto& m) {
  auto* g = m.mutable_graph();
  g->clear_value_info();
  // Best effort (what it misses, folding and ONNX Runtime supply), in a child process: see
  // isolated_inference.h for why.
  infer_shapes_isolated(m);
  ShapeMap shapes;
  for (const auto& t : g->initializer()) shapes[t.name()] = tensor_info_of(t);
  for (const auto& v : g->input()) shapes.emplace(v.name(), tensor_info_of(v.type()));
  for (const auto& v : g->value_info()) shapes[v.name()] = tensor_info_of(v.type());
  for (const auto& v : g->output()) {
    auto info = tensor_info_of(v.type());
    auto it = shapes.find(v.name());
    if (it == shapes.end() || (!it->second.is_static() && info.is_static())) shapes[v.name()] = info;
  }
  return shapes;
}

namespace {

bool is_random_op(const std::string& op) {
  return op.rfind("Random", 0) == 0 || op == "Multinomial" || op == "Bernoulli";
}

onnx::TensorProto host_to_proto(const HostTensor& h) {
  onnx::TensorProto t;
  t.set_name(h.name());
  t.set_data_type(h.spec.dtype);
  for (auto d : h.spec.dims) t.add_dims(d);
  t.set_raw_data(std::string(h.data.begin(), h.data.end()));
  return t;
}

// Identity nodes that only rename an initializer (exporters write hundreds, one per shared
// weight) are folded by pointing their readers at the initializer: no copy of the weight.
int alias_identity_of_initializers(onnx::GraphProto& g) {
  std::unordered_set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  return static_cast<int>(
      bypass_nodes(g, [&](const onnx::NodeProto& n) { return n.op_type() == "Identity" && inits.count(n.input(0)); })
          .size());
}

// One folding round; returns the number of nodes folded away.
int fold_round(onnx::ModelProto& m) {
  if (const int aliased = alias_identity_of_initializers(*m.mutable_graph())) return aliased;
  auto shapes = infer_shapes(m);
  check_kernel_preconditions(m, shapes);  // folding runs ONNX Runtime on these nodes
  auto* g = m.mutable_graph();
  Graph idx(*g);
  std::unordered_set<std::string> static_t;
  for (const auto& t : g->initializer()) static_t.insert(t.name());
  std::vector<char> is_static(g->node_size(), 0);
  std::map<int, std::vector<int64_t>> shape_values;  // Shape nodes answered from known shapes
  for (int i : idx.topo_order()) {
    const auto& n = g->node(i);
    bool produces_output = false;
    for (const auto& o : n.output()) produces_output |= idx.is_graph_output(o);
    // Control flow is never folded: its bodies may read run-time values from this graph.
    if (produces_output || is_random_op(n.op_type()) || n.output_size() == 0 || idx.has_subgraph(i)) continue;
    bool ok = false;
    if ((n.op_type() == "Shape" || n.op_type() == "Size") && n.input_size() == 1) {
      auto it = shapes.find(n.input(0));
      if (it != shapes.end() && it->second.is_static()) {
        const auto& d = it->second.dims;
        std::vector<int64_t> v;
        if (n.op_type() == "Size") {
          v.push_back(it->second.numel());
        } else {
          const int64_t r = static_cast<int64_t>(d.size());
          int64_t s = attr_int(n, "start", 0), e = attr_int(n, "end", r);
          if (s < 0) s += r;
          if (e < 0) e += r;
          s = std::clamp<int64_t>(s, 0, r);
          e = std::clamp<int64_t>(e, 0, r);
          for (int64_t k = s; k < e; ++k) v.push_back(d[k]);
        }
        shape_values[i] = v;
        ok = true;
      }
    } else {
      ok = true;
      for (const auto& in : n.input())
        if (!in.empty() && !static_t.count(in)) ok = false;
    }
    if (!ok) continue;
    is_static[i] = 1;
    for (const auto& o : n.output()) static_t.insert(o);
  }
  // Frontier: static node outputs that something non-static (or a graph output) reads.
  std::vector<std::string> frontier;
  for (int i = 0; i < g->node_size(); ++i) {
    if (!is_static[i]) continue;
    for (const auto& o : g->node(i).output()) {
      if (o.empty()) continue;
      bool needed = false;
      for (int c : idx.consumers(o)) needed |= !is_static[c];
      if (needed) frontier.push_back(o);
    }
  }
  int folded = 0;
  for (char s : is_static) folded += s;
  if (folded == 0) return 0;

  std::vector<HostTensor> values;
  if (!frontier.empty()) {
    // The folding model: static nodes, Shape nodes replaced by their known values.
    onnx::ModelProto fm;
    fm.set_ir_version(m.ir_version());
    *fm.mutable_opset_import() = m.opset_import();
    auto* fg = fm.mutable_graph();
    fg->set_name("fold");
    std::unordered_set<std::string> needed_inits;
    for (int i : idx.topo_order()) {
      if (!is_static[i]) continue;
      const auto& n = g->node(i);
      if (auto it = shape_values.find(i); it != shape_values.end()) {
        *fg->add_initializer() = make_int64_tensor(n.output(0), it->second);
        continue;
      }
      *fg->add_node() = n;
      for (const auto& in : n.input())
        if (idx.is_constant(in)) needed_inits.insert(in);
    }
    for (const auto& t : g->initializer())
      if (needed_inits.count(t.name())) *fg->add_initializer() = t;
    for (const auto& f : frontier) {
      auto* o = fg->add_output();
      o->set_name(f);
      auto it = shapes.find(f);
      if (it != shapes.end() && it->second.dtype)
        o->mutable_type()->mutable_tensor_type()->set_elem_type(it->second.dtype);
    }
    // Outputs without a known dtype: let ORT tell us by leaving the type empty is not
    // allowed, so infer them on the folding model itself.
    onnx::ModelProto probe = fm;
    auto fshapes = infer_shapes(probe);
    for (auto& o : *fg->mutable_output()) {
      auto it = fshapes.find(o.name());
      if (it != fshapes.end() && it->second.dtype)
        o.mutable_type()->mutable_tensor_type()->set_elem_type(it->second.dtype);
      else if (!o.type().tensor_type().elem_type())
        o.mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    }
    std::string bytes;
    fm.SerializeToString(&bytes);
    OrtOptions oo;
    oo.intra_threads = 1;
    auto session = make_session(bytes, oo, "constant folding");
    values = run_session(session, {}, frontier);
  }
  // Replace: drop static nodes, add their needed outputs as initializers.
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < g->node_size(); ++i)
    if (!is_static[i]) kept.Add(std::move(*g->mutable_node(i)));
  g->mutable_node()->Swap(&kept);
  for (const auto& v : values) *g->add_initializer() = host_to_proto(v);
  return folded;
}

}  // namespace

int remove_dead_code(onnx::GraphProto& g) {
  std::unordered_set<std::string> live;
  for (const auto& o : g.output()) live.insert(o.name());
  Graph idx(g);
  std::vector<char> keep(g.node_size(), 0);
  const auto& order = idx.topo_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const auto& n = g.node(*it);
    bool needed = false;
    for (const auto& o : n.output()) needed |= live.count(o) > 0;
    if (!needed) continue;
    keep[*it] = 1;
    for (const auto& in : n.input()) live.insert(in);
    for (const auto& in : idx.implicit_inputs(*it)) live.insert(in);
  }
  int removed = 0;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < g.node_size(); ++i) {
    if (keep[i]) kept.Add(std::move(*g.mutable_node(i)));
    else ++removed;
  }
  g.mutable_node()->Swap(&kept);
  google::protobuf::RepeatedPtrField<onnx::TensorProto> inits;
  std::unordered_set<std::string> dropped;
  for (auto& t : *g.mutable_initializer()) {
    if (live.count(t.name())) inits.Add(std::move(t));
    else dropped.insert(t.name());
  }
  g.mutable_initializer()->Swap(&inits);
  // Old-IR models list initializers as graph inputs too: drop those of removed initializers.
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> ins;
  for (auto& i : *g.mutable_input())
    if (!dropped.count(i.name())) ins.Add(std::move(i));
  g.mutable_input()->Swap(&ins);
  return removed;
}

int fold_static_subgraphs(onnx::ModelProto& m, int* rounds, std::vector<std::string>* folded_names) {
  std::vector<std::string> before;
  if (folded_names)
    for (const auto& n : m.graph().node()) before.push_back(n.name());
  int total = 0, r = 0;
  for (; r < 32; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const int n = fold_round(m);
    spdlog::debug("fold round {}: {} nodes in {:.0f} ms", r, n,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (n == 0) break;
    total += n;
  }
  if (rounds) *rounds = r;
  remove_dead_code(*m.mutable_graph());
  if (folded_names && total) {
    std::unordered_set<std::string> after;
    for (const auto& n : m.graph().node()) after.insert(n.name());
    for (const auto& b : before)
      if (!after.count(b)) folded_names->push_back(b);
  }
  return total;
}

namespace {

HostTensor dummy_input(const TensorSpec& spec) {
  HostTensor t(spec);
  // A mid-grey image and image-sized integers: realistic enough that no data-dependent
  // branch sees degenerate values.
  if (spec.dtype == onnx::TensorProto::FLOAT) {
    std::fill(t.as<float>(), t.as<float>() + t.numel(), 0.5f);
  } else if (spec.dtype == onnx::TensorProto::INT64) {
    std::fill(t.as<int64_t>(), t.as<int64_t>() + t.numel(), 640);
  } else if (spec.dtype == onnx::TensorProto::INT32) {
    std::fill(t.as<int32_t>(), t.as<int32_t>() + t.numel(), 640);
  }
  return t;
}

}  // namespace

ResolvedModel resolve(onnx::ModelProto m, const ResolveOptions& opts) {
  ResolvedModel r;
  r.notes = fix_input_shapes(m, opts.input_shapes);
  constants_to_initializers(*m.mutable_graph());
  auto count_known = [](const onnx::ModelProto& mm, const ShapeMap& s, int* total) {
    int known = 0, n = 0;
    for (const auto& node : mm.graph().node())
      for (const auto& o : node.output()) {
        if (o.empty()) continue;
        ++n;
        auto it = s.find(o);
        if (it != s.end() && it->second.is_static()) ++known;
      }
    if (total) *total = n;
    return known;
  };
  r.shapes = infer_shapes(m);
  check_kernel_preconditions(m, r.shapes);  // before ONNX Runtime sees the model
  r.stats.known_by_onnx = count_known(m, r.shapes, &r.stats.tensors);
  if (opts.fold) {
    r.stats.folded_nodes = fold_static_subgraphs(m, &r.stats.fold_rounds, &r.folded_names);
    if (r.stats.folded_nodes) r.shapes = infer_shapes(m);
  }
  int total = 0;
  r.stats.known_after_fold = count_known(m, r.shapes, &total);
  std::vector<std::string> unknown;
  for (const auto& node : m.graph().node())
    for (const auto& o : node.output()) {
      if (o.empty()) continue;
      auto it = r.shapes.find(o);
      if (it == r.shapes.end() || !it->second.is_static() || !it->second.dtype) unknown.push_back(o);
    }
  if (!unknown.empty() && opts.ort_fallback) {
    onnx::ModelProto probe = m;
    auto* pg = probe.mutable_graph();
    std::unordered_set<std::string> outs;
    for (const auto& o : pg->output()) outs.insert(o.name());
    for (const auto& u : unknown) {
      if (outs.count(u)) continue;
      auto* o = pg->add_output();
      o->set_name(u);
      auto it = r.shapes.find(u);
      if (it != r.shapes.end() && it->second.dtype)
        o->mutable_type()->mutable_tensor_type()->set_elem_type(it->second.dtype);
    }
    std::string bytes;
    probe.SerializeToString(&bytes);
    OrtOptions oo;
    auto session = make_session(bytes, oo, "shape resolution");
    std::vector<HostTensor> inputs;
    for (const auto& s : session_inputs(session)) inputs.push_back(dummy_input(s));
    auto values = run_session(session, inputs, unknown);
    for (const auto& v : values) {
      TensorInfo info;
      info.dtype = v.spec.dtype;
      info.has_rank = true;
      info.dims = v.spec.dims;
      r.shapes[v.name()] = info;
      ++r.stats.known_by_ort;
    }
  }
  // Record everything in value_info so the saved model carries its shapes.
  Graph idx(m.graph());
  auto* g = m.mutable_graph();
  g->clear_value_info();
  for (const auto& node : m.graph().node())
    for (const auto& o : node.output()) {
      if (o.empty() || idx.is_graph_output(o)) continue;
      auto it = r.shapes.find(o);
      if (it == r.shapes.end()) continue;
      auto* vi = g->add_value_info();
      vi->set_name(o);
      set_value_info_type(*vi, it->second);
    }
  for (auto& o : *g->mutable_output()) {
    auto it = r.shapes.find(o.name());
    if (it != r.shapes.end() && it->second.is_static()) set_value_info_type(o, it->second);
  }
  int n = 0;
  r.stats.unresolved = total - count_known(m, r.shapes, &n);
  r.model = std::move(m);
  return r;
}

}  // namespace npusplit
