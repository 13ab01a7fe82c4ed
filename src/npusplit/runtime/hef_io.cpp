#include "npusplit/runtime/hef_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "npusplit/error.h"

namespace npusplit {

using nlohmann::json;

HefInput parse_hef_input(const std::string& s) {
  if (s == "uint8") return HefInput::uint8;
  if (s == "float32") return HefInput::float32;
  fail("--hef-input: must be uint8 or float32, got '{}'", s);
}

const char* hef_input_name(HefInput h) { return h == HefInput::uint8 ? "uint8" : "float32"; }

std::vector<CrossingEnd> crossing_ends(const json& manifest, const std::string& what) {
  if (!manifest.contains("crossing") || !manifest["crossing"].is_array() || manifest["crossing"].empty())
    fail("{}: the manifest lists no crossing tensors", what);
  std::vector<CrossingEnd> out;
  for (const auto& c : manifest["crossing"]) {
    CrossingEnd e;
    e.tensor = c.value("name", std::string());
    if (e.tensor.empty()) fail("{}: a crossing tensor without a name", what);
    if (!c.contains("end_nodes") || !c["end_nodes"].is_array() || c["end_nodes"].empty())
      fail("{}: crossing tensor '{}' has no end_nodes (a manifest from before they were recorded: split again) -- "
           "without them HEF outputs cannot be matched to stage2's inputs",
           what, e.tensor);
    for (const auto& n : c["end_nodes"]) {
      if (!n.is_string() || n.get<std::string>().empty()) fail("{}: crossing tensor '{}': end_nodes must be node names", what, e.tensor);
      e.end_nodes.push_back(n.get<std::string>());
    }
    out.push_back(std::move(e));
  }
  return out;
}

HefInputRecord hef_input_record(const json& manifest) {
  HefInputRecord r;
  if (!manifest.contains("stage1") || !manifest["stage1"].contains("hef_input")) return r;
  const auto& h = manifest["stage1"]["hef_input"];
  r.format = parse_hef_input(h.value("format", std::string("uint8")));
  const auto triplet = [&](const char* key, std::array<float, 3>& out) {
    if (!h.contains(key)) return;
    if (!h[key].is_array() || h[key].size() != 3) fail("manifest stage1.hef_input.{}: three numbers expected", key);
    for (size_t i = 0; i < 3; ++i) out[i] = h[key][i].get<float>();
  };
  triplet("mean", r.norm.mean);
  triplet("std", r.norm.std);
  for (float s : r.norm.std)
    if (!(s > 0)) fail("manifest stage1.hef_input.std: every value must be > 0");
  return r;
}

std::map<std::string, std::string> map_hef_outputs(const std::vector<CrossingEnd>& crossing,
                                                   const std::vector<HefOutputNames>& outputs, const std::string& hef) {
  std::map<std::string, std::string> node_to_tensor;
  for (const auto& c : crossing)
    for (const auto& n : c.end_nodes) node_to_tensor[n] = c.tensor;
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> carried_by;  // tensor -> HEF output
  for (const auto& h : outputs) {
    std::set<std::string> tensors;
    for (const auto& o : h.original_names)
      if (auto it = node_to_tensor.find(o); it != node_to_tensor.end()) tensors.insert(it->second);
    if (tensors.empty()) {
      std::string names;
      for (const auto& o : h.original_names) names += (names.empty() ? "" : ", ") + o;
      fail("{}: HEF output '{}' (original names: {}) is none of the manifest's crossing tensors' end nodes: a HEF of "
           "another split?",
           hef, h.name, names.empty() ? "none" : names);
    }
    if (tensors.size() > 1)
      fail("{}: HEF output '{}' carries the end nodes of {} crossing tensors ({}, {}): ambiguous", hef, h.name,
           tensors.size(), *tensors.begin(), *std::next(tensors.begin()));
    const std::string& t = *tensors.begin();
    if (auto it = carried_by.find(t); it != carried_by.end())
      fail("{}: HEF outputs '{}' and '{}' both carry crossing tensor '{}': ambiguous", hef, it->second, h.name, t);
    carried_by[t] = h.name;
    out[h.name] = t;
  }
  for (const auto& c : crossing)
    if (!carried_by.count(c.tensor))
      fail("{}: no HEF output carries crossing tensor '{}' (end node {}): stage2 needs it", hef, c.tensor,
           c.end_nodes.front());
  return out;
}

onnx::ModelProto prepend_pixel_normalization(const onnx::ModelProto& stage1, const PixelNormalization& n) {
  onnx::ModelProto m = stage1;
  auto* g = m.mutable_graph();
  int image = -1;
  for (int i = 0; i < g->input_size(); ++i) {
    const auto& t = g->input(i).type().tensor_type();
    if (t.elem_type() == onnx::TensorProto::FLOAT && t.shape().dim_size() == 4 && t.shape().dim(1).dim_value() == 3) {
      image = i;
      break;
    }
  }
  if (image < 0) fail("stage1 has no float NCHW image input [1,3,H,W] to feed with pixels");
  const std::string name = g->input(image).name();
  const auto& shp = g->input(image).type().tensor_type().shape();
  const int64_t H = shp.dim(2).dim_value(), W = shp.dim(3).dim_value();
  const std::string px = name, f = name + "/npusplit_pixels/float", nchw = name + "/npusplit_pixels/nchw",
                    centred = name + "/npusplit_pixels/centred", mean = name + "/npusplit_pixels/mean",
                    stdv = name + "/npusplit_pixels/std", model_in = name + "/npusplit_pixels/normalized";
  // Every reader of the float input now reads the normalized pixels.
  for (auto& node : *g->mutable_node())
    for (auto& in : *node.mutable_input())
      if (in == name) in = model_in;
  for (auto& o : *g->mutable_output())
    if (o.name() == name) fail("stage1 returns its own input: nothing to prepend to");
  auto* vi = g->mutable_input(image);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::UINT8);
  auto* s = vi->mutable_type()->mutable_tensor_type()->mutable_shape();
  s->clear_dim();
  for (int64_t d : {int64_t(1), H, W, int64_t(3)}) s->add_dim()->set_dim_value(d);
  const auto constant = [&](const std::string& nm, const std::array<float, 3>& v) {
    auto* t = g->add_initializer();
    t->set_name(nm);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : {int64_t(1), int64_t(3), int64_t(1), int64_t(1)}) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
  };
  constant(mean, n.mean);
  constant(stdv, n.std);
  std::vector<onnx::NodeProto> pre(4);
  pre[0].set_op_type("Cast");
  pre[0].set_name(name + "/npusplit_pixels/Cast");
  pre[0].add_input(px);
  pre[0].add_output(f);
  auto* to = pre[0].add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx::TensorProto::FLOAT);
  pre[1].set_op_type("Transpose");
  pre[1].set_name(name + "/npusplit_pixels/Transpose");
  pre[1].add_input(f);
  pre[1].add_output(nchw);
  auto* perm = pre[1].add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  for (int64_t p : {0, 3, 1, 2}) perm->add_ints(p);
  pre[2].set_op_type("Sub");
  pre[2].set_name(name + "/npusplit_pixels/Sub");
  pre[2].add_input(nchw);
  pre[2].add_input(mean);
  pre[2].add_output(centred);
  pre[3].set_op_type("Div");
  pre[3].set_name(name + "/npusplit_pixels/Div");
  pre[3].add_input(centred);
  pre[3].add_input(stdv);
  pre[3].add_output(model_in);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& p : pre) *nodes.Add() = std::move(p);
  for (auto& node : *g->mutable_node()) *nodes.Add() = std::move(node);
  g->mutable_node()->Swap(&nodes);
  return m;
}

void float_nchw_to_pixels_nhwc(const HostTensor& in, const PixelNormalization& n, HostTensor& out) {
  const auto& d = in.spec.dims;
  if (d.size() != 4 || d[1] != 3 || in.spec.dtype != onnx::TensorProto::FLOAT)
    fail("pixel input: float [1,3,H,W] expected, got {}", spec_str(in.spec));
  const size_t H = size_t(d[2]), W = size_t(d[3]), plane = H * W;
  const float* src = in.as<float>();
  uint8_t* dst = out.as<uint8_t>();
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c) {
      const float v = std::nearbyint(src[c * plane + p] * n.std[c] + n.mean[c]);
      dst[p * 3 + c] = uint8_t(std::clamp(v, 0.0f, 255.0f));
    }
}

namespace {

class PixelFedStage final : public Stage {
 public:
  PixelFedStage(std::unique_ptr<Stage> inner, const PixelNormalization& n) : inner_(std::move(inner)), norm_(n) {
    const auto& ins = inner_->inputs();
    int image = -1;
    for (size_t i = 0; i < ins.size(); ++i)
      if (ins[i].dtype == onnx::TensorProto::UINT8 && ins[i].dims.size() == 4 && ins[i].dims[3] == 3) image = int(i);
    if (image < 0) fail("{}: no uint8 NHWC [1,H,W,3] pixel input", inner_->description());
    image_ = size_t(image);
    inputs_ = ins;
    const auto& d = ins[image_].dims;
    inputs_[image_].dtype = onnx::TensorProto::FLOAT;
    inputs_[image_].dims = {d[0], d[3], d[1], d[2]};
    pixels_ = HostTensor(ins[image_]);
  }
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return inner_->outputs(); }
  std::string backend() const override { return inner_->backend() + " (uint8 pixels)"; }
  std::string description() const override { return inner_->description(); }
  int fused_host_ops() const override { return inner_->fused_host_ops(); }
  void run(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) override {
    const auto t0 = std::chrono::steady_clock::now();
    check_io(in, out);
    float_nchw_to_pixels_nhwc(*in[image_], norm_, pixels_);
    std::vector<const HostTensor*> inner_in = in;
    inner_in[image_] = &pixels_;
    inner_->run(inner_in, out);
    timing_.inner_ms = inner_->last_timing().inner_ms;
    timing_.total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  std::unique_ptr<Stage> inner_;
  PixelNormalization norm_;
  size_t image_ = 0;
  std::vector<TensorSpec> inputs_;
  HostTensor pixels_;
};

}  // namespace

std::unique_ptr<Stage> make_pixel_fed_stage(std::unique_ptr<Stage> inner, const PixelNormalization& n) {
  return std::make_unique<PixelFedStage>(std::move(inner), n);
}

}  // namespace npusplit
