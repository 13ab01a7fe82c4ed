#include "npusplit/analysis/ranges.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "npusplit/base/memory.h"
#include "npusplit/error.h"
#include "npusplit/ir/graph.h"
#include "npusplit/ort/ort_util.h"

namespace npusplit {

void RunningRange::add(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float x = v[i];
    if (!std::isfinite(x)) continue;
    if (!seen) {
      lo = hi = x;
      seen = true;
    } else {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
}

std::pair<std::string, std::string> range_output_names(const std::string& t) {
  return {t + "/npusplit_range/min", t + "/npusplit_range/max"};
}

namespace {
// Adds, for each of NAMES, a ReduceMin/ReduceMax pair and their outputs to C, in place.
void expose_ranges_in(onnx::ModelProto& c, const std::vector<std::string>& names) {
  auto* g = c.mutable_graph();
  const std::unordered_set<std::string> wanted(names.begin(), names.end());
  const auto reduce = [](const std::string& op, const std::string& in, const std::string& out) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(out);
    n.add_input(in);
    n.add_output(out);
    auto* a = n.add_attribute();  // no axes: every axis, in every opset
    a->set_name("keepdims");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(0);
    return n;
  };
  // Each reduction right after its tensor's producer: ONNX Runtime then frees the tensor as
  // early as the model alone would (reductions at the end would keep every tensor alive).
  std::vector<onnx::NodeProto> nodes;
  const auto add_pair = [&](const std::string& t) {
    const auto [lo, hi] = range_output_names(t);
    nodes.push_back(reduce("ReduceMin", t, lo));
    nodes.push_back(reduce("ReduceMax", t, hi));
  };
  for (const auto& vi : g->input())
    if (wanted.count(vi.name())) add_pair(vi.name());
  for (auto& n : *g->mutable_node()) {
    std::vector<std::string> outs(n.output().begin(), n.output().end());
    nodes.push_back(std::move(n));
    for (const auto& o : outs)
      if (wanted.count(o)) add_pair(o);
  }
  g->clear_node();
  for (auto& n : nodes) *g->add_node() = std::move(n);
  for (const auto& t : names) {
    const auto [lo, hi] = range_output_names(t);
    for (const auto& out : {lo, hi}) {
      auto* o = g->add_output();
      o->set_name(out);
      o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
      o->mutable_type()->mutable_tensor_type()->mutable_shape();
    }
  }
}

// M reduced to what NAMES need: the nodes, and the names of the initializers they read.
onnx::ModelProto pruned_without_weights(const onnx::ModelProto& m, const std::vector<std::string>& names,
                                        std::unordered_set<std::string>& reads) {
  const Graph g(m.graph());
  std::vector<char> keep(size_t(g.node_count()), 0);
  std::vector<std::string> stack(names.begin(), names.end());
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    if (!reads.insert(t).second) continue;
    const int i = g.producer(t);
    if (i < 0 || keep[size_t(i)]) continue;
    keep[size_t(i)] = 1;
    for (const auto& x : g.node(i).input())
      if (!x.empty()) stack.push_back(x);
    for (const auto& x : g.implicit_inputs(i)) stack.push_back(x);
  }
  onnx::ModelProto c;
  c.set_ir_version(m.ir_version());
  *c.mutable_opset_import() = m.opset_import();
  auto* cg = c.mutable_graph();
  cg->set_name(m.graph().name());
  for (const auto& vi : m.graph().input())
    if (reads.count(vi.name()) || !g.is_constant(vi.name())) *cg->add_input() = vi;  // every runtime input stays
  for (int i = 0; i < g.node_count(); ++i)
    if (keep[size_t(i)]) *cg->add_node() = g.node(i);
  for (const auto& vi : m.graph().value_info())
    if (reads.count(vi.name())) *cg->add_value_info() = vi;
  return c;
}

// The pruned model with M's own initializers lent to it, not copied (both on the heap: protobuf's
// unsafe-arena add/release then only move pointers). Everything that can throw happens before
// the first tensor is lent; the destructor gives every lent tensor back before the model goes.
class LentModel {
 public:
  LentModel(const onnx::ModelProto& m, const std::vector<std::string>& names) {
    std::unordered_set<std::string> reads;
    model_ = pruned_without_weights(m, names, reads);
    std::vector<onnx::TensorProto*> lend;
    for (const auto& init : m.graph().initializer())
      if (reads.count(init.name())) lend.push_back(const_cast<onnx::TensorProto*>(&init));
    auto* inits = model_.mutable_graph()->mutable_initializer();
    if (m.GetArena() != nullptr || model_.GetArena() != nullptr) {
      for (const auto* t : lend) *inits->Add() = *t;  // arenas: copy, never lend
      return;
    }
    inits->Reserve(int(lend.size()));  // no allocation (so no throw) while lending below
    for (auto* t : lend) inits->UnsafeArenaAddAllocated(t);
    lent_ = int(lend.size());
  }
  ~LentModel() {
    auto* inits = model_.mutable_graph()->mutable_initializer();
    for (; lent_ > 0; --lent_) (void)inits->UnsafeArenaReleaseLast();
  }
  LentModel(const LentModel&) = delete;
  LentModel& operator=(const LentModel&) = delete;
  onnx::ModelProto& model() { return model_; }

 private:
  onnx::ModelProto model_;
  int lent_ = 0;
};
}  // namespace

onnx::ModelProto expose_ranges(const onnx::ModelProto& m, const std::vector<std::string>& names) {
  onnx::ModelProto c = m;
  expose_ranges_in(c, names);
  return c;
}

onnx::ModelProto prune_to(const onnx::ModelProto& m, const std::vector<std::string>& names) {
  std::unordered_set<std::string> reads;
  onnx::ModelProto c = pruned_without_weights(m, names, reads);
  for (const auto& init : m.graph().initializer())
    if (reads.count(init.name())) *c.mutable_graph()->add_initializer() = init;
  return c;
}

struct RangeMeter::Impl {
  Ort::Session session;
};

RangeMeter::RangeMeter(const onnx::ModelProto& m, std::vector<std::string> names, bool prune) : names_(std::move(names)) {
  for (const auto& n : names_) {
    const auto [lo, hi] = range_output_names(n);
    outputs_.push_back(lo);
    outputs_.push_back(hi);
  }
  OrtOptions oo;
  oo.cpu_arena = false;
  // check's probe wants ranges, not bit-exactness: ONNX Runtime's fusions make its one frame cheaper
  // (the reductions keep every measured tensor alive). quant keeps the unoptimized graph.
  if (prune) oo.opt_level = ORT_ENABLE_ALL;
  // Pruned, the initializers are lent by M while the model streams to ONNX Runtime: no copy of
  // the weights here besides ORT's own (pruning, exposing and serializing each made one).
  std::optional<LentModel> lent;
  onnx::ModelProto copy;
  if (prune) lent.emplace(m, names_);
  else copy = m;
  onnx::ModelProto& exposed = prune ? lent->model() : copy;
  expose_ranges_in(exposed, names_);
  if (prune) {
    // Only the reductions are outputs: the model's own outputs would need the rest of it.
    auto* outs = exposed.mutable_graph()->mutable_output();
    outs->erase(std::remove_if(outs->begin(), outs->end(),
                               [](const onnx::ValueInfoProto& o) { return o.name().find("/npusplit_range/") == std::string::npos; }),
                outs->end());
  }
  spdlog::debug("ranges: {} tensor(s), {} node(s) to run, peak {:.0f} MiB", names_.size(), exposed.graph().node_size(),
                peak_rss_mib());
  impl_ = std::make_unique<Impl>(Impl{make_session(exposed, oo, "activation ranges")});
  inputs_ = session_inputs(impl_->session);
  spdlog::debug("ranges: session ready, peak {:.0f} MiB", peak_rss_mib());
}

RangeMeter::~RangeMeter() = default;

void RangeMeter::add(const std::vector<HostTensor>& inputs) {
  const auto outs = run_session(impl_->session, inputs, outputs_);
  for (size_t k = 0; k < names_.size(); ++k) {
    const float lo = outs[2 * k].as<float>()[0], hi = outs[2 * k + 1].as<float>()[0];
    auto& r = ranges_[names_[k]];
    r.add(&lo, 1);
    r.add(&hi, 1);
  }
  ++frames_;
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("ranges: frame {} measured, peak {:.0f} MiB", frames_, peak_rss_mib());
}

bool is_merge_op(const std::string& op) {
  return op == "Concat" || op == "Where" || op == "ScatterND" || op == "ScatterElements" || op == "Scatter";
}

std::vector<int> merged_inputs(const onnx::NodeProto& n) {
  std::vector<int> out;
  const std::string& op = n.op_type();
  if (op == "Where") {
    out = {1, 2};  // the condition only chooses
  } else if (op == "ScatterND" || op == "ScatterElements" || op == "Scatter") {
    // data and updates -- unless a reduction adds or multiplies them (arithmetic, not a merge)
    for (const auto& a : n.attribute())
      if (a.name() == "reduction" && !a.s().empty() && a.s() != "none") return {};
    out = {0, 2};
  } else if (is_merge_op(op)) {
    for (int k = 0; k < n.input_size(); ++k) out.push_back(k);
  }
  out.erase(std::remove_if(out.begin(), out.end(), [&](int k) { return k >= n.input_size() || n.input(k).empty(); }),
            out.end());
  return out;
}

bool is_layout_only_op(const std::string& op) {
  static const std::set<std::string> ops = {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  return ops.count(op) > 0;
}

// The producer chain behind T that only moves data (reshape-like), ending at a merge.
const onnx::NodeProto* merge_behind(const onnx::GraphProto& g, const std::string& t) {
  std::unordered_map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : g.node())
    for (const auto& o : n.output()) producer[o] = &n;
  std::string cur = t;
  for (int hops = 0; hops < 16; ++hops) {
    auto it = producer.find(cur);
    if (it == producer.end()) return nullptr;
    const auto* n = it->second;
    if (is_merge_op(n->op_type())) return n;
    if (!is_layout_only_op(n->op_type()) || n->input_size() == 0) return nullptr;
    cur = n->input(0);
  }
  return nullptr;
}

std::optional<MixedRange> mixed_range_of(const onnx::NodeProto& n, const std::map<std::string, RunningRange>& ranges,
                                         double threshold) {
  MixedRange m;
  m.node = n.name();
  m.op = n.op_type();
  double widest = 0, narrowest = INFINITY;
  for (int k : merged_inputs(n)) {
    const std::string& in = n.input(k);
    auto it = ranges.find(in);
    if (it == ranges.end() || !it->second.seen) continue;  // constants: not measured
    const double w = double(it->second.hi) - double(it->second.lo);
    m.parts.push_back({in, it->second.lo, it->second.hi});
    widest = std::max(widest, w);
    narrowest = std::min(narrowest, w);
  }
  if (m.parts.size() < 2) return std::nullopt;
  m.ratio = narrowest > 0 ? widest / narrowest : (widest > 0 ? INFINITY : 1.0);
  if (!(m.ratio > threshold)) return std::nullopt;
  return m;
}

}  // namespace npusplit
