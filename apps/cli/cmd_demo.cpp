// demo: the README's main job on a model and a picture npusplit makes itself.
#include <fmt/format.h>

#include <iostream>
#include <opencv2/imgcodecs.hpp>

#include "commands.h"
#include "npusplit/app/analyze.h"
#include "npusplit/app/demo_model.h"
#include "npusplit/app/split.h"
#include "npusplit/detect/draw.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/io/model_io.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/format.h"
#include "npusplit/base/json_text.h"

namespace npusplit::cli {

namespace fs = std::filesystem;

namespace {

std::vector<Detection> detect(TwoStagePipeline& p, const cv::Mat& img, const std::vector<std::string>& names,
                              FrameTiming* timing) {
  Frame f = p.make_frame();
  auto* in = f.input("images");
  const ImageTransform tr = image_to_tensor(img, *in);
  p.run(f);
  if (timing) *timing = f.timing;
  DecodeOptions d;
  d.threshold = 0.5f;
  d.class_names = names;
  return decode_detections(f.outputs, tr, d);
}

}  // namespace

void add_demo(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("demo", "check -> split -> verify -> run on a DETR-like model and picture npusplit builds itself");
  static std::string out = "demo_out";
  cmd->add_option("-o,--out", out, "output folder")->capture_default_str();
  cmd->callback([&] {
    const fs::path dir = out;
    fs::create_directories(dir);
    std::cout << "npusplit demo: a small DETR-like detector (conv backbone, TopK + GatherElements query selection,\n"
                 "GridSample sampling, postprocess to label_xyxy_score) built in code, then the whole flow.\n\n";
    // 1. The model.
    DemoModelSpec spec;
    const fs::path model = dir / "demo_detr.onnx";
    save_model(build_demo_detector(spec), model);
    std::cout << "1. model: " << model.string() << "\n";
    // 2. check.
    auto a = analyze(model, AnalyzeOptions{});
    std::cout << "\n2. check (hailo8):\n" << check_text(a, false) << "\n";
    // 3. picture.
    std::vector<cv::Vec4i> blobs;
    const cv::Mat picture = draw_demo_picture(spec.size * 3, &blobs);
    const fs::path pic = dir / "demo_input.png";
    write_image(pic, picture);
    // 4. split + verify.
    SplitOptions so;
    so.model = model;
    so.out_dir = dir;
    so.verify = true;
    so.verify_random = 2;
    so.verify_images = {pic.string()};
    auto s = split_model(so);
    std::cout << "3. split + verify:\n" << split_text(s) << "\n";
    // 5. run: split pipeline and the unsplit model, same picture.
    StageOptions st;
    st.intra_threads = 2;
    TwoStagePipeline split(make_ort_stage(s.stage1_path, st), make_ort_stage(s.stage2_path, st));
    TwoStagePipeline whole(make_ort_stage(model, st));
    const auto names = demo_class_names();
    FrameTiming t_split{}, t_whole{};
    auto dets = detect(split, picture, names, &t_split);
    for (int i = 0; i < 20; ++i) detect(split, picture, names, &t_split);  // warm, then the last one counts
    auto dets_whole = detect(whole, picture, names, &t_whole);
    for (int i = 0; i < 20; ++i) detect(whole, picture, names, &t_whole);
    cv::Mat annotated = picture.clone();
    draw_detections(annotated, dets);
    const fs::path png = dir / "demo_detections.png";
    write_image(png, annotated);
    write_file_atomic(dir / "demo_detections.json", dump_json(detections_json(dets)));
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : dets)
      rows.push_back({d.label, fmt::format("{:.2f}", d.score), fmt::format("{:.0f},{:.0f},{:.0f},{:.0f}", d.x1, d.y1, d.x2, d.y2)});
    std::cout << "4. run (ONNX Runtime on the CPU for both stages; HailoRT would take stage1 on a device):\n"
              << format_table({"class", "score", "box (x1,y1,x2,y2)"}, rows);
    bool same = dets.size() == dets_whole.size();
    for (size_t i = 0; same && i < dets.size(); ++i)
      same = dets[i].class_id == dets_whole[i].class_id && dets[i].score == dets_whole[i].score && dets[i].x1 == dets_whole[i].x1;
    // Which drawn blobs were found (a box whose centre lies in the disc, with its colour).
    int found = 0;
    for (const auto& b : blobs)
      for (const auto& d : dets) {
        const float cx = (d.x1 + d.x2) / 2, cy = (d.y1 + d.y2) / 2;
        if (d.class_id == b[3] && std::hypot(cx - b[0], cy - b[1]) <= b[2] * 1.5f) {
          ++found;
          break;
        }
      }
    std::cout << fmt::format(
        "\nlatency: stage1 {:.2f} ms + stage2 {:.2f} ms = {:.2f} ms split; {:.2f} ms unsplit\n"
        "detections: {} ({} of {} drawn blobs found with the right colour); split == unsplit: {}\n"
        "wrote: {}, {}, {}, {}\n",
        t_split.stage1_ms, t_split.stage2_ms, t_split.total_ms, t_whole.total_ms, dets.size(), found, blobs.size(),
        same ? "yes" : "NO", png.string(), s.stage1_path.string(), s.stage2_path.string(), s.manifest_path.string());
    exit_code = (s.verify && s.verify->ok && same) ? 0 : 1;
  });
}

}  // namespace npusplit::cli
