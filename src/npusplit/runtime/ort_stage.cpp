// The ONNX Runtime (CPU) stage, plus the backend-independent parts of Stage.
//
// Speed: outputs live in caller-owned tensors that are bound once through an Ort::IoBinding;
// inputs are bound as views over the caller's memory. One IoBinding is kept per distinct set of
// buffers (a few at most: sequential runs use one, double-buffered runs two), so a steady loop
// does no binding, no allocation and no copy around Session::Run.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "npusplit/error.h"
#include "npusplit/host/fuse_msda.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/ort/msda_op.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/runtime/stage.h"
#include "npusplit/shapes/resolve.h"

namespace npusplit {

// ---------------------------------------------------------------------------------------------
// Stage: shared helpers

std::string spec_str(const TensorSpec& s) { return dtype_name(s.dtype) + " " + dims_str(s.dims); }

bool same_spec(const TensorSpec& a, const TensorSpec& b) {
  return a.name == b.name && a.dtype == b.dtype && a.dims == b.dims;
}

std::vector<HostTensor> Stage::allocate_outputs() const {
  std::vector<HostTensor> out;
  out.reserve(outputs().size());
  for (const auto& s : outputs()) out.emplace_back(s);
  return out;
}

std::vector<HostTensor> Stage::allocate_inputs() const {
  std::vector<HostTensor> in;
  in.reserve(inputs().size());
  for (const auto& s : inputs()) in.emplace_back(s);
  return in;
}

std::vector<HostTensor> Stage::run_copy(const std::vector<HostTensor>& in) {
  std::vector<const HostTensor*> ptrs;
  for (const auto& t : in) ptrs.push_back(&t);
  auto out = allocate_outputs();
  run(ptrs, out);
  return out;
}

void Stage::check_io(const std::vector<const HostTensor*>& in, const std::vector<HostTensor>& out) const {
  const auto& is = inputs();
  const auto& os = outputs();
  if (in.size() != is.size())
    fail("{}: {} input tensor(s) given, the model takes {}", description(), in.size(), is.size());
  if (out.size() != os.size())
    fail("{}: {} output tensor(s) given, the model gives {}", description(), out.size(), os.size());
  for (size_t i = 0; i < is.size(); ++i) {
    const HostTensor* t = in[i];
    if (!t) fail("{}: input '{}' is missing", description(), is[i].name);
    if (!same_spec(t->spec, is[i]) || static_cast<int64_t>(t->data.size()) != is[i].bytes())
      fail("{}: input #{} is '{}' {}, the model expects '{}' {}", description(), i, t->name(), spec_str(t->spec),
           is[i].name, spec_str(is[i]));
  }
  for (size_t i = 0; i < os.size(); ++i) {
    const HostTensor& t = out[i];
    if (!same_spec(t.spec, os[i]) || static_cast<int64_t>(t.data.size()) != os[i].bytes())
      fail("{}: output #{} is '{}' {}, the model gives '{}' {}", description(), i, t.name(), spec_str(t.spec),
           os[i].name, spec_str(os[i]));
  }
}

// ---------------------------------------------------------------------------------------------
// OrtStage

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

GraphOptimizationLevel opt_level(int v) {
  switch (v) {
    case 0: return ORT_DISABLE_ALL;
    case 1: return ORT_ENABLE_BASIC;
    case 2: return ORT_ENABLE_EXTENDED;
    default: return ORT_ENABLE_ALL;
  }
}

bool is_static(const TensorSpec& s) {
  return std::all_of(s.dims.begin(), s.dims.end(), [](int64_t d) { return d >= 0; });
}

class OrtStage final : public Stage {
 public:
  OrtStage(const std::filesystem::path& path, const StageOptions& o) : path_(path.string()) {
    // load_model turns a missing, empty, unparsable or too-new file into a one-line Error.
    onnx::ModelProto m = load_model(path);
    // Fixing the inputs in the graph (dynamic batch -> 1) lets ONNX Runtime specialise shapes.
    (void)fix_input_shapes(m, o.input_shapes);
    if (o.fuse_host_ops) fused_ = fuse_deformable_attention(m).fused;
    if (o.edit_model) o.edit_model(m);
    std::string bytes;
    if (!m.SerializeToString(&bytes)) fail("{}: cannot serialise the model for ONNX Runtime", path_);
    m = onnx::ModelProto();  // the session keeps its own copy; free ours

    try {
      Ort::SessionOptions so;
      if (o.intra_threads > 0) so.SetIntraOpNumThreads(o.intra_threads);
      so.SetInterOpNumThreads(std::max(1, o.inter_threads));
      so.SetGraphOptimizationLevel(opt_level(o.graph_optimization));
      so.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
      add_host_ops(so);
      // NPUSPLIT_ORT_PROFILE=PREFIX: ONNX Runtime's per-node profile (PREFIX_<date>.json, written
      // when the stage is destroyed), for the profile by op class in the README.
      if (const char* prof = std::getenv("NPUSPLIT_ORT_PROFILE"); prof && *prof)
        so.EnableProfiling((std::string(prof) + "_" + path.stem().string() + (fused_ ? "_fused" : "")).c_str());
      so.AddConfigEntry("session.intra_op.allow_spinning", o.allow_spinning ? "1" : "0");
      so.AddConfigEntry("session.inter_op.allow_spinning", o.allow_spinning ? "1" : "0");
      if (o.allow_spinning && o.stop_spinning_after_run) so.AddConfigEntry("session.force_spinning_stop", "1");
      session_ = Ort::Session(ort_env(), bytes.data(), bytes.size(), so);
    } catch (const Ort::Exception& e) {
      fail("{}: ONNX Runtime cannot load it: {}", path_, ort_message(e));
    }
    bytes.clear();
    bytes.shrink_to_fit();

    inputs_ = session_inputs(session_);
    outputs_ = session_outputs(session_);
    for (const auto& s : inputs_) {
      if (!is_static(s)) fail("{}: input '{}' is {} after fixing shapes; give its shape", path_, s.name, spec_str(s));
      if (dtype_size(s.dtype) == 0) fail("{}: input '{}' has unsupported type {}", path_, s.name, dtype_name(s.dtype));
    }
    for (const auto& s : outputs_)
      if (dtype_size(s.dtype) == 0) fail("{}: output '{}' has unsupported type {}", path_, s.name, dtype_name(s.dtype));
    if (!std::all_of(outputs_.begin(), outputs_.end(), is_static)) probe_output_shapes();
  }

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::string backend() const override { return "onnxruntime-cpu"; }
  std::string description() const override { return path_; }
  int fused_host_ops() const override { return fused_; }

  void run(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) override {
    const auto t0 = Clock::now();
    check_io(in, out);
    Ort::IoBinding& io = binding_for(in, out);
    const auto t1 = Clock::now();
    try {
      session_.Run(run_options_, io);
    } catch (const Ort::Exception& e) {
      fail("{}: ONNX Runtime run failed: {}", path_, ort_message(e));
    }
    const auto t2 = Clock::now();
    timing_.inner_ms = ms_between(t1, t2);
    timing_.total_ms = ms_between(t0, t2);
  }

 private:
  struct Bound {
    std::vector<const void*> key;  // data pointers of the inputs, then the outputs
    Ort::IoBinding io;
  };
  static constexpr size_t kMaxBindings = 4;

  // The dynamic output dims of this model at its (fixed) input shapes: one run on zeros.
  void probe_output_shapes() {
    std::vector<HostTensor> zeros;
    for (const auto& s : inputs_) zeros.emplace_back(s);
    std::vector<HostTensor> res;
    try {
      res = run_session(session_, zeros);
    } catch (const Error& e) {
      fail("{}: cannot determine the output shapes (probe run on zeros failed: {})", path_, e.what());
    }
    for (size_t i = 0; i < outputs_.size() && i < res.size(); ++i) outputs_[i].dims = res[i].spec.dims;
  }

  Ort::IoBinding& binding_for(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) {
    key_.clear();
    for (const auto* t : in) key_.push_back(t->data.data());
    for (const auto& t : out) key_.push_back(t.data.data());
    for (size_t i = 0; i < bound_.size(); ++i) {
      if (bound_[i].key == key_) {
        if (i != 0) std::rotate(bound_.begin(), bound_.begin() + long(i), bound_.begin() + long(i) + 1);
        return bound_.front().io;
      }
    }
    try {
      Ort::IoBinding io(session_);
      for (size_t i = 0; i < in.size(); ++i) {
        // ORT only reads inputs; the view aliases the caller's memory.
        auto v = as_ort_value(const_cast<HostTensor&>(*in[i]));
        io.BindInput(inputs_[i].name.c_str(), v);
      }
      for (size_t i = 0; i < out.size(); ++i) {
        auto v = as_ort_value(out[i]);
        io.BindOutput(outputs_[i].name.c_str(), v);
      }
      if (bound_.size() >= kMaxBindings) bound_.pop_back();
      bound_.insert(bound_.begin(), Bound{key_, std::move(io)});
    } catch (const Ort::Exception& e) {
      fail("{}: ONNX Runtime cannot bind the tensors: {}", path_, ort_message(e));
    }
    return bound_.front().io;
  }

  std::string path_;
  int fused_ = 0;
  Ort::Session session_{nullptr};
  Ort::RunOptions run_options_;
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<Bound> bound_;
  std::vector<const void*> key_;
};

}  // namespace

std::unique_ptr<Stage> make_ort_stage(const std::filesystem::path& model, const StageOptions& o) {
  return std::make_unique<OrtStage>(model, o);
}

}  // namespace npusplit
