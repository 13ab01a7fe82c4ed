// Issue 14: platform profiles, the frame-time model of a cut, the candidate cuts and the chooser.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "npusplit/app/analyze.h"
#include "npusplit/app/split.h"
#include "npusplit/ir/builder.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/platform/candidates.h"
#include "npusplit/platform/embedded_platforms.h"
#include "npusplit/platform/host_time.h"
#include "npusplit/platform/platform_cut.h"
#include "npusplit/platform/profile.h"
#include "npusplit/report/platform_report.h"
#include "test_support.h"

namespace npusplit {
namespace {

using test::error_of;

PlatformProfile toy_profile() {
  PlatformProfile p;
  p.name = "toy";
  p.tops.value = 10;          // 10 TOPS x 0.5 = 5e12 op/s
  p.efficiency.value = 0.5;
  p.bandwidth_mb_s.value = 1000;  // 1e6 bytes per ms
  p.transfer_overhead_us.value = 50;
  p.host_factor.value = 2;
  return p;
}

TEST(Platform, FrameTimeIsTheClosedForm) {
  CutCost c;
  c.stage1_flops = 10'000'000'000;  // 1e10 / 5e12 = 2 ms
  c.wire_bytes = 2'000'000;         // (2e6 + 1e6) / 1e6 = 3 ms, + 4 x 0.05 = 3.2 ms
  c.input_bytes = 1'000'000;
  c.transfers = 4;
  c.host_measured_ms = 10;          // x 2 = 20 ms
  const FrameEstimate e = estimate_frame(toy_profile(), c);
  EXPECT_DOUBLE_EQ(e.npu_ms, 2.0);
  EXPECT_NEAR(e.transfer_ms, 3.2, 1e-12);
  EXPECT_DOUBLE_EQ(e.host_ms, 20.0);
  EXPECT_DOUBLE_EQ(e.host_measured_ms, 10.0);
  EXPECT_DOUBLE_EQ(e.fps, 1000.0 / 20.0);          // pipelined: the slowest stage
  EXPECT_NEAR(e.latency_ms, 2.0 + 3.2 + 20.0, 1e-12);  // sequential: the sum
  // A link-bound cut: the transfer decides the frame rate.
  c.wire_bytes = 50'000'000;
  EXPECT_NEAR(estimate_frame(toy_profile(), c).fps, 1000.0 / (51.0 + 0.2), 1e-9);
}

TEST(Platform, NativeIsTheMeasuredHostTimeAlone) {
  const PlatformProfile p = load_platform("native");
  EXPECT_TRUE(p.native);
  CutCost c;
  c.stage1_flops = 1'000'000'000'000;
  c.wire_bytes = 1'000'000'000;
  c.transfers = 3;
  c.host_measured_ms = 8;
  const FrameEstimate e = estimate_frame(p, c);
  EXPECT_EQ(e.npu_ms, 0);
  EXPECT_EQ(e.transfer_ms, 0);
  EXPECT_DOUBLE_EQ(e.host_ms, 8);
  EXPECT_DOUBLE_EQ(e.fps, 125);
  EXPECT_DOUBLE_EQ(e.latency_ms, 8);
}

TEST(Platform, EveryEmbeddedProfileLoadsWithSourcesAndTags) {
  const auto names = known_platforms();
  for (const char* want : {"native", "rpi5-hailo8l", "rpi5-hailo8", "x86-hailo8", "hailo10h"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  EXPECT_EQ(embedded_platform_files().size() + 1, names.size());
  for (const auto& n : names) {
    if (n == "native") continue;
    const PlatformProfile p = load_platform(n);
    EXPECT_EQ(p.name, n);
    for (const PlatformFact* f : {&p.tops, &p.efficiency, &p.bandwidth_mb_s, &p.transfer_overhead_us, &p.host_factor}) {
      EXPECT_FALSE(f->source.empty()) << n;
      EXPECT_TRUE(f->evidence == "DOC" || f->evidence == "MEAS" || f->evidence == "INF" || f->evidence == "COMM") << n;
    }
    EXPECT_GT(p.npu_ops_per_s(), 1e11) << n;
  }
  // The Gen3 x1 Pi is slower over the link than the x4 x86 slot and faster than the Gen2 Pi.
  EXPECT_LT(load_platform("rpi5-hailo8l").bandwidth_mb_s.value, load_platform("rpi5-hailo8").bandwidth_mb_s.value);
  EXPECT_LT(load_platform("rpi5-hailo8").bandwidth_mb_s.value, load_platform("x86-hailo8").bandwidth_mb_s.value);
}

TEST(Platform, UnknownOrBadProfileIsOneLineNamingTheKnownOnes) {
  const std::string msg = error_of([] { load_platform("rpi6-hailo99"); });
  EXPECT_NE(msg.find("unknown platform"), std::string::npos) << msg;
  for (const auto& n : known_platforms()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  EXPECT_NE(error_of([] { parse_platform("name: x\nnpu: {tops: {value: 1}}\nlink: {}\nhost: {}\n", "bad.yaml"); })
                .find("evidence tag and a source"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_platform("[1, 2", "bad.yaml"); }).find("invalid YAML"), std::string::npos);
  const auto d = test::temp_dir("platform_bad");
  const auto r = test::run_cli("split '" + (d / "none.onnx").string() + "' -o '" + d.string() + "' --platform nope", "platform_bad");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("npusplit: error: --platform nope: unknown platform (known: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto o = test::run_cli("split '" + (d / "none.onnx").string() + "' -o '" + d.string() + "' --platform native --objective speed", "platform_obj");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--objective speed: must be fps or latency"), std::string::npos) << o.err;
}

// x -> /model/backbone: conv1 (3->8) -> relu1 -> conv2 (8->8) -> relu2
//   -> /model/neck: wide (8->256 1x1 conv: a big tensor) -> relu3
//   -> /model/decoder: softmax (unsupported) -> out
onnx::ModelProto scoped_model() {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 16, 16});
  const auto pads = Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto c1 = b.node("Conv", "/model/backbone/conv1/Conv", {x, b.random_weight("w1", {8, 3, 3, 3})}, {pads});
  auto r1 = b.node("Relu", "/model/backbone/conv1/Relu", {c1});
  auto c2 = b.node("Conv", "/model/backbone/conv2/Conv", {r1, b.random_weight("w2", {8, 8, 3, 3})}, {pads});
  auto r2 = b.node("Relu", "/model/backbone/conv2/Relu", {c2});
  auto wide = b.node("Conv", "/model/neck/wide/Conv", {r2, b.random_weight("w3", {256, 8, 1, 1})});
  auto r3 = b.node("Relu", "/model/neck/wide/Relu", {wide});
  auto flat = b.node("Reshape", "/model/decoder/Reshape", {r3, b.ints("shape", {1, 256, 256})});
  auto soft = b.node("Softmax", "/model/decoder/Softmax", {flat}, {Attr::of("axis", -1)});
  b.output(soft, {1, 256, 256});
  return b.build();
}

struct Fixture {
  CompiledModel cm;
  std::vector<int64_t> flops;
  std::vector<char> supported;
  std::vector<std::string> reasons;
  explicit Fixture(onnx::ModelProto m) : cm(CompiledModel::compile(std::move(m), {}, "scoped")) {
    const Graph& g = cm.graph();
    for (int i = 0; i < g.node_count(); ++i) {
      const auto& op = g.node(i).op_type();
      flops.push_back(op == "Conv" ? 1'000'000 : 1000);
      supported.push_back(op == "Softmax" ? 0 : 1);
      reasons.push_back(op == "Softmax" ? "test: softmax on the host" : "");
    }
  }
  PartitionInput input() const { return PartitionInput{cm.graph(), cm.shapes(), supported, flops}; }
};

TEST(Platform, EveryCandidateIsAValidCut) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  ASSERT_GT(base.stage1_nodes, 3);
  std::vector<CandidateCut> all = scope_cuts(in, base);
  std::set<std::string> labels;
  for (const auto& c : all) labels.insert(c.label);
  EXPECT_TRUE(labels.count("before /model/neck")) << "the neck holds stage1 nodes but not all of them";
  EXPECT_TRUE(labels.count("before /model/backbone/conv2"));
  EXPECT_FALSE(labels.count("before /model")) << "a scope holding all of stage1 leaves nothing";
  const auto stats = prefix_stats(in, base, {});
  ASSERT_EQ(int(stats.size()), base.stage1_nodes);
  for (int k = 1; k <= base.stage1_nodes; ++k) all.push_back({"prefix", prefix_stage1(in, base, k)});
  for (size_t c = 0; c < all.size(); ++c) {
    Partition p;
    p.stage1 = all[c].stage1;
    finish_partition(in, p);
    // manual_partition at the candidate's crossing tensors accepts it and gives the same stage1.
    const Partition m = manual_partition(in, p.crossing, f.reasons);
    EXPECT_EQ(m.stage1, p.stage1) << all[c].label;
    EXPECT_EQ(m.stage1_flops, p.stage1_flops) << all[c].label;
    if (all[c].label == "prefix") {
      const auto& s = stats[size_t(p.stage1_nodes - 1)];
      int64_t wire = 0;
      for (const auto& t : p.crossing) wire += wire_bytes_of(f.cm.shapes(), t, {});
      EXPECT_EQ(s.wire_bytes, wire) << "the running crossing set matches finish_partition at k=" << p.stage1_nodes;
      EXPECT_EQ(s.crossing, int(p.crossing.size()));
      EXPECT_EQ(s.stage1_flops, p.stage1_flops);
    }
  }
  // 16-bit crossing doubles the wire bytes of that tensor.
  const std::string t = base.crossing.front();
  EXPECT_EQ(wire_bytes_of(f.cm.shapes(), t, {{t, 16}}), 2 * wire_bytes_of(f.cm.shapes(), t, {}));
}

// Host times: each Conv 1 ms here, the rest 0.01 ms.
std::vector<double> conv_heavy_node_ms(const Fixture& f) {
  std::vector<double> node_ms;
  for (int i = 0; i < f.cm.graph().node_count(); ++i) node_ms.push_back(f.flops[i] > 1000 ? 1.0 : 0.01);
  return node_ms;
}

// 1000 bytes per ms: scoped_model's 256-channel tensor costs 65 ms on it.
PlatformProfile slow_link_profile() {
  PlatformProfile p = toy_profile();
  p.bandwidth_mb_s.value = 1;
  p.host_factor.value = 1;
  return p;
}

TEST(Platform, ChooserPicksTheFastestCutAndKeepsTheBaseline) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  const std::vector<double> node_ms = conv_heavy_node_ms(f);
  const PlatformProfile slow_link = slow_link_profile();
  const PlatformChoice c = choose_cut(in, base, slow_link, node_ms, ChooseOptions{});
  const Frontier& fr = c.frontier;
  ASSERT_FALSE(fr.empty());
  ASSERT_EQ(fr.chosen, 0);
  ASSERT_GE(fr.baseline, 0);
  EXPECT_EQ(fr.candidates[size_t(fr.baseline)].label, "auto");
  for (const auto& cand : fr.candidates) EXPECT_LE(cand.estimate.fps, fr.candidates[0].estimate.fps + 1e-9) << cand.label;
  // Brute force over every prefix: none beats the choice.
  for (int k = 1; k <= base.stage1_nodes; ++k) {
    Partition p;
    p.stage1 = prefix_stage1(in, base, k);
    finish_partition(in, p);
    double host = 0;
    for (int i = 0; i < f.cm.graph().node_count(); ++i)
      if (!p.stage1[i]) host += node_ms[i];
    int inputs = 0;
    CutCost cost{p.stage1_flops, 0, 0, stage1_input_bytes(in, p, &inputs), host};
    for (const auto& t : p.crossing) cost.wire_bytes += wire_bytes_of(f.cm.shapes(), t, {});
    cost.transfers = int(p.crossing.size()) + inputs;
    EXPECT_LE(estimate_frame(slow_link, cost).fps, fr.candidates[0].estimate.fps + 1e-9) << "prefix " << k;
  }
  // On this link the wide tensor must not cross: the chosen cut is earlier and faster than auto.
  EXPECT_NE(fr.chosen, fr.baseline);
  EXPECT_GT(fr.candidates[0].estimate.fps, fr.candidates[size_t(fr.baseline)].estimate.fps);
  EXPECT_LT(c.chosen.crossing_bytes, base.crossing_bytes);
  EXPECT_EQ(c.chosen.crossing, fr.candidates[0].crossing);
  // With a link that costs nothing, the automatic cut (most on the NPU) is kept.
  PlatformProfile fast = slow_link;
  fast.bandwidth_mb_s.value = 1e9;
  fast.transfer_overhead_us.value = 0;
  const auto keep = choose_cut(in, base, fast, node_ms, ChooseOptions{});
  EXPECT_EQ(keep.frontier.chosen, keep.frontier.baseline);
  // Latency objective: the lowest sum.
  ChooseOptions lat;
  lat.objective = "latency";
  const auto l = choose_cut(in, base, slow_link, node_ms, lat);
  for (const auto& cand : l.frontier.candidates) EXPECT_GE(cand.estimate.latency_ms + 1e-9, l.frontier.candidates[0].estimate.latency_ms);
  // The text names the chosen and the baseline.
  const std::string text = frontier_text(fr);
  EXPECT_NE(text.find("chosen"), std::string::npos);
  EXPECT_NE(text.find("baseline"), std::string::npos);
  EXPECT_NE(text.find("chosen vs baseline"), std::string::npos) << text;
}

// The per-node model only ranks: the best candidates get their own stage2 timed, and the choice
// is made among the timed ones. A cut that looks fast per node but whose stage2 times slow loses.
TEST(Platform, TimedStage2DecidesAmongTheBestCandidates) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  const std::vector<double> node_ms = conv_heavy_node_ms(f);
  const PlatformProfile slow_link = slow_link_profile();
  const auto untimed = choose_cut(in, base, slow_link, node_ms, ChooseOptions{});
  ASSERT_NE(untimed.frontier.chosen, untimed.frontier.baseline) << "per node, an earlier cut wins on this link";
  for (const auto& c : untimed.frontier.candidates) EXPECT_FALSE(c.host_timed);
  ChooseOptions o;
  o.measure_top = 3;
  std::vector<std::vector<std::string>> timed;
  o.measure_hosts = [&](const std::vector<const Partition*>& parts) {
    std::vector<StageTime> ms;
    for (const auto* p : parts) {
      timed.push_back(p->crossing);
      ms.push_back({p->stage1 == base.stage1 ? 2.0 : 5000.0, 0.0, 9});  // every other stage2 "times" 5 s
    }
    return ms;
  };
  const auto c = choose_cut(in, base, slow_link, node_ms, o);
  // The best 3 by the model, and the baseline when it is not among them.
  const size_t want = untimed.frontier.baseline < 3 ? 3u : 4u;
  EXPECT_EQ(timed.size(), want);
  const auto& fr = c.frontier;
  EXPECT_EQ(fr.chosen, fr.baseline) << "the timed stage2s overturn the per-node ranking";
  EXPECT_EQ(c.chosen.stage1, base.stage1);
  EXPECT_TRUE(fr.candidates[0].host_timed);
  EXPECT_DOUBLE_EQ(fr.candidates[0].estimate.host_measured_ms, 2.0);
  EXPECT_DOUBLE_EQ(fr.candidates[0].estimate.host_ms, 2.0);  // host factor 1
  // Timed candidates lead the frontier, each group best first.
  size_t n_timed = 0;
  bool untimed_seen = false;
  for (const auto& cand : fr.candidates) {
    if (!cand.host_timed) untimed_seen = true;
    else EXPECT_FALSE(untimed_seen) << cand.label << ": a timed cut after an untimed one";
    n_timed += cand.host_timed;
  }
  EXPECT_EQ(n_timed, want);
}

// Host-bound: a timed cut replaces the baseline only when it beats it by more than min_gain with
// its stage2 at the slow end of its spread and the baseline's at the fast end.
TEST(Platform, ATimedGainWithinTheNoiseKeepsTheBaseline) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  const std::vector<double> node_ms(f.cm.graph().node_count(), 0.01);
  PlatformProfile fast = toy_profile();
  fast.bandwidth_mb_s.value = 1e9;
  fast.transfer_overhead_us.value = 0;
  fast.host_factor.value = 1;
  const auto choose = [&](double others_ms, double spread, double min_gain) {
    ChooseOptions o;
    o.min_gain = min_gain;
    o.measure_hosts = [&](const std::vector<const Partition*>& parts) {
      std::vector<StageTime> ms;
      for (const auto* p : parts) ms.push_back({p->stage1 == base.stage1 ? 10.0 : others_ms, spread, 50});
      return ms;
    };
    const auto c = choose_cut(in, base, fast, node_ms, o);
    return c.frontier.chosen == c.frontier.baseline;
  };
  EXPECT_TRUE(choose(9.8, 0.0, 0.03)) << "2% faster: within the 3% asked for";
  EXPECT_FALSE(choose(9.0, 0.0, 0.03)) << "11% faster: a different cut";
  EXPECT_FALSE(choose(9.8, 0.0, 0.0)) << "no margin asked: any gain counts";
  EXPECT_TRUE(choose(9.0, 0.05, 0.03)) << "11% faster, but 9.45 vs 9.5 ms at the ends of the 5% spreads: not 3%";
  EXPECT_FALSE(choose(8.0, 0.05, 0.03)) << "8.4 vs 9.5 ms at the ends of the spreads: 13% still";
}

TEST(Platform, ForcedCutIsChosenAndEstimated) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  const std::vector<double> node_ms(f.cm.graph().node_count(), 0.1);
  const auto c = choose_cut(in, base, toy_profile(), node_ms, ChooseOptions{}, &base);
  EXPECT_EQ(c.frontier.chosen, 0);
  EXPECT_EQ(c.frontier.baseline, 0) << "the forced cut is the automatic one";
  EXPECT_EQ(c.chosen.stage1, base.stage1);
  EXPECT_EQ(error_of([&] { ChooseOptions o; o.objective = "speed"; choose_cut(in, base, toy_profile(), node_ms, o); }),
            "--objective speed: must be fps or latency");
}

// A --cut of the user's is chosen whatever its figures, with its stage2 timed or not: the
// frontier only shows what the others would give.
TEST(Platform, AForcedCutThatIsNotTheBestIsStillChosen) {
  Fixture f(scoped_model());
  const auto in = f.input();
  const Partition base = auto_partition(in);
  Partition mine;
  mine.stage1 = prefix_stage1(in, base, 1);  // one node on the NPU: far from the best
  finish_partition(in, mine);
  ASSERT_NE(mine.crossing, base.crossing);
  ChooseOptions timed;
  timed.measure_hosts = [&](const std::vector<const Partition*>& parts) {
    return std::vector<StageTime>(parts.size(), StageTime{1.0, 0.0, 9});
  };
  for (const ChooseOptions& o : {ChooseOptions{}, timed}) {
    const auto c = choose_cut(in, base, slow_link_profile(), conv_heavy_node_ms(f), o, &mine);
    EXPECT_EQ(c.chosen.stage1, mine.stage1) << (o.measure_hosts ? "timed" : "untimed");
    EXPECT_EQ(c.frontier.chosen, 0);
    EXPECT_EQ(c.frontier.candidates[0].label, "--cut");
    EXPECT_NE(c.frontier.baseline, 0) << "the automatic cut is listed beside it";
  }
}

// End to end on a small model file: per-node times from ORT's profile, the written stage2 timed,
// the manifest's estimate, the summary line.
// Nothing at the inputs is supported (a GridSample first): no cut has a stage1, so --platform
// has nothing to estimate. One line, exit 2, from check and from split alike.
TEST(Platform, NoStage1AtAllIsOneLine) {
  const auto d = test::temp_dir("platform_empty");
  const auto model = d / "grid_first.onnx";
  {
    ModelBuilder b;
    auto x = b.input("x", {1, 3, 16, 16});
    auto y = b.node("GridSample", "/model/sample/GridSample", {x, b.random_weight("grid", {1, 16, 16, 2})});
    b.output(y, {1, 3, 16, 16});
    std::ofstream f(model, std::ios::binary);
    ASSERT_TRUE(b.build().SerializeToOstream(&f));
  }
  for (const std::string cmd : {"check", "split"}) {
    const std::string args = cmd == "check" ? "" : " -o '" + (d / "out").string() + "'";
    const auto r = test::run_cli(cmd + " '" + model.string() + "'" + args + " --platform native", "platform_empty_" + cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.rfind("npusplit: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("stage1"), std::string::npos) << r.err;
  }
}

TEST(Platform, SplitWithPlatformRecordsTheEstimateBesideTheMeasuredStage2) {
  const auto d = test::temp_dir("platform_split");
  const auto model = d / "scoped.onnx";
  {
    std::ofstream f(model, std::ios::binary);
    ASSERT_TRUE(scoped_model().SerializeToOstream(&f));
  }
  SplitOptions o;
  o.model = model;
  o.out_dir = d / "out";
  o.target = "hailo8";
  o.platform = "rpi5-hailo8l";
  const SplitResult r = split_model(o);
  ASSERT_FALSE(r.frontier.empty());
  const auto& fr = r.frontier;
  const auto& chosen = fr.candidates[size_t(fr.chosen)];
  EXPECT_GT(chosen.estimate.host_written_ms, 0);
  EXPECT_TRUE(chosen.host_timed) << "the chosen cut's host part is its own stage2 timed, not a per-node sum";
  EXPECT_EQ(r.manifest["platform"]["chosen"]["host_timed"], true);
  EXPECT_GT(fr.model_host_ms, 0);
  ASSERT_GE(fr.baseline, 0);
  EXPECT_GE(chosen.estimate.fps, fr.candidates[size_t(fr.baseline)].estimate.fps - 1e-9);
  ASSERT_TRUE(r.manifest.contains("platform"));
  EXPECT_EQ(r.manifest["platform"]["platform"], "rpi5-hailo8l");
  EXPECT_EQ(r.manifest["platform"]["chosen"]["crossing"].size(), chosen.crossing.size());
  EXPECT_EQ(r.analysis.partition.crossing.size(), chosen.crossing.size());
  const std::string text = split_text(r);
  EXPECT_NE(text.find("npusplit: NPU "), std::string::npos) << text;
  EXPECT_NE(text.find("| rpi5-hailo8l: "), std::string::npos) << text;
  // Without --platform nothing is timed and the manifest has no estimate.
  o.platform.clear();
  o.out_dir = d / "plain";
  const SplitResult p = split_model(o);
  EXPECT_TRUE(p.frontier.empty());
  EXPECT_FALSE(p.manifest.contains("platform"));
  EXPECT_NE(split_text(p).find("npusplit: NPU "), std::string::npos);
}

// The shared small DEIMv2 models: on every profile the chosen cut is never slower than today's.
TEST(Platform, ChosenNeverWorseThanTheAutomaticCutOnSmallDeimv2) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  AnalyzeOptions ao;
  ao.target = "hailo8";
  const Analysis a = analyze(path.string(), ao);
  const Graph& g = a.model.graph();
  NodeTimes times = measure_node_times(a.model.proto(), g, 2);
  EXPECT_GT(times.model_ms, 0);
  EXPECT_GT(times.profile_sum_ms, 0);
  double sum = 0;
  for (double v : times.ms) sum += v;
  EXPECT_NEAR(sum, times.model_ms, 1e-6 * times.model_ms) << "per-node times add up to the whole model";
  // Scaled to a measured stage2: the host side adds up to it.
  const double s2 = 0.25 * times.model_ms;
  scale_node_times(times, a.partition.stage1, s2);
  double host = 0;
  for (int i = 0; i < g.node_count(); ++i)
    if (!a.partition.stage1[i]) host += times.ms[i];
  EXPECT_NEAR(host, s2, 1e-6 * s2);
  for (const auto& name : known_platforms()) {
    const auto c = choose_cut(partition_input(a, g), a.partition, load_platform(name), times.ms, ChooseOptions{});
    const auto& fr = c.frontier;
    ASSERT_GE(fr.baseline, 0) << name;
    EXPECT_GE(fr.candidates[0].estimate.fps, fr.candidates[size_t(fr.baseline)].estimate.fps - 1e-9) << name;
  }
}

}  // namespace
}  // namespace npusplit
