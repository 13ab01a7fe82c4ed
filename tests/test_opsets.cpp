// Opsets 7-24: every opset-sensitive form (Reduce* axes attribute -> input at 13/18, Split's
// `split` attribute -> input -> num_outputs, Pad/Clip attributes -> inputs, Pad's axes, Resize's
// inputs and opset-18 attributes, Slice attributes -> inputs, Squeeze/Unsqueeze axes) built in
// code at the older and the newer opset, judged by `check`, rewritten by the passes, counted
// (FLOPs, shapes) the same; the opset conversion of stage1 (onnx's version converter plus our
// adapters) and its one-line refusals; the opset limits of every command.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "npusplit/analysis/cost.h"
#include "npusplit/app/analyze.h"
#include "npusplit/app/split.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/passes/pass.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/split/opset_convert.h"
#include "npusplit/verify/verify.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::run_cli;
using test::temp_dir;
using Ints = std::vector<int64_t>;

// What `check` says about node N, as "rule ids" (empty = accepted).
std::set<std::string> findings(const onnx::ModelProto& m, const std::string& node = "n",
                               const std::string& target = "hailo8") {
  AnalyzeOptions o;
  o.target = target;
  o.partition = false;
  auto a = analyze_proto(m, "test", o);
  for (const auto& v : a.verdicts)
    if (v.name == node) {
      std::set<std::string> ids;
      for (const auto& f : v.findings) ids.insert(f.rule_id);
      return ids;
    }
  ADD_FAILURE() << "node " << node << " not in the analysed graph";
  return {"<missing>"};
}

// Total FLOPs and the output shape after resolve().
std::pair<int64_t, Ints> cost_and_shape(const onnx::ModelProto& m, const std::string& out) {
  auto r = resolve(m, {});
  Graph g(r.model.graph());
  int64_t total = 0;
  for (auto f : graph_flops(g, r.shapes)) total += f;
  return {total, r.shapes.at(out).dims};
}

::testing::AssertionResult SameOutputs(const onnx::ModelProto& a, const onnx::ModelProto& b) {
  try {
    const auto r = verify_equivalent(a, b, make_verify_cases(a, {}, 2, {}), 0.0);
    if (r.worst.empty()) return ::testing::AssertionFailure() << "no outputs compared";
    for (const auto& w : r.worst)
      if (!w.ok || w.max_abs_diff != 0.0)
        return ::testing::AssertionFailure() << w.name << " differs by " << w.max_abs_diff;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "verify threw: " << e.what();
  }
}

// Passes applied (input shapes fixed first): the model after, and the rewrites of PASS.
std::pair<onnx::ModelProto, int> rewritten(const onnx::ModelProto& m, const std::string& pass) {
  onnx::ModelProto after = m;
  fix_input_shapes(after, {});
  const auto rep = apply_passes(after, {pass});
  int n = 0;
  for (const auto& r : rep.results)
    if (r.pass == pass) n += r.rewrites;
  return {after, n};
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int k = 0;
  for (const auto& n : m.graph().node()) k += n.op_type() == op;
  return k;
}

// ---------------------------------------------------------------- Reduce* axes

// x[1,8,4,4] -> OP over AXES (attribute before AXES_INPUT_FROM, input from it on).
onnx::ModelProto reduce(const std::string& op, int opset, int axes_input_from, Ints axes, int64_t keepdims) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 8, 4, 4});
  std::vector<std::string> in{x};
  std::vector<Attr> attrs{Attr::of("keepdims", keepdims)};
  if (opset >= axes_input_from) in.push_back(b.ints("n/axes", axes));
  else attrs.push_back(Attr::of("axes", axes));
  b.output(b.node(op, "n", in, attrs));
  return b.build();
}

TEST(OpsetReduce, AxesAttributeAndInputFormsJudgedCountedAndRewrittenAlike) {
  for (const auto& [op, from] : std::vector<std::pair<std::string, int>>{
           {"ReduceMax", 18}, {"ReduceMean", 18}, {"ReduceMin", 18}, {"ReduceSum", 13}}) {
    SCOPED_TRACE(op);
    const auto older = reduce(op, from - 1, from, {2}, 0), newer = reduce(op, from, from, {2}, 0);
    EXPECT_EQ(findings(older), findings(newer));
    EXPECT_FALSE(findings(newer).empty()) << "keepdims=0 on a spatial axis is flagged";
    EXPECT_EQ(cost_and_shape(older, "n_out"), cost_and_shape(newer, "n_out"));
    // Feature-axis keepdims=1 is accepted in both forms.
    EXPECT_EQ(findings(reduce(op, from - 1, from, {1}, 1)), findings(reduce(op, from, from, {1}, 1)));
    EXPECT_TRUE(findings(reduce(op, from, from, {1}, 1)).empty());
    for (const auto& m : {older, newer}) {
      auto [after, n] = rewritten(m, "reduce-keepdims");
      EXPECT_EQ(n, 1);
      EXPECT_TRUE(SameOutputs(m, after));
      check_model(after, "rewritten");
      for (const auto& node : after.graph().node())
        if (node.op_type() == op) {  // the form of the opset is kept
          EXPECT_EQ(node.input_size() > 1, default_opset(m) >= from) << node.name();
        }
    }
  }
}

TEST(OpsetReduce, MaxOnASpatialAxisMovedToTheFeatureAxisInBothForms) {
  for (int opset : {17, 18}) {
    SCOPED_TRACE(opset);
    const auto m = reduce("ReduceMax", opset, 18, {3}, 1);
    EXPECT_FALSE(findings(m).empty());
    auto [after, n] = rewritten(m, "reduce-keepdims");
    EXPECT_EQ(n, 1);
    EXPECT_EQ(count_op(after, "Transpose"), 2);
    EXPECT_TRUE(SameOutputs(m, after));
    for (const auto& node : after.graph().node())
      if (node.op_type() == "ReduceMax") {
        EXPECT_TRUE(findings(after, node.name()).empty()) << node.name();
      }
  }
}

// ---------------------------------------------------------------- Split

// x[1,6,6,4] split on AXIS into 3: `split` attribute (< 13), input (13-17), num_outputs (18+).
onnx::ModelProto split3(int opset, int64_t axis, Ints sizes) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 6, 6, 4});
  std::vector<std::string> in{x};
  std::vector<Attr> attrs{Attr::of("axis", axis)};
  if (opset < 13) attrs.push_back(Attr::of("split", sizes));
  else if (opset < 18) in.push_back(b.ints("n/split", sizes));
  else attrs.push_back(Attr::of("num_outputs", static_cast<int64_t>(sizes.size())));
  auto outs = b.node_n("Split", "n", in, static_cast<int>(sizes.size()), attrs);
  for (const auto& o : outs) b.output(o);
  return b.build();
}

TEST(OpsetSplit, AttributeInputAndNumOutputsFormsJudgedAlike) {
  for (int64_t axis : {1, 2}) {
    const auto f12 = findings(split3(12, axis, {2, 2, 2}));
    EXPECT_TRUE(f12.empty()) << axis;
    EXPECT_EQ(findings(split3(13, axis, {2, 2, 2})), f12);
    EXPECT_EQ(findings(split3(18, axis, {2, 2, 2})), f12);
  }
  EXPECT_EQ(cost_and_shape(split3(12, 1, {2, 2, 2}), "n_out2"), cost_and_shape(split3(18, 1, {2, 2, 2}), "n_out2"));
}

// rank5-to-rank4 form B (DINOv3-L/X export): Reshape [1,N,3*H*D] -> [1,N,3,H,D] -> Split(axis 2)
// -> Squeeze(2), at opsets where Split and Squeeze take each of their forms.
onnx::ModelProto qkv_unbind(int opset) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 5, 24});
  auto r = b.node("Reshape", "rs", {x, b.ints("shape5", {1, 5, 3, 2, 4})});
  std::vector<std::string> in{r};
  std::vector<Attr> attrs{Attr::of("axis", static_cast<int64_t>(2))};
  if (opset < 13) attrs.push_back(Attr::of("split", Ints{1, 1, 1}));
  else if (opset >= 18) attrs.push_back(Attr::of("num_outputs", static_cast<int64_t>(3)));
  auto parts = b.node_n("Split", "sp", in, 3, attrs);
  for (int k = 0; k < 3; ++k) {
    std::vector<std::string> sin{parts[k]};
    std::vector<Attr> sattrs;
    if (opset < 13) sattrs.push_back(Attr::of("axes", Ints{2}));
    else sin.push_back(b.ints("sq_axes" + std::to_string(k), {2}));
    b.output(b.node("Squeeze", "sq" + std::to_string(k), sin, sattrs));
  }
  return b.build();
}

TEST(OpsetSplit, Rank5ToRank4RewritesEverySplitAndSqueezeForm) {
  for (int opset : {12, 13, 17, 18, 21}) {
    SCOPED_TRACE(opset);
    const auto m = qkv_unbind(opset);
    auto [after, n] = rewritten(m, "rank5-to-rank4");
    EXPECT_EQ(n, 1);
    EXPECT_EQ(count_op(after, "Split"), 0);
    EXPECT_EQ(count_op(after, "Slice"), 3);
    EXPECT_TRUE(SameOutputs(m, after));
    check_model(after, "rewritten");
  }
}

// ---------------------------------------------------------------- Pad

// x[1,3,4,4] zero-padded by one on H and W: pads attribute (< 11), input (11+), input + axes (18+).
onnx::ModelProto pad(int opset, bool with_axes = false) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 3, 4, 4});
  std::vector<std::string> in{x};
  std::vector<Attr> attrs{Attr::of("mode", "constant")};
  if (opset < 11) {
    attrs.push_back(Attr::of("pads", Ints{0, 0, 1, 1, 0, 0, 1, 1}));
  } else if (with_axes) {
    in.push_back(b.ints("n/pads", {1, 1, 1, 1}));
    in.push_back("");
    in.push_back(b.ints("n/axes", {2, 3}));
  } else {
    in.push_back(b.ints("n/pads", {0, 0, 1, 1, 0, 0, 1, 1}));
  }
  b.output(b.node("Pad", "n", in, attrs));
  return b.build();
}

TEST(OpsetPad, AttributeInputAndAxesFormsJudgedAndCountedAlike) {
  const auto f10 = findings(pad(10));
  EXPECT_TRUE(f10.empty());
  EXPECT_EQ(findings(pad(11)), f10);
  EXPECT_EQ(findings(pad(18)), f10);
  EXPECT_EQ(findings(pad(18, true)), f10);
  EXPECT_EQ(cost_and_shape(pad(10), "n_out"), cost_and_shape(pad(18, true), "n_out"));
  EXPECT_EQ(cost_and_shape(pad(10), "n_out").second, (Ints{1, 3, 6, 6}));
  EXPECT_TRUE(SameOutputs(pad(11), pad(18, true)));
}

// ---------------------------------------------------------------- Resize

// x[1,3,4,4] upsampled 2x: (X, scales) at 10, (X, roi, scales) at 11-17, plus the opset-18
// attributes (antialias, keep_aspect_ratio_policy) at their defaults.
onnx::ModelProto resize(int opset, const char* mode = "nearest") {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 3, 4, 4});
  auto scales = b.weight("n/scales", {4}, {1, 1, 2, 2});
  std::vector<std::string> in{x};
  std::vector<Attr> attrs{Attr::of("mode", mode)};
  if (opset < 11) {
    in.push_back(scales);
  } else {
    in.push_back("");
    in.push_back(scales);
  }
  if (opset >= 18) {
    attrs.push_back(Attr::of("antialias", static_cast<int64_t>(0)));
    attrs.push_back(Attr::of("keep_aspect_ratio_policy", "stretch"));
  }
  b.output(b.node("Resize", "n", in, attrs));
  return b.build();
}

TEST(OpsetResize, ScalesFormsAndOpset18AttributesJudgedAndCountedAlike) {
  for (const char* mode : {"nearest", "cubic"}) {
    SCOPED_TRACE(mode);
    const auto f10 = findings(resize(10, mode));
    EXPECT_EQ(findings(resize(13, mode)), f10);
    EXPECT_EQ(findings(resize(19, mode)), f10);
    EXPECT_EQ(f10.empty(), std::string(mode) == "nearest");
  }
  EXPECT_EQ(cost_and_shape(resize(10), "n_out"), cost_and_shape(resize(19), "n_out"));
  EXPECT_EQ(cost_and_shape(resize(19), "n_out").second, (Ints{1, 3, 8, 8}));
}

// ---------------------------------------------------------------- Slice

// x[1,8,4,4] sliced on AXIS [START, END): attributes (< 10), inputs (10+).
onnx::ModelProto slice(int opset, int64_t axis, int64_t start, int64_t end) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 8, 4, 4});
  if (opset < 10) {
    b.output(b.node("Slice", "n", {x},
                    {Attr::of("starts", Ints{start}), Attr::of("ends", Ints{end}), Attr::of("axes", Ints{axis})}));
  } else {
    b.output(b.node("Slice", "n", {x, b.ints("n/starts", {start}), b.ints("n/ends", {end}), b.ints("n/axes", {axis})}));
  }
  return b.build();
}

TEST(OpsetSlice, AttributeAndInputFormsJudgedCountedAndRewrittenAlike) {
  // Channel slice: accepted; a whole-extent batch "slice": not a cut of the batch axis.
  for (auto [axis, start, end] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 0, 4}, {0, 0, 1}, {2, 1, 3}}) {
    SCOPED_TRACE(axis);
    EXPECT_EQ(findings(slice(9, axis, start, end)), findings(slice(10, axis, start, end)));
    EXPECT_EQ(findings(slice(9, axis, start, end)), findings(slice(13, axis, start, end)));
    EXPECT_EQ(cost_and_shape(slice(9, axis, start, end), "n_out"), cost_and_shape(slice(13, axis, start, end), "n_out"));
  }
  // batch-one removes the identity batch Slice in both forms.
  for (int opset : {9, 13}) {
    const auto m = slice(opset, 0, 0, 1);
    auto [after, n] = rewritten(m, "batch-one");
    EXPECT_EQ(n, 1) << opset;
    EXPECT_EQ(count_op(after, "Slice"), 0) << opset;
  }
}

// ---------------------------------------------------------------- Clip

// x[1,3,4,4] clipped to [0, 6]: min/max attributes (< 11), inputs (11+).
onnx::ModelProto clip(int opset, bool runtime_max = false) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 3, 4, 4});
  if (opset < 11) {
    b.output(b.node("Clip", "n", {x}, {Attr::of("min", 0.0f), Attr::of("max", 6.0f)}));
  } else {
    auto hi = runtime_max ? b.input("hi", {}) : b.scalar("n/max", 6.0f);
    b.output(b.node("Clip", "n", {x, b.scalar("n/min", 0.0f), hi}));
  }
  return b.build();
}

TEST(OpsetClip, AttributeAndInputFormsJudgedAlike) {
  EXPECT_TRUE(findings(clip(10)).empty());
  EXPECT_EQ(findings(clip(13)), findings(clip(10)));
  EXPECT_EQ(cost_and_shape(clip(10), "n_out"), cost_and_shape(clip(13), "n_out"));
  EXPECT_TRUE(findings(clip(13, true)).count("clip-const-bounds"));
}

// ---------------------------------------------------------------- Squeeze / Unsqueeze

onnx::ModelProto squeeze(const std::string& op, int opset, Ints dims, Ints axes) {
  ModelBuilder b(opset);
  auto x = b.input("x", std::move(dims));
  if (opset < 13) b.output(b.node(op, "n", {x}, {Attr::of("axes", axes)}));
  else b.output(b.node(op, "n", {x, b.ints("n/axes", axes)}));
  return b.build();
}

TEST(OpsetSqueeze, AxesAttributeAndInputFormsJudgedAndCountedAlike) {
  EXPECT_EQ(findings(squeeze("Squeeze", 12, {1, 8, 1, 4}, {2})), findings(squeeze("Squeeze", 13, {1, 8, 1, 4}, {2})));
  EXPECT_EQ(findings(squeeze("Unsqueeze", 12, {1, 8, 4}, {2})), findings(squeeze("Unsqueeze", 13, {1, 8, 4}, {2})));
  EXPECT_EQ(cost_and_shape(squeeze("Squeeze", 12, {1, 8, 1, 4}, {2}), "n_out"),
            cost_and_shape(squeeze("Squeeze", 21, {1, 8, 1, 4}, {2}), "n_out"));
  EXPECT_EQ(cost_and_shape(squeeze("Unsqueeze", 12, {1, 8, 4}, {2}), "n_out").second, (Ints{1, 8, 1, 4}));
  EXPECT_EQ(cost_and_shape(squeeze("Unsqueeze", 21, {1, 8, 4}, {2}), "n_out").second, (Ints{1, 8, 1, 4}));
}

// ---------------------------------------------------------------- opset conversion

TEST(OpsetConvert, ReduceAxesInputBackToAttributeGivesTheSameValues) {
  const auto m = reduce("ReduceMax", 19, 18, {1}, 1);
  const auto c = convert_opset(m, 17, "t");
  EXPECT_EQ(default_opset(c), 17);
  check_model(c, "converted");
  for (const auto& n : c.graph().node())
    if (n.op_type() == "ReduceMax") {
      EXPECT_EQ(n.input_size(), 1);
      EXPECT_EQ(attr_ints(n, "axes"), Ints{1});
    }
  EXPECT_TRUE(SameOutputs(m, c));
}

TEST(OpsetConvert, SplitNumOutputsBecomesSizesWhenUneven) {
  ModelBuilder b(18);
  auto x = b.input("x", {1, 8, 4});
  auto outs = b.node_n("Split", "n", {x}, 3, {Attr::of("axis", static_cast<int64_t>(1)),
                                               Attr::of("num_outputs", static_cast<int64_t>(3))});
  for (const auto& o : outs) b.output(o);
  const auto m = b.build();
  const auto c = convert_opset(m, 17, "t");
  check_model(c, "converted");
  const onnx::NodeProto* sp = nullptr;
  for (const auto& n : c.graph().node())
    if (n.op_type() == "Split") sp = &n;
  ASSERT_NE(sp, nullptr);
  EXPECT_FALSE(find_attr(*sp, "num_outputs"));
  ASSERT_EQ(sp->input_size(), 2);
  Graph g(c.graph());
  ASSERT_NE(g.initializer(sp->input(1)), nullptr);
  EXPECT_EQ(tensor_to_int64(*g.initializer(sp->input(1))), (Ints{3, 3, 2}));
  EXPECT_TRUE(SameOutputs(m, c));
  // An even split just drops the attribute.
  const auto even = convert_opset(split3(18, 1, {2, 2, 2}), 17, "t");
  for (const auto& n : even.graph().node())
    if (n.op_type() == "Split") {
      EXPECT_EQ(n.input_size(), 1);
    }
  EXPECT_TRUE(SameOutputs(split3(18, 1, {2, 2, 2}), even));
}

TEST(OpsetConvert, PadAndResizeWithoutOpset18ExtrasConvertExactly) {
  for (const auto& m : {pad(19), resize(19)}) {
    const auto c = convert_opset(m, 17, "t");
    check_model(c, "converted");
    EXPECT_TRUE(SameOutputs(m, c));
  }
}

TEST(OpsetConvert, WhatOpset17CannotExpressIsRefusedInOneLineNamingOpAndOpsets) {
  auto msg = error_of([] { convert_opset(pad(19, true), 17, "stage1"); });
  EXPECT_NE(msg.find("Pad 'n'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("axes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 19 to 17"), std::string::npos) << msg;

  ModelBuilder w(19);
  auto x = w.input("x", {1, 3, 4, 4});
  w.output(w.node("Pad", "wrap", {x, w.ints("p", {0, 0, 1, 1, 0, 0, 1, 1})}, {Attr::of("mode", "wrap")}));
  msg = error_of([&] { convert_opset(w.build(), 18, "stage1"); });
  EXPECT_NE(msg.find("Pad 'wrap'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wrap"), std::string::npos) << msg;

  ModelBuilder r(19);
  x = r.input("x", {1, 3, 4, 4});
  r.output(r.node("Resize", "aa", {x, "", r.weight("s", {4}, {1, 1, 0.5f, 0.5f})},
                  {Attr::of("mode", "linear"), Attr::of("antialias", static_cast<int64_t>(1))}));
  msg = error_of([&] { convert_opset(r.build(), 17, "stage1"); });
  EXPECT_NE(msg.find("antialias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 19 to 17"), std::string::npos) << msg;

  // No adapter at all (GridSample 20 -> 19): named before anything is converted.
  ModelBuilder g(20);
  x = g.input("x", {1, 3, 4, 4});
  auto grid = g.input("grid", {1, 2, 2, 2});
  g.output(g.node("GridSample", "gs", {x, grid}));
  msg = error_of([&] { convert_opset(g.build(), 17, "stage1"); });
  EXPECT_NE(msg.find("GridSample 'gs'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("20 to 19"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- opset limits + split

TEST(OpsetLimits, SevenToTwentyFourAcceptedOthersRefusedInOneLine) {
  const auto d = temp_dir("opset_limits");
  EXPECT_EQ(max_supported_opset(), 24);
  for (int opset : {6, 7, 17, 18, 21, 24, 25}) {
    ModelBuilder b(opset);
    b.output(b.node("Relu", "n", {b.input("x", {1, 4})}));
    const auto p = d / ("o" + std::to_string(opset) + ".onnx");
    save_model(b.build(), p);
    if (opset >= 7 && opset <= 24) {
      EXPECT_NO_THROW(load_model(p)) << opset;
    } else {
      const auto msg = error_of([&] { load_model(p); });
      EXPECT_NE(msg.find("opset " + std::to_string(opset)), std::string::npos) << msg;
    }
  }
}

// conv -> pad -> relu (NPU) -> TopK (host) at OPSET, with Pad's axes input when WITH_AXES.
onnx::ModelProto small_split_model(int opset, bool with_axes = false) {
  ModelBuilder b(opset);
  auto x = b.input("images", {1, 3, 8, 8});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})},
                  {Attr::of("pads", Ints{1, 1, 1, 1})});
  std::vector<std::string> pin{c, b.ints("pads", with_axes ? Ints{1, 1, 1, 1} : Ints{0, 0, 1, 1, 0, 0, 1, 1})};
  if (with_axes) pin.insert(pin.end(), {"", b.ints("pad_axes", {2, 3})});
  auto p = b.node("Pad", "pad", pin);
  auto m = b.node("ReduceMax", "rmax", {b.node("Relu", "relu", {p}), b.ints("rmax_axes", {1})},
                  {Attr::of("keepdims", static_cast<int64_t>(1))});
  auto flat = b.node("Reshape", "flat", {m, b.ints("flat_shape", {1, 100})});
  auto t = b.node_n("TopK", "topk", {flat, b.ints("k", {5})}, 2, {Attr::of("axis", static_cast<int64_t>(-1))});
  b.output(t[0]);
  b.output(t[1], {}, onnx::TensorProto::INT64);
  return b.build();
}

TEST(OpsetSplitStage1, ConvertedIntoTheTargetRangeVerifiedAndRecorded) {
  const auto d = temp_dir("opset_split");
  save_model(small_split_model(19), d / "m19.onnx");
  SplitOptions o;
  o.model = d / "m19.onnx";
  o.out_dir = d / "hailo8";
  o.verify = true;
  auto r = split_model(o);
  EXPECT_EQ(r.stage1_opset.model, 19);
  EXPECT_EQ(r.stage1_opset.written, 17);  // hailo8: DFC 3.x, opsets 11-17
  EXPECT_EQ(default_opset(load_model(r.stage1_path)), 17);
  EXPECT_EQ(default_opset(load_model(r.stage2_path)), 19);  // stage2 keeps the model's opset
  const auto& op = r.manifest["opset"];
  EXPECT_EQ(op["converted"], true);
  EXPECT_EQ(op["stage1"], 17);
  EXPECT_EQ(op["conversion_check"]["ok"], true);
  for (const auto& w : op["conversion_check"]["outputs"]) EXPECT_EQ(w["max_abs_diff"], 0.0);
  ASSERT_TRUE(r.verify.has_value());
  EXPECT_TRUE(r.verify->ok);
  EXPECT_EQ(r.manifest["stage1"]["check"]["verdict"], "clean");

  // hailo10h (DFC 5.3 parsed 13-23): no conversion. --stage1-opset forces one.
  o.target = "hailo10h";
  o.out_dir = d / "hailo10h";
  r = split_model(o);
  EXPECT_EQ(r.stage1_opset.written, 19);
  EXPECT_EQ(r.manifest["opset"]["converted"], false);
  o.stage1_opset = 18;
  o.out_dir = d / "forced";
  r = split_model(o);
  EXPECT_EQ(default_opset(load_model(r.stage1_path)), 18);
  EXPECT_NE(r.manifest["opset"]["reason"].get<std::string>().find("--stage1-opset"), std::string::npos);
}

TEST(OpsetSplitStage1, OldModelsAreConvertedUpIntoTheRange) {
  const auto d = temp_dir("opset_split_old");
  ModelBuilder b(9);
  auto x = b.input("images", {1, 3, 8, 8});
  auto c = b.node("Relu", "relu", {b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})})});
  auto t = b.node_n("TopK", "topk", {b.node("Flatten", "flat", {c})}, 2,
                    {Attr::of("axis", static_cast<int64_t>(-1)), Attr::of("k", static_cast<int64_t>(5))});  // k: input from 10
  b.output(t[0]);
  b.output(t[1], {}, onnx::TensorProto::INT64);
  save_model(b.build(), d / "m9.onnx");
  SplitOptions o;
  o.model = d / "m9.onnx";
  o.out_dir = d / "out";
  o.verify = true;
  const auto r = split_model(o);
  EXPECT_EQ(r.stage1_opset.written, 11);
  EXPECT_TRUE(r.verify->ok);
}

TEST(OpsetSplitStage1, RefusedConversionOrBadOverrideExitsTwoWritingNothing) {
  const auto d = temp_dir("opset_split_refused");
  save_model(small_split_model(19, true), d / "axes.onnx");
  auto r = run_cli("split '" + (d / "axes.onnx").string() + "' -o '" + (d / "out").string() + "'", "opset_refused");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("npusplit: error: stage1: cannot convert from opset 19 to 17: Pad 'pad'"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(d / "out") && !fs::is_empty(d / "out"));
  // The same model is fine where the parser takes opset 19.
  r = run_cli("split '" + (d / "axes.onnx").string() + "' -o '" + (d / "out10h").string() + "' --target hailo10h",
              "opset_10h");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* bad : {"6", "25"}) {
    r = run_cli("split '" + (d / "axes.onnx").string() + "' -o '" + (d / "bad").string() + "' --stage1-opset " + bad,
                "opset_bad");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--stage1-opset " + std::string(bad)), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d / "bad"));
  }
}

TEST(OpsetRules, EveryRuleFileStatesItsOpsetRangeWithEvidence) {
  for (const auto& t : {"hailo8", "hailo10h"}) {
    const auto rs = load_rules(t);
    EXPECT_FALSE(rs.opset.evidence.empty()) << t;
    EXPECT_FALSE(rs.opset.source.empty()) << t;
    EXPECT_LE(rs.opset.min, rs.opset.max) << t;
  }
  EXPECT_EQ(load_rules("hailo10h").opset.min, 13);
  EXPECT_EQ(load_rules("hailo10h").opset.max, 23);
  auto msg = error_of([] { parse_rules("target: t\nopset: {min: 5, max: 30}\nops: {}\n", "x.yaml"); });
  EXPECT_NE(msg.find("opset range"), std::string::npos) << msg;
}

}  // namespace
}  // namespace npusplit
