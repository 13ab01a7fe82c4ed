// The ONNX Runtime side of the fused deformable attention: attributes, shape checks, and the
// split of the output rows over ORT's intra-op thread pool (so `--threads` governs it too).
#include "npusplit/ort/msda_op.h"

#include <fmt/format.h>

#include <numeric>
#include <string>
#include <vector>

#include "npusplit/ort/msda_kernel.h"

namespace npusplit {

namespace {

OrtStatusPtr error_status(const std::string& msg) {
  return Ort::Status(fmt::format("{}: {}", kMsdaOpType, msg).c_str(), ORT_INVALID_ARGUMENT).release();
}

struct MsdaKernel {
  std::vector<int64_t> points, shapes, starts;
  std::vector<float> point_scale;  // [H, P, 2] with reference boxes
  float offset_scale = 0.5f;
  bool boxes = false;              // the first value-slot input is the reference boxes
  bool bshc = false, unit = true, softmax = false, align = false;
  MsdaPadding padding = MsdaPadding::zeros;

  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    try {
      return compute(Ort::KernelContext(context));
    } catch (const std::exception& e) {
      return error_status(e.what());
    }
  }

  OrtStatusPtr compute(Ort::KernelContext ctx) {
    const size_t n_in = ctx.GetInputCount();
    if (n_in < 3) return error_status("needs locations, weights and at least one value tensor");
    auto loc = ctx.GetInput(0);
    auto wts = ctx.GetInput(1);
    const auto ls = loc.GetTensorTypeAndShapeInfo().GetShape();
    const auto ws = wts.GetTensorTypeAndShapeInfo().GetShape();
    const size_t L = points.size();
    if (ls.size() != 5 || ls[4] != 2) return error_status(fmt::format("locations must be [B,Q,H,P,2], got rank {}", ls.size()));
    const int64_t B = ls[0], Q = ls[1], H = ls[2], P = ls[3];
    if (ws != std::vector<int64_t>{B, Q, H, P}) return error_status("weights must be [B,Q,H,P] like the locations");
    if (std::accumulate(points.begin(), points.end(), int64_t{0}) != P)
      return error_status(fmt::format("points_per_level sums to {}, the locations have P={}",
                                      std::accumulate(points.begin(), points.end(), int64_t{0}), P));

    MsdaProblem p;
    size_t first_value = 2;
    if (boxes) {
      auto r = ctx.GetInput(2);
      if (r.GetTensorTypeAndShapeInfo().GetElementCount() != size_t(B * Q * 4))
        return error_status("the reference boxes must hold B*Q*4 values");
      if (point_scale.size() != size_t(H * P * 2)) return error_status("point_scale must hold H*P*2 values");
      p.reference = r.GetTensorData<float>();
      p.point_scale = point_scale.data();
      p.offset_scale = offset_scale;
      first_value = 3;
    }
    p.batch = B;
    p.queries = Q;
    p.heads = H;
    p.unit_locations = unit;
    p.softmax = softmax;
    p.align_corners = align;
    p.padding = padding;
    p.locations = loc.GetTensorData<float>();
    p.weights = wts.GetTensorData<float>();
    if (n_in <= first_value) return error_status("no value tensor");
    if (bshc) {
      if (n_in != first_value + 1) return error_status("value_layout bshc takes one value tensor");
      auto v = ctx.GetInput(first_value);
      const auto vs = v.GetTensorTypeAndShapeInfo().GetShape();
      if (vs.size() != 4 || vs[0] != B || vs[2] != H) return error_status("value must be [B,S,H,C]");
      const int64_t S = vs[1], C = vs[3];
      p.channels = C;
      const float* base = v.GetTensorData<float>();
      int64_t start = 0;
      for (size_t l = 0; l < L; ++l) {
        const int64_t h = shapes[2 * l], w = shapes[2 * l + 1];
        if (!starts.empty()) start = starts[l];
        if (start < 0 || start + h * w > S)
          return error_status(fmt::format("level {} ({}x{} from pixel {}) exceeds the value's {} pixels", l, h, w, start, S));
        p.levels.push_back({base + start * H * C, h, w, points[l], S * H * C, C, H * C});
        start += h * w;
      }
    } else {
      if (n_in != first_value + L)
        return error_status(fmt::format("{} value tensors for {} levels", n_in - first_value, L));
      for (size_t l = 0; l < L; ++l) {
        auto v = ctx.GetInput(first_value + l);
        const auto vs = v.GetTensorTypeAndShapeInfo().GetShape();
        if (vs.size() != 4 || vs[0] != B * H) return error_status(fmt::format("value {} must be [B*H,h,w,C]", l));
        if (l == 0) p.channels = vs[3];
        if (vs[3] != p.channels) return error_status("the value levels differ in channels");
        if (!shapes.empty() && (vs[1] != shapes[2 * l] || vs[2] != shapes[2 * l + 1]))
          return error_status(fmt::format("value {} is {}x{}, spatial_shapes says {}x{}", l, vs[1], vs[2], shapes[2 * l],
                                          shapes[2 * l + 1]));
        const int64_t hwc = vs[1] * vs[2] * vs[3];
        p.levels.push_back({v.GetTensorData<float>(), vs[1], vs[2], points[l], H * hwc, hwc, vs[3]});
      }
    }
    const int64_t C = p.channels;
    auto out = ctx.GetOutput(0, std::vector<int64_t>{B, Q, H * C});
    p.out = out.GetTensorMutableData<float>();
    if (auto why = msda_check(p); !why.empty()) return error_status(why);

    run_parallel(ctx, p);
    return nullptr;
  }

  static void run_parallel(Ort::KernelContext& ctx, const MsdaProblem& p) {
    const int64_t rows = p.batch * p.queries;
    constexpr int64_t kRowsPerTask = 8;
    struct Job {
      const MsdaProblem* p;
      int64_t rows;
    } job{&p, rows};
    const size_t tasks = size_t((rows + kRowsPerTask - 1) / kRowsPerTask);
    ctx.ParallelFor(
        [](void* data, size_t i) {
          const auto* j = static_cast<const Job*>(data);
          const int64_t b = int64_t(i) * kRowsPerTask;
          msda_compute_rows(*j->p, b, std::min(j->rows, b + kRowsPerTask));
        },
        tasks, 0, &job);
  }
};

struct MsdaOp : Ort::CustomOpBase<MsdaOp, MsdaKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    try {
      Ort::ConstKernelInfo ki(info);
      auto k = std::make_unique<MsdaKernel>();
      k->points = ki.GetAttributes<int64_t>("points_per_level");
      k->shapes = optional_ints(ki, "spatial_shapes");
      k->starts = optional_ints(ki, "level_starts");
      k->bshc = optional_string(ki, "value_layout", "bhwc") == "bshc";
      k->unit = optional_int(ki, "unit_locations", 1) != 0;
      k->softmax = optional_int(ki, "softmax", 0) != 0;
      const std::string mode = optional_string(ki, "location_mode", "points");
      if (mode != "points" && mode != "boxes") return error_status("location_mode must be points or boxes, not " + mode);
      k->boxes = mode == "boxes";
      if (k->boxes) {
        k->point_scale = ki.GetAttributes<float>("point_scale");
        k->offset_scale = optional_float(ki, "offset_scale", 0.5f);
      }
      k->align = optional_int(ki, "align_corners", 0) != 0;
      const std::string pad = optional_string(ki, "padding_mode", "zeros");
      if (pad == "border") k->padding = MsdaPadding::border;
      else if (pad != "zeros") return error_status("padding_mode must be zeros or border, not " + pad);
      const std::string layout = optional_string(ki, "value_layout", "bhwc");
      if (layout != "bhwc" && layout != "bshc") return error_status("value_layout must be bhwc or bshc, not " + layout);
      if (k->points.empty()) return error_status("points_per_level is empty");
      if (k->bshc && k->shapes.size() != 2 * k->points.size())
        return error_status("value_layout bshc needs spatial_shapes (h, w per level)");
      if (!k->shapes.empty() && k->shapes.size() != 2 * k->points.size())
        return error_status("spatial_shapes needs two values per level");
      if (!k->starts.empty() && k->starts.size() != k->points.size())
        return error_status("level_starts needs one value per level");
      *kernel = k.release();
      return nullptr;
    } catch (const std::exception& e) {
      return error_status(e.what());
    }
  }

  const char* GetName() const { return kMsdaOpType; }
  size_t GetInputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t i) const {
    return i == 2 ? INPUT_OUTPUT_VARIADIC : INPUT_OUTPUT_REQUIRED;
  }
  int GetVariadicInputMinArity() const { return 1; }
  bool GetVariadicInputHomogeneity() const { return true; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }

 private:
  static std::vector<int64_t> optional_ints(const Ort::ConstKernelInfo& ki, const char* name) {
    try {
      return ki.GetAttributes<int64_t>(name);
    } catch (const Ort::Exception&) {
      return {};
    }
  }
  static float optional_float(const Ort::ConstKernelInfo& ki, const char* name, float fallback) {
    try {
      return ki.GetAttribute<float>(name);
    } catch (const Ort::Exception&) {
      return fallback;
    }
  }
  static int64_t optional_int(const Ort::ConstKernelInfo& ki, const char* name, int64_t fallback) {
    try {
      return ki.GetAttribute<int64_t>(name);
    } catch (const Ort::Exception&) {
      return fallback;
    }
  }
  static std::string optional_string(const Ort::ConstKernelInfo& ki, const char* name, const std::string& fallback) {
    try {
      return ki.GetAttribute<std::string>(name);
    } catch (const Ort::Exception&) {
      return fallback;
    }
  }
};

}  // namespace

void add_host_ops(Ort::SessionOptions& so) {
  // ORT keeps pointers to the domain and the op for as long as any session lives: both are
  // made once and never freed.
  static MsdaOp* op = new MsdaOp();
  static Ort::CustomOpDomain* domain = [] {
    auto* d = new Ort::CustomOpDomain(kHostOpDomain);
    d->Add(op);
    return d;
  }();
  so.Add(*domain);
}

}  // namespace npusplit
