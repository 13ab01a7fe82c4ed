#include "npusplit/app/demo.h"

#include <cmath>

#include "npusplit/app/analyze.h"
#include "npusplit/app/demo_model.h"
#include "npusplit/app/split.h"
#include "npusplit/base/json_text.h"
#include "npusplit/detect/draw.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/io/model_io.h"
#include "npusplit/report/detections_report.h"
#include "npusplit/runtime/stage.h"

namespace npusplit {

namespace fs = std::filesystem;

namespace {

std::vector<Detection> detect(TwoStagePipeline& p, const cv::Mat& img, const std::vector<std::string>& names,
                              FrameTiming& timing) {
  Frame f = p.make_frame();
  const ImageTransform tr = image_to_tensor(img, *f.input("images"));
  p.run(f);
  timing = f.timing;
  DecodeOptions d;
  d.threshold = 0.5f;
  d.class_names = names;
  return decode_detections(f.outputs, tr, d);
}

// The last of 21 runs (the first 20 warm the sessions up).
std::vector<Detection> detect_warm(TwoStagePipeline& p, const cv::Mat& img, const std::vector<std::string>& names,
                                   FrameTiming& timing) {
  for (int i = 0; i < 20; ++i) detect(p, img, names, timing);
  return detect(p, img, names, timing);
}

bool same_detections(const std::vector<Detection>& a, const std::vector<Detection>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].class_id != b[i].class_id || a[i].score != b[i].score || a[i].x1 != b[i].x1 || a[i].y1 != b[i].y1 ||
        a[i].x2 != b[i].x2 || a[i].y2 != b[i].y2)
      return false;
  return true;
}

// Drawn blobs found: a box of the blob's colour whose centre lies within 1.5 radii of it.
int blobs_found(const std::vector<cv::Vec4i>& blobs, const std::vector<Detection>& dets) {
  int found = 0;
  for (const auto& b : blobs)
    for (const auto& d : dets) {
      const float cx = (d.x1 + d.x2) / 2, cy = (d.y1 + d.y2) / 2;
      if (d.class_id == b[3] && std::hypot(cx - b[0], cy - b[1]) <= b[2] * 1.5f) {
        ++found;
        break;
      }
    }
  return found;
}

}  // namespace

DemoResult run_demo(const fs::path& dir) {
  DemoResult r;
  fs::create_directories(dir);
  DemoModelSpec spec;
  r.model = dir / "demo_detr.onnx";
  save_model(build_demo_detector(spec), r.model);
  r.check = analyze(r.model, AnalyzeOptions{});
  std::vector<cv::Vec4i> blobs;
  const cv::Mat picture = draw_demo_picture(spec.size * 3, &blobs);
  r.blobs_drawn = static_cast<int>(blobs.size());
  r.picture = dir / "demo_input.png";
  write_image(r.picture, picture);
  SplitOptions so;
  so.model = r.model;
  so.out_dir = dir;
  so.verify = true;
  so.verify_random = 2;
  so.verify_images = {r.picture.string()};
  r.split = split_model(so);
  // The split pipeline and the unsplit model on the same picture.
  StageOptions st;
  st.intra_threads = 2;
  TwoStagePipeline split(make_ort_stage(r.split.stage1_path, st), make_ort_stage(r.split.stage2_path, st));
  TwoStagePipeline whole(make_ort_stage(r.model, st));
  const auto names = demo_class_names();
  r.detections = detect_warm(split, picture, names, r.split_timing);
  r.split_equals_unsplit = same_detections(r.detections, detect_warm(whole, picture, names, r.whole_timing));
  r.blobs_found = blobs_found(blobs, r.detections);
  cv::Mat annotated = picture.clone();
  draw_detections(annotated, r.detections);
  r.annotated = dir / "demo_detections.png";
  write_image(r.annotated, annotated);
  r.detections_json = dir / "demo_detections.json";
  write_file_atomic(r.detections_json, dump_json(detections_json(r.detections)));
  return r;
}

}  // namespace npusplit
