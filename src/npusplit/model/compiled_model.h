#pragma once
// The model a command works on, with its facts: the proto, every tensor's resolved shape and
// type, the constants folded into it, and the graph index over it. Built once per command from
// the loaded file (input shapes fixed once, folding done once); everything after -- rewrites,
// judging, the cut -- reads these facts instead of resolving again. The proto changes only
// through edit(), which keeps the index and the recorded shapes current.
#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"
#include "npusplit/ort/host_tensor.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

class CompiledModel {
 public:
  CompiledModel();  // empty
  // Fixes the input shapes, folds static subgraphs, resolves every shape: one resolve.
  static CompiledModel compile(onnx::ModelProto m, const InputShapes& input_shapes, const std::string& label,
                               bool fold = true);
  // A model already resolved elsewhere (e.g. a test's resolve() result).
  static CompiledModel adopt(ResolvedModel r);

  CompiledModel(CompiledModel&&) noexcept;
  CompiledModel& operator=(CompiledModel&&) noexcept;
  ~CompiledModel();
  // An explicit copy: the weights are copied, which is what bounds memory on large models.
  CompiledModel clone() const;

  bool empty() const { return !proto_; }
  const onnx::ModelProto& proto() const { return *proto_; }
  const ShapeMap& shapes() const { return shapes_; }
  const Graph& graph() const { return *graph_; }
  const std::vector<std::string>& notes() const { return notes_; }  // e.g. "batch fixed to 1"
  const ResolveStats& stats() const { return stats_; }
  const std::vector<std::string>& folded_names() const { return folded_names_; }  // by the compile
  // Folded to its fixed point by the compile and not edited since (shapes ONNX Runtime supplied
  // afterwards could make more foldable): fold-static has nothing to do.
  bool folded_to_fixed_point() const { return folded_fixed_; }
  // The runtime inputs at their fixed shapes (what verify feeds).
  std::vector<TensorSpec> input_specs() const;

  // The one way to change the model: EDIT rewrites the proto and may refresh SHAPES; afterwards
  // the index is rebuilt and the shapes are recorded in the proto's value_info.
  void edit(const std::function<void(onnx::ModelProto&, ShapeMap&)>& change);
  // Moves the proto out (the weights go with it); the model is empty afterwards.
  onnx::ModelProto release();

 private:
  void reindex();
  std::unique_ptr<onnx::ModelProto> proto_;  // stable address: graph_ points into it
  ShapeMap shapes_;
  std::unique_ptr<Graph> graph_;
  std::vector<std::string> notes_;
  ResolveStats stats_;
  std::vector<std::string> folded_names_;
  bool folded_fixed_ = false;
};

}  // namespace npusplit
