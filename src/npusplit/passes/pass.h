#pragma once
// Rewrite passes: each one a named, documented, tested graph rewrite in its own file
// (passes/<name>.cpp), registered in passes/registry.cpp. A pass must keep the model's
// numbers; `exact` says whether it does so bit for bit in float32.
#include <onnx/onnx_pb.h>

#include <memory>
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"  // make_int64_tensor, make_float_tensor
#include "npusplit/ir/tensor_info.h"

namespace npusplit {

struct PassChange {
  std::string before;  // node name(s) matched
  std::string after;   // node name(s) written
};

struct PassResult {
  std::string pass;
  int rewrites = 0;
  std::vector<PassChange> changes;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string name() const = 0;         // verb-object, used on the command line
  virtual std::string description() const = 0;  // one line
  virtual bool exact() const = 0;               // bit-exact in float32
  virtual std::string inexact_reason() const { return ""; }
  virtual std::string source() const { return ""; }  // where the motivating fact comes from
  // Rewrites M in place. SHAPES describes M (every tensor static) when the pass starts.
  virtual PassResult run(onnx::ModelProto& m, const ShapeMap& shapes) const = 0;
};

// Every pass, in the documented order they run in.
const std::vector<std::unique_ptr<Pass>>& all_passes();
const Pass* find_pass(const std::string& name);
// The default set: every exact pass.
std::vector<std::string> default_pass_names();

struct FixReport {
  std::vector<PassResult> results;  // one per pass that ran, changes accumulated
  int iterations = 0;
  bool exact = true;
};

// Runs NAMES (in registry order, whatever order given) to a fixed point on M, whose inputs
// must already have fixed shapes. Shapes are re-resolved between passes. Dead nodes and
// unused initializers are removed at the end.
FixReport apply_passes(onnx::ModelProto& m, const std::vector<std::string>& names);
// The same on a compiled model (already folded and resolved: no resolve here). fold-static's
// result starts with what the compile folded.
class CompiledModel;
FixReport apply_passes(CompiledModel& model, const std::vector<std::string>& names);

// Helpers shared by passes.
std::string unique_name(const onnx::GraphProto& g, const std::string& base);

}  // namespace npusplit
