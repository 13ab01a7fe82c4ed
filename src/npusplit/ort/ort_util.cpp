#include "npusplit/ort/ort_util.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "npusplit/error.h"
#include "npusplit/ort/msda_op.h"

namespace npusplit {

namespace {
// ONNX Runtime's own log lines (coloured, with its source paths) go through npusplit's
// logger at debug level: npusplit reports failures itself, in one line, so ORT stays quiet
// unless NPUSPLIT_LOG=debug asks for its words too.
void ort_log_to_spdlog(void*, OrtLoggingLevel severity, const char* category, const char*, const char*,
                       const char* message) {
  const auto level = severity >= ORT_LOGGING_LEVEL_WARNING ? spdlog::level::debug : spdlog::level::trace;
  spdlog::log(level, "onnxruntime [{}]: {}", category ? category : "", message ? message : "");
}
}  // namespace

Ort::Env& ort_env() {
  static Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "npusplit", ort_log_to_spdlog, nullptr);
  return env;
}

std::string ort_message(const std::exception& e) { return clean_library_message(e.what()); }

std::string ort_version() { return Ort::GetVersionString(); }

Ort::SessionOptions make_session_options(const OrtOptions& o) {
  Ort::SessionOptions so;
  if (o.intra_threads > 0) so.SetIntraOpNumThreads(o.intra_threads);
  so.SetInterOpNumThreads(o.inter_threads > 0 ? o.inter_threads : 1);
  so.SetGraphOptimizationLevel(o.opt_level);
  so.SetLogSeverityLevel(ORT_LOGGING_LEVEL_ERROR);
  if (o.disable_prepacking) so.AddConfigEntry("session.disable_prepacking", "1");
  if (!o.allow_spinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  if (!o.cpu_arena) so.DisableCpuMemArena();
  add_host_ops(so);  // so that fused stage2 files (split --fused-host) load and verify too
  return so;
}

Ort::Session make_session(const std::string& model_bytes, const OrtOptions& o, const std::string& what) {
  try {
    auto so = make_session_options(o);
    return Ort::Session(ort_env(), model_bytes.data(), model_bytes.size(), so);
  } catch (const Ort::Exception& e) {
    fail("{}: ONNX Runtime cannot load it: {}", what, ort_message(e));
  }
}

Ort::Session make_session(const onnx::ModelProto& m, const OrtOptions& o, const std::string& what) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::string path = (dir / "npusplit_session_XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) fail("{}: cannot create a temporary model file in {}", what, dir.string());
  // Unlinked at once: nothing is left behind, whatever ends the process; ONNX Runtime opens the
  // file through this process's descriptor.
  ::unlink(path.c_str());
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_at_end{fd};
  if (!m.SerializeToFileDescriptor(fd))
    fail("{}: cannot write a temporary model file in {} (disk full, or the model over 2 GiB)", what, dir.string());
  const std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
  try {
    auto so = make_session_options(o);
    return Ort::Session(ort_env(), by_fd.c_str(), so);
  } catch (const Ort::Exception& e) {
    fail("{}: ONNX Runtime cannot load it: {}", what, ort_message(e));
  }
}

namespace {
TensorSpec spec_of(const Ort::ConstTensorTypeAndShapeInfo& info, std::string name) {
  TensorSpec s;
  s.name = std::move(name);
  s.dtype = static_cast<int32_t>(info.GetElementType());  // ORT's enum mirrors ONNX's
  s.dims = info.GetShape();
  return s;
}
}  // namespace

std::vector<TensorSpec> session_inputs(Ort::Session& s) {
  std::vector<TensorSpec> out;
  Ort::AllocatorWithDefaultOptions alloc;
  for (size_t i = 0; i < s.GetInputCount(); ++i) {
    auto name = s.GetInputNameAllocated(i, alloc);
    auto ti = s.GetInputTypeInfo(i);
    out.push_back(spec_of(ti.GetTensorTypeAndShapeInfo(), name.get()));
  }
  return out;
}

std::vector<TensorSpec> session_outputs(Ort::Session& s) {
  std::vector<TensorSpec> out;
  Ort::AllocatorWithDefaultOptions alloc;
  for (size_t i = 0; i < s.GetOutputCount(); ++i) {
    auto name = s.GetOutputNameAllocated(i, alloc);
    auto ti = s.GetOutputTypeInfo(i);
    out.push_back(spec_of(ti.GetTensorTypeAndShapeInfo(), name.get()));
  }
  return out;
}

Ort::Value as_ort_value(HostTensor& t) {
  static const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return Ort::Value::CreateTensor(mem, t.data.data(), t.data.size(), t.spec.dims.data(),
                                  t.spec.dims.size(), static_cast<ONNXTensorElementDataType>(t.spec.dtype));
}

HostTensor to_host(const Ort::Value& v, const std::string& name) {
  auto info = v.GetTensorTypeAndShapeInfo();
  TensorSpec s;
  s.name = name;
  s.dtype = static_cast<int32_t>(info.GetElementType());
  s.dims = info.GetShape();
  HostTensor t(s);
  if (!t.data.empty()) std::memcpy(t.data.data(), v.GetTensorRawData(), t.data.size());
  return t;
}

std::vector<HostTensor> run_session(Ort::Session& s, const std::vector<HostTensor>& inputs,
                                    const std::vector<std::string>& output_names) {
  std::vector<std::string> outs = output_names;
  if (outs.empty())
    for (const auto& o : session_outputs(s)) outs.push_back(o.name);
  std::vector<const char*> in_names, out_names;
  std::vector<Ort::Value> in_values;
  for (const auto& t : inputs) {
    in_names.push_back(t.name().c_str());
    in_values.push_back(as_ort_value(const_cast<HostTensor&>(t)));  // ORT only reads inputs
  }
  for (const auto& n : outs) out_names.push_back(n.c_str());
  std::vector<Ort::Value> results;
  try {
    results = s.Run(Ort::RunOptions{nullptr}, in_names.data(), in_values.data(), in_values.size(),
                    out_names.data(), out_names.size());
  } catch (const Ort::Exception& e) {
    fail("ONNX Runtime run failed: {}", ort_message(e));
  }
  std::vector<HostTensor> host;
  host.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    host.push_back(to_host(results[i], outs[i]));
    results[i] = Ort::Value{nullptr};  // one copy of each output at a time, not two of all
  }
  return host;
}

}  // namespace npusplit
