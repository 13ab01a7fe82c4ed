#include "npusplit/detect/postprocess.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "npusplit/error.h"
#include "npusplit/ir/tensor_info.h"

namespace npusplit {

namespace {

using TP = onnx::TensorProto;

const TensorSpec* spec_named(const std::vector<TensorSpec>& v, const std::string& name) {
  for (const auto& s : v)
    if (s.name == name) return &s;
  return nullptr;
}

const HostTensor* tensor_named(const std::vector<HostTensor>& v, const std::string& name) {
  for (const auto& t : v)
    if (t.name() == name) return &t;
  return nullptr;
}

bool is_user_layout(const TensorSpec& s) {
  return s.dtype == TP::FLOAT && s.dims.size() == 3 && s.dims[2] == 6;
}

// The user-layout tensor: by name, or the only float [N,Q,6] output.
const TensorSpec* user_spec(const std::vector<TensorSpec>& outputs) {
  if (const auto* s = spec_named(outputs, "label_xyxy_score"); s && is_user_layout(*s)) return s;
  const TensorSpec* found = nullptr;
  for (const auto& s : outputs)
    if (is_user_layout(s)) {
      if (found) return nullptr;
      found = &s;
    }
  return found;
}

std::string outputs_str(const std::vector<TensorSpec>& v) {
  std::string s;
  for (const auto& t : v) s += (s.empty() ? "" : ", ") + t.name + " " + dtype_name(t.dtype) + " " + dims_str(t.dims);
  return s;
}

float clampf(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

std::string layout_name(DetrLayout l) {
  return l == DetrLayout::LabelXyxyScore ? "label_xyxy_score" : "official (labels, boxes, scores)";
}

DetrLayout detr_layout(const std::vector<TensorSpec>& outputs) {
  const auto* labels = spec_named(outputs, "labels");
  const auto* boxes = spec_named(outputs, "boxes");
  const auto* scores = spec_named(outputs, "scores");
  if (labels && boxes && scores) {
    const bool ok = labels->dims.size() == 2 && boxes->dims.size() == 3 && boxes->dims[2] == 4 &&
                    scores->dims.size() == 2 && boxes->dtype == TP::FLOAT && scores->dtype == TP::FLOAT &&
                    (labels->dtype == TP::INT64 || labels->dtype == TP::INT32 || labels->dtype == TP::FLOAT) &&
                    labels->dims == scores->dims && boxes->dims[0] == labels->dims[0] &&
                    boxes->dims[1] == labels->dims[1];
    if (!ok) fail("outputs labels/boxes/scores do not have the DETR shapes [N,Q], [N,Q,4], [N,Q] ({})", outputs_str(outputs));
    return DetrLayout::Official;
  }
  if (user_spec(outputs)) return DetrLayout::LabelXyxyScore;
  fail("model outputs are not a DETR detector's: expected label_xyxy_score [N,Q,6] or labels/boxes/scores; got {}",
       outputs_str(outputs));
}

bool is_orig_sizes_input(const TensorSpec& s) {
  return s.name == "orig_target_sizes" && (s.dtype == TP::INT64 || s.dtype == TP::INT32 || s.dtype == TP::FLOAT) &&
         s.dims.size() == 2 && s.dims[1] == 2;
}

void fill_orig_sizes(HostTensor& t, const ImageTransform& tr) {
  if (!is_orig_sizes_input(t.spec)) fail("input '{}' is not an [N,2] size input", t.name());
  const int64_t rows = t.spec.dims[0];
  for (int64_t r = 0; r < rows; ++r) {
    switch (t.spec.dtype) {
      case TP::INT64: t.as<int64_t>()[2 * r] = tr.src_w, t.as<int64_t>()[2 * r + 1] = tr.src_h; break;
      case TP::INT32: t.as<int32_t>()[2 * r] = tr.src_w, t.as<int32_t>()[2 * r + 1] = tr.src_h; break;
      default: t.as<float>()[2 * r] = float(tr.src_w), t.as<float>()[2 * r + 1] = float(tr.src_h); break;
    }
  }
}

void input_to_source(const ImageTransform& tr, float& x, float& y) {
  x = (x - tr.pad_x) / tr.scale_x;
  y = (y - tr.pad_y) / tr.scale_y;
}

std::vector<Detection> decode_detections(const std::vector<HostTensor>& outputs, const ImageTransform& tr,
                                         const DecodeOptions& o) {
  std::vector<TensorSpec> specs;
  for (const auto& t : outputs) specs.push_back(t.spec);
  const DetrLayout layout = detr_layout(specs);
  const auto& names = o.class_names.empty() ? coco80_names() : o.class_names;
  if (tr.scale_x <= 0 || tr.scale_y <= 0 || tr.dst_w <= 0 || tr.dst_h <= 0)
    fail("decode: the image transform is not set (model input size unknown)");

  std::vector<Detection> dets;
  auto add = [&](int cls, float score, float x1, float y1, float x2, float y2) {
    // x*, y* in model-input pixels here.
    if (!std::isfinite(score) || !std::isfinite(x1) || !std::isfinite(y1) || !std::isfinite(x2) || !std::isfinite(y2))
      return;
    if (score < o.threshold) return;
    input_to_source(tr, x1, y1);
    input_to_source(tr, x2, y2);
    if (x2 < x1) std::swap(x1, x2);
    if (y2 < y1) std::swap(y1, y2);
    if (o.clip) {
      x1 = clampf(x1, 0, float(tr.src_w));
      x2 = clampf(x2, 0, float(tr.src_w));
      y1 = clampf(y1, 0, float(tr.src_h));
      y2 = clampf(y2, 0, float(tr.src_h));
    }
    Detection d;
    d.class_id = cls;
    d.label = class_label(cls, names);
    d.score = score;
    d.x1 = x1, d.y1 = y1, d.x2 = x2, d.y2 = y2;
    dets.push_back(std::move(d));
  };

  if (layout == DetrLayout::LabelXyxyScore) {
    const auto* spec = user_spec(specs);
    const HostTensor& t = *tensor_named(outputs, spec->name);
    const int64_t q = t.spec.dims[1];
    const float* p = t.as<float>();  // batch item 0
    for (int64_t i = 0; i < q; ++i, p += 6) {
      if (!std::isfinite(p[0])) continue;
      add(static_cast<int>(std::lround(p[0])), p[5], p[1] * float(tr.dst_w), p[2] * float(tr.dst_h),
          p[3] * float(tr.dst_w), p[4] * float(tr.dst_h));
    }
  } else {
    const HostTensor& labels = *tensor_named(outputs, "labels");
    const HostTensor& boxes = *tensor_named(outputs, "boxes");
    const HostTensor& scores = *tensor_named(outputs, "scores");
    const int64_t q = labels.spec.dims[1];
    // Boxes are in pixels of orig_target_sizes, which the pipeline fills with the source size
    // (w, h): normalise by it, then map like the user layout (exact for stretch, and right for
    // letterbox, where the model saw the padded image).
    const float sx = float(tr.dst_w) / float(tr.src_w), sy = float(tr.dst_h) / float(tr.src_h);
    for (int64_t i = 0; i < q; ++i) {
      const double cls = element_as_double(labels, i);
      const float* b = boxes.as<float>() + 4 * i;
      add(static_cast<int>(std::lround(cls)), scores.as<float>()[i], b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy);
    }
  }
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return dets;
}

const std::vector<std::string>& coco80_names() {
  static const std::vector<std::string> names = {
      "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
      "train",         "truck",        "boat",          "traffic light", "fire hydrant", "stop sign",
      "parking meter", "bench",        "bird",          "cat",           "dog",          "horse",
      "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
      "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
      "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat", "baseball glove",
      "skateboard",    "surfboard",    "tennis racket", "bottle",        "wine glass",   "cup",
      "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
      "sandwich",      "orange",       "broccoli",      "carrot",        "hot dog",      "pizza",
      "donut",         "cake",         "chair",         "couch",         "potted plant", "bed",
      "dining table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
      "keyboard",      "cell phone",   "microwave",     "oven",          "toaster",      "sink",
      "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy bear",
      "hair drier",    "toothbrush"};
  return names;
}

std::vector<std::string> load_labels(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) fail("{}: cannot read the labels file", path.string());
  std::vector<std::string> names;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  if (names.empty()) fail("{}: the labels file is empty (expected one class name per line)", path.string());
  return names;
}

std::string class_label(int class_id, const std::vector<std::string>& names) {
  if (class_id >= 0 && size_t(class_id) < names.size() && !names[size_t(class_id)].empty())
    return names[size_t(class_id)];
  return "class " + std::to_string(class_id);
}


}  // namespace npusplit
