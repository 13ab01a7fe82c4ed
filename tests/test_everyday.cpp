// Everyday use of the CLI (issue 17): the defaults, prepare's up-to-date stamp, `run` on
// folders, globs and videos (written as it goes, Ctrl-C safe), progress, and the rough edges.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <thread>

#include "npusplit/analysis/cost.h"
#include "npusplit/app/demo_model.h"
#include "npusplit/app/prepare.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/media/inputs.h"
#include "npusplit/report/format.h"
#include "npusplit/base/progress.h"
#include "npusplit/report/suggest.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::temp_dir;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
int lines_of(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }
std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<nlohmann::json> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A demo detector split into stage1/stage2 in D; returns the run arguments for it.
std::string split_demo(const fs::path& d) {
  save_model(build_demo_detector(), d / "det.onnx");
  auto s = run_cli("split " + q(d / "det.onnx") + " -o " + q(d), "ev_split");
  EXPECT_EQ(s.exit_code, 0) << s.err;
  return "run --stage1 " + q(d / "det_stage1.onnx") + " --stage2 " + q(d / "det_stage2.onnx");
}

// A video of FRAMES frames of the demo picture (Motion JPEG in .avi, which every OpenCV build writes).
void write_video(const fs::path& p, int frames, int size = 96) {
  cv::VideoWriter w(p.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25, cv::Size(size, size));
  ASSERT_TRUE(w.isOpened()) << "this OpenCV cannot write MJPG";
  const cv::Mat pic = draw_demo_picture(size);
  for (int i = 0; i < frames; ++i) w.write(pic);
}

int64_t video_frames(const fs::path& p) {
  cv::VideoCapture cap(p.string());
  if (!cap.isOpened()) return -1;
  int64_t n = 0;
  cv::Mat f;
  while (cap.read(f) && !f.empty()) ++n;
  return n;
}

// ---------------------------------------------------------------- 1. defaults

TEST(EverydayDefaults, SplitFixesByDefaultAndNoFixSaysWhatItCosts) {
  const auto d = temp_dir("ev_defaults");
  save_model(build_demo_detector(), d / "det.onnx");
  auto r = run_cli("split " + q(d / "det.onnx") + " -o " + q(d / "fix"), "ev_def");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "passes: ")) << r.out;
  const auto m = read_json(d / "fix" / "det_split.json");
  EXPECT_EQ(m["fix"]["applied"], true);
  EXPECT_FALSE(m["passes"].empty());
  const double with_fix = m["stage1"]["npu_flops_share"];

  auto n = run_cli("split " + q(d / "det.onnx") + " -o " + q(d / "nofix") + " --no-fix", "ev_nofix");
  ASSERT_EQ(n.exit_code, 0) << n.err;
  const auto mn = read_json(d / "nofix" / "det_split.json");
  EXPECT_EQ(mn["fix"]["applied"], false);
  EXPECT_TRUE(mn["passes"].empty());
  const double without = mn["stage1"]["npu_flops_share"];
  if (std::abs(with_fix - without) >= 0.0005) {
    // One line, with the figure the passes would give.
    size_t count = 0;
    std::string line;
    std::istringstream in(n.out);
    for (std::string l; std::getline(in, l);)
      if (has(l, "--no-fix")) ++count, line = l;
    EXPECT_EQ(count, 1u) << n.out;
    EXPECT_TRUE(has(line, percent(with_fix))) << line;
    EXPECT_DOUBLE_EQ(mn["fix"]["npu_flops_share_with_fix"].get<double>(), with_fix);
  } else {
    EXPECT_FALSE(has(n.out, "note: --no-fix")) << "no note when the passes do not move the cut";
  }
  // Contradicting flags are refused in one line.
  auto both = run_cli("split " + q(d / "det.onnx") + " -o " + q(d / "x") + " --no-fix --fix", "ev_both");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(lines_of(both.err), 1) << both.err;
}

// ---------------------------------------------------------------- 2. prepare's stamp

TEST(EverydayPrepare, UpToDateFollowsContentOptionsAndStamp) {
  const auto src = temp_dir("ev_prep_src"), dst = temp_dir("ev_prep_dst");
  save_model(build_demo_detector(), src / "deimv2_atto.onnx");
  const std::string base = "prepare " + q(src) + " -o " + q(dst) + " --variants atto";
  auto first = run_cli(base, "ev_prep1");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(has(first.out, "done")) << first.out;
  ASSERT_TRUE(fs::exists(dst / "deimv2_atto_prepare.json"));
  const auto stamp = read_json(dst / "deimv2_atto_prepare.json");
  EXPECT_EQ(stamp["options"]["fix"], true);
  EXPECT_EQ(stamp["input"]["sha256"], file_content_hash(src / "deimv2_atto.onnx"));
  EXPECT_TRUE(has(stamp["tool"].get<std::string>(), "npusplit "));

  EXPECT_TRUE(has(run_cli(base, "ev_prep2").out, "up to date"));
  // A changed option redoes the work (the old check only compared file times).
  auto nofix = run_cli(base + " --no-fix", "ev_prep3");
  EXPECT_TRUE(has(nofix.out, "done")) << nofix.out;
  EXPECT_EQ(read_json(dst / "deimv2_atto_split.json")["fix"]["applied"], false);
  EXPECT_TRUE(has(run_cli(base + " --no-fix", "ev_prep4").out, "up to date"));
  EXPECT_TRUE(has(run_cli(base, "ev_prep5").out, "done")) << "back to the default: redone";
  // New content under the same name and an older time stamp: still redone.
  auto other = build_demo_detector(DemoModelSpec{128, 6});
  save_model(other, src / "deimv2_atto.onnx");
  fs::last_write_time(src / "deimv2_atto.onnx", fs::last_write_time(dst / "deimv2_atto_stage1.onnx") -
                                                     std::chrono::hours(1));
  EXPECT_TRUE(has(run_cli(base, "ev_prep6").out, "done"));
  // A missing output is redone too.
  fs::remove(dst / "deimv2_atto_stage2.onnx");
  EXPECT_TRUE(has(run_cli(base, "ev_prep7").out, "done"));
  EXPECT_TRUE(fs::exists(dst / "deimv2_atto_stage2.onnx"));
}

TEST(EverydayPrepare, NothingToDoExitsTwoSayingWhatItLookedFor) {
  const auto src = temp_dir("ev_prep_empty"), dst = temp_dir("ev_prep_empty_dst");
  std::ofstream(src / "unrelated.onnx") << "x";
  auto r = run_cli("prepare " + q(src) + " " + q(dst) + " --variants atto,x1", "ev_prep_empty");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines_of(r.err), 1) << r.err;
  EXPECT_TRUE(has(r.err, "deimv2_atto.onnx") && has(r.err, "deimv2_x1.onnx") && has(r.err, "deimv2_m.onnx")) << r.err;
  auto none = run_cli("prepare " + q(src), "ev_prep_noout");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(has(none.err, "output folder")) << none.err;
}

// ---------------------------------------------------------------- 3. run

TEST(EverydayRun, FoldersAndGlobsSortedABadFileSkippedExitOne) {
  const auto d = temp_dir("ev_run_folder");
  const std::string run = split_demo(d);
  const auto shots = d / "shots";
  fs::create_directories(shots);
  cv::imwrite((shots / "b.png").string(), draw_demo_picture(128));
  cv::imwrite((shots / "a.jpg").string(), draw_demo_picture(128));
  std::ofstream(shots / "c_broken.png") << "this is text";
  std::ofstream(shots / "notes.txt") << "not media: ignored";
  auto r = run_cli(run + " " + q(shots) + " -o " + q(d / "out") + " --json", "ev_run_folder");
  EXPECT_EQ(r.exit_code, 1) << "some inputs failed\n" << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["inputs"].size(), 3u);  // sorted, the .txt left out
  EXPECT_TRUE(has(j["inputs"][0]["input"], "a.jpg"));
  EXPECT_TRUE(has(j["inputs"][1]["input"], "b.png"));
  EXPECT_TRUE(has(j["inputs"][2]["input"], "c_broken.png"));
  EXPECT_TRUE(has(j["inputs"][2]["error"], "not a readable image")) << j["inputs"][2].dump();
  EXPECT_EQ(j["failed"], 1);
  for (const char* f : {"a.png", "a.json", "b.png", "b.json"}) EXPECT_TRUE(fs::exists(d / "out" / f)) << f;
  EXPECT_EQ(read_json(d / "out" / "a.json")["complete"], true);
  EXPECT_TRUE(has(r.err, "c_broken.png") && has(r.err, "skipped")) << r.err;

  // A glob, sorted; every input fine -> exit 0.
  auto g = run_cli(run + " " + q(shots / "*.*g") + " -o " + q(d / "out_glob"), "ev_run_glob");
  EXPECT_EQ(g.exit_code, 1) << g.err;  // c_broken.png matches too
  auto g2 = run_cli(run + " " + q(shots / "[ab].*") + " -o " + q(d / "out_glob2"), "ev_run_glob2");
  EXPECT_EQ(g2.exit_code, 0) << g2.err;
  EXPECT_LT(g2.out.find("a.jpg"), g2.out.find("b.png")) << g2.out;
  // Nothing readable at all: exit 2.
  auto none = run_cli(run + " " + q(shots / "*.webm"), "ev_run_none");
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_TRUE(has(none.err, "no file matches")) << none.err;
}

TEST(EverydayRun, AVideoGivesAnAnnotatedVideoAndDetectionsLines) {
  const auto d = temp_dir("ev_run_video");
  const std::string run = split_demo(d);
  write_video(d / "clip.avi", 12);
  auto r = run_cli(run + " " + q(d / "clip.avi") + " -o " + q(d / "out") + " --detections jsonl", "ev_run_video");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(d / "out" / "clip_annotated.avi")) << r.out;  // same container as the input
  EXPECT_EQ(video_frames(d / "out" / "clip_annotated.avi"), 12);
  EXPECT_FALSE(fs::exists(d / "out" / "clip_000000.png"));
  const auto lines = read_lines(d / "out" / "clip.jsonl");
  ASSERT_EQ(lines.size(), 14u);  // header, 12 frames, end
  EXPECT_EQ(lines.front()["schema"], "npusplit.detections-lines/1");
  EXPECT_EQ(lines[1]["frame"], 0);
  EXPECT_GE(lines[1]["detections"].size(), 1u);
  EXPECT_EQ(lines.back()["end"]["complete"], true);
  EXPECT_EQ(lines.back()["end"]["frames"], 12);
  // The old behaviour on request: a PNG per frame.
  auto png = run_cli(run + " " + q(d / "clip.avi") + " -o " + q(d / "png") + " --frames-as-png --max-frames 3",
                     "ev_run_png");
  ASSERT_EQ(png.exit_code, 0) << png.err;
  EXPECT_TRUE(fs::exists(d / "png" / "clip_000002.png"));
  EXPECT_FALSE(fs::exists(d / "png" / "clip_000003.png"));
  EXPECT_EQ(read_json(d / "png" / "clip.json")["frames"].size(), 3u);
}

TEST(EverydayRun, ProgressOnlyWhenAskedOrOnATerminal) {
  const auto d = temp_dir("ev_run_progress");
  const std::string run = split_demo(d);
  write_video(d / "long.avi", 400, 160);
  // stderr is a file here: no progress unless forced.
  auto quiet = run_cli(run + " " + q(d / "long.avi") + " -o " + q(d / "o1"), "ev_prog_quiet");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_FALSE(has(quiet.err, "frames/s")) << quiet.err;
  // NPUSPLIT_PROGRESS=1 forces it on (CI logs): one line per second.
  const auto log = d / "progress.err";
  // A 50 ms period instead of 1 s makes this independent of the machine's speed: the bar
  // shows frames done, frames/s and the ETA (at the latest in its last line).
  const std::string cmd = "env NPUSPLIT_PROGRESS=1 NPUSPLIT_PROGRESS_PERIOD_MS=50 '" + std::string(NPUSPLIT_CLI) +
                          "' " + run + " " + q(d / "long.avi") + " -o " + q(d / "o3") + " >/dev/null 2>" + q(log);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(log);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(has(err, "/400 frames")) << err;
  EXPECT_TRUE(has(err, "frames/s")) << err;
  EXPECT_TRUE(has(err, "ETA")) << err;
}

// Ctrl-C on a long video: the current frame ends, everything so far is written, and it says so.
TEST(EverydayRun, SigintKeepsTheFramesDoneAndSaysSo) {
  const auto d = temp_dir("ev_run_sigint");
  save_model(build_demo_detector(), d / "det.onnx");
  ASSERT_EQ(run_cli("split " + q(d / "det.onnx") + " -o " + q(d), "ev_sig_split").exit_code, 0);
  const int total = 3000;
  write_video(d / "long.avi", total, 96);
  const auto out = d / "out", jsonl = out / "long.jsonl", err_path = d / "run.err";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    FILE* o = std::freopen((d / "run.out").c_str(), "w", stdout);
    (void)e, (void)o;
    const std::string s1 = (d / "det_stage1.onnx").string(), s2 = (d / "det_stage2.onnx").string();
    execl(NPUSPLIT_CLI, NPUSPLIT_CLI, "run", "--stage1", s1.c_str(), "--stage2", s2.c_str(),
          (d / "long.avi").c_str(), "-o", out.c_str(), "--detections", "jsonl", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until some frames are written, then interrupt.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(jsonl)) {
      std::ifstream in(jsonl);
      seen = size_t(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
      if (seen >= 6) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(seen, 6u) << "the run wrote no frames within 60 s";
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of finishing the frame";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::ifstream ein(err_path);
  const std::string err((std::istreambuf_iterator<char>(ein)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(has(err, "interrupted")) << err;
  const auto lines = read_lines(jsonl);
  ASSERT_GE(lines.size(), 3u);
  const auto& end = lines.back();
  ASSERT_TRUE(end.contains("end")) << end.dump();
  EXPECT_EQ(end["end"]["complete"], false);
  const int64_t frames = end["end"]["frames"];
  EXPECT_EQ(int64_t(lines.size()) - 2, frames);
  EXPECT_LT(frames, total) << "the run finished before the signal: make the video longer";
  // The annotated video holds exactly the frames done, and is a playable file.
  EXPECT_EQ(video_frames(out / "long_annotated.avi"), frames);
}

// ---------------------------------------------------------------- 4. progress of long work

TEST(EverydayProgress, LinesSayTheStepAndNestedWorkShowsInTheOuterLine) {
  Progress outer("prepare", 8);
  outer.step(4, "s");
  EXPECT_TRUE(has(outer.line(), "prepare: s (5/8)")) << outer.line();
  {
    Progress inner("verify", 2);
    inner.step(1, "random #0: stage1");
    EXPECT_TRUE(has(outer.line(), "-- verify: random #0: stage1 (2/2)")) << outer.line();
  }
  EXPECT_FALSE(has(outer.line(), "verify")) << "the inner step is gone with it: " << outer.line();
  outer.finish();
  Progress frames("run clip.mp4", 300, Progress::Style::frames);
  frames.advance(120);
  const auto l = frames.line();
  EXPECT_TRUE(has(l, "120/300 frames") && has(l, "frames/s") && has(l, "ETA")) << l;
}

TEST(EverydayProgress, PrepareAndVerifyReportTheirStepsOnStderr) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  const auto src = temp_dir("ev_progress_src"), dst = temp_dir("ev_progress_dst");
  fs::copy_file(model, src / "deimv2_atto.onnx");
  const auto log = dst / "err.txt";
  // A 50 ms period: the steps show however fast the machine is.
  const std::string cmd = "env NPUSPLIT_PROGRESS=1 NPUSPLIT_PROGRESS_PERIOD_MS=50 '" + std::string(NPUSPLIT_CLI) +
                          "' prepare " + q(src) + " " + q(dst / "out") + " --variants atto --verify >/dev/null 2>" +
                          q(log);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(log);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(has(err, "prepare: atto (1/1)")) << err;
  // Without NPUSPLIT_PROGRESS, stderr is a file: nothing.
  auto quiet = run_cli("prepare " + q(src) + " " + q(dst / "out2") + " --variants atto --verify", "ev_progress_quiet");
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
}

// ---------------------------------------------------------------- 5. edges

TEST(EverydayEdges, DebugLogGoesToStderrAndJsonStaysParsable) {
  const auto d = temp_dir("ev_log");
  save_model(build_demo_detector(), d / "det.onnx");
  auto r = run_cli("check " + q(d / "det.onnx") + " --json", "ev_log");
  const std::string cmd = "env NPUSPLIT_LOG=debug '" + std::string(NPUSPLIT_CLI) + "' check " + q(d / "det.onnx") +
                          " --json >" + q(d / "out.json") + " 2>" + q(d / "err.txt");
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), r.exit_code);
  EXPECT_NO_THROW((void)read_json(d / "out.json"));
  std::ifstream in(d / "err.txt");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(has(err, "debug")) << "the debug trace is on stderr";
}

TEST(EverydayEdges, MisspeltCommandsAndOptionsGetASuggestion) {
  auto c = run_cli("splt model.onnx", "ev_typo_cmd");
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_EQ(lines_of(c.err), 1) << c.err;
  EXPECT_TRUE(has(c.err, "did you mean 'split'")) << c.err;
  auto o = run_cli("split model.onnx --tolerence 1", "ev_typo_opt");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(lines_of(o.err), 1) << o.err;
  EXPECT_TRUE(has(o.err, "did you mean '--tolerance'")) << o.err;
  auto none = run_cli("", "ev_no_cmd");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(has(none.err, "info")) << "the command list includes every command: " << none.err;
  EXPECT_EQ(closest_matches("/model/decoder/Concat_2", {"/model/decoder/Concat_2_output_0", "/model/x"}),
            (std::vector<std::string>{"/model/decoder/Concat_2_output_0"}));
}

TEST(EverydayEdges, EveryNumericOptionIsCheckedInOneLine) {
  const auto d = temp_dir("ev_numbers");
  save_model(build_demo_detector(), d / "det.onnx");
  const std::string m = q(d / "det.onnx");
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"bench --model " + m + " --frames 0", "--frames: must be at least 1, got 0"},
           {"bench --model " + m + " --warmup -2", "--warmup: must be at least 0"},
           {"run --model " + m + " x.png --threshold 1.5", "--threshold: must be between 0 and 1, got 1.5"},
           {"run --model " + m + " x.png --max-frames -1", "--max-frames"},
           {"run --model " + m + " x.png --save-every 0", "--save-every"},
           {"run --model " + m + " x.png --threads -1", "--threads"},
           {"split " + m + " -o " + q(d) + " --tolerance -1", "--tolerance: must be at least 0, got -1"},
           {"split " + m + " -o " + q(d) + " --random -1", "--random"},
           {"verify " + m + " " + m + " " + m + " --tolerance -1", "--tolerance"},
           {"fix " + m + " -o " + q(d / "f.onnx") + " --random x", "not a number"},
       }) {
    auto r = run_cli(args, "ev_num");
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(lines_of(r.err), 1) << args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, what)) << args << "\n" << r.err;
    EXPECT_FALSE(has(r.err, "e+308")) << r.err;
  }
}

TEST(EverydayEdges, CutByNodeNameOutOnEveryWriterInfoSchemaAbsoluteParserCommand) {
  const auto d = temp_dir("ev_edges");
  save_model(build_demo_detector(), d / "det.onnx");
  // A node name stands for its outputs; an unknown name gets suggestions.
  auto cut = run_cli("split " + q(d / "det.onnx") + " -o " + q(d / "cut") + " --no-fix --cut /backbone/conv2/Relu",
                     "ev_cut");
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  const auto m = read_json(d / "cut" / "det_split.json");
  ASSERT_EQ(m["crossing"].size(), 1u);
  const std::string cut_tensor = m["crossing"][0]["original_tensor"];
  EXPECT_TRUE(has(cut_tensor, "/backbone/conv2/Relu")) << cut_tensor;
  auto bad = run_cli("split " + q(d / "det.onnx") + " -o " + q(d / "cut2") + " --cut /backbone/conv2/Rel", "ev_cut_bad");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(lines_of(bad.err), 1) << bad.err;
  EXPECT_TRUE(has(bad.err, "did you mean '/backbone/conv2/Relu")) << bad.err;
  // The parser command works from any folder: the stage1 path in it is absolute.
  const std::string cmd = m["stage1"]["hailo_parser_command"];
  EXPECT_TRUE(has(cmd, "'" + fs::absolute(d / "cut" / "det_stage1.onnx").lexically_normal().string() + "'")) << cmd;
  // -o on run and demo, as on split/fix/prepare.
  cv::imwrite((d / "pic.png").string(), draw_demo_picture(128));
  auto run = run_cli("run --model " + q(d / "det.onnx") + " " + q(d / "pic.png") + " -o " + q(d / "run_out"), "ev_run_o");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(d / "run_out" / "pic.png"));
  // info --json has a schema.
  auto info = run_cli("info " + q(d / "det.onnx") + " --json", "ev_info");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out)["schema"], "npusplit.info/1");
}

TEST(EverydayEdges, RunRefusesToOverwriteItsInput) {
  const auto d = temp_dir("ev_overwrite");
  save_model(build_demo_detector(), d / "det.onnx");
  cv::imwrite((d / "pic.png").string(), draw_demo_picture(128));
  const auto before = fs::file_size(d / "pic.png");
  auto r = run_cli("run --model " + q(d / "det.onnx") + " " + q(d / "pic.png") + " -o " + q(d), "ev_overwrite");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "overwrite the input")) << r.err;
  EXPECT_EQ(fs::file_size(d / "pic.png"), before);
}

TEST(EverydayEdges, ParametersCountConstantNodes) {
  ModelBuilder b(17, "constant_weights");
  auto x = b.input("x", {1, 4});
  onnx::NodeProto* c = b.model().mutable_graph()->add_node();
  c->set_op_type("Constant");
  c->set_name("w_const");
  c->add_output("w");
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = make_float_tensor("w", {4, 3}, std::vector<float>(12, 0.5f));
  b.node("MatMul", "mm", {x, "w"});
  const auto m = b.model();
  EXPECT_EQ(parameter_count(m.graph()), 12);
}

TEST(EverydayEdges, TablesWrapLongCellsInsteadOfCuttingThem) {
  const std::string reason =
      "failed: deimv2_s.onnx: the model's opset 25 is newer than this build supports (7-24); re-export with opset 17";
  const std::string t = format_table({"variant", "status", "time"}, {{"s", reason, "1.0 s"}}, 30);
  EXPECT_FALSE(has(t, "…")) << t;
  // Every word of the reason is in the table, on lines no wider than the column.
  std::istringstream words(reason);
  for (std::string w; words >> w;) EXPECT_TRUE(has(t, w)) << w << "\n" << t;
  EXPECT_GT(lines_of(t), 3);
}

TEST(EverydayEdges, LibpngWarningsAreSilenced) {
  // A PNG with a damaged iCCP chunk: libpng warns on every read; none of it reaches the user
  // (NPUSPLIT_LOG=debug shows it).
  const auto d = temp_dir("ev_libpng");
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", draw_demo_picture(64), png));
  auto crc32 = [](const uchar* p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
  };
  std::vector<uchar> chunk = {'i', 'C', 'C', 'P'};
  for (char ch : std::string("bad")) chunk.push_back(uchar(ch));
  chunk.push_back(0);  // name terminator
  chunk.push_back(0);  // compression method
  for (int i = 0; i < 16; ++i) chunk.push_back(uchar(0x55));  // not a zlib stream
  const uint32_t len = uint32_t(chunk.size() - 4), crc = crc32(chunk.data(), chunk.size());
  std::vector<uchar> out(png.begin(), png.begin() + 33);  // signature + IHDR
  for (int s = 24; s >= 0; s -= 8) out.push_back(uchar(len >> s));
  out.insert(out.end(), chunk.begin(), chunk.end());
  for (int s = 24; s >= 0; s -= 8) out.push_back(uchar(crc >> s));
  out.insert(out.end(), png.begin() + 33, png.end());
  for (const char* f : {"a.png", "b.png"}) std::ofstream(d / f, std::ios::binary).write((const char*)out.data(), out.size());
  save_model(build_demo_detector(), d / "det.onnx");
  auto r = run_cli("run --model " + q(d / "det.onnx") + " " + q(d / "a.png") + " " + q(d / "b.png") + " -o " +
                       q(d / "out"),
                   "ev_libpng");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(has(r.err, "libpng warning:")) << r.err;
  EXPECT_EQ(r.err, "") << "two damaged files, not a word on stderr";
}

TEST(EverydayInputs, ExpandKnowsImagesVideosFoldersAndPatterns) {
  const auto d = temp_dir("ev_expand");
  std::ofstream(d / "z.mp4") << "";
  std::ofstream(d / "a.PNG") << "";
  std::ofstream(d / "m.txt") << "";
  const auto in = expand_inputs({d.string(), "cam:0", "cam:x", (d / "nothing*.jpg").string()});
  ASSERT_EQ(in.size(), 5u);
  EXPECT_EQ(in[0].path.filename(), "a.PNG");
  EXPECT_EQ(in[0].kind, MediaKind::image);
  EXPECT_EQ(in[1].path.filename(), "z.mp4");
  EXPECT_EQ(in[1].kind, MediaKind::video);
  EXPECT_EQ(in[2].kind, MediaKind::camera);
  EXPECT_EQ(in[2].camera_index, 0);
  EXPECT_FALSE(in[3].error.empty());
  EXPECT_FALSE(in[4].error.empty());
}

}  // namespace
}  // namespace npusplit
