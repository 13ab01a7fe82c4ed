// npusplit._npusplit: the Python face of the npusplit library (the CLI's library, not a copy).
// Results cross the boundary as the CLI's own JSON documents (check --json, split's manifest,
// fix --json, verify --json); python/npusplit/__init__.py turns them into objects, so the
// Python API and `npusplit ... --json` cannot drift apart. Errors become npusplit.Error with
// the CLI's one-line message. The pipeline reads NumPy inputs in place (no copy) and hands its
// output buffers to NumPy (no copy).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <onnxruntime_cxx_api.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/app/analyze.h"
#include "npusplit/app/fix.h"
#include "npusplit/app/split.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/info_report.h"
#include "npusplit/report/split_report.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/runtime/stage.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/version.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace npusplit {
namespace {

using Shapes = std::map<std::string, std::vector<int64_t>>;

// ---------------------------------------------------------------------------------------------
// A loaded model: parsed and validated once (load_model), judged as often as asked.

struct LoadedModel {
  std::string path;
  onnx::ModelProto proto;
  int64_t file_bytes = 0;
};

std::shared_ptr<LoadedModel> load(const std::string& path) {
  auto m = std::make_shared<LoadedModel>();
  m->path = path;
  m->proto = load_model(path);
  std::error_code ec;
  m->file_bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  return m;
}

AnalyzeOptions analyze_options(const std::string& target, const std::string& dfc, const std::string& parser_log,
                               const Shapes& shapes) {
  AnalyzeOptions o;
  o.target = target;
  o.dfc = dfc;
  o.parser_log = parser_log;
  o.input_shapes = shapes;
  o.keep_original = false;
  return o;
}

Analysis analyze_loaded(const LoadedModel& m, const AnalyzeOptions& o) {
  Analysis a = analyze_proto(m.proto, m.path, o);  // a copy: the loaded model stays as it was
  a.summary.file_bytes = m.file_bytes;              // what analyze(path) reports
  return a;
}

// `npusplit info --json`
std::string info_json_of(const LoadedModel& m, const Shapes& shapes) {
  AnalyzeOptions o = analyze_options("hailo8", "", "", shapes);
  o.partition = false;
  return npusplit::info_json(analyze_loaded(m, o)).dump();
}

// `npusplit check --json`
std::string check_json_of(const LoadedModel& m, const std::string& target, const std::string& dfc,
                          const std::string& parser_log, const Shapes& shapes) {
  auto a = analyze_loaded(m, analyze_options(target, dfc, parser_log, shapes));
  return check_json(a).dump();
}

// `npusplit fix --json` (the rewritten model written to OUT)
std::string fix_json_of(const std::string& model, const std::string& out, const std::string& target,
                        const std::vector<std::string>& passes, const Shapes& shapes, bool verify, int random,
                        const std::vector<std::string>& images, std::optional<double> tolerance) {
  FixOptions o;
  o.model = model;
  o.out = out;
  o.target = target;
  o.passes = passes;
  o.input_shapes = shapes;
  o.verify = verify;
  o.verify_random = random;
  o.verify_images = images;
  o.tolerance = tolerance;
  auto r = fix_model(o);
  return fix_json(r, o).dump();
}

// `npusplit split --json`, plus what a DFC script needs without parsing the parser command.
std::string split_json_of(const std::string& model, const std::string& out_dir, const std::string& target,
                          const std::string& dfc, const std::vector<std::string>& cut, bool pack, bool fix,
                          const std::vector<std::string>& passes, const Shapes& shapes, bool verify, int random,
                          const std::vector<std::string>& images, double tolerance, const std::string& stem,
                          bool allow_suspect, bool fused_host) {
  SplitOptions o;
  o.model = model;
  o.out_dir = out_dir;
  o.target = target;
  o.dfc = dfc;
  o.cut = cut;
  o.pack = pack;
  o.fix = fix;
  o.fix_passes = passes;
  if (!fix && !passes.empty()) fail("fix=False contradicts passes=");
  o.input_shapes = shapes;
  o.verify = verify;
  o.verify_random = random;
  o.verify_images = images;
  o.tolerance = tolerance;
  o.stem = stem;
  o.allow_suspect = allow_suspect;
  o.fused_host = fused_host;
  return split_result_json(split_model(o)).dump();
}

// `npusplit verify --json`
std::string verify_json_of(const std::string& original, const std::string& stage1, const std::string& stage2,
                           int random, const std::vector<std::string>& images, double tolerance, const Shapes& shapes) {
  auto m0 = load_model(original);
  auto m1 = load_model(stage1);
  auto m2 = load_model(stage2);
  auto cases = make_verify_cases(m0, shapes, random, images);
  if (cases.empty()) fail("nothing to verify: give random > 0 or images");
  return verify_json(verify_split(m0, m1, m2, cases, tolerance)).dump();
}

// ---------------------------------------------------------------------------------------------
// The pipeline on NumPy arrays.

// Stage1 in ONNX Runtime, reading its inputs from memory the caller points it at (the NumPy
// arrays) instead of the frame's own input tensors: the zero-copy way in. It writes the cut
// tensors in place, and the pipeline's stage2 reads them there.
class ArrayInputStage final : public Stage {
 public:
  ArrayInputStage(const std::string& path, const Shapes& shapes, int threads) : path_(path) {
    onnx::ModelProto m = load_model(path);
    (void)fix_input_shapes(m, shapes);
    std::string bytes;
    if (!m.SerializeToString(&bytes)) fail("{}: cannot serialise the model for ONNX Runtime", path_);
    OrtOptions oo;
    oo.intra_threads = threads;
    oo.opt_level = ORT_ENABLE_ALL;
    oo.disable_prepacking = false;
    session_ = make_session(bytes, oo, path_);
    inputs_ = session_inputs(session_);
    outputs_ = session_outputs(session_);
    for (const auto* list : {&inputs_, &outputs_})
      for (const auto& s : *list)
        for (int64_t d : s.dims)
          if (d < 0) fail("{}: '{}' is {} (dynamic); give its shape in input_shapes", path_, s.name, spec_str(s));
    views_.assign(inputs_.size(), nullptr);
  }
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::string backend() const override { return "onnxruntime-cpu"; }
  std::string description() const override { return path_; }
  std::vector<const void*>& views() { return views_; }

  void run(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) override {
    const auto t0 = std::chrono::steady_clock::now();
    check_io(in, out);
    static const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> ins, outs;
    std::vector<const char*> in_names, out_names;
    try {
      for (size_t i = 0; i < inputs_.size(); ++i) {
        if (!views_[i]) fail("{}: input '{}' was not given", path_, inputs_[i].name);
        // ORT only reads inputs: the const_cast never leads to a write into the caller's array.
        ins.push_back(Ort::Value::CreateTensor(cpu, const_cast<void*>(views_[i]), size_t(inputs_[i].bytes()),
                                               inputs_[i].dims.data(), inputs_[i].dims.size(),
                                               ONNXTensorElementDataType(inputs_[i].dtype)));
        in_names.push_back(inputs_[i].name.c_str());
      }
      for (size_t i = 0; i < outputs_.size(); ++i) {
        outs.push_back(as_ort_value(out[i]));
        out_names.push_back(outputs_[i].name.c_str());
      }
      const auto t1 = std::chrono::steady_clock::now();
      session_.Run(Ort::RunOptions{nullptr}, in_names.data(), ins.data(), ins.size(), out_names.data(), outs.data(),
                   outs.size());
      timing_.inner_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    } catch (const Ort::Exception& e) {
      fail("{}: ONNX Runtime run failed: {}", path_, ort_message(e));
    }
    timing_.total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  std::string path_;
  Ort::Session session_{nullptr};
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<const void*> views_;
};

nb::dlpack::dtype dlpack_dtype(int32_t onnx_dtype) {
  switch (onnx_dtype) {
    case 1: return nb::dtype<float>();
    case 2: return nb::dtype<uint8_t>();
    case 3: return nb::dtype<int8_t>();
    case 4: return nb::dtype<uint16_t>();
    case 5: return nb::dtype<int16_t>();
    case 6: return nb::dtype<int32_t>();
    case 7: return nb::dtype<int64_t>();
    case 9: return nb::dtype<bool>();
    case 11: return nb::dtype<double>();
    case 12: return nb::dtype<uint32_t>();
    case 13: return nb::dtype<uint64_t>();
    default: fail("tensors of type {} cannot cross to NumPy", dtype_name(onnx_dtype));
  }
}

using AnyArray = nb::ndarray<nb::device::cpu>;

class PyPipeline {
 public:
  PyPipeline(const std::string& stage1, const std::string& stage2, const Shapes& shapes, int threads, bool fused_host) {
    auto s1 = std::make_unique<ArrayInputStage>(stage1, shapes, threads);
    stage1_ = s1.get();
    StageOptions so;
    so.graph_optimization = 99;
    so.intra_threads = threads;
    so.input_shapes = shapes;
    so.fuse_host_ops = fused_host;
    auto s2 = make_ort_stage(stage2, so);
    std::vector<std::string> extra;
    for (const auto& s : s2->inputs())
      if (is_orig_sizes_input(s)) extra.push_back(s.name);
    pipeline_ = std::make_unique<TwoStagePipeline>(std::move(s1), std::move(s2), extra);
    frame_ = pipeline_->make_frame();
  }

  // INPUTS: name -> array of exactly the input's dtype and shape, C-contiguous (anything else is
  // an error, never a silent copy). Inputs stage1 reads are read in place; the few only stage2
  // reads (a DETR's orig_target_sizes) are copied into the frame.
  nb::dict run(const std::map<std::string, AnyArray>& inputs) {
    auto& views = stage1_->views();
    std::fill(views.begin(), views.end(), nullptr);
    for (const auto& [name, arr] : inputs) {
      if (!frame_.input(name)) fail("the pipeline has no input '{}' (inputs: {})", name, input_names());
    }
    for (size_t i = 0; i < pipeline_->inputs().size(); ++i) {
      const TensorSpec& spec = pipeline_->inputs()[i];
      auto it = inputs.find(spec.name);
      if (it == inputs.end()) fail("input '{}' ({}) was not given", spec.name, spec_str(spec));
      const AnyArray& a = it->second;
      check_array(a, spec);
      int s1 = -1;
      for (size_t k = 0; k < stage1_->inputs().size(); ++k)
        if (stage1_->inputs()[k].name == spec.name) s1 = int(k);
      if (s1 >= 0) views[size_t(s1)] = a.data();
      else std::memcpy(frame_.input(spec.name)->data.data(), a.data(), size_t(spec.bytes()));
    }
    {
      nb::gil_scoped_release release;
      pipeline_->run(frame_);
    }
    std::fill(views.begin(), views.end(), nullptr);
    nb::dict out;
    for (auto& t : frame_.outputs) {
      // The output buffer goes to NumPy as it is; the frame gets a fresh one for the next run.
      auto* owned = new HostTensor(std::move(t));
      t = HostTensor(owned->spec);
      nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<HostTensor*>(p); });
      std::vector<size_t> shape(owned->spec.dims.begin(), owned->spec.dims.end());
      out[nb::str(owned->spec.name.c_str())] =
          nb::ndarray<nb::numpy>(owned->data.data(), shape.size(), shape.data(), owner, nullptr,
                                 dlpack_dtype(owned->spec.dtype))
              .cast();
    }
    return out;
  }

  std::vector<std::map<std::string, nb::object>> specs(const std::vector<TensorSpec>& v) const {
    std::vector<std::map<std::string, nb::object>> out;
    for (const auto& s : v)
      out.push_back({{"name", nb::str(s.name.c_str())},
                     {"dtype", nb::str(dtype_name(s.dtype).c_str())},
                     {"shape", nb::cast(s.dims)}});
    return out;
  }
  auto inputs() const { return specs(pipeline_->inputs()); }
  auto outputs() const { return specs(pipeline_->outputs()); }
  auto cut() const { return specs(pipeline_->cut()); }
  std::map<std::string, double> timing() const {
    const auto& t = frame_.timing;
    return {{"stage1_ms", t.stage1_ms}, {"stage2_ms", t.stage2_ms}, {"total_ms", t.total_ms}};
  }

 private:
  std::string input_names() const {
    std::string s;
    for (const auto& t : pipeline_->inputs()) s += (s.empty() ? "" : ", ") + t.name;
    return s;
  }
  static void check_array(const AnyArray& a, const TensorSpec& spec) {
    std::vector<int64_t> dims;
    for (size_t d = 0; d < a.ndim(); ++d) dims.push_back(int64_t(a.shape(d)));
    bool contiguous = true;
    int64_t expect = 1;
    for (size_t d = a.ndim(); d-- > 0;) {
      if (a.shape(d) != 1 && a.stride(d) != expect) contiguous = false;
      expect *= int64_t(a.shape(d));
    }
    const auto want = dlpack_dtype(spec.dtype);
    const auto got = a.dtype();
    std::string got_text = fmt::format("{}{}", got.code == uint8_t(nb::dlpack::dtype_code::Float) ? "float" : "int/uint/bool ",
                                       int(got.bits));
    if (!(got == want) || dims != spec.dims)
      fail("input '{}': the model takes {}, the array is {} bits {} (convert it first, e.g. "
           "np.ascontiguousarray(x, dtype=np.float32))",
           spec.name, spec_str(spec), got_text, dims_str(dims));
    if (!contiguous) fail("input '{}': the array is not C-contiguous (np.ascontiguousarray(x) first)", spec.name);
  }

  ArrayInputStage* stage1_ = nullptr;  // owned by pipeline_
  std::unique_ptr<TwoStagePipeline> pipeline_;
  Frame frame_;
};

}  // namespace
}  // namespace npusplit

NB_MODULE(_npusplit, m) {
  using namespace npusplit;
  m.doc() = "npusplit's C++ library (use the npusplit package, not this module)";
  // Kept for the life of the process (never released: a static nb::object would be freed after
  // the interpreter is gone).
  static PyObject* error_type = PyErr_NewException("npusplit.Error", PyExc_RuntimeError, nullptr);
  m.attr("Error") = nb::handle(error_type);
  // Every C++ exception becomes npusplit.Error with the line the CLI prints after "npusplit: error: ".
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const nb::python_error&) {
      throw;
    } catch (const nb::builtin_exception&) {
      throw;
    } catch (const std::exception& e) {
      PyErr_SetString(error_type, describe_exception(e).c_str());
    }
  });

  m.attr("__version__") = kVersion;
  m.def("onnxruntime_version", &ort_version);
  m.def("known_targets", &known_targets);

  nb::class_<LoadedModel>(m, "LoadedModel")
      .def_ro("path", &LoadedModel::path)
      .def_ro("file_bytes", &LoadedModel::file_bytes);
  m.def("load", &load, "path"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("info_json", &info_json_of, "model"_a, "input_shapes"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("check_json", &check_json_of, "model"_a, "target"_a, "dfc"_a, "parser_log"_a, "input_shapes"_a,
        nb::call_guard<nb::gil_scoped_release>());
  m.def("fix_json", &fix_json_of, "model"_a, "out"_a, "target"_a, "passes"_a, "input_shapes"_a, "verify"_a,
        "random"_a, "images"_a, "tolerance"_a.none(), nb::call_guard<nb::gil_scoped_release>());
  m.def("split_json", &split_json_of, "model"_a, "out_dir"_a, "target"_a, "dfc"_a, "cut"_a, "pack"_a, "fix"_a,
        "passes"_a, "input_shapes"_a, "verify"_a, "random"_a, "images"_a, "tolerance"_a, "stem"_a,
        "allow_suspect"_a, "fused_host"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("verify_json", &verify_json_of, "original"_a, "stage1"_a, "stage2"_a, "random"_a, "images"_a,
        "tolerance"_a, "input_shapes"_a, nb::call_guard<nb::gil_scoped_release>());

  nb::class_<PyPipeline>(m, "Pipeline")
      .def(nb::init<const std::string&, const std::string&, const Shapes&, int, bool>(), "stage1"_a, "stage2"_a,
           "input_shapes"_a, "threads"_a, "fused_host"_a, nb::call_guard<nb::gil_scoped_release>())
      .def("run", &PyPipeline::run, "inputs"_a)
      .def_prop_ro("inputs", &PyPipeline::inputs)
      .def_prop_ro("outputs", &PyPipeline::outputs)
      .def_prop_ro("cut", &PyPipeline::cut)
      .def_prop_ro("timing", &PyPipeline::timing);
}
