#pragma once
// The output shapes of ONE node, through onnx's own inference function for its op (the code
// InferShapes runs per node), from its inputs' shapes and whatever constant inputs are known.
// The folding sweep uses it to carry shapes forward that the last full inference could not
// know (a Slice whose bounds the sweep has just computed), so that one sweep folds what used to
// take one full inference per decoder layer.
#include <onnx/onnx_pb.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "npusplit/ir/tensor_info.h"

namespace npusplit {

// True for the ops infer_node() will run: default domain, no graph attributes, and on an
// allow-list of ops whose inference reads only its inputs' types, its attributes and small
// constant inputs (the rest waits for the next full inference, which runs in a child process:
// isolated_inference.h).
bool node_inference_allowed(const onnx::NodeProto& n);

// INPUTS: per input, its shape (nullptr: absent or unknown); DATA: per input, its value when
// constant (nullptr otherwise). Returns one TensorInfo per output (dtype 0 / no rank where the
// op's inference says nothing); empty when the op cannot be inferred here or its inference
// fails.
std::vector<TensorInfo> infer_node(const onnx::NodeProto& n, const std::vector<const TensorInfo*>& inputs,
                                   const std::vector<const onnx::TensorProto*>& data, int64_t opset);

}  // namespace npusplit

namespace npusplit {

// What a rewrite started from: one fingerprint per node (its op, inputs, outputs and
// attributes), to tell afterwards which nodes it added or changed.
struct GraphFingerprint {
  std::unordered_map<std::string, std::string> by_output;  // first output -> serialized node
  std::unordered_set<std::string> computed;                // every node output
};
GraphFingerprint fingerprint(const onnx::GraphProto& g);

// Brings SHAPES, which described M's graph when BEFORE was taken, up to date after a rewrite:
// initializers are re-read, and onnx's per-node inference runs over the nodes the rewrite added
// or changed, over every node whose input shapes changed and over every node reading a tensor
// that was computed before and is a constant now (folding: its value may fix a shape), in
// topological order (tract's
// "patch, then re-derive the facts of what changed"). Returns false, leaving SHAPES partly
// updated, when a node that needs it cannot be inferred here: the caller then runs the full
// (isolated) inference.
// With PARTIAL (folding, where shapes only become better known), a node whose output comes out
// less than static (a Reshape whose shape input is folded only in a later round) keeps what is
// known of it (a static shape already in SHAPES stays), its name goes into *PARTIAL and the
// refresh goes on; an output inferred static is taken out of *PARTIAL. Folding then tries
// another round before it pays for a full inference, and runs one before it stops while
// *PARTIAL is not empty.
bool refresh_shapes(const onnx::ModelProto& m, const GraphFingerprint& before, ShapeMap& shapes,
                    std::unordered_set<std::string>* partial = nullptr);

}  // namespace npusplit
