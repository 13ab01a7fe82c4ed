// Shape resolution: fixing input shapes, folding run-time shape arithmetic (the DEIMv2 export
// style) into initializers, the ONNX Runtime fallback, and exactness of the folding.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/verify/verify.h"
#include "test_support.h"

namespace npusplit {
namespace {

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;

using test::error_of;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The DEIMv2 export style: a feature map flattened to tokens with a Reshape target computed
// from Shape -> Gather -> Unsqueeze -> Concat, then back to a square grid whose side is
// sqrt(token count) (Shape -> Gather -> Cast -> Sqrt -> Cast), which ONNX data propagation
// cannot follow.
onnx::ModelProto runtime_reshape_model(std::vector<int64_t> input_dims = {1, 3, 16, 16}) {
  ModelBuilder b;
  auto x = b.input("images", std::move(input_dims));
  auto feat = b.node("Conv", "conv", {x, b.random_weight("w", {8, 3, 3, 3})},
                     {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1}), Attr::of("strides", std::vector<int64_t>{2, 2})});
  auto sh = b.node("Shape", "shape", {feat});
  auto n = b.node("Gather", "gather_n", {sh, b.ints("i0", {0}, {})}, {Attr::of("axis", 0)});
  auto c = b.node("Gather", "gather_c", {sh, b.ints("i1", {1}, {})}, {Attr::of("axis", 0)});
  auto nu = b.node("Unsqueeze", "unsq_n", {n, b.ints("ax0", {0})});
  auto cu = b.node("Unsqueeze", "unsq_c", {c, b.ints("ax0b", {0})});
  auto tgt = b.node("Concat", "concat_tgt", {nu, cu, b.ints("minus1", {-1})}, {Attr::of("axis", 0)});
  auto tokens = b.node("Reshape", "to_tokens", {feat, tgt});  // [1,8,HW]
  auto sh2 = b.node("Shape", "shape2", {tokens});
  auto hw = b.node("Gather", "gather_hw", {sh2, b.ints("i2", {2}, {})}, {Attr::of("axis", 0)});
  auto hwf = b.node("Cast", "cast_f", {hw}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto side_f = b.node("Sqrt", "sqrt", {hwf});
  auto side = b.node("Cast", "cast_i", {side_f}, {Attr::of("to", static_cast<int64_t>(kInt64))});
  auto su = b.node("Unsqueeze", "unsq_side", {side, b.ints("ax0c", {0})});
  auto tgt2 = b.node("Concat", "concat_tgt2", {nu, cu, su, su}, {Attr::of("axis", 0)});
  auto grid = b.node("Reshape", "to_grid", {tokens, tgt2});  // [1,8,H,W] again
  auto y = b.node("Relu", "relu", {grid});
  b.output(y);
  return b.build();
}

TEST(ShapesResolve, RuntimeReshapeTargetIsFolded) {
  const auto m = runtime_reshape_model();
  // Plain ONNX inference (data propagation on) cannot know the second Reshape.
  {
    onnx::ModelProto copy = m;
    auto plain = infer_shapes(copy);
    auto it = plain.find("to_grid_out");
    EXPECT_TRUE(it == plain.end() || !it->second.is_static()) << "ONNX inference already knows it";
  }
  auto r = resolve(m);
  EXPECT_EQ(r.stats.unresolved, 0);
  EXPECT_LT(r.stats.known_by_onnx, r.stats.tensors);
  EXPECT_GT(r.stats.folded_nodes, 0);
  EXPECT_GE(r.stats.fold_rounds, 1);
  EXPECT_EQ(r.stats.known_by_ort, 0) << "folding alone should resolve this graph";
  EXPECT_TRUE(r.notes.empty());
  // Only the real computation remains; every shape op became an initializer.
  std::vector<std::string> ops;
  for (const auto& n : r.model.graph().node()) ops.push_back(n.op_type());
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "Reshape", "Reshape", "Relu"}));
  Graph g(r.model.graph());
  for (const auto& n : r.model.graph().node()) {
    for (const auto& o : n.output()) {
      ASSERT_TRUE(r.shapes.count(o)) << o;
      EXPECT_TRUE(r.shapes.at(o).is_static()) << o;
    }
    if (n.op_type() == "Reshape") {
      EXPECT_TRUE(g.is_constant(n.input(1))) << n.name();
    }
  }
  EXPECT_EQ(r.shapes.at("to_tokens_out").dims, (std::vector<int64_t>{1, 8, 64}));
  EXPECT_EQ(r.shapes.at("to_grid_out").dims, (std::vector<int64_t>{1, 8, 8, 8}));
  // The saved model carries the shapes: value_info for intermediates, static outputs.
  EXPECT_GE(r.model.graph().value_info_size(), 3);
  EXPECT_EQ(tensor_info_of(r.model.graph().output(0).type()).dims, (std::vector<int64_t>{1, 8, 8, 8}));
  check_model(r.model, "resolved");
}

TEST(ShapesResolve, WithoutFoldingTheShapesStayUnknownOrComeFromOrt) {
  ResolveOptions o;
  o.fold = false;
  o.ort_fallback = false;
  auto r = resolve(runtime_reshape_model(), o);
  EXPECT_GT(r.stats.unresolved, 0);
  EXPECT_EQ(r.stats.folded_nodes, 0);
  o.ort_fallback = true;
  auto r2 = resolve(runtime_reshape_model(), o);
  EXPECT_EQ(r2.stats.unresolved, 0);
  EXPECT_GT(r2.stats.known_by_ort, 0);
  EXPECT_EQ(r2.shapes.at("to_grid_out").dims, (std::vector<int64_t>{1, 8, 8, 8}));
}

TEST(ShapesResolve, DynamicBatchFixedToOneWithANote) {
  auto r = resolve(runtime_reshape_model({-1, 3, 16, 16}));
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_TRUE(has(r.notes[0], "images")) << r.notes[0];
  EXPECT_TRUE(has(r.notes[0], "fixed to 1")) << r.notes[0];
  EXPECT_EQ(r.shapes.at("images").dims, (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_EQ(tensor_info_of(r.model.graph().input(0).type()).dims, (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_EQ(r.stats.unresolved, 0);
  EXPECT_EQ(r.shapes.at("to_grid_out").dims, (std::vector<int64_t>{1, 8, 8, 8}));
}

TEST(ShapesResolve, InputShapeOverridesTheDynamicBatch) {
  ResolveOptions o;
  o.input_shapes = parse_input_shapes({"images=2,3,16,16"});
  auto r = resolve(runtime_reshape_model({-1, 3, 16, 16}), o);
  EXPECT_TRUE(r.notes.empty());
  EXPECT_EQ(r.shapes.at("to_grid_out").dims, (std::vector<int64_t>{2, 8, 8, 8}));
}

TEST(ShapesResolve, DynamicSpatialDimsNeedAnInputShape) {
  const auto m = runtime_reshape_model({1, 3, -1, -1});
  const auto msg = error_of([&] { resolve(m); });
  EXPECT_TRUE(has(msg, "images")) << msg;
  EXPECT_TRUE(has(msg, "dynamic dim 2")) << msg;
  EXPECT_TRUE(has(msg, "--input-shape")) << msg;
  ResolveOptions o;
  o.input_shapes = parse_input_shapes({"images=1,3,32,32"});
  auto r = resolve(m, o);
  EXPECT_EQ(r.stats.unresolved, 0);
  EXPECT_EQ(r.shapes.at("to_grid_out").dims, (std::vector<int64_t>{1, 8, 16, 16}));
}

TEST(ShapesInputShape, ParsesSeveralInputs) {
  auto s = parse_input_shapes({"images=1,3,640,640;orig_target_sizes=1,2", "extra=4"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.at("images"), (std::vector<int64_t>{1, 3, 640, 640}));
  EXPECT_EQ(s.at("orig_target_sizes"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(s.at("extra"), (std::vector<int64_t>{4}));
  EXPECT_TRUE(parse_input_shapes({}).empty());
}

TEST(ShapesInputShape, SyntaxErrorsAreOneLine) {
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images"}); }), "NAME=D0,D1"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"=1,3"}); }), "NAME=D0,D1"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images=1,x,3"}); }), "'x'"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images=1,3.5"}); }), "positive integer"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images=1,,3"}); }), "positive integer"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images="}); }), "no dims"));
}

TEST(ShapesInputShape, NonPositiveDimsRejected) {
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images=1,3,0,640"}); }), "positive"));
  EXPECT_TRUE(has(error_of([] { parse_input_shapes({"images=1,3,-640,640"}); }), "positive"));
}

TEST(ShapesInputShape, UnknownInputNameRejected) {
  ResolveOptions o;
  o.input_shapes = {{"image", {1, 3, 16, 16}}};
  const auto msg = error_of([&] { resolve(runtime_reshape_model(), o); });
  EXPECT_TRUE(has(msg, "'image'")) << msg;
  EXPECT_TRUE(has(msg, "images")) << msg;  // lists the real inputs
}

TEST(ShapesInputShape, RankMismatchAndConflictingDimRejected) {
  ResolveOptions o;
  o.input_shapes = {{"images", {1, 3, 16}}};
  auto msg = error_of([&] { resolve(runtime_reshape_model(), o); });
  EXPECT_TRUE(has(msg, "rank 3")) << msg;
  EXPECT_TRUE(has(msg, "rank 4")) << msg;
  o.input_shapes = {{"images", {1, 3, 32, 32}}};
  msg = error_of([&] { resolve(runtime_reshape_model(), o); });
  EXPECT_TRUE(has(msg, "fixed to 16")) << msg;
}

TEST(ShapesResolve, InputWithoutShapeNeedsAnInputShape) {
  ModelBuilder b;
  b.input("x", {1});
  b.model().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  b.output(b.node("Relu", "relu", {"x"}));
  const auto m = b.build();
  EXPECT_TRUE(has(error_of([&] { resolve(m); }), "has no shape"));
  ResolveOptions o;
  o.input_shapes = {{"x", {1, 4}}};
  EXPECT_EQ(resolve(m, o).shapes.at("relu_out").dims, (std::vector<int64_t>{1, 4}));
}

TEST(ShapesResolve, OrtFallbackFillsDataDependentShapes) {
  // NonZero's output shape depends on the data: ONNX inference cannot know it.
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 4});
  auto nz = b.node("NonZero", "nonzero", {x});
  auto t = b.node("Transpose", "transpose", {nz}, {Attr::of("perm", std::vector<int64_t>{1, 0})});
  b.output(t, {}, kInt64);
  const auto m = b.build();
  {
    ResolveOptions o;
    o.ort_fallback = false;
    auto r = resolve(m, o);
    EXPECT_GT(r.stats.unresolved, 0);
    EXPECT_EQ(r.stats.known_by_ort, 0);
  }
  auto r = resolve(m);
  EXPECT_GT(r.stats.known_by_ort, 0);
  EXPECT_EQ(r.stats.unresolved, 0);
  const auto& nzs = r.shapes.at("nonzero_out");
  ASSERT_TRUE(nzs.is_static());
  ASSERT_EQ(nzs.rank(), 2);
  EXPECT_EQ(nzs.dims[0], 4);  // one row per input axis
  EXPECT_GE(nzs.dims[1], 0);
  EXPECT_LE(nzs.dims[1], 48);
  EXPECT_EQ(nzs.dtype, kInt64);
  EXPECT_EQ(r.shapes.at("transpose_out").dims, (std::vector<int64_t>{nzs.dims[1], 4}));
}

TEST(ShapesResolve, ShapeOfAStaticTensorIsFoldedAway) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 6, 6});
  auto s = b.node("Shape", "shape", {x});
  auto sz = b.node("Size", "size", {x});
  auto cs = b.node("ConstantOfShape", "cos", {s});
  auto y = b.node("Add", "add", {x, cs});
  b.output(y);
  b.output(sz, {}, kInt64);  // a graph output is never folded away
  auto r = resolve(b.build());
  std::vector<std::string> ops;
  for (const auto& n : r.model.graph().node()) ops.push_back(n.op_type());
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "Shape"), 0);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "ConstantOfShape"), 0);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "Add"), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "Size"), 1);
}

TEST(ShapesResolve, ConstantNodesBecomeInitializers) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto* n = b.model().mutable_graph()->add_node();
  n->set_op_type("Constant");
  n->set_name("k");
  n->add_output("k_out");
  auto* a = n->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float v : {1.f, 2.f, 3.f, 4.f}) a->add_floats(v);
  b.output(b.node("Mul", "mul", {x, "k_out"}));
  auto r = resolve(b.build());
  ASSERT_EQ(r.model.graph().node_size(), 1);
  EXPECT_EQ(r.model.graph().node(0).op_type(), "Mul");
  Graph g(r.model.graph());
  EXPECT_TRUE(g.is_constant("k_out"));
}

TEST(ShapesResolve, DeadCodeRemoved) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  b.node("Relu", "unused", {x});
  b.random_weight("unused_w", {4, 4});
  b.output(b.node("Sigmoid", "used", {x}));
  auto r = resolve(b.build());
  ASSERT_EQ(r.model.graph().node_size(), 1);
  EXPECT_EQ(r.model.graph().node(0).name(), "used");
  EXPECT_EQ(r.model.graph().initializer_size(), 0);
}

// A model whose constant subgraphs do real float math (a sin/cos positional table built
// from the input size, a reparametrised weight, a constant MatMul): folding must give the
// very bits the unfolded model computes at run time.
onnx::ModelProto folding_model() {
  ModelBuilder b;
  auto x = b.input("x", {-1, 16, 8, 8});
  // Positional table from the input's W: Range(0, W) / W * pi -> sin, cos.
  auto sh = b.node("Shape", "shape", {x});
  auto w = b.node("Gather", "gather_w", {sh, b.ints("i3", {3}, {})}, {Attr::of("axis", 0)});
  auto wf = b.node("Cast", "cast_w", {w}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto rng = b.node("Range", "range", {b.scalar("zero", 0.f), wf, b.scalar("one", 1.f)});
  auto frac = b.node("Div", "div_w", {rng, wf});
  auto ang = b.node("Mul", "mul_pi", {frac, b.scalar("pi", 3.14159265f)});
  auto pe = b.node("Add", "add_sc", {b.node("Sin", "sin", {ang}), b.node("Cos", "cos", {ang})});  // [W]
  auto y = b.node("Add", "add_pe", {x, pe});
  // A weight computed from constants: sqrt(|w0|) * scale, then a constant MatMul.
  auto w0 = b.random_weight("w0", {16, 16, 1, 1}, 0.5f, 3);
  auto wk = b.node("Mul", "mul_scale", {b.node("Sqrt", "sqrt", {b.node("Abs", "abs", {w0})}), b.scalar("s", 0.37f)});
  auto conv = b.node("Conv", "conv", {y, wk});
  auto m1 = b.random_weight("m1", {8, 24}, 1.0f, 5), m2 = b.random_weight("m2", {24, 8}, 1.0f, 7);
  auto mm = b.node("Softmax", "sm", {b.node("MatMul", "mm_const", {m1, m2})}, {Attr::of("axis", -1)});  // [8,8]
  auto out = b.node("MatMul", "mm", {conv, mm});
  b.output(b.node("Tanh", "tanh", {out}));
  return b.build();
}

TEST(ShapesFold, FoldingIsBitExact) {
  const auto m = folding_model();
  auto r = resolve(m);
  EXPECT_EQ(r.stats.unresolved, 0);
  EXPECT_GE(r.stats.folded_nodes, 12);
  for (const auto& n : r.model.graph().node())
    for (const std::string op : {"Shape", "Range", "Sin", "Cos", "Sqrt", "Softmax", "Gather", "Cast"})
      EXPECT_NE(n.op_type(), op) << n.name() << " should have been folded";
  auto cases = make_verify_cases(m, {}, 3, {});
  auto rep = verify_equivalent(m, r.model, cases, 0.0);
  EXPECT_TRUE(rep.ok);
  ASSERT_EQ(rep.worst.size(), 1u);
  EXPECT_EQ(rep.worst[0].max_abs_diff, 0.0);
  EXPECT_EQ(rep.worst[0].nonfinite_mismatch, 0);
}

TEST(ShapesFold, FoldingIsExactOnTheRuntimeReshapeModel) {
  const auto m = runtime_reshape_model({-1, 3, 16, 16});
  auto r = resolve(m);
  auto rep = verify_equivalent(m, r.model, make_verify_cases(m, {}, 2, {}), 0.0);
  EXPECT_TRUE(rep.ok);
  for (const auto& o : rep.worst) EXPECT_EQ(o.max_abs_diff, 0.0) << o.name;
}

// An If whose only explicit input is a constant condition, but whose branches read a runtime
// tensor from the outer scope: it is not a static subgraph and must not be folded.
onnx::ModelProto if_with_outer_scope_input() {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto cond = b.node("Greater", "cond", {b.scalar("two", 2.f), b.scalar("one", 1.f)});  // constant true
  auto branch = [&](const std::string& name, const std::string& op) {
    onnx::GraphProto g;
    g.set_name(name);
    auto* n = g.add_node();
    n->set_op_type(op);
    n->set_name(name + "/" + op);
    n->add_input(x);  // outer-scope value
    n->add_output(name + "_y");
    auto* o = g.add_output();
    o->set_name(name + "_y");
    o->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
    return g;
  };
  auto y = b.node("If", "if", {cond});
  auto* n = b.model().mutable_graph()->mutable_node(b.model().graph().node_size() - 1);
  for (const auto& [attr, op] : {std::pair<std::string, std::string>{"then_branch", "Relu"}, {"else_branch", "Neg"}}) {
    auto* a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = branch(attr, op);
  }
  b.output(b.node("Sigmoid", "sig", {y}));
  return b.build();
}

TEST(ShapesFold, IfReadingOuterScopeValuesIsNotFolded) {
  const auto m = if_with_outer_scope_input();
  ResolvedModel r;
  try {
    r = resolve(m);
  } catch (const Error& e) {
    FAIL() << "resolve failed: " << e.what();
  }
  auto rep = verify_equivalent(m, r.model, make_verify_cases(m, {}, 1, {}), 0.0);
  EXPECT_TRUE(rep.ok);
}

// A value only a subgraph reads (an outer-scope reference inside an If branch) is live.
TEST(ShapesResolve, ValuesReadOnlyInsideASubgraphAreKept) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto c = b.input("c", {}, onnx::TensorProto::BOOL);
  auto h = b.node("Relu", "hidden", {x});  // read only by the branches
  auto branch = [&](const std::string& name, const std::string& op) {
    onnx::GraphProto g;
    g.set_name(name);
    auto* n = g.add_node();
    n->set_op_type(op);
    n->set_name(name + "/" + op);
    n->add_input(h);
    n->add_output(name + "_y");
    auto* o = g.add_output();
    o->set_name(name + "_y");
    o->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
    return g;
  };
  auto y = b.node("If", "if", {c});
  auto* n = b.model().mutable_graph()->mutable_node(b.model().graph().node_size() - 1);
  for (const auto& [attr, op] : {std::pair<std::string, std::string>{"then_branch", "Sigmoid"}, {"else_branch", "Neg"}}) {
    auto* a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = branch(attr, op);
  }
  b.output(y);
  const auto m = b.build();
  ResolvedModel r;
  try {
    r = resolve(m);
  } catch (const Error& e) {
    FAIL() << "resolve failed: " << e.what();
  }
  bool kept = false;
  for (const auto& node : r.model.graph().node()) kept |= node.name() == "hidden";
  EXPECT_TRUE(kept) << "the Relu the branches read was removed as dead code";
}

// ---------------------------------------------------------------- shared models

void expect_fully_resolved(const std::filesystem::path& path) {
  auto m = load_model(path);
  auto r = resolve(m);
  EXPECT_EQ(r.stats.unresolved, 0) << path;
  EXPECT_LT(r.stats.known_by_onnx, r.stats.tensors) << "folding was not needed for " << path;
  EXPECT_GT(r.stats.folded_nodes, 0);
  for (const auto& n : r.model.graph().node())
    for (const auto& o : n.output()) {
      if (o.empty()) continue;
      auto it = r.shapes.find(o);
      ASSERT_NE(it, r.shapes.end()) << o;
      EXPECT_TRUE(it->second.is_static()) << o;
      EXPECT_NE(it->second.dtype, 0) << o;
    }
  for (const auto& o : r.model.graph().output()) EXPECT_TRUE(tensor_info_of(o.type()).is_static()) << o.name();
}

TEST(ShapesShared, DeimV2AttoResolves) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  expect_fully_resolved(path);
}

TEST(ShapesShared, DeimV2SResolves) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_s.onnx");
  expect_fully_resolved(path);
}

}  // namespace
}  // namespace npusplit
