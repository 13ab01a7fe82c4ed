#include "npusplit/shapes/resolve.h"

#include <onnx/shape_inference/implementation.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/base/checked_math.h"
#include "npusplit/error.h"
#include "npusplit/ir/graph.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/shapes/fold.h"
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
  const auto t0 = std::chrono::steady_clock::now();
  infer_shapes_isolated(m);
  spdlog::debug("shape inference: {} tensors typed in {:.0f} ms (child process)", g->value_info_size(),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
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

int remove_dead_code(onnx::GraphProto& g) {
  const int n = g.node_size();
  // Views of the proto's names (and of SUBGRAPH_READS' strings): nothing is removed before the
  // live set is complete.
  std::unordered_set<std::string_view> live;
  live.reserve(static_cast<size_t>(n) * 3);
  for (const auto& o : g.output()) live.insert(o.name());
  std::deque<std::string> subgraph_read_names;
  std::vector<char> keep(n, 0);
  auto visit = [&](int i) {
    if (keep[i]) return false;
    const auto& node = g.node(i);
    bool needed = false;
    for (const auto& o : node.output()) needed |= live.count(o) > 0;
    if (!needed) return false;
    keep[i] = 1;
    for (const auto& in : node.input()) live.insert(in);
    if (has_subgraphs(node))
      for (auto& t : subgraph_reads(node)) live.insert(subgraph_read_names.emplace_back(std::move(t)));
    return true;
  };
  // ONNX files list nodes in topological order, so one sweep from the back finds every live
  // node without building an index; a second sweep proves it. A graph out of order (an edited
  // one) is then swept once in the index's topological order, which is complete.
  for (int i = n - 1; i >= 0; --i) visit(i);
  bool grew = false;
  for (int i = n - 1; i >= 0; --i) grew |= visit(i);
  if (grew) {
    Graph idx(g);
    const auto& order = idx.topo_order();
    for (auto it = order.rbegin(); it != order.rend(); ++it) visit(*it);
  }
  std::unordered_set<std::string> dropped;
  for (const auto& t : g.initializer())
    if (!live.count(t.name())) dropped.insert(t.name());
  const int removed = keep_elements(*g.mutable_node(), [&](int i) { return keep[i] != 0; });
  if (dropped.empty()) return removed;
  keep_elements(*g.mutable_initializer(), [&](int i) { return !dropped.count(g.initializer(i).name()); });
  // Old-IR models list initializers as graph inputs too: drop those of removed initializers.
  keep_elements(*g.mutable_input(), [&](int i) { return !dropped.count(g.input(i).name()); });
  return removed;
}

int fold_static_subgraphs(onnx::ModelProto& m, int* rounds, std::vector<std::string>* folded_names) {
  auto fo = fold_static(m);
  if (rounds) *rounds = fo.stats.rounds;
  if (folded_names) *folded_names = std::move(fo.folded_names);
  return fo.stats.folded_nodes;
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

void record_shapes(onnx::ModelProto& m, const ShapeMap& shapes) {
  std::unordered_set<std::string> outputs;
  for (const auto& o : m.graph().output()) outputs.insert(o.name());
  auto* g = m.mutable_graph();
  g->clear_value_info();
  for (const auto& node : m.graph().node())
    for (const auto& o : node.output()) {
      if (o.empty() || outputs.count(o)) continue;
      auto it = shapes.find(o);
      if (it == shapes.end()) continue;
      auto* vi = g->add_value_info();
      vi->set_name(o);
      set_value_info_type(*vi, it->second);
    }
  for (auto& o : *g->mutable_output()) {
    auto it = shapes.find(o.name());
    if (it != shapes.end() && it->second.is_static()) set_value_info_type(o, it->second);
  }
}

ResolvedModel resolve(onnx::ModelProto m, const ResolveOptions& opts) {
  // One line per resolve, so NPUSPLIT_LOG=debug shows how often a command resolves a model.
  spdlog::debug("resolve: {} ({} nodes{})", opts.label, m.graph().node_size(), opts.fold ? ", folding" : "");
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
    auto fo = fold_static(m, &r.shapes);
    r.stats.folded_nodes = fo.stats.folded_nodes;
    r.stats.fold_rounds = fo.stats.rounds;
    r.stats.fold_converged = fo.stats.converged;
    r.folded_names = std::move(fo.folded_names);
    r.shapes = std::move(fo.shapes);
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
  record_shapes(m, r.shapes);
  int n = 0;
  r.stats.unresolved = total - count_known(m, r.shapes, &n);
  r.model = std::move(m);
  return r;
}

}  // namespace npusplit
