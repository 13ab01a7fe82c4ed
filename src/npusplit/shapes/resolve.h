#pragma once
// Gives every tensor of a model a concrete shape at a fixed input shape.
//
// ONNX shape inference alone leaves a third of the DEIMv2 tensors unknown, because the
// exports compute shapes at run time (Shape -> Gather -> Concat -> Reshape chains). So:
//   1. fix the input shapes (batch defaults to 1),
//   2. fold every tensor that depends only on constants and input *shapes* into an
//      initializer, evaluating those subgraphs with ONNX Runtime (exact: the same kernels
//      the model would run), and repeat with shape inference until nothing changes,
//   3. ask ONNX Runtime, on a dummy input, for whatever is still unknown.
#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

#include "npusplit/ir/tensor_info.h"

namespace npusplit {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

// Parses "images=1,3,640,640;orig_target_sizes=1,2" (also accepts repeated flags joined).
InputShapes parse_input_shapes(const std::vector<std::string>& specs);

struct ResolveOptions {
  InputShapes input_shapes;
  bool fold = true;          // fold static subgraphs into initializers
  bool ort_fallback = true;  // run the model for shapes that remain unknown
  std::string label = "model";  // for the debug trace
};

struct ResolveStats {
  int tensors = 0;           // non-constant tensors (node outputs)
  int known_by_onnx = 0;     // known after plain ONNX shape inference of the input model
  int known_after_fold = 0;  // known after folding + inference
  int known_by_ort = 0;      // taken from an ONNX Runtime run
  int unresolved = 0;
  int folded_nodes = 0;
  int fold_rounds = 0;
  bool fold_converged = false;  // folding reached its fixed point (fold-static would find nothing)
};

struct ResolvedModel {
  onnx::ModelProto model;    // inputs fixed, static subgraphs folded, value_info complete
  ShapeMap shapes;           // every tensor: inputs, initializers, node outputs
  std::vector<std::string> notes;
  ResolveStats stats;
  std::vector<std::string> folded_names;  // the nodes folded into initializers
};

// Fixes input dims in place; returns notes (e.g. "batch of 'images' fixed to 1").
std::vector<std::string> fix_input_shapes(onnx::ModelProto& m, const InputShapes& shapes);
// Turns Constant nodes into initializers.
int constants_to_initializers(onnx::GraphProto& g);
// Folds static subgraphs (see above); returns the number of nodes removed.
int fold_static_subgraphs(onnx::ModelProto& m, int* rounds = nullptr, std::vector<std::string>* folded_names = nullptr);
// Runs ONNX shape inference and collects every known tensor type/shape.
ShapeMap infer_shapes(onnx::ModelProto& m);
// Removes initializers and nodes that no graph output depends on.
int remove_dead_code(onnx::GraphProto& g);

ResolvedModel resolve(onnx::ModelProto m, const ResolveOptions& opts = {});
// Writes SHAPES into M's value_info (every node output) and its outputs' types, so a saved
// model carries its resolved shapes.
void record_shapes(onnx::ModelProto& m, const ShapeMap& shapes);

}  // namespace npusplit
