#include "npusplit/model/compiled_model.h"

namespace npusplit {

CompiledModel::CompiledModel() = default;
CompiledModel::CompiledModel(CompiledModel&&) noexcept = default;
CompiledModel& CompiledModel::operator=(CompiledModel&&) noexcept = default;
CompiledModel::~CompiledModel() = default;

CompiledModel CompiledModel::compile(onnx::ModelProto m, const InputShapes& input_shapes, const std::string& label,
                                     bool fold) {
  ResolveOptions ro;
  ro.input_shapes = input_shapes;
  ro.label = label;
  ro.fold = fold;
  return adopt(resolve(std::move(m), ro));
}

CompiledModel CompiledModel::adopt(ResolvedModel r) {
  CompiledModel c;
  c.proto_ = std::make_unique<onnx::ModelProto>(std::move(r.model));
  c.shapes_ = std::move(r.shapes);
  c.notes_ = std::move(r.notes);
  c.stats_ = r.stats;
  c.folded_names_ = std::move(r.folded_names);
  c.folded_fixed_ = r.stats.fold_converged && r.stats.known_by_ort == 0;
  c.reindex();
  return c;
}

CompiledModel CompiledModel::clone() const {
  CompiledModel c;
  if (proto_) c.proto_ = std::make_unique<onnx::ModelProto>(*proto_);
  c.shapes_ = shapes_;
  c.notes_ = notes_;
  c.stats_ = stats_;
  c.folded_names_ = folded_names_;
  c.folded_fixed_ = folded_fixed_;
  if (c.proto_) c.reindex();
  return c;
}

void CompiledModel::reindex() { graph_ = std::make_unique<Graph>(proto_->graph()); }

std::vector<TensorSpec> CompiledModel::input_specs() const {
  std::vector<TensorSpec> specs;
  for (const auto& name : graph_->runtime_inputs()) {
    auto it = shapes_.find(name);
    if (it == shapes_.end()) continue;
    specs.push_back({name, it->second.dtype, it->second.dims});
  }
  return specs;
}

void CompiledModel::edit(const std::function<void(onnx::ModelProto&, ShapeMap&)>& change) {
  graph_.reset();  // stale while the proto changes
  folded_fixed_ = false;
  try {
    change(*proto_, shapes_);
  } catch (...) {
    // The error goes on up; the model keeps an index over whatever the change left (a change
    // that broke the graph, a cycle, leaves none, and graph() must not be used).
    try {
      reindex();
    } catch (...) {
    }
    throw;
  }
  record_shapes(*proto_, shapes_);
  reindex();
}

onnx::ModelProto CompiledModel::release() {
  onnx::ModelProto m = std::move(*proto_);
  graph_.reset();
  proto_.reset();
  return m;
}

}  // namespace npusplit
