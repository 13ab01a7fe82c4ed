// The quantization-aware cut (issue 11 item 5): a merge whose parts' measured ranges differ more
// than the packing threshold never ends stage1, and every such merge left inside stage1 gets a
// quant-mixed-range finding; ranges from a seeded synthetic image or from calibration images.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <opencv2/imgcodecs.hpp>

#include "npusplit/app/analyze.h"
#include "npusplit/app/range_probe.h"
#include "npusplit/app/split.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/ir/builder.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/platform/platform_cut.h"
#include "npusplit/report/check_report.h"
#include "test_support.h"

using namespace npusplit;
using namespace npusplit::test;

namespace {

// image [1,3,8,8] -> a = x*1, b = x*K -> Concat(a, b) on channels ("merge"); returns its output.
std::string add_merge_of_ranges(ModelBuilder& b, float k) {
  const auto x = b.input("image", {1, 3, 8, 8});
  const auto a = b.node("Mul", "mul_one", {x, b.scalar("one", 1.0f)});
  const auto c = b.node("Mul", "mul_k", {x, b.scalar("k", k)});
  return b.node("Concat", "merge", {a, c}, {Attr::of("axis", int64_t(1))});
}

// The merge above -> (Conv when INSIDE) -> output.
onnx::ModelProto concat_model(float k, bool inside) {
  ModelBuilder b(17);
  const auto cat = add_merge_of_ranges(b, k);
  if (inside) {
    const auto w = b.random_weight("w", {4, 6, 1, 1});
    const auto y = b.node("Conv", "conv", {cat, w});
    b.output(y, {1, 4, 8, 8});
  } else {
    b.output(cat, {1, 6, 8, 8});
  }
  return b.build();
}

const Finding* finding_of(const Analysis& a, const std::string& node) {
  for (const auto& v : a.verdicts)
    if (v.name == node)
      for (const auto& f : v.findings)
        if (f.rule_id == "quant-mixed-range") return &f;
  return nullptr;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST(QuantCut, PartitionerMovesNoEndNodesOffTheFrontier) {
  const auto cm = CompiledModel::compile(concat_model(100, false), {}, "t");
  const Graph& g = cm.graph();
  PartitionInput in{g, cm.shapes(), std::vector<char>(size_t(g.node_count()), 1), std::vector<int64_t>(size_t(g.node_count()), 10)};
  const Partition plain = auto_partition(in);
  EXPECT_EQ(plain.crossing, (std::vector<std::string>{"merge_out"}));
  in.no_end.assign(size_t(g.node_count()), 0);
  in.no_end[size_t(g.find_node("merge"))] = 1;
  const Partition p = auto_partition(in);
  EXPECT_EQ(p.moved_no_end, (std::vector<std::string>{"merge"}));
  EXPECT_EQ(p.crossing, (std::vector<std::string>{"mul_one_out", "mul_k_out"}));
  EXPECT_EQ(p.stage1_nodes, 2);
}

// A merge read by a stage1 node AND a host node crosses too: it leaves stage1 with its stage1
// reader, so no end node of the cut is a mixed merge.
TEST(QuantCut, NoEndNodeReadByBothSidesLeavesStage1) {
  ModelBuilder b(17);
  const auto cat = add_merge_of_ranges(b, 100.0f);
  const auto y = b.node("Conv", "conv", {cat, b.random_weight("w", {4, 6, 1, 1})});
  const auto h = b.node("Relu", "host_relu", {cat});
  b.output(y, {1, 4, 8, 8});
  b.output(h, {1, 6, 8, 8});
  const auto cm = CompiledModel::compile(b.build(), {}, "t");
  const Graph& g = cm.graph();
  std::vector<char> supported(size_t(g.node_count()), 1);
  supported[size_t(g.find_node("host_relu"))] = 0;
  PartitionInput in{g, cm.shapes(), supported, std::vector<int64_t>(size_t(g.node_count()), 10)};
  const Partition plain = auto_partition(in);
  EXPECT_TRUE(contains(plain.crossing, "merge_out")) << "without the rule the merge ends stage1";
  in.no_end.assign(size_t(g.node_count()), 0);
  in.no_end[size_t(g.find_node("merge"))] = 1;
  const Partition p = auto_partition(in);
  EXPECT_FALSE(contains(p.crossing, "merge_out"));
  EXPECT_EQ(p.crossing, (std::vector<std::string>{"mul_one_out", "mul_k_out"}));
  EXPECT_FALSE(p.stage1[size_t(g.find_node("conv"))]) << "its stage1 reader goes with it";
  EXPECT_TRUE(contains(p.moved_no_end, "merge"));
}

TEST(QuantCut, MixedRangesAtTheFrontierMoveToTheHost) {
  const Analysis a = analyze_proto(concat_model(100, false), "mixed", AnalyzeOptions{});
  ASSERT_TRUE(a.ranges.measured) << a.ranges.skipped;
  EXPECT_EQ(a.ranges.source, "synthetic");
  ASSERT_EQ(a.ranges.merges.size(), 1u);
  EXPECT_NEAR(a.ranges.merges[0].ratio, 100.0, 5.0);  // x in [0,1] against 100 x
  EXPECT_TRUE(contains(a.ranges.moved, "merge"));
  EXPECT_EQ(a.partition.crossing, (std::vector<std::string>{"mul_one_out", "mul_k_out"}));
  EXPECT_TRUE(a.ranges.npu_merges.empty());  // moved, so nothing left to flag
  EXPECT_EQ(finding_of(a, "merge"), nullptr);
  // The record reaches check's JSON and text.
  const auto j = check_json(a);
  EXPECT_EQ(j["quant_ranges"]["source"], "synthetic");
  EXPECT_EQ(j["quant_ranges"]["moved_to_host"][0], "merge");
  EXPECT_NE(check_text(a, false).find("moved to the host"), std::string::npos);
}

TEST(QuantCut, SameRangesChangeNothing) {
  const Analysis a = analyze_proto(concat_model(2, false), "same", AnalyzeOptions{});
  ASSERT_TRUE(a.ranges.measured) << a.ranges.skipped;
  EXPECT_TRUE(a.ranges.merges.empty());
  EXPECT_TRUE(a.ranges.moved.empty());
  EXPECT_EQ(a.partition.crossing, (std::vector<std::string>{"merge_out"}));
  EXPECT_EQ(finding_of(a, "merge"), nullptr);
  AnalyzeOptions off;
  off.ranges.enabled = false;
  EXPECT_EQ(analyze_proto(concat_model(100, false), "off", off).partition.crossing,
            (std::vector<std::string>{"merge_out"}));
}

TEST(QuantCut, MixedMergeInsideStage1IsFlaggedNotRejected) {
  const Analysis a = analyze_proto(concat_model(100, true), "inside", AnalyzeOptions{});
  ASSERT_EQ(a.ranges.npu_merges.size(), 1u);
  const Finding* f = finding_of(a, "merge");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, "warning");
  EXPECT_NE(f->reason.find("100x"), std::string::npos) << f->reason;
  EXPECT_NE(f->detail.find("synthetic"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("seed 0"), std::string::npos) << f->detail;
  EXPECT_NE(f->fix.find("--cut"), std::string::npos);
  EXPECT_NE(f->source.find("hailo_quant.yaml"), std::string::npos);
  // A warning: the node stays supported, check's exit code does not change, the Conv stays on the NPU.
  for (const auto& v : a.verdicts)
    if (v.name == "merge") {
      EXPECT_TRUE(v.supported);
    }
  EXPECT_EQ(check_exit_code(a), 0);
  EXPECT_TRUE(a.ranges.moved.empty());
  EXPECT_EQ(a.partition.stage1_nodes, 4);
  EXPECT_NE(check_text(a, false).find("warning"), std::string::npos);
  EXPECT_EQ(check_json(a)["quant_ranges"]["npu_merges"][0]["node"], "merge");
}

TEST(QuantCut, CalibrationImagesAreNamedAsTheSource) {
  const fs::path d = temp_dir("quant_cut_calib");
  cv::Mat img(16, 16, CV_8UC3, cv::Scalar(10, 200, 90));
  ASSERT_TRUE(cv::imwrite((d / "a.png").string(), img));
  AnalyzeOptions o;
  o.ranges.images = {(d / "a.png").string()};
  const Analysis a = analyze_proto(concat_model(100, true), "calib", o);
  ASSERT_TRUE(a.ranges.measured) << a.ranges.skipped;
  EXPECT_EQ(a.ranges.source, "calibration");
  EXPECT_EQ(a.ranges.frames, 1);
  const Finding* f = finding_of(a, "merge");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("1 calibration frame(s)"), std::string::npos) << f->detail;
  EXPECT_EQ(f->detail.find("synthetic"), std::string::npos) << f->detail;
}

TEST(QuantCut, SyntheticImageIsSeeded) {
  const cv::Mat a = synthetic_image(8, 4, 0), b = synthetic_image(8, 4, 0), c = synthetic_image(8, 4, 1);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(a, c, cv::NORM_INF), 0);
}

TEST(QuantCut, ThresholdIsTheFactsFile) {
  const auto f = YAML::LoadFile((fs::path(NPUSPLIT_SOURCE_DIR) / "rules" / "quant" / "hailo_quant.yaml").string());
  EXPECT_EQ(f["facts"]["mixed_range_ratio"]["value"].as<double>(), RangeProbeOptions{}.ratio);
  const std::string src = f["facts"]["one_scale_per_output"]["source"][0].as<std::string>();
  const Analysis a = analyze_proto(concat_model(100, true), "src", AnalyzeOptions{});
  ASSERT_NE(finding_of(a, "merge"), nullptr);
  EXPECT_NE(finding_of(a, "merge")->source.find(src.substr(0, src.find(' '))), std::string::npos);
}

// Other merges than Concat: Where's branches (not its condition), Scatter's data and updates.
TEST(QuantCut, WhereAndScatterAreMergesOfTheirValueInputs) {
  EXPECT_TRUE(is_merge_op("Concat"));
  EXPECT_TRUE(is_merge_op("Where"));
  EXPECT_TRUE(is_merge_op("ScatterND"));
  EXPECT_FALSE(is_merge_op("Add")) << "arithmetic mixes values, it does not place parts side by side";
  onnx::NodeProto where;
  where.set_op_type("Where");
  where.set_name("w");
  for (const char* x : {"cond", "small", "big"}) where.add_input(x);
  EXPECT_EQ(merged_inputs(where), (std::vector<int>{1, 2}));
  std::map<std::string, RunningRange> ranges;
  const float cond[2] = {0, 1}, small[2] = {0, 1}, big[2] = {-50, 50};
  ranges["cond"].add(cond, 2);
  ranges["small"].add(small, 2);
  ranges["big"].add(big, 2);
  const auto m = mixed_range_of(where, ranges, 8.0);
  ASSERT_TRUE(m.has_value());
  EXPECT_NEAR(m->ratio, 100.0, 1e-9);
  ASSERT_EQ(m->parts.size(), 2u);
  EXPECT_EQ(m->parts[0].tensor, "small");
  // A condition as wide as a branch does not make it mixed: only the branches count.
  ranges["big"] = RunningRange{};
  ranges["big"].add(small, 2);
  ranges["cond"] = RunningRange{};
  ranges["cond"].add(big, 2);
  EXPECT_FALSE(mixed_range_of(where, ranges, 8.0).has_value());
  onnx::NodeProto scatter;
  scatter.set_op_type("ScatterND");
  for (const char* x : {"data", "indices", "updates"}) scatter.add_input(x);
  EXPECT_EQ(merged_inputs(scatter), (std::vector<int>{0, 2}));
  auto* red = scatter.add_attribute();
  red->set_name("reduction");
  red->set_type(onnx::AttributeProto::STRING);
  red->set_s("add");
  EXPECT_TRUE(merged_inputs(scatter).empty()) << "a reduction adds the parts: arithmetic, not a merge";
}

// image -> a = x, b = 100 x -> Concat -> Conv to 64 channels (wide) -> output. On a slow link the
// best cut would end at the Concat (6 channels, one transfer); its parts differ 100x, so every
// platform candidate ending there is pulled back to the parts.
TEST(QuantCut, PlatformCandidatesNeverEndOnAMixedMerge) {
  ModelBuilder b(17);
  const auto cat = add_merge_of_ranges(b, 100.0f);
  const auto y = b.node("Conv", "conv", {cat, b.random_weight("w", {64, 6, 1, 1})});
  b.output(y, {1, 64, 8, 8});
  const Analysis an = analyze_proto(b.build(), "wide", AnalyzeOptions{});
  ASSERT_TRUE(an.ranges.measured) << an.ranges.skipped;
  const Graph& g = an.model.graph();
  ASSERT_EQ(an.no_end.size(), size_t(g.node_count())) << "the analysis keeps what must not end stage1";
  EXPECT_TRUE(an.no_end[size_t(g.find_node("merge"))]);
  EXPECT_EQ(an.partition.crossing, (std::vector<std::string>{"conv_out"})) << "inside stage1 the merge stays";
  PlatformProfile slow;
  slow.name = "slow";
  slow.tops.value = 10;
  slow.efficiency.value = 0.5;
  slow.bandwidth_mb_s.value = 1;  // 1000 bytes per ms
  slow.transfer_overhead_us.value = 100;
  slow.host_factor.value = 1;
  std::vector<double> node_ms(size_t(g.node_count()), 0.01);
  node_ms[size_t(g.find_node("conv"))] = 1.0;
  PartitionInput in = partition_input(an, g);
  ASSERT_FALSE(in.no_end.empty());
  const auto chosen = choose_cut(in, an.partition, slow, node_ms, ChooseOptions{});
  for (const auto& c : chosen.frontier.candidates)
    EXPECT_FALSE(contains(c.crossing, "merge_out")) << c.label << " ends stage1 on the mixed merge";
  EXPECT_EQ(chosen.chosen.crossing, (std::vector<std::string>{"mul_one_out", "mul_k_out"}));
  // Without the measured ranges the same chooser would end on the merge: the rule is what moved it.
  in.no_end.clear();
  const auto blind = choose_cut(in, an.partition, slow, node_ms, ChooseOptions{});
  EXPECT_EQ(blind.chosen.crossing, (std::vector<std::string>{"merge_out"}));
}

namespace {
// image -> inner = Concat(x, 100 x) -> outer = Concat(inner, 0.01 x) -> output: both merges mixed.
onnx::ModelProto nested_merges() {
  ModelBuilder b(17);
  const auto inner = add_merge_of_ranges(b, 100);
  const auto small = b.node("Mul", "mul_small", {"image", b.scalar("small", 0.01f)});
  b.output(b.node("Concat", "outer", {inner, small}, {Attr::of("axis", int64_t(1))}), {1, 9, 8, 8});
  return b.build();
}
}  // namespace

// split's scope: only the merges that end the cut, round by round as a pull-back exposes the next.
TEST(QuantCut, CutScopeMeasuresOnlyTheMergesThatEndTheCut) {
  AnalyzeOptions cut;
  cut.ranges.scope = RangeScope::cut;
  const Analysis a = analyze_proto(nested_merges(), "nested", cut);
  ASSERT_TRUE(a.ranges.measured) << a.ranges.skipped;
  EXPECT_EQ(a.ranges.scope, "cut");
  ASSERT_EQ(a.ranges.merges.size(), 2u);  // outer in round 1, inner (then at the cut) in round 2
  EXPECT_EQ(a.ranges.merges[0].node, "outer");
  EXPECT_EQ(a.ranges.merges[1].node, "merge");
  EXPECT_EQ(a.ranges.tensors, 4);  // merge_out + mul_small_out, then mul_one_out + mul_k_out
  EXPECT_EQ(a.partition.crossing, (std::vector<std::string>{"mul_one_out", "mul_k_out", "mul_small_out"}));
  EXPECT_EQ(check_json(a)["quant_ranges"]["scope"], "cut");
  // Scope stage1 measures both merges in one round and reaches the same cut.
  const Analysis all = analyze_proto(nested_merges(), "nested", AnalyzeOptions{});
  EXPECT_EQ(all.ranges.scope, "stage1");
  EXPECT_EQ(all.partition.crossing, a.partition.crossing);

  // A mixed merge inside stage1 does not end the cut: nothing runs, nothing is flagged.
  const Analysis inside = analyze_proto(concat_model(100, true), "inside", cut);
  EXPECT_FALSE(inside.ranges.measured);
  EXPECT_EQ(inside.ranges.skipped, "no merge ends stage1");
  EXPECT_EQ(inside.ranges.tensors, 0);
  EXPECT_TRUE(inside.ranges.npu_merges.empty());
  EXPECT_EQ(finding_of(inside, "merge"), nullptr);
  EXPECT_EQ(inside.partition.stage1_nodes, 4);
}

// split takes the cut scope; split --calib (on the way to quantization) every merge, as check does.
TEST(QuantCut, SplitMeasuresItsCutAndWithCalibEveryMerge) {
  const fs::path d = temp_dir("quant_cut_scope");
  save_model(concat_model(100, true), d / "inside.onnx");
  SplitOptions o;
  o.model = d / "inside.onnx";
  o.out_dir = d / "plain";
  o.verify = false;
  const SplitResult plain = split_model(o);
  EXPECT_EQ(plain.analysis.ranges.scope, "cut");
  EXPECT_EQ(plain.manifest["cut"]["quant_ranges"]["scope"], "cut");
  EXPECT_FALSE(plain.analysis.ranges.measured);
  const fs::path img = d / "pic.png";
  ASSERT_TRUE(cv::imwrite(img.string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(40, 90, 200))));
  o.out_dir = d / "calib";
  o.calib_images = {img.string()};
  const SplitResult calib = split_model(o);
  EXPECT_EQ(calib.analysis.ranges.scope, "stage1");
  EXPECT_EQ(calib.analysis.ranges.npu_merges.size(), 1u);
  EXPECT_NE(finding_of(calib.analysis, "merge"), nullptr);
}
