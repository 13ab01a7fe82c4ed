// The HailoRT stage: stage1 compiled to a HEF, run on a Hailo device through the InferModel API
// (the only API that serves both HailoRT 4.2x / Hailo-8 and 5.x / Hailo-10H; see
// research/hailort.md). Built only when HailoRT is found (src/CMakeLists.txt).
//
// Layout: HailoRT's host buffers are NHWC (FCR/F8CR are laid out the same on the host); the ONNX
// stage1 it replaces is NCHW. So the image input is transposed NCHW -> NHWC before the run and
// rank-4 outputs HWC -> CHW after it, each into page-aligned staging buffers that HailoRT has been
// bound to once. Outputs are requested as FLOAT32, so HailoRT de-quantizes (also per-channel
// quantized outputs, which InferModel cannot describe to us).
#include <hailo/hailort.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "npusplit/error.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/runtime/stage.h"
#include "npusplit/runtime/hef_io.h"

namespace npusplit {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

constexpr int32_t kFloat = 1;  // onnx::TensorProto::FLOAT
constexpr int32_t kUint8 = 2;  // onnx::TensorProto::UINT8
constexpr size_t kPage = 4096;

std::string status_text(hailo_status st) {
  const char* m = hailo_get_status_message(st);
  return fmt::format("{} (status {})", m ? m : "unknown error", static_cast<int>(st));
}

// Page-aligned, page-rounded host memory: HailoRT may DMA whole pages into output buffers.
class PageBuffer {
 public:
  explicit PageBuffer(size_t bytes) : size_(bytes) {
    const size_t rounded = std::max(kPage, (bytes + kPage - 1) / kPage * kPage);
    data_ = static_cast<float*>(std::aligned_alloc(kPage, rounded));
    if (!data_) fail("cannot allocate {} bytes for a HailoRT buffer", rounded);
    std::memset(data_, 0, rounded);
  }
  ~PageBuffer() { std::free(data_); }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

struct OutputMap {
  std::string hef_name;
  uint32_t h = 0, w = 0, c = 0;  // HailoRT's host shape (NHWC)
  bool transpose = false;        // rank-4 NCHW on our side
  std::unique_ptr<PageBuffer> buf;
};

std::string hef_shape_str(const hailo_3d_image_shape_t& s) {
  return fmt::format("{}x{}x{} (HxWxC)", s.height, s.width, s.features);
}

std::string base_name(const std::string& n) {
  const auto p = n.rfind('/');
  return p == std::string::npos ? n : n.substr(p + 1);
}

// Can a HEF output of host shape S be delivered as SPEC? Sets TRANSPOSE for NCHW [1,C,H,W].
bool shape_fits(const hailo_3d_image_shape_t& s, const TensorSpec& spec, bool& transpose) {
  const int64_t n = int64_t(s.height) * s.width * s.features;
  const auto& d = spec.dims;
  if (spec.dtype != kFloat || spec.numel() != n) return false;
  if (d.size() == 4) {
    transpose = true;
    return d[0] == 1 && d[1] == s.features && d[2] == s.height && d[3] == s.width;
  }
  // [1,N,C] tokens arrive as 1xNxC, [1,C] as 1x1xC: the same bytes, no reordering.
  transpose = false;
  return !d.empty() && d.back() == s.features;
}

class HailoStage final : public Stage {
 public:
  HailoStage(const std::filesystem::path& hef, const HailoStageOptions& o) : path_(hef.string()), opt_(o) {
    if (!std::filesystem::exists(hef)) fail("{}: no such file", path_);
    if (opt_.timeout_ms <= 0) opt_.timeout_ms = 10000;

    auto vdev = hailort::VDevice::create();
    if (!vdev) fail("{}: cannot open a Hailo device: {}", path_, status_text(vdev.status()));
    vdevice_ = vdev.release();

    auto model = vdevice_->create_infer_model(path_, opt_.network_group);
    if (!model) fail("{}: HailoRT cannot load the HEF: {}", path_, status_text(model.status()));
    model_ = model.release();

    // Input: the image. We hand HailoRT floats and let it quantize.
    const auto& in_names = model_->get_input_names();
    if (in_names.size() != 1)
      fail("{}: the HEF has {} inputs; npusplit's Hailo stage1 takes exactly one (the image)", path_, in_names.size());
    in_name_ = in_names[0];
    {
      auto in = model_->input(in_name_);
      if (!in) fail("{}: input '{}': {}", path_, in_name_, status_text(in.status()));
      in->set_format_type(opt_.input_uint8 ? HAILO_FORMAT_TYPE_UINT8 : HAILO_FORMAT_TYPE_FLOAT32);
      in->set_format_order(HAILO_FORMAT_ORDER_NHWC);
      in_shape_ = in->shape();
    }
    TensorSpec is;
    is.name = opt_.input_name.empty() ? in_name_ : opt_.input_name;
    is.dtype = opt_.input_uint8 ? kUint8 : kFloat;
    is.dims = opt_.input_uint8
                  ? std::vector<int64_t>{1, int64_t(in_shape_.height), int64_t(in_shape_.width), int64_t(in_shape_.features)}
                  : std::vector<int64_t>{1, int64_t(in_shape_.features), int64_t(in_shape_.height), int64_t(in_shape_.width)};
    inputs_.push_back(is);

    // Outputs: FLOAT32 (HailoRT de-quantizes), host order left at its NHWC-like default.
    struct HefOut {
      std::string name;
      hailo_3d_image_shape_t shape;
      bool used = false;
    };
    std::vector<HefOut> hef_outs;
    for (const auto& name : model_->get_output_names()) {
      auto out = model_->output(name);
      if (!out) fail("{}: output '{}': {}", path_, name, status_text(out.status()));
      if (out->is_nms())
        fail("{}: output '{}' is an on-chip NMS output; a DETR stage1 ends at feature maps", path_, name);
      out->set_format_type(HAILO_FORMAT_TYPE_FLOAT32);
      hef_outs.push_back({name, out->shape(), false});
    }
    if (hef_outs.empty()) fail("{}: the HEF has no outputs", path_);
    // Which HEF output is which crossing tensor: by the original ONNX names HailoRT keeps.
    const bool by_names = !opt_.crossing_end_nodes.empty();
    if (by_names) {
      std::vector<CrossingEnd> ends;
      for (const auto& [t, nodes] : opt_.crossing_end_nodes) ends.push_back({t, nodes});
      std::vector<HefOutputNames> names;
      for (const auto& h : hef_outs) {
        auto orig = model_->hef().get_original_names_from_vstream_name(h.name);
        if (!orig) fail("{}: output '{}': no original names: {}", path_, h.name, status_text(orig.status()));
        names.push_back({h.name, orig.release()});
      }
      opt_.output_map = map_hef_outputs(ends, names, path_);
    }

    std::vector<TensorSpec> wanted = opt_.expected_outputs;
    if (wanted.empty()) {  // no ONNX side given: HEF names, NCHW
      for (const auto& h : hef_outs) {
        TensorSpec s;
        s.name = h.name;
        s.dtype = kFloat;
        s.dims = {1, int64_t(h.shape.features), int64_t(h.shape.height), int64_t(h.shape.width)};
        wanted.push_back(s);
      }
    }
    for (const auto& spec : wanted) {
      HefOut* pick = nullptr;
      bool transpose = false;
      auto try_pick = [&](HefOut& h) {
        bool t = false;
        if (h.used || !shape_fits(h.shape, spec, t)) return false;
        pick = &h;
        transpose = t;
        return true;
      };
      for (auto& h : hef_outs) {  // 1. explicit map
        auto it = opt_.output_map.find(h.name);
        if (it != opt_.output_map.end() && it->second == spec.name) {
          if (!try_pick(h))
            fail("{}: output '{}' {} cannot be '{}' {}", path_, h.name, hef_shape_str(h.shape), spec.name,
                 spec_str(spec));
          break;
        }
      }
      for (auto& h : hef_outs)  // 2. same name
        if (!pick && (h.name == spec.name || base_name(h.name) == spec.name)) try_pick(h);
      if (!pick && by_names)
        fail("{}: no HEF output carries stage2's input '{}' by the manifest's end nodes", path_, spec.name);
      if (!pick) {  // 3. the only unused output of a fitting shape
        std::vector<HefOut*> fits;
        for (auto& h : hef_outs) {
          bool t = false;
          if (!h.used && shape_fits(h.shape, spec, t)) fits.push_back(&h);
        }
        if (fits.size() > 1)
          fail("{}: {} HEF outputs fit '{}' {} by shape ({}, ...); name them with an output map", path_, fits.size(),
               spec.name, spec_str(spec), fits[0]->name);
        if (fits.size() == 1) try_pick(*fits[0]);
      }
      if (!pick) {
        std::string have;
        for (const auto& h : hef_outs)
          if (!h.used) have += (have.empty() ? "" : ", ") + h.name + " " + hef_shape_str(h.shape);
        fail("{}: no HEF output fits stage2's input '{}' {} (unused HEF outputs: {})", path_, spec.name,
             spec_str(spec), have.empty() ? "none" : have);
      }
      pick->used = true;
      OutputMap m;
      m.hef_name = pick->name;
      m.h = pick->shape.height;
      m.w = pick->shape.width;
      m.c = pick->shape.features;
      m.transpose = transpose;
      outmap_.push_back(std::move(m));
      outputs_.push_back(spec);
    }

    auto configured = model_->configure();
    if (!configured) fail("{}: HailoRT cannot configure the model: {}", path_, status_text(configured.status()));
    configured_ = configured.release();

    // Buffers and bindings: made and bound once; run() only fills and reads them.
    auto bindings = configured_.create_bindings();
    if (!bindings) fail("{}: HailoRT cannot create bindings: {}", path_, status_text(bindings.status()));
    bindings_ = bindings.release();
    {
      const size_t bytes = model_->input(in_name_)->get_frame_size();
      const size_t want = size_t(inputs_[0].numel()) * (opt_.input_uint8 ? 1 : sizeof(float));
      if (bytes != want)
        fail("{}: HailoRT input frame is {} bytes, {} expected for float {}", path_, bytes, want,
             hef_shape_str(in_shape_));
      in_buf_ = std::make_unique<PageBuffer>(bytes);
      const auto st = bindings_.input(in_name_)->set_buffer(hailort::MemoryView(in_buf_->data(), bytes));
      if (st != HAILO_SUCCESS) fail("{}: binding input '{}': {}", path_, in_name_, status_text(st));
    }
    for (auto& m : outmap_) {
      const size_t bytes = model_->output(m.hef_name)->get_frame_size();
      const size_t want = size_t(m.h) * m.w * m.c * sizeof(float);
      if (bytes != want)
        fail("{}: HailoRT output '{}' frame is {} bytes, {} expected for float {}x{}x{}", path_, m.hef_name, bytes,
             want, m.h, m.w, m.c);
      m.buf = std::make_unique<PageBuffer>(bytes);
      const auto st = bindings_.output(m.hef_name)->set_buffer(hailort::MemoryView(m.buf->data(), bytes));
      if (st != HAILO_SUCCESS) fail("{}: binding output '{}': {}", path_, m.hef_name, status_text(st));
    }
    // HEF outputs stage2 does not read still need a buffer: HailoRT writes every output.
    for (const auto& h : hef_outs) {
      if (h.used) continue;
      const size_t bytes = model_->output(h.name)->get_frame_size();
      unused_bufs_.push_back(std::make_unique<PageBuffer>(bytes));
      const auto st =
          bindings_.output(h.name)->set_buffer(hailort::MemoryView(unused_bufs_.back()->data(), bytes));
      if (st != HAILO_SUCCESS) fail("{}: binding output '{}': {}", path_, h.name, status_text(st));
    }
  }

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::string backend() const override { return "hailort"; }
  std::string description() const override { return path_; }

  void run(const std::vector<const HostTensor*>& in, std::vector<HostTensor>& out) override {
    const auto t0 = Clock::now();
    check_io(in, out);
    // NCHW -> NHWC (and the optional scale), into the bound input buffer; uint8 pixels are NHWC already.
    if (opt_.input_uint8) {
      std::memcpy(in_buf_->data(), in[0]->data.data(), in[0]->data.size());
    } else {
      const float* src = in[0]->as<float>();
      float* dst = in_buf_->data();
      const size_t C = in_shape_.features, H = in_shape_.height, W = in_shape_.width, HW = H * W;
      const float k = opt_.input_scale;
      for (size_t p = 0; p < HW; ++p)
        for (size_t c = 0; c < C; ++c) dst[p * C + c] = src[c * HW + p] * k;
    }
    const auto t1 = Clock::now();
    const hailo_status st = configured_.run(bindings_, std::chrono::milliseconds(opt_.timeout_ms));
    const auto t2 = Clock::now();
    if (st != HAILO_SUCCESS) fail("{}: HailoRT inference failed: {}", path_, status_text(st));
    // HWC -> CHW for rank-4 outputs; a plain copy otherwise.
    for (size_t i = 0; i < outmap_.size(); ++i) {
      const OutputMap& m = outmap_[i];
      const float* src = m.buf->data();
      float* dst = out[i].as<float>();
      if (!m.transpose) {
        std::memcpy(dst, src, out[i].data.size());
        continue;
      }
      const size_t C = m.c, HW = size_t(m.h) * m.w;
      for (size_t p = 0; p < HW; ++p) {
        const float* px = src + p * C;
        for (size_t c = 0; c < C; ++c) dst[c * HW + p] = px[c];
      }
    }
    timing_.inner_ms = ms_between(t1, t2);
    timing_.total_ms = ms_between(t0, Clock::now());
  }

 private:
  std::string path_;
  HailoStageOptions opt_;
  std::vector<TensorSpec> inputs_, outputs_;
  std::string in_name_;
  hailo_3d_image_shape_t in_shape_{};
  // Buffers first: members are destroyed in reverse order, so these outlive the HailoRT objects.
  std::unique_ptr<PageBuffer> in_buf_;
  std::vector<OutputMap> outmap_;
  std::vector<std::unique_ptr<PageBuffer>> unused_bufs_;
  std::unique_ptr<hailort::VDevice> vdevice_;
  std::shared_ptr<hailort::InferModel> model_;
  hailort::ConfiguredInferModel configured_;
  hailort::ConfiguredInferModel::Bindings bindings_;
};

}  // namespace

std::unique_ptr<Stage> make_hailo_stage(const std::filesystem::path& hef, const HailoStageOptions& o) {
  return std::make_unique<HailoStage>(hef, o);
}

}  // namespace npusplit
