// The one-way core: a model compiled once with its facts (CompiledModel), each step a function
// from typed input to typed output (partition -> stages), and one resolve per model per command.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "npusplit/app/demo_model.h"
#include "npusplit/app/run.h"
#include "npusplit/app/split.h"
#include "npusplit/base/json_text.h"
#include "npusplit/base/sha256.h"
#include "npusplit/report/split_report.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/partition/partitioner.h"
#include "npusplit/passes/pass.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/report/detections_report.h"
#include "npusplit/report/run_report.h"
#include "npusplit/split/splitter.h"
#include "npusplit/verify/verify.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::temp_dir;

int count_lines_with(const std::string& text, const std::string& part) {
  int n = 0;
  size_t pos = 0;
  while ((pos = text.find(part, pos)) != std::string::npos) ++n, pos += part.size();
  return n;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// NPUSPLIT_LOG=debug prints one "resolve:" line per shape resolution.
int resolves_of_split(const fs::path& model, const fs::path& out, const std::string& extra) {
  const fs::path err = out.string() + ".err";
  const std::string cmd = "env NPUSPLIT_LOG=debug '" + std::string(NPUSPLIT_CLI) + "' split '" + model.string() +
                          "' -o '" + out.string() + "' " + extra + " >/dev/null 2>'" + err.string() + "'";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << slurp(err);
  return count_lines_with(slurp(err), "resolve: ");
}

TEST(OneWay, SplitFixVerifyResolvesOncePerModel) {
  const auto d = temp_dir("one_way_resolve");
  save_model(build_demo_detector(), d / "demo.onnx");
  EXPECT_EQ(resolves_of_split(d / "demo.onnx", d / "out", "--fix --verify"), 1);
  EXPECT_EQ(resolves_of_split(d / "demo.onnx", d / "out_plain", ""), 1);
}

TEST(OneWay, SplitFixVerifyResolvesOnceOnDeimv2) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  const auto d = temp_dir("one_way_resolve_atto");
  EXPECT_EQ(resolves_of_split(model, d / "out", "--fix --verify"), 1);
}

// x -> conv -> reshape -> softmax(unsupported) -> out, and an unsupported Add reading x too.
onnx::ModelProto small_detector_like() {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 8, 8});
  auto conv = b.node("Conv", "conv", {x, b.random_weight("w", {8, 3, 3, 3})},
                     {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto relu = b.node("Relu", "relu", {conv});
  auto flat = b.node("Reshape", "reshape", {relu, b.ints("shape", {1, 8, 64})});
  auto soft = b.node("Softmax", "softmax", {flat}, {Attr::of("axis", -1)});
  b.output(soft, {1, 8, 64});
  auto side = b.node("Add", "add_input", {x, b.scalar("one", 1.f)});
  b.output(side, {1, 3, 8, 8});
  return b.build();
}

// Supported: conv, relu, reshape (by node name); the rest is not.
std::vector<char> supported_by_name(const Graph& g, const std::set<std::string>& names) {
  std::vector<char> s(g.node_count(), 0);
  for (int i = 0; i < g.node_count(); ++i) s[i] = names.count(g.node(i).name()) ? 1 : 0;
  return s;
}

TEST(OneWay, CompiledModelEditKeepsTheIndexAndShapesCurrent) {
  auto cm = CompiledModel::compile(small_detector_like(), {}, "small");
  EXPECT_EQ(cm.graph().node_count(), 5);
  EXPECT_TRUE(cm.shapes().at("reshape_out").is_static());
  ASSERT_EQ(cm.input_specs().size(), 1u);
  EXPECT_EQ(cm.input_specs()[0].dims, (std::vector<int64_t>{1, 3, 8, 8}));
  cm.edit([](onnx::ModelProto& m, ShapeMap& shapes) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type("Relu");
    n->set_name("extra");
    n->add_input("softmax_out");
    n->add_output("extra_out");
    shapes["extra_out"] = shapes.at("softmax_out");
  });
  EXPECT_EQ(cm.graph().node_count(), 6);
  EXPECT_GE(cm.graph().find_node("extra"), 0);
  ASSERT_EQ(cm.graph().consumers("softmax_out").size(), 1u);
  bool recorded = false;
  for (const auto& vi : cm.proto().graph().value_info()) recorded |= vi.name() == "extra_out";
  EXPECT_TRUE(recorded) << "edit() records the shapes in value_info";
}

TEST(OneWay, PartitionerTakesTheSupportedPrefixAndMovesDataMovementToTheHost) {
  const auto cm = CompiledModel::compile(small_detector_like(), {}, "small");
  const Graph& g = cm.graph();
  std::vector<int64_t> flops(g.node_count(), 0);
  for (int i = 0; i < g.node_count(); ++i) flops[i] = g.node(i).op_type() == "Conv" ? 1000 : 10;
  PartitionInput in{g, cm.shapes(), supported_by_name(g, {"conv", "relu", "reshape"}), flops};
  const Partition p = auto_partition(in);
  EXPECT_EQ(p.stage1_nodes, 2);  // conv, relu; the Reshape moved to the host at the same bytes
  EXPECT_EQ(p.moved_to_host, (std::vector<std::string>{"reshape"}));
  EXPECT_EQ(p.crossing, (std::vector<std::string>{"relu_out"}));
  EXPECT_EQ(p.crossing_bytes, 8 * 8 * 8 * 4);
  EXPECT_EQ(p.stage2_inputs, (std::vector<std::string>{"x"}));  // add_input reads it
  EXPECT_EQ(p.stage1_flops, 1010);
  EXPECT_EQ(p.total_flops, 1040);
  // Nothing supported at the inputs: nothing in stage1.
  PartitionInput none{g, cm.shapes(), supported_by_name(g, {"softmax"}), flops};
  EXPECT_EQ(auto_partition(none).stage1_nodes, 0);
}

TEST(OneWay, BuildStagesWritesTheContractAndProvesBitExact) {
  const auto original = small_detector_like();
  auto cm = CompiledModel::compile(original, {}, "small");
  const Graph& g = cm.graph();
  PartitionInput in{g, cm.shapes(), supported_by_name(g, {"conv", "relu", "reshape"}),
                    std::vector<int64_t>(g.node_count(), 1)};
  const Partition p = auto_partition(in);
  const StageModels s = build_stages(cm.proto(), cm.shapes(), p, SplitNames{});
  ASSERT_EQ(s.renamed.size(), 1u);
  EXPECT_EQ(s.renamed[0], (std::pair<std::string, std::string>{"relu_out", "hailo_stage1_feat"}));
  ASSERT_EQ(s.stage1.graph().output_size(), 1);
  EXPECT_EQ(s.stage1.graph().output(0).name(), "hailo_stage1_feat");
  std::set<std::string> s2_inputs;
  for (const auto& vi : s.stage2.graph().input()) s2_inputs.insert(vi.name());
  EXPECT_EQ(s2_inputs, (std::set<std::string>{"hailo_stage1_feat", "x"}));
  EXPECT_EQ(s.stage1.graph().node_size() + s.stage2.graph().node_size(), 5);
  check_model(s.stage1, "stage1");
  check_model(s.stage2, "stage2");
  const auto rep = verify_split(original, s.stage1, s.stage2, make_verify_cases(cm.input_specs(), 2, {}), 0.0);
  EXPECT_TRUE(rep.ok);
  for (const auto& w : rep.worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
}

// The stages split actually writes come from the moving overload: a weight that both stages
// read is copied into one and moved into the other, and the two stages equal those of the
// copying overload, bit for bit, and prove bit-exact.
TEST(OneWay, BuildStagesMovingTheWeightsEqualsCopyingThem) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  const auto shared = b.weight("shared", {1, 4}, {0.5f, -1.f, 2.f, 0.25f});
  auto a1 = b.node("Add", "add1", {x, shared});
  auto r1 = b.node("Relu", "relu", {a1});
  auto sm = b.node("Softmax", "softmax", {b.node("Mul", "mul2", {r1, shared})}, {Attr::of("axis", 1)});
  b.output(sm, {1, 4});
  const auto original = b.build();
  auto cm = CompiledModel::compile(original, {}, "shared weight");
  const Graph& g = cm.graph();
  PartitionInput in{g, cm.shapes(), supported_by_name(g, {"add1", "relu"}), std::vector<int64_t>(g.node_count(), 1)};
  const Partition p = auto_partition(in);
  ASSERT_EQ(p.crossing, (std::vector<std::string>{r1}));
  const StageModels copied = build_stages(cm.proto(), cm.shapes(), p, SplitNames{});
  onnx::ModelProto moved_from = cm.proto();
  const StageModels moved = build_stages(std::move(moved_from), cm.shapes(), p, SplitNames{});
  EXPECT_EQ(moved.stage1.SerializeAsString(), copied.stage1.SerializeAsString());
  EXPECT_EQ(moved.stage2.SerializeAsString(), copied.stage2.SerializeAsString());
  int holders = 0;
  for (const auto* st : {&moved.stage1, &moved.stage2})
    for (const auto& t : st->graph().initializer()) holders += t.name() == shared;
  EXPECT_EQ(holders, 2) << "each stage holds the weight it reads";
  const auto rep = verify_split(original, moved.stage1, moved.stage2, make_verify_cases(cm.input_specs(), 2, {}), 0.0);
  EXPECT_TRUE(rep.ok);
}

// The manifest is a function of the typed result: built again from the same SplitResult it is
// the same document, the file on disk is that document, and its facts are the result's.
TEST(OneWay, ManifestIsMadeFromTheTypedResult) {
  const fs::path d = temp_dir("one_way_manifest");
  save_model(small_detector_like(), d / "det.onnx");
  SplitOptions o;
  o.model = d / "det.onnx";
  o.out_dir = d / "out";
  const SplitResult r = split_model(o);
  const auto again = split_manifest(r, o);
  EXPECT_EQ(dump_json(again), dump_json(r.manifest));
  EXPECT_EQ(slurp(r.manifest_path), dump_json(r.manifest));
  EXPECT_EQ(again["stage1"]["sha256"], r.stage1_sha256);
  EXPECT_EQ(r.stage1_sha256, sha256_file(r.stage1_path));
  EXPECT_EQ(r.stage2_sha256, sha256_file(r.stage2_path));
  ASSERT_EQ(again["crossing"].size(), r.stages.renamed.size());
  for (size_t k = 0; k < r.stages.renamed.size(); ++k) {
    EXPECT_EQ(again["crossing"][k]["name"], r.stages.renamed[k].second) << k;
    EXPECT_EQ(again["crossing"][k]["original_tensor"], r.stages.renamed[k].first) << k;
  }
}

// run's recipe: the header comes before the first input, every input is reported as it
// finishes (a bad one too, and the run goes on), and the JSON is made from the typed result.
TEST(OneWay, RunRecipeReportsTheHeaderFirstThenEachInput) {
  const fs::path d = temp_dir("one_way_run");
  save_model(build_demo_detector(), d / "det.onnx");
  cv::imwrite((d / "pic.png").string(), draw_demo_picture(128));
  std::ofstream(d / "broken.png") << "not a picture";
  RunRequest q;
  q.models.model = (d / "det.onnx").string();
  q.inputs = {(d / "broken.png").string(), (d / "pic.png").string()};
  q.options.out_dir = d / "out";
  q.options.decode.class_names = demo_class_names();
  std::vector<std::string> events;
  RunEvents on;
  on.started = [&](const RunHeader& h) { events.push_back("start " + std::to_string(h.width)); };
  on.input_done = [&](const InputReport& r, bool split) {
    events.push_back((r.error.empty() ? "done " : "failed ") + fs::path(r.spec).filename().string() +
                     (split ? " split" : " whole"));
  };
  const RunResult r = run_detection(q, on);
  EXPECT_EQ(events, (std::vector<std::string>{"start 128", "failed broken.png whole", "done pic.png whole"}));
  EXPECT_EQ(r.header.width, 128);
  ASSERT_EQ(r.report.inputs.size(), 2u);
  EXPECT_GT(r.report.inputs[1].detections, 0) << "the run goes on after a bad input";
  EXPECT_TRUE(fs::exists(r.report.inputs[1].detections_path));
  EXPECT_EQ(r.report.failed(), 1);
  EXPECT_EQ(r.report.exit_code(), 1);
  const auto j = run_json(r, q.options.decode.threshold);
  EXPECT_EQ(j["schema"], "npusplit.run/1");
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["inputs"].size(), 2u);
}

// The run loop hands on typed frames; the detections files are made from them in report/.
TEST(OneWay, DetectionsFilesAreMadeFromTheTypedFrames) {
  const fs::path d = temp_dir("one_way_detections");
  RunOptions o;
  o.model_label = "m.onnx";
  o.save_every = 100;
  FrameRecord f;
  f.frame = 0;
  f.width = 640;
  f.height = 480;
  f.stage1_ms = 1.5;
  f.detections.push_back({3, "cat", 0.9f, 1, 2, 3, 4});
  for (auto format : {DetectionsFormat::json, DetectionsFormat::jsonl}) {
    o.detections = format;
    const fs::path p = d / (format == DetectionsFormat::json ? "a.json" : "a.jsonl");
    {
      auto sink = detections_file({"pic.png", p, &o});
      sink->add(f);
      sink->close(true);
    }
    {  // a run that ends early: "complete": false, also when only the destructor closes it
      auto sink = detections_file({"pic.png", d / ("early_" + p.filename().string()), &o});
      sink->add(f);
    }
    const std::string early = slurp(d / ("early_" + p.filename().string()));
    if (format == DetectionsFormat::json) {
      EXPECT_EQ(nlohmann::json::parse(early)["complete"], false) << early;
    } else {
      const std::string last = early.substr(early.rfind('\n', early.size() - 2) + 1);
      EXPECT_EQ(nlohmann::json::parse(last), nlohmann::json::parse(R"({"end": {"frames": 1, "complete": false}})"))
          << early;
    }
    const std::string text = slurp(p);
    // The documents as `run` has always written them (schemas npusplit.detections/1 and
    // npusplit.detections-lines/1, the README's JSON section).
    const nlohmann::json frame = nlohmann::json::parse(R"({"frame": 0, "width": 640, "height": 480,
        "timing_ms": {"preprocess": 0, "stage1": 1.5, "stage2": 0, "pipeline": 0, "decode_draw_write": 0},
        "detections": [{"class_id": 3, "label": "cat", "score": 0.8999999761581421, "box_xyxy": [1, 2, 3, 4]}]})");
    const nlohmann::json header = {{"input", "pic.png"}, {"model", "m.onnx"}, {"threshold", o.decode.threshold},
                                   {"letterbox", false}};
    if (format == DetectionsFormat::json) {
      nlohmann::json want = header;
      want["schema"] = "npusplit.detections/1";
      want["frames"] = {frame};
      want["complete"] = true;
      EXPECT_EQ(nlohmann::json::parse(text), want) << text;
    } else {
      std::vector<nlohmann::json> lines;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
      nlohmann::json want = header;
      want["schema"] = "npusplit.detections-lines/1";
      ASSERT_EQ(lines.size(), 3u) << text;  // header, the frame, the end line
      EXPECT_EQ(lines[0], want);
      EXPECT_EQ(lines[1], frame);
      EXPECT_EQ(lines[2], nlohmann::json::parse(R"({"end": {"frames": 1, "complete": true}})"));
    }
  }
}

// fold-static is skipped after a compile that folded to its fixed point; running it anyway must
// change nothing (the skip is sound), and an edit brings it back.
TEST(OneWay, FoldStaticSkippedAfterAConvergedCompileChangesNothing) {
  const auto m = small_detector_like();
  auto skipped = CompiledModel::compile(m, {}, "small");
  ASSERT_TRUE(skipped.folded_to_fixed_point());
  auto forced = skipped.clone();
  forced.edit([](onnx::ModelProto&, ShapeMap&) {});  // an edit: the fixed point is no longer known
  EXPECT_FALSE(forced.folded_to_fixed_point());
  const auto names = default_pass_names();
  const FixReport a = apply_passes(skipped, names), b = apply_passes(forced, names);
  EXPECT_EQ(skipped.proto().SerializeAsString(), forced.proto().SerializeAsString());
  ASSERT_EQ(a.results.size(), b.results.size());
  for (size_t k = 0; k < a.results.size(); ++k) EXPECT_EQ(a.results[k].rewrites, b.results[k].rewrites) << a.results[k].pass;
}

TEST(OneWay, FoldStaticSkippedOnDeimv2ChangesNothing) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  auto skipped = CompiledModel::compile(load_model(path), {}, "atto");
  ASSERT_TRUE(skipped.folded_to_fixed_point());
  auto forced = skipped.clone();
  forced.edit([](onnx::ModelProto&, ShapeMap&) {});
  const FixReport a = apply_passes(skipped, default_pass_names()), b = apply_passes(forced, default_pass_names());
  EXPECT_EQ(skipped.proto().SerializeAsString(), forced.proto().SerializeAsString());
  EXPECT_EQ(a.iterations, b.iterations);
}

// Dead code goes without an index on a graph in order, and with one on a graph out of order.
TEST(OneWay, RemoveDeadCodeInAndOutOfOrder) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto r1 = b.node("Relu", "r1", {x});
  auto dead = b.node("Sigmoid", "dead", {r1});
  b.node("Neg", "dead_too", {dead});
  auto r2 = b.node("Abs", "r2", {r1});
  b.output(b.node("Relu", "r3", {r2}), {1, 4});
  b.weight("unused", {2}, {1.f, 2.f});
  for (bool reversed : {false, true}) {
    auto m = b.build();
    auto* nodes = m.mutable_graph()->mutable_node();
    if (reversed)
      for (int i = 0, j = nodes->size() - 1; i < j; ++i, --j) nodes->SwapElements(i, j);
    EXPECT_EQ(remove_dead_code(*m.mutable_graph()), 2) << reversed;
    std::set<std::string> left;
    for (const auto& n : m.graph().node()) left.insert(n.name());
    EXPECT_EQ(left, (std::set<std::string>{"r1", "r2", "r3"})) << reversed;
    for (const auto& t : m.graph().initializer()) EXPECT_NE(t.name(), "unused") << reversed;
  }
}

}  // namespace
}  // namespace npusplit
