#include "npusplit/detect/preprocess_record.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "npusplit/error.h"
#include "npusplit/io/split_manifest.h"

namespace npusplit {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_constant(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return true;
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& o : n.output())
        if (o == name) return true;
  return false;
}

std::vector<int64_t> dims_of(const onnx::ValueInfoProto& vi) {
  std::vector<int64_t> d;
  for (const auto& x : vi.type().tensor_type().shape().dim()) d.push_back(x.has_dim_value() ? x.dim_value() : -1);
  return d;
}

json triplet_json(const std::optional<std::array<float, 3>>& v) {
  if (!v) return nullptr;
  return json::array({(*v)[0], (*v)[1], (*v)[2]});
}

std::optional<std::array<float, 3>> triplet_from(const json& j, const std::string& key, const std::string& what) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const auto& a = j[key];
  if (!a.is_array() || a.size() != 3) fail("{}: preprocess.{} must be three numbers", what, key);
  std::array<float, 3> v{};
  for (size_t i = 0; i < 3; ++i) {
    if (!a[i].is_number()) fail("{}: preprocess.{} must be three numbers", what, key);
    v[i] = a[i].get<float>();
  }
  return v;
}

}  // namespace

std::array<float, 3> parse_triplet(const std::string& text, const std::string& option) {
  std::array<float, 3> v{};
  std::stringstream ss(text);
  std::string part;
  size_t k = 0;
  while (std::getline(ss, part, ',')) {
    if (k >= 3) fail("{}: expected three comma-separated numbers (R,G,B), got '{}'", option, text);
    size_t used = 0;
    float x = 0;
    try {
      x = std::stof(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || !std::isfinite(x))
      fail("{}: '{}' is not a number (expected R,G,B)", option, part);
    v[k++] = x;
  }
  if (k != 3) fail("{}: expected three comma-separated numbers (R,G,B), got '{}'", option, text);
  return v;
}

PreprocessOptions apply_overrides(PreprocessOptions base, const PreprocessOverrides& g) {
  if (g.letterbox) base.letterbox = *g.letterbox;
  if (g.bgr) base.bgr = *g.bgr;
  if (g.scale) base.scale = *g.scale;
  if (g.mean) base.mean = g.mean;
  if (g.std) base.std = g.std;
  return base;
}

PreprocessRecord detect_preprocess(const onnx::ModelProto& model, const PreprocessOverrides& given) {
  PreprocessRecord r;
  const auto& g = model.graph();
  std::set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  for (const auto& vi : g.input()) {
    if (inits.count(vi.name())) continue;
    if (vi.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) continue;
    const auto d = dims_of(vi);
    if (d.size() != 4) continue;
    if (d[1] == 3) {
      r.layout = "NCHW";
      r.height = int(d[2]);
      r.width = int(d[3]);
    } else if (d[3] == 3) {
      r.layout = "NHWC";
      r.height = int(d[1]);
      r.width = int(d[2]);
    } else {
      continue;
    }
    r.input = vi.name();
    break;
  }
  if (r.input.empty()) fail("the model has no float image input [N,3,H,W] or [N,H,W,3] to record preprocessing for");
  r.source["size"] = r.source["layout"] = "model";
  if (r.width <= 0 || r.height <= 0) r.notes.push_back("the input size is dynamic in the model: give --input-shape");

  // A model that normalizes its own input (Sub/Div/Mul/Add by a constant right at the input)
  // must not be given mean/std again.
  for (const auto& n : g.node()) {
    bool reads = false;
    for (const auto& in : n.input()) reads |= in == r.input;
    if (!reads) continue;
    static const std::set<std::string> affine = {"Sub", "Div", "Mul", "Add"};
    if (!affine.count(n.op_type())) continue;
    for (const auto& in : n.input())
      if (in != r.input && is_constant(g, in)) {
        r.notes.push_back(fmt::format("the model normalizes its input itself ({} '{}' by a constant): give no "
                                      "--mean/--std unless they come before it",
                                      n.op_type(), n.name()));
        r.source["model_normalization"] = "model";
        break;
      }
  }

  r.options = apply_overrides(PreprocessOptions{}, given);
  const auto src = [&](const char* field, bool g) { r.source[field] = g ? "given" : "default"; };
  src("resize", bool(given.letterbox));
  src("channels", bool(given.bgr));
  src("scale", bool(given.scale));
  src("mean", bool(given.mean));
  src("std", bool(given.std));
  if (given.empty())
    r.notes.push_back("resize, channels, scale and mean/std are the DETR export convention (RGB, /255, plain resize, "
                      "no mean/std); give --letterbox/--bgr/--scale/--mean/--std if the model was trained otherwise");
  return r;
}

std::string preprocess_text(const PreprocessOptions& o) {
  std::string s = fmt::format("{}, {}, /{:g}", o.bgr ? "BGR" : "RGB", o.letterbox ? "letterbox" : "plain resize", o.scale);
  if (o.mean) s += fmt::format(", mean {:g},{:g},{:g}", (*o.mean)[0], (*o.mean)[1], (*o.mean)[2]);
  if (o.std) s += fmt::format(", std {:g},{:g},{:g}", (*o.std)[0], (*o.std)[1], (*o.std)[2]);
  return s;
}

json preprocess_json(const PreprocessRecord& r) {
  const auto& o = r.options;
  json j = {{"input", r.input},
            {"width", r.width},
            {"height", r.height},
            {"layout", r.layout},
            {"resize", o.letterbox ? "letterbox" : "stretch"},
            {"channels", o.bgr ? "BGR" : "RGB"},
            {"scale", o.scale},
            {"mean", triplet_json(o.mean)},
            {"std", triplet_json(o.std)},
            {"formula", "input = (pixel / scale - mean) / std, per channel in the model's order, after the resize"},
            {"source", r.source},
            {"notes", r.notes}};
  return j;
}

PreprocessRecord preprocess_from_json(const json& j, const std::string& what) {
  if (!j.is_object()) fail("{}: preprocess must be an object", what);
  PreprocessRecord r;
  try {
    r.input = j.at("input").get<std::string>();
    r.width = j.at("width").get<int>();
    r.height = j.at("height").get<int>();
    r.layout = j.value("layout", std::string("NCHW"));
    const std::string resize = j.value("resize", std::string("stretch"));
    if (resize != "stretch" && resize != "letterbox") fail("{}: preprocess.resize must be stretch or letterbox", what);
    r.options.letterbox = resize == "letterbox";
    const std::string ch = j.value("channels", std::string("RGB"));
    if (ch != "RGB" && ch != "BGR") fail("{}: preprocess.channels must be RGB or BGR", what);
    r.options.bgr = ch == "BGR";
    r.options.scale = j.value("scale", 255.0f);
    r.options.mean = triplet_from(j, "mean", what);
    r.options.std = triplet_from(j, "std", what);
    if (j.contains("source") && j["source"].is_object())
      for (const auto& [k, v] : j["source"].items())
        if (v.is_string()) r.source[k] = v.get<std::string>();
    if (j.contains("notes") && j["notes"].is_array())
      for (const auto& n : j["notes"])
        if (n.is_string()) r.notes.push_back(n.get<std::string>());
  } catch (const json::exception&) {
    fail("{}: preprocess record is malformed (needs input, width, height)", what);
  }
  if (!(r.options.scale > 0) || !std::isfinite(r.options.scale)) fail("{}: preprocess.scale must be positive", what);
  if (r.options.std)
    for (float s : *r.options.std)
      if (!(s != 0) || !std::isfinite(s)) fail("{}: preprocess.std must be non-zero", what);
  return r;
}

json load_split_manifest(const fs::path& path) { return read_split_manifest(path).doc; }

std::optional<fs::path> manifest_beside_stage1(const fs::path& stage1) {
  const std::string name = stage1.filename().string();
  const std::string suffix = "_stage1.onnx";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const fs::path m = stage1.parent_path() / (name.substr(0, name.size() - suffix.size()) + "_split.json");
  std::error_code ec;
  if (!fs::is_regular_file(m, ec)) return std::nullopt;
  try {
    const json j = load_split_manifest(m);
    if (j["stage1"]["file"].get<std::string>() != name) return std::nullopt;
  } catch (const Error&) {
    return std::nullopt;
  }
  return m;
}

PreprocessRecord manifest_preprocess(const json& manifest, const fs::path& path) {
  if (manifest.contains("preprocess")) return preprocess_from_json(manifest["preprocess"], path.string());
  PreprocessRecord r;
  r.notes.push_back("the manifest predates the preprocess record: the DETR export convention is assumed");
  r.source["all"] = "default";
  return r;
}

}  // namespace npusplit
