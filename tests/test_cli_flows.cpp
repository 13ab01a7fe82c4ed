// End-to-end CLI flows: prepare (batch split of variants), run (annotated PNG + JSON), demo.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "npusplit/app/demo_model.h"
#include "npusplit/app/prepare.h"
#include "npusplit/report/prepare_report.h"
#include "npusplit/io/model_io.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::temp_dir;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);  // throws (test fails) when not valid JSON
}

// bench --host-baseline: stage2 alone, fused and unfused, beside another split's stage2; the
// baseline's own row is 1.00x, the JSON carries the same four rows.
TEST(BenchCli, HostBaselineTableAndJson) {
  const auto d = temp_dir("bench_host_baseline");
  save_model(build_demo_detector(), d / "det.onnx");
  auto r = run_cli("split '" + (d / "det.onnx").string() + "' -o '" + (d / "a").string() + "'", "hb_split");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string s1 = (d / "a" / "det_stage1.onnx").string(), s2 = (d / "a" / "det_stage2.onnx").string();
  const std::string args = "bench --stage1 '" + s1 + "' --stage2 '" + s2 + "' --host-baseline '" + s1 + "," + s2 +
                           "' --frames 3 --warmup 1 --sequential";
  r = run_cli(args, "hb_text");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("host stage2 alone"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("baseline stage2 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.00x"), std::string::npos) << "the baseline against itself";
  r = run_cli(args + " --json", "hb_json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["host_stage2"].size(), 4u);
  EXPECT_EQ(j["host_stage2"][0]["label"], "stage2 fused");
  EXPECT_EQ(j["host_stage2"][2]["label"], "baseline stage2");
  EXPECT_GT(j["host_stage2"][2]["p50_ms"].get<double>(), 0.0);
  r = run_cli("bench --stage1 '" + s1 + "' --stage2 '" + s2 + "' --host-baseline '" + s1 + "' --frames 1", "hb_bad");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--host-baseline takes STAGE1,STAGE2"), std::string::npos) << r.err;
}

TEST(Prepare, SplitsVariantsSkipsMissingAndUpToDateOnes) {
  const auto src = temp_dir("prepare_src"), dst = temp_dir("prepare_dst");
  // Two "variants" made in the test: the demo detector saved under DEIMv2 names; x1 is given
  // as deimv2_m.onnx (the user's x1 is upstream's M).
  save_model(build_demo_detector(), src / "deimv2_atto.onnx");
  save_model(build_demo_detector(), src / "deimv2_m.onnx");
  PrepareOptions o;
  o.src = src;
  o.dst = dst;
  o.variants = {"atto", "femto", "x1"};
  o.verify = true;
  size_t calls = 0;
  auto rows = prepare_models(o, [&](size_t, size_t total, const std::string&) {
    ++calls;
    EXPECT_EQ(total, 3u);
  });
  EXPECT_GE(calls, 3u);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, "done");
  EXPECT_TRUE(rows[0].verify_max_diff.has_value());
  EXPECT_EQ(*rows[0].verify_max_diff, 0.0);
  EXPECT_NE(rows[1].status.find("skipped"), std::string::npos);  // no femto file
  EXPECT_EQ(rows[2].status, "done");
  EXPECT_EQ(rows[2].source, "deimv2_m.onnx");
  for (const char* f : {"deimv2_atto_stage1.onnx", "deimv2_atto_stage2.onnx", "deimv2_atto_split.json",
                        "deimv2_x1_stage1.onnx", "deimv2_x1_stage2.onnx"})
    EXPECT_TRUE(fs::exists(dst / f)) << f;
  EXPECT_GT(rows[0].npu_flops_share, 0.9);
  // Second run: outputs are newer than the inputs -> skipped unless forced.
  auto again = prepare_models(o, nullptr);
  EXPECT_NE(again[0].status.find("up to date"), std::string::npos);
  o.force = true;
  EXPECT_EQ(prepare_models(o, nullptr)[0].status, "done");
  EXPECT_NE(prepare_text(again).find("variant"), std::string::npos);
}

TEST(Prepare, CliPrintsTheSummaryAndFailsCleanlyOnAMissingFolder) {
  const auto src = temp_dir("prepare_cli_src"), dst = temp_dir("prepare_cli_dst");
  save_model(build_demo_detector(), src / "deimv2_pico.onnx");
  auto r = run_cli("prepare '" + src.string() + "' '" + dst.string() + "' --variants pico,n", "prepare");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pico"), std::string::npos);
  EXPECT_NE(r.out.find("skipped"), std::string::npos);
  auto bad = run_cli("prepare /nonexistent/folder '" + dst.string() + "'", "prepare_bad");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST(RunCli, WritesAnAnnotatedPngAndValidJsonSplitOrNot) {
  const auto d = temp_dir("run_cli");
  save_model(build_demo_detector(), d / "det.onnx");
  cv::imwrite((d / "pic.png").string(), draw_demo_picture(256));
  auto s = run_cli("split '" + (d / "det.onnx").string() + "' -o '" + d.string() + "'", "run_split");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto r = run_cli("run --stage1 '" + (d / "det_stage1.onnx").string() + "' --stage2 '" +
                       (d / "det_stage2.onnx").string() + "' '" + (d / "pic.png").string() + "' --out '" +
                       (d / "out").string() + "' --threshold 0.5 --json",
                   "run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  const cv::Mat png = cv::imread((d / "out" / "pic.png").string());
  ASSERT_FALSE(png.empty());
  EXPECT_EQ(png.cols, 256);
  const auto dets = read_json(d / "out" / "pic.json")["frames"][0]["detections"];
  // The demo detector finds its coloured discs: there are detections, with boxes in the picture.
  ASSERT_GE(dets.size(), 4u);
  for (const auto& det : dets) {
    const auto box = det["box_xyxy"].get<std::vector<double>>();
    ASSERT_EQ(box.size(), 4u);
    EXPECT_GE(box[0], 0.0);
    EXPECT_LE(box[2], 256.0);
    EXPECT_GE(det["score"].get<double>(), 0.5);
  }
  auto u = run_cli("run --model '" + (d / "det.onnx").string() + "' '" + (d / "pic.png").string() + "' --out '" +
                       (d / "out_unsplit").string() + "' --threshold 0.5",
                   "run_unsplit");
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(read_json(d / "out_unsplit" / "pic.json")["frames"][0]["detections"], dets)
      << "split and unsplit detections differ";
}

TEST(RunCli, BadInputsExitTwoWithOneLine) {
  const auto d = temp_dir("run_cli_bad");
  save_model(build_demo_detector(), d / "det.onnx");
  std::ofstream(d / "not_an_image.png") << "text";
  for (const std::string& args : std::vector<std::string>{
           "run --model '" + (d / "det.onnx").string() + "' '" + (d / "not_an_image.png").string() + "'",
           "run --model '" + (d / "det.onnx").string() + "' '" + (d / "missing.png").string() + "'",
           "run --model /nonexistent.onnx x.png",
           "run --stage1 '" + (d / "det.onnx").string() + "' x.png",
           "bench --model /nonexistent.onnx"}) {
    auto r = run_cli(args, "run_bad");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    std::string err;
    for (const auto& line : {r.err})  // libpng may add its own warnings; ours is the npusplit line
      err = line;
    EXPECT_NE(err.find("npusplit: error:"), std::string::npos) << args << "\n" << err;
  }
}

TEST(DemoCli, RunsTheWholeFlowAndWritesItsFiles) {
  const auto d = temp_dir("demo_cli");
  auto r = run_cli("demo --out '" + d.string() + "'", "demo");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"demo_detr.onnx", "demo_detr_stage1.onnx", "demo_detr_stage2.onnx", "demo_detr_split.json",
                        "demo_input.png", "demo_detections.png", "demo_detections.json"})
    EXPECT_TRUE(fs::exists(d / f)) << f;
  EXPECT_NE(r.out.find("verify: PASS"), std::string::npos);
  EXPECT_NE(r.out.find("4 of 4 drawn blobs found"), std::string::npos) << r.out;
  // One box per blob (the demo's detector picks one query per disc, as a trained DETR does).
  EXPECT_NE(r.out.find("detections: 4 (4 of 4"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(d / "demo_detections.json")).size(), 4u);
  EXPECT_NE(r.out.find("split == unsplit: yes"), std::string::npos);
  EXPECT_FALSE(cv::imread((d / "demo_detections.png").string()).empty());
}

}  // namespace
}  // namespace npusplit

namespace npusplit {
namespace {

TEST(VerifyCli, PassesOnASplitFailsOnATamperedStageAndRefusesSwappedStages) {
  const auto d = temp_dir("verify_cli");
  save_model(build_demo_detector(), d / "det.onnx");
  ASSERT_EQ(run_cli("split '" + (d / "det.onnx").string() + "' -o '" + d.string() + "'", "v_split").exit_code, 0);
  const std::string m = "'" + (d / "det.onnx").string() + "'";
  const std::string s1 = "'" + (d / "det_stage1.onnx").string() + "'", s2 = "'" + (d / "det_stage2.onnx").string() + "'";
  auto ok = run_cli("verify " + m + " " + s1 + " " + s2 + " --random 2 --json", "v_ok");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["schema"], "npusplit.verify/1");
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["outputs"][0]["max_abs_diff"].get<double>(), 0.0);
  // Tamper with a stage2 weight: the outputs differ, verify says so with exit 1.
  auto stage2 = load_model(d / "det_stage2.onnx");
  bool changed = false;
  for (auto& t : *stage2.mutable_graph()->mutable_initializer()) {
    // The box head's weight (every selected query uses it): nudge all of it.
    if (t.name() != "decoder.bbox.weight") continue;
    std::string raw = t.raw_data();
    for (size_t k = 0; k + 4 <= raw.size(); k += 4) {
      float f;
      std::memcpy(&f, raw.data() + k, 4);
      f = f * 1.5f + 0.25f;
      std::memcpy(raw.data() + k, &f, 4);
    }
    t.set_raw_data(raw);
    changed = true;
  }
  ASSERT_TRUE(changed);
  save_model(stage2, d / "tampered_stage2.onnx");
  auto bad = run_cli("verify " + m + " " + s1 + " '" + (d / "tampered_stage2.onnx").string() + "' --random 2", "v_bad");
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("FAIL"), std::string::npos);
  // Stages given in the wrong order: a clear error, exit 2.
  auto swapped = run_cli("verify " + m + " " + s2 + " " + s1, "v_swapped");
  EXPECT_EQ(swapped.exit_code, 2);
  EXPECT_EQ(std::count(swapped.err.begin(), swapped.err.end(), '\n'), 1) << swapped.err;
}

TEST(CheckCli, Hailo10hTargetJudgesEverySharedUserModel) {
  NPUSPLIT_REQUIRE_SHARED();
  int seen = 0;
  for (const char* f : {"deimv2_atto.onnx", "deimv2_n.onnx", "deimv2_s.onnx"}) {
    const auto p = test::shared_model(f);
    if (p.empty()) continue;
    ++seen;
    auto r = run_cli("check '" + p.string() + "' --target hailo10h --json", "check10h");
    ASSERT_EQ(r.exit_code, 1) << f << r.err;  // the decoder is rejected on 10H as well
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["target"]["name"], "hailo10h");
    int grid = 0;
    for (const auto& n : j["nodes"])
      if (n["op"] == "GridSample") grid += n["verdict"] == "unsupported";
    EXPECT_GE(grid, 6) << f;
  }
  EXPECT_GT(seen, 0);
}

}  // namespace
}  // namespace npusplit
