#pragma once
// Shared ONNX Runtime plumbing: one process-wide environment, session options, and a plain
// "run this model on these tensors" used by shape resolution, folding and verification.
#include <onnx/onnx_pb.h>
#include <onnxruntime_cxx_api.h>

#include <map>
#include <string>
#include <vector>

#include "npusplit/ort/host_tensor.h"

namespace npusplit {

Ort::Env& ort_env();

// An ONNX Runtime error in the user's terms: first line, without ORT's source paths,
// function signatures and status prefix.
std::string ort_message(const std::exception& e);

struct OrtOptions {
  int intra_threads = 0;          // 0 = ORT's default (one per core)
  int inter_threads = 1;
  // Verification runs with graph optimizations off: fusions that span a cut would otherwise
  // make split and unsplit models round differently, and the claim is bit-exactness.
  GraphOptimizationLevel opt_level = ORT_DISABLE_ALL;
  // Weight prepacking gives MatMul a different kernel when its weight is a constant, so a
  // tensor folded into an initializer would round differently from the same tensor computed
  // at run time. Verification and folding turn it off; `run`/`bench` keep it for speed.
  bool disable_prepacking = true;
  // Verification keeps three sessions (original, stage1, stage2) and runs them in turn: a pool
  // still spinning after its run steals the cores the next session needs (and any other load
  // on the machine makes spinning pools wait on descheduled threads). Off unless asked for.
  bool allow_spinning = false;
  // ORT's CPU arena keeps each session's peak memory for good; `quant` holds four sessions of
  // one stage1 and turns it off.
  bool cpu_arena = true;
};

Ort::SessionOptions make_session_options(const OrtOptions& o);
Ort::Session make_session(const std::string& model_bytes, const OrtOptions& o, const std::string& what);
// The same for a model in memory without a serialized copy of it in this process: M is streamed
// to a private temporary file, unlinked at once, that ONNX Runtime parses through its descriptor.
Ort::Session make_session(const onnx::ModelProto& m, const OrtOptions& o, const std::string& what);

// Runs SESSION on INPUTS (by name) and returns the named outputs (all outputs when empty).
std::vector<HostTensor> run_session(Ort::Session& s, const std::vector<HostTensor>& inputs,
                                    const std::vector<std::string>& output_names = {});
HostTensor to_host(const Ort::Value& v, const std::string& name);
Ort::Value as_ort_value(HostTensor& t);   // a view over t's memory (no copy)
std::vector<TensorSpec> session_inputs(Ort::Session& s);
std::vector<TensorSpec> session_outputs(Ort::Session& s);
std::string ort_version();

}  // namespace npusplit
