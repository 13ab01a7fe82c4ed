// Splitting: a small DETR-like detector built in the test (conv prefix -> two feature levels,
// TopK + GatherElements query selection, GridSample sampling, a label_xyxy_score output),
// cut automatically and by hand, written by split_model, checked and verified bit-exact.
// Then the shared DEIMv2 models and the CLI.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <thread>

#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/verify/verify.h"
#include "npusplit/report/format.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::temp_dir;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;
constexpr int64_t kQueries = 10;

void rename_output(ModelBuilder& b, const std::string& from, const std::string& to) {
  for (auto& n : *b.model().mutable_graph()->mutable_node()) {
    for (auto& o : *n.mutable_output())
      if (o == from) o = to;
    for (auto& i : *n.mutable_input())
      if (i == from) i = to;
  }
}

// images [1,3,64,64] -> conv/relu x3 -> level0 [1,16,16,16] (relu2_out), level1 [1,16,8,8]
// (relu3_out). Host part: ReduceMax(keepdims=0) score map -> TopK(10) -> GatherElements of a
// constant reference-point table -> GridSample of level0 (and of the raw image when
// SAMPLE_IMAGE) -> MatMul head -> label_xyxy_score [1,10,6] and labels [1,10] (int64).
onnx::ModelProto detr_like(bool sample_image = false) {
  ModelBuilder b(17, "detr_like");
  auto images = b.input("images", {1, 3, 64, 64});
  auto conv = [&](const std::string& name, const std::string& in, int64_t cin, int64_t cout) {
    auto c = b.node("Conv", name, {in, b.random_weight(name + "_w", {cout, cin, 3, 3}, 0.3f), b.random_weight(name + "_b", {cout})},
                    {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1}), Attr::of("strides", std::vector<int64_t>{2, 2})});
    return c;
  };
  auto r1 = b.node("Relu", "relu1", {conv("conv1", images, 3, 8)});
  auto level0 = b.node("Relu", "relu2", {conv("conv2", r1, 8, 16)});
  auto level1 = b.node("Relu", "relu3", {conv("conv3", level0, 16, 16)});

  // Query selection on the score map (host: ReduceMax keepdims=0, TopK, GatherElements).
  auto score_map = b.node("ReduceMax", "score_max", {level1},
                          {Attr::of("axes", std::vector<int64_t>{1}), Attr::of("keepdims", 0)});  // [1,8,8]
  auto flat = b.node("Reshape", "score_flat", {score_map, b.ints("flat_shape", {1, 64})});
  auto topk = b.node_n("TopK", "topk", {flat, b.ints("k", {kQueries})}, 2, {Attr::of("axis", 1)});
  std::vector<float> table;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      table.push_back((j + 0.5f) / 8.f * 2.f - 1.f);
      table.push_back((i + 0.5f) / 8.f * 2.f - 1.f);
    }
  auto ref = b.weight("ref_points", {1, 64, 2}, table);
  auto idx_u = b.node("Unsqueeze", "idx_unsq", {topk[1], b.ints("ax2", {2})});           // [1,10,1]
  auto idx2 = b.node("Concat", "idx_pair", {idx_u, idx_u}, {Attr::of("axis", 2)});      // [1,10,2]
  auto coords = b.node("GatherElements", "select_refs", {ref, idx2}, {Attr::of("axis", 1)});  // [1,10,2]
  auto grid = b.node("Reshape", "grid", {coords, b.ints("grid_shape", {1, kQueries, 1, 2})});
  auto sampled = b.node("GridSample", "sample_l0", {level0, grid});  // [1,16,10,1]
  auto q = b.node("Reshape", "q_flat", {sampled, b.ints("q_shape", {1, 16, kQueries})});
  auto qt = b.node("Transpose", "q_t", {q}, {Attr::of("perm", std::vector<int64_t>{0, 2, 1})});  // [1,10,16]
  int64_t width = 16;
  if (sample_image) {
    auto si = b.node("GridSample", "sample_image", {images, grid});  // [1,3,10,1]: reads the raw input
    auto sq = b.node("Reshape", "si_flat", {si, b.ints("si_shape", {1, 3, kQueries})});
    auto st = b.node("Transpose", "si_t", {sq}, {Attr::of("perm", std::vector<int64_t>{0, 2, 1})});
    qt = b.node("Concat", "q_cat", {qt, st}, {Attr::of("axis", 2)});
    width = 19;
  }
  auto boxes = b.node("Sigmoid", "box_sig", {b.node("MatMul", "box_head", {qt, b.random_weight("wb", {width, 4})})});
  auto labels = b.node("Mod", "labels", {topk[1], b.ints("num_classes", {4}, {})});  // [1,10] int64
  auto label_f = b.node("Cast", "label_f", {labels}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto label_u = b.node("Unsqueeze", "label_u", {label_f, b.ints("ax2b", {2})});
  auto score = b.node("Unsqueeze", "score_u", {b.node("Sigmoid", "score_sig", {topk[0]}), b.ints("ax2c", {2})});
  auto out = b.node("Concat", "pack_out", {label_u, boxes, score}, {Attr::of("axis", 2)});
  rename_output(b, out, "label_xyxy_score");
  rename_output(b, labels, "labels");
  b.output("label_xyxy_score", {1, kQueries, 6});
  b.output("labels", {1, kQueries}, kInt64);
  return b.build();
}

fs::path save_detr(const std::string& dir_name, bool sample_image = false) {
  const auto d = temp_dir(dir_name);
  const auto p = d / "detr.onnx";
  save_model(detr_like(sample_image), p);
  return p;
}

SplitOptions options_for(const fs::path& model, const std::string& out) {
  SplitOptions o;
  o.model = model;
  o.out_dir = model.parent_path() / out;
  o.verify = true;
  o.verify_random = 2;
  o.tolerance = 0.0;
  // These tests are about the cut of the model as built; the default rewrites are tested in
  // SplitDetr.FixesByDefaultAndListsThePassesInTheManifest.
  o.fix = false;
  o.compare_with_fix = false;
  return o;
}

std::vector<std::string> names_of(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.name());
  return out;
}

void expect_bit_exact(const SplitResult& r) {
  ASSERT_TRUE(r.verify.has_value());
  EXPECT_TRUE(r.verify->ok);
  EXPECT_EQ(r.verify->tolerance, 0.0);
  EXPECT_FALSE(r.verify->worst.empty());
  for (const auto& o : r.verify->worst) {
    EXPECT_EQ(o.max_abs_diff, 0.0) << o.name;
    EXPECT_EQ(o.nonfinite_mismatch, 0) << o.name;
    EXPECT_FALSE(o.shape_mismatch) << o.name;
  }
}

void expect_files_valid(const SplitResult& r) {
  for (const auto& p : {r.stage1_path, r.stage2_path, r.manifest_path}) ASSERT_TRUE(fs::exists(p)) << p;
  EXPECT_NO_THROW(check_model(load_model(r.stage1_path), "stage1"));
  EXPECT_NO_THROW(check_model(load_model(r.stage2_path), "stage2"));
}

using test::error_of;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------- the built model

TEST(SplitDetr, TheBuiltModelRuns) {
  const auto m = detr_like();
  check_model(m, "detr_like");
  auto cases = make_verify_cases(m, {}, 1, {});
  auto rep = verify_equivalent(m, m, cases, 0.0);
  EXPECT_TRUE(rep.ok);
}

TEST(SplitDetr, AutoCutHoldsTheConvPrefixAndCrossesTheFeatureLevels) {
  const auto model = save_detr("split_auto");
  auto r = split_model(options_for(model, "out"));
  // stage1 = exactly the conv/relu prefix.
  const auto& g1 = r.stages.stage1.graph();
  std::multiset<std::string> ops1;
  std::set<std::string> names1;
  for (const auto& n : g1.node()) ops1.insert(n.op_type()), names1.insert(n.name());
  EXPECT_EQ(ops1, (std::multiset<std::string>{"Conv", "Conv", "Conv", "Relu", "Relu", "Relu"}));
  EXPECT_EQ(names1, (std::set<std::string>{"conv1", "relu1", "conv2", "relu2", "conv3", "relu3"}));
  EXPECT_EQ(r.analysis.partition.stage1_nodes, 6);
  // The crossing tensors are the two feature levels, in topological order, renamed.
  EXPECT_EQ(r.analysis.partition.crossing, (std::vector<std::string>{"relu2_out", "relu3_out"}));
  ASSERT_EQ(r.stages.renamed.size(), 2u);
  EXPECT_EQ(r.stages.renamed[0], (std::pair<std::string, std::string>{"relu2_out", "hailo_stage1_feat_0"}));
  EXPECT_EQ(r.stages.renamed[1], (std::pair<std::string, std::string>{"relu3_out", "hailo_stage1_feat_1"}));
  EXPECT_EQ(names_of(g1.output()), (std::vector<std::string>{"hailo_stage1_feat_0", "hailo_stage1_feat_1"}));
  EXPECT_EQ(tensor_info_of(g1.output(0).type()).dims, (std::vector<int64_t>{1, 16, 16, 16}));
  EXPECT_EQ(tensor_info_of(g1.output(1).type()).dims, (std::vector<int64_t>{1, 16, 8, 8}));
  EXPECT_EQ(names_of(g1.input()), (std::vector<std::string>{"images"}));
  // stage1 judged alone is clean; the host holds the decoder ops.
  for (const auto& v : r.stage1_verdicts) EXPECT_TRUE(v.supported) << v.name;
  std::set<std::string> ops2;
  for (const auto& n : r.stages.stage2.graph().node()) ops2.insert(n.op_type());
  for (const std::string op : {"TopK", "GatherElements", "GridSample", "Mod", "ReduceMax"})
    EXPECT_TRUE(ops2.count(op)) << op;
  EXPECT_EQ(r.stages.stage1_end_nodes, (std::vector<std::string>{"relu2", "relu3"}));
  EXPECT_EQ(r.stages.stage1_start_nodes, (std::vector<std::string>{"conv1"}));
  // The manifest says the same.
  ASSERT_EQ(r.manifest["crossing"].size(), 2u);
  EXPECT_EQ(r.manifest["crossing"][0]["name"], "hailo_stage1_feat_0");
  EXPECT_EQ(r.manifest["crossing"][0]["original_tensor"], "relu2_out");
  EXPECT_EQ(r.manifest["crossing"][1]["bytes_per_frame"], 16 * 8 * 8 * 4);
  EXPECT_EQ(r.manifest["cut"]["mode"], "auto");
  EXPECT_EQ(r.manifest["stage1"]["check"]["verdict"], "clean");
  expect_files_valid(r);
  expect_bit_exact(r);
}

TEST(SplitDetr, FixesByDefaultAndListsThePassesInTheManifest) {
  const auto model = save_detr("split_default_fix");
  SplitOptions o;
  o.model = model;
  o.out_dir = model.parent_path() / "out";
  o.verify = true;
  auto r = split_model(o);
  // reduce-keepdims makes the score ReduceMax parsable, so it joins the conv prefix on the NPU.
  std::set<std::string> names1;
  for (const auto& n : r.stages.stage1.graph().node()) names1.insert(n.name());
  EXPECT_TRUE(names1.count("score_max/keepdims")) << "the rewritten ReduceMax belongs in stage1";
  EXPECT_EQ(r.manifest["fix"]["applied"], true);
  bool keepdims_ran = false;
  for (const auto& p : r.manifest["passes"]) keepdims_ran |= p["pass"] == "reduce-keepdims" && p["rewrites"] > 0;
  EXPECT_TRUE(keepdims_ran) << r.manifest["passes"].dump();
  EXPECT_TRUE(r.notes.empty());
  expect_bit_exact(r);
  EXPECT_NE(split_text(r).find("passes: "), std::string::npos);

  // --no-fix: the model as given, and one line with what the passes would have given.
  o.fix = false;
  o.out_dir = model.parent_path() / "out_nofix";
  auto plain = split_model(o);
  EXPECT_EQ(plain.manifest["fix"]["applied"], false);
  EXPECT_TRUE(plain.manifest["passes"].empty());
  ASSERT_EQ(plain.notes.size(), 1u);
  EXPECT_NE(plain.notes[0].find("--no-fix"), std::string::npos) << plain.notes[0];
  EXPECT_NE(plain.notes[0].find(percent(r.analysis.partition.npu_flops_share())), std::string::npos) << plain.notes[0];
  ASSERT_TRUE(plain.share_with_fix.has_value());
  EXPECT_DOUBLE_EQ(*plain.share_with_fix, r.analysis.partition.npu_flops_share());
  EXPECT_LT(plain.analysis.partition.npu_flops_share(), *plain.share_with_fix);
  EXPECT_NE(split_text(plain).find("note: --no-fix"), std::string::npos);
}

TEST(SplitDetr, CutAcceptsNodeNamesAndSuggestsCloseOnes) {
  const auto model = save_detr("split_cut_nodes");
  auto o = options_for(model, "out");
  o.verify = false;
  o.cut = {"relu2", "relu3"};  // node names: their outputs relu2_out, relu3_out
  auto r = split_model(o);
  EXPECT_EQ(r.analysis.partition.crossing, (std::vector<std::string>{"relu2_out", "relu3_out"}));
  o.cut = {"relu2_ou", "relu3_out"};
  const auto msg = error_of([&] { split_model(o); });
  EXPECT_NE(msg.find("no tensor or node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'relu2_out'"), std::string::npos) << msg;
}

TEST(SplitDetr, Stage2KeepsTheOutputContractAndDoesNotTakeImages) {
  const auto model = save_detr("split_contract");
  auto r = split_model(options_for(model, "out"));
  const auto original = detr_like();
  const auto& o0 = original.graph().output();
  const auto& o2 = r.stages.stage2.graph().output();
  ASSERT_EQ(o2.size(), o0.size());
  for (int k = 0; k < o0.size(); ++k) {
    EXPECT_EQ(o2[k].name(), o0[k].name());
    const auto a = tensor_info_of(o0[k].type()), b = tensor_info_of(o2[k].type());
    EXPECT_EQ(b.dtype, a.dtype) << o0[k].name();
    EXPECT_EQ(b.dims, a.dims) << o0[k].name();
  }
  EXPECT_EQ(o2[0].name(), "label_xyxy_score");
  EXPECT_EQ(tensor_info_of(o2[0].type()).dims, (std::vector<int64_t>{1, kQueries, 6}));
  EXPECT_EQ(tensor_info_of(o2[1].type()).dtype, kInt64);
  // No host node reads the image: stage2 takes only the cut tensors.
  EXPECT_EQ(names_of(r.stages.stage2.graph().input()),
            (std::vector<std::string>{"hailo_stage1_feat_0", "hailo_stage1_feat_1"}));
  EXPECT_TRUE(r.analysis.partition.stage2_inputs.empty());
  EXPECT_TRUE(has(r.manifest["stage2"]["original_inputs"]["images"].get<std::string>(), "not needed"));
  // The files on disk say the same.
  auto s2 = load_model(r.stage2_path);
  EXPECT_EQ(names_of(s2.graph().output()), (std::vector<std::string>{"label_xyxy_score", "labels"}));
}

TEST(SplitDetr, Stage2TakesImagesWhenAHostNodeReadsIt) {
  const auto model = save_detr("split_images", /*sample_image=*/true);
  auto r = split_model(options_for(model, "out"));
  EXPECT_EQ(r.analysis.partition.stage2_inputs, (std::vector<std::string>{"images"}));
  const auto ins = names_of(r.stages.stage2.graph().input());
  EXPECT_EQ(ins, (std::vector<std::string>{"hailo_stage1_feat_0", "hailo_stage1_feat_1", "images"}));
  EXPECT_EQ(tensor_info_of(r.stages.stage2.graph().input(2).type()).dims, (std::vector<int64_t>{1, 3, 64, 64}));
  const auto why = r.manifest["stage2"]["original_inputs"]["images"].get<std::string>();
  EXPECT_TRUE(has(why, "needed")) << why;
  EXPECT_TRUE(has(why, "sample_image")) << why;
  EXPECT_TRUE(has(why, "GridSample")) << why;
  expect_files_valid(r);
  expect_bit_exact(r);
}

TEST(SplitDetr, SingleTensorCutIsNamedWithoutIndex) {
  const auto model = save_detr("split_single");
  auto o = options_for(model, "out");
  o.cut = {"relu1_out"};
  auto r = split_model(o);
  EXPECT_EQ(r.analysis.partition.stage1_nodes, 2);
  ASSERT_EQ(r.stages.renamed.size(), 1u);
  EXPECT_EQ(r.stages.renamed[0].second, "hailo_stage1_feat");
  EXPECT_EQ(names_of(r.stages.stage1.graph().output()), (std::vector<std::string>{"hailo_stage1_feat"}));
  EXPECT_EQ(names_of(r.stages.stage2.graph().input()), (std::vector<std::string>{"hailo_stage1_feat"}));
  EXPECT_EQ(r.manifest["cut"]["mode"], "manual");
  expect_files_valid(r);
  expect_bit_exact(r);
}

TEST(SplitDetr, ManualCutAtBothLevelsEqualsTheAutoCut) {
  const auto model = save_detr("split_manual_levels");
  auto o = options_for(model, "out");
  o.cut = {"relu3_out", "relu2_out"};  // the user's order is kept
  auto r = split_model(o);
  ASSERT_EQ(r.stages.renamed.size(), 2u);
  EXPECT_EQ(r.stages.renamed[0], (std::pair<std::string, std::string>{"relu3_out", "hailo_stage1_feat_0"}));
  EXPECT_EQ(r.stages.renamed[1], (std::pair<std::string, std::string>{"relu2_out", "hailo_stage1_feat_1"}));
  EXPECT_EQ(r.analysis.partition.stage1_nodes, 6);
  expect_bit_exact(r);
}

TEST(SplitDetr, CustomFeatureName) {
  const auto model = save_detr("split_feature_name");
  auto o = options_for(model, "out");
  o.feature_name = "npu_out";
  o.verify = false;
  auto r = split_model(o);
  EXPECT_EQ(names_of(r.stages.stage1.graph().output()), (std::vector<std::string>{"npu_out_0", "npu_out_1"}));
  EXPECT_FALSE(r.verify.has_value());
}

TEST(SplitDetr, PackJoinsTheCutIntoOneTensor) {
  const auto model = save_detr("split_pack");
  auto o = options_for(model, "out");
  o.pack = true;
  auto r = split_model(o);
  const auto& g1 = r.stages.stage1.graph();
  ASSERT_EQ(g1.output_size(), 1);
  EXPECT_EQ(g1.output(0).name(), "hailo_stage1_feat");
  const int64_t n0 = 16 * 16 * 16, n1 = 16 * 8 * 8;
  EXPECT_EQ(tensor_info_of(g1.output(0).type()).dims, (std::vector<int64_t>{1, n0 + n1}));
  ASSERT_EQ(r.stages.pack_layout.size(), 2u);
  EXPECT_EQ(r.stages.pack_layout[0], (std::pair<int64_t, int64_t>{0, n0}));
  EXPECT_EQ(r.stages.pack_layout[1], (std::pair<int64_t, int64_t>{n0, n1}));
  // stage2 takes the one packed tensor and unpacks it.
  EXPECT_EQ(names_of(r.stages.stage2.graph().input()), (std::vector<std::string>{"hailo_stage1_feat"}));
  int slices = 0;
  for (const auto& n : r.stages.stage2.graph().node()) slices += n.op_type() == "Slice";
  EXPECT_EQ(slices, 2);
  EXPECT_EQ(r.manifest["crossing"][1]["packed_offset_elements"], n0);
  EXPECT_FALSE(r.warnings.empty());  // one quantization scale for two tensors
  expect_files_valid(r);
  expect_bit_exact(r);
}

TEST(SplitDetr, PackWithASingleCutTensor) {
  const auto model = save_detr("split_pack_single");
  auto o = options_for(model, "out");
  o.pack = true;
  o.cut = {"relu1_out"};
  auto r = split_model(o);
  EXPECT_EQ(names_of(r.stages.stage1.graph().output()), (std::vector<std::string>{"hailo_stage1_feat"}));
  EXPECT_TRUE(r.warnings.empty());
  expect_bit_exact(r);
}

TEST(SplitDetr, CutThatDoesNotSeparateIsRefused) {
  // Cutting only at level1 leaves level0 (read by GridSample on the host) inside stage1.
  const auto model = save_detr("split_refuse_sep");
  auto o = options_for(model, "out");
  o.cut = {"relu3_out"};
  const auto msg = error_of([&] { split_model(o); });
  EXPECT_TRUE(has(msg, "does not separate")) << msg;
  EXPECT_TRUE(has(msg, "relu2_out")) << msg;
  EXPECT_TRUE(has(msg, "sample_l0")) << msg;
  EXPECT_FALSE(fs::exists(o.out_dir / "detr_stage1.onnx"));
}

TEST(SplitDetr, CutThatPutsTopKInStage1IsRefused) {
  const auto model = save_detr("split_refuse_topk");
  auto o = options_for(model, "out");
  o.cut = {"topk_out0", "relu2_out"};
  const auto msg = error_of([&] { split_model(o); });
  EXPECT_TRUE(has(msg, "rejects")) << msg;
  // The first rejected node in stage1 is named (ReduceMax feeds the TopK).
  EXPECT_TRUE(has(msg, "score_max") || has(msg, "topk")) << msg;
  o.cut = {"topk_out1"};
  EXPECT_TRUE(has(error_of([&] { split_model(o); }), "rejects"));
}

TEST(SplitDetr, CutThatPutsTheOnlyRejectedTopKInStage1NamesIt) {
  // conv -> Reshape -> TopK: TopK is the one node the cut may not take.
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})});
  auto f = b.node("Reshape", "flat", {c, b.ints("shape", {1, 4, 14 * 14})});  // spatial -> tokens
  auto t = b.node_n("TopK", "topk", {f, b.ints("k", {5})}, 2, {Attr::of("axis", -1)});
  b.output(t[0]);
  const auto d = temp_dir("split_refuse_topk_only");
  save_model(b.build(), d / "m.onnx");
  SplitOptions o;
  o.model = d / "m.onnx";
  o.out_dir = d / "out";
  o.cut = {"topk_out0"};
  const auto msg = error_of([&] { split_model(o); });
  EXPECT_TRUE(has(msg, "'topk' (TopK)")) << msg;
  EXPECT_TRUE(has(msg, "rejects")) << msg;
  EXPECT_FALSE(fs::exists(o.out_dir / "m_stage1.onnx"));
  o.cut = {"flat_out"};  // the largest legal cut
  auto r = split_model(o);
  EXPECT_EQ(r.analysis.partition.stage1_nodes, 2);
  EXPECT_EQ(r.stages.renamed[0].second, "hailo_stage1_feat");
}

TEST(SplitDetr, DuplicateCutTensorIsRefusedOrMerged) {
  const auto model = save_detr("split_dup_cut");
  auto o = options_for(model, "out");
  o.cut = {"relu1_out", "relu1_out"};
  try {
    auto r = split_model(o);
    // Merged: one cut tensor, and both stages load and verify.
    EXPECT_EQ(r.stages.renamed.size(), 1u);
    expect_bit_exact(r);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_TRUE(has(msg, "relu1_out")) << msg;
    EXPECT_FALSE(has(msg, "ONNX Runtime")) << "refused only when loading the stage: " << msg;
  }
}

TEST(SplitDetr, CutAtUnknownOrInputTensorIsRefused) {
  const auto model = save_detr("split_refuse_names");
  auto o = options_for(model, "out");
  o.cut = {"nonexistent_tensor"};
  EXPECT_TRUE(has(error_of([&] { split_model(o); }), "nonexistent_tensor"));
  o.cut = {"images"};
  EXPECT_TRUE(has(error_of([&] { split_model(o); }), "model input"));
}

TEST(SplitDetr, ModelWithNoSupportedPrefixIsRefused) {
  ModelBuilder b;
  auto x = b.input("x", {1, 64});
  auto t = b.node_n("TopK", "topk", {x, b.ints("k", {3})}, 2, {Attr::of("axis", 1)});
  b.output(t[0]);
  const auto d = temp_dir("split_nothing");
  save_model(b.build(), d / "m.onnx");
  SplitOptions o;
  o.model = d / "m.onnx";
  o.out_dir = d / "out";
  EXPECT_TRUE(has(error_of([&] { split_model(o); }), "nothing to put in stage1"));
}

TEST(SplitDetr, VerifySplitOnTheStagesDirectly) {
  const auto model = save_detr("split_verify_direct");
  auto o = options_for(model, "out");
  o.verify = false;
  auto r = split_model(o);
  const auto original = load_model(model);
  auto cases = make_verify_cases(original, {}, 2, {});
  auto rep = verify_split(original, load_model(r.stage1_path), load_model(r.stage2_path), cases, 0.0);
  EXPECT_TRUE(rep.ok);
  ASSERT_EQ(rep.cases.size(), 2u);
  for (const auto& w : rep.worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
  // A wrong stage2 (its head weights changed) is caught.
  auto bad = load_model(r.stage2_path);
  for (auto& t : *bad.mutable_graph()->mutable_initializer())
    if (t.name() == "wb") {
      std::string raw = t.raw_data();
      reinterpret_cast<float*>(raw.data())[0] += 1.0f;
      t.set_raw_data(raw);
    }
  auto rep_bad = verify_split(original, load_model(r.stage1_path), bad, cases, 0.0);
  EXPECT_FALSE(rep_bad.ok);
}

// ---------------------------------------------------------------- edge layouts

SplitResult split_built(const onnx::ModelProto& m, const std::string& dir) {
  const auto d = temp_dir(dir);
  save_model(m, d / "m.onnx");
  SplitOptions o;
  o.model = d / "m.onnx";
  o.out_dir = d / "out";
  o.verify = true;
  o.verify_random = 1;
  return split_model(o);
}

TEST(SplitEdges, WholeModelOnTheNpu) {
  // Nothing for the host: stage2 only hands the cut tensor out under the original name.
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto r = b.node("Relu", "relu", {b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})})});
  b.output(r, {1, 4, 14, 14});
  auto s = split_built(b.build(), "split_all_npu");
  EXPECT_EQ(s.analysis.partition.stage1_nodes, 2);
  EXPECT_EQ(names_of(s.stages.stage2.graph().output()), (std::vector<std::string>{"relu_out"}));
  EXPECT_EQ(names_of(s.stages.stage2.graph().input()), (std::vector<std::string>{"hailo_stage1_feat"}));
  expect_files_valid(s);
  expect_bit_exact(s);
}

TEST(SplitEdges, Stage1TensorThatIsAlsoAnOutputAndReadByTheHost) {
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto r = b.node("Relu", "relu", {b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})})});
  auto f = b.node("Reshape", "flat", {r, b.ints("shape", {1, 4 * 14 * 14})});
  auto t = b.node_n("TopK", "topk", {f, b.ints("k", {3})}, 2, {Attr::of("axis", 1)});
  b.output(t[0], {1, 3});
  b.output(r, {1, 4, 14, 14});
  auto s = split_built(b.build(), "split_out_and_host");
  EXPECT_EQ(names_of(s.stages.stage2.graph().output()), (std::vector<std::string>{"topk_out0", "relu_out"}));
  expect_files_valid(s);
  expect_bit_exact(s);
}

TEST(SplitEdges, InputReadOnlyByTheHostGoesToStage2Only) {
  // Like orig_target_sizes: an integer input only the post-processing reads.
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto sizes = b.input("orig_target_sizes", {1, 2}, kInt64);
  auto r = b.node("Relu", "relu", {b.node("Conv", "conv", {x, b.random_weight("w", {2, 3, 3, 3})})});
  auto pooled = b.node("GlobalAveragePool", "gap", {r});                       // [1,2,1,1]
  auto flat = b.node("Reshape", "flat", {pooled, b.ints("shape", {1, 2})});  // [1,2]
  auto sf = b.node("Cast", "sizes_f", {sizes}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  b.output(b.node("Mul", "scaled", {flat, sf}), {1, 2});
  auto s = split_built(b.build(), "split_host_input");
  EXPECT_EQ(names_of(s.stages.stage1.graph().input()), (std::vector<std::string>{"images"}));
  const auto ins2 = names_of(s.stages.stage2.graph().input());
  EXPECT_EQ(std::count(ins2.begin(), ins2.end(), "orig_target_sizes"), 1);
  EXPECT_EQ(std::count(ins2.begin(), ins2.end(), "images"), 0);
  expect_files_valid(s);
  expect_bit_exact(s);
}

// ---------------------------------------------------------------- NaN-aware comparison

HostTensor floats(const std::string& name, std::vector<float> v) {
  HostTensor t(TensorSpec{name, kFloat, {static_cast<int64_t>(v.size())}});
  std::copy(v.begin(), v.end(), t.as<float>());
  return t;
}

TEST(SplitCompare, SameNaNAtSamePositionIsEqual) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  auto c = compare_tensors(floats("o", {1.f, nan, 3.f, inf}), floats("o", {1.f, nan, 3.f, inf}), 0.0);
  EXPECT_TRUE(c.ok);
  EXPECT_EQ(c.nonfinite_equal, 2);
  EXPECT_EQ(c.nonfinite_mismatch, 0);
  EXPECT_EQ(c.max_abs_diff, 0.0);
}

TEST(SplitCompare, NaNOnOneSideFails) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  auto c = compare_tensors(floats("o", {1.f, nan, 3.f}), floats("o", {1.f, 2.f, 3.f}), 1e9);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.nonfinite_mismatch, 1);
  auto d = compare_tensors(floats("o", {1.f, 2.f}), floats("o", {nan, 2.f}), 1e9);
  EXPECT_FALSE(d.ok);
  auto e = compare_tensors(floats("o", {inf}), floats("o", {-inf}), 1e9);
  EXPECT_FALSE(e.ok);
  auto f = compare_tensors(floats("o", {nan, 1.f}), floats("o", {1.f, nan}), 1e9);  // shifted NaN
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.nonfinite_mismatch, 2);
}

TEST(SplitCompare, ToleranceAndShape) {
  auto c = compare_tensors(floats("o", {1.f, 2.f}), floats("o", {1.f, 2.5f}), 0.0);
  EXPECT_FALSE(c.ok);
  EXPECT_DOUBLE_EQ(c.max_abs_diff, 0.5);
  EXPECT_TRUE(compare_tensors(floats("o", {1.f, 2.f}), floats("o", {1.f, 2.5f}), 0.5).ok);
  auto s = compare_tensors(floats("o", {1.f, 2.f}), floats("o", {1.f, 2.f, 3.f}), 1.0);
  EXPECT_FALSE(s.ok);
  EXPECT_TRUE(s.shape_mismatch);
}

// ---------------------------------------------------------------- shared DEIMv2 models

SplitResult split_shared(const fs::path& model, const std::string& dir) {
  EXPECT_TRUE(fs::exists(test::shared_image("chelsea.png"))) << "shared images missing";
  SplitOptions o;
  o.model = model;
  o.out_dir = temp_dir(dir);
  o.verify = true;
  o.verify_random = 1;
  o.verify_images = {test::shared_image("chelsea.png").string()};
  o.tolerance = 0.0;
  return split_model(o);
}

void expect_stage1_clean_but_suspects(const SplitResult& r) {
  for (const auto& v : r.stage1_verdicts)
    EXPECT_TRUE(v.supported || v.suspect_only) << v.name << " (" << v.op << ") is rejected in stage1: "
                                               << (v.findings.empty() ? "" : v.findings[0].rule_id);
  for (const auto& v : r.analysis.verdicts)
    if (r.analysis.partition.stage1[v.node]) {
      EXPECT_TRUE(v.supported || v.suspect_only) << v.name;
    }
}

TEST(SplitShared, DeimV2AttoBitExact) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  auto r = split_shared(path, "split_shared_atto");
  expect_files_valid(r);
  expect_bit_exact(r);
  ASSERT_EQ(r.verify->cases.size(), 2u);
  EXPECT_EQ(r.verify->cases[1].label, "chelsea.png");
  expect_stage1_clean_but_suspects(r);
  // The user layout: stage2 does not take the image.
  const auto ins = names_of(r.stages.stage2.graph().input());
  EXPECT_EQ(std::count(ins.begin(), ins.end(), "images"), 0);
  EXPECT_EQ(names_of(r.stages.stage2.graph().output()), (std::vector<std::string>{"label_xyxy_score"}));
  // No TopK/GatherElements/GridSample in stage1.
  for (const auto& n : r.stages.stage1.graph().node())
    for (const std::string op : {"TopK", "GatherElements", "GridSample", "Mod"}) EXPECT_NE(n.op_type(), op);
  EXPECT_GT(r.analysis.partition.npu_flops_share(), 0.5);
}

TEST(SplitShared, DeimV2AttoOfficialBitExact) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto_official.onnx");
  auto r = split_shared(path, "split_shared_atto_official");
  expect_files_valid(r);
  expect_bit_exact(r);
  expect_stage1_clean_but_suspects(r);
  EXPECT_FALSE(r.analysis.model.notes().empty());  // dynamic batch fixed to 1
  const auto outs = names_of(r.stages.stage2.graph().output());
  EXPECT_EQ(outs, (std::vector<std::string>{"labels", "boxes", "scores"}));
  const auto ins = names_of(r.stages.stage2.graph().input());
  EXPECT_EQ(std::count(ins.begin(), ins.end(), "orig_target_sizes"), 1);  // host scales the boxes
}

// ---------------------------------------------------------------- the CLI

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SplitCli, SplitVerifyWritesThreeFilesAndLeavesTheInputAlone) {
  const auto model = save_detr("split_cli");
  // Make the input's mtime clearly older than anything the run could write.
  fs::last_write_time(model, fs::last_write_time(model) - std::chrono::hours(1));
  const auto bytes_before = slurp(model);
  const auto mtime_before = fs::last_write_time(model);
  const auto out = model.parent_path() / "out";
  auto r = test::run_cli("split '" + model.string() + "' -o '" + out.string() + "' --verify", "split_cli");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "verify: PASS")) << r.out;
  for (const std::string f : {"detr_stage1.onnx", "detr_stage2.onnx", "detr_split.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_EQ(slurp(model), bytes_before);
  EXPECT_EQ(fs::last_write_time(model), mtime_before);
  EXPECT_NO_THROW(check_model(load_model(out / "detr_stage1.onnx"), "stage1"));
  EXPECT_NO_THROW(check_model(load_model(out / "detr_stage2.onnx"), "stage2"));
}

TEST(SplitCli, UnknownCutTensorExits2WithOneLine) {
  const auto model = save_detr("split_cli_badcut");
  const auto bytes_before = slurp(model);
  const auto out = model.parent_path() / "out";
  auto r = test::run_cli("split '" + model.string() + "' -o '" + out.string() + "' --cut nonexistent_tensor",
                         "split_cli_badcut");
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_TRUE(has(r.err, "nonexistent_tensor")) << r.err;
  EXPECT_FALSE(fs::exists(out / "detr_stage1.onnx"));
  EXPECT_EQ(slurp(model), bytes_before);
}

TEST(SplitCli, SharedAttoSplitVerify) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  const auto d = temp_dir("split_cli_atto");
  const auto mtime_before = fs::last_write_time(path);
  const auto bytes_before = slurp(path);
  auto r = test::run_cli("split '" + path.string() + "' -o '" + d.string() + "' --verify --random 1", "split_cli_atto");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const std::string f : {"deimv2_atto_stage1.onnx", "deimv2_atto_stage2.onnx", "deimv2_atto_split.json"})
    EXPECT_TRUE(fs::exists(d / f)) << f;
  EXPECT_EQ(fs::last_write_time(path), mtime_before);
  EXPECT_TRUE(slurp(path) == bytes_before) << "the input model changed";
}

}  // namespace
}  // namespace npusplit
