// The folding sweep (shapes/fold.h): every op it evaluates itself gives the same bytes as ONNX
// Runtime's kernel, and a graph mixing ops it evaluates and ops it leaves to ONNX Runtime folds
// in one session per round, bit-exact.
#include <gtest/gtest.h>

#include <cstring>

#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/model/compiled_model.h"
#include "npusplit/passes/pass.h"
#include "npusplit/ir/graph.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/shapes/fold.h"
#include "npusplit/shapes/node_inference.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/verify/verify.h"
#include "test_support.h"

namespace npusplit {
namespace {

using TP = onnx::TensorProto;

HostTensor ints(const std::string& name, std::vector<int64_t> v, std::vector<int64_t> dims = {-1}) {
  if (dims == std::vector<int64_t>{-1}) dims = {static_cast<int64_t>(v.size())};
  HostTensor t(TensorSpec{name, TP::INT64, dims});
  if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

HostTensor floats(const std::string& name, std::vector<float> v, std::vector<int64_t> dims) {
  HostTensor t(TensorSpec{name, TP::FLOAT, dims});
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

HostTensor int32s(const std::string& name, std::vector<int32_t> v, std::vector<int64_t> dims) {
  HostTensor t(TensorSpec{name, TP::INT32, dims});
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<Attr>& attrs = {}) {
  ModelBuilder b;
  b.node(op, "n", inputs, attrs);
  return b.build().graph().node(0);
}

// The node alone in a model whose inputs are INPUTS, run by ONNX Runtime.
HostTensor run_in_ort(const onnx::NodeProto& n, const std::vector<HostTensor>& inputs, int32_t out_dtype) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("one");
  for (const auto& t : inputs) {
    auto* vi = g->add_input();
    vi->set_name(t.name());
    TensorInfo info{t.spec.dtype, t.spec.dims, true};
    set_value_info_type(*vi, info);
  }
  *g->add_node() = n;
  auto* o = g->add_output();
  o->set_name(n.output(0));
  o->mutable_type()->mutable_tensor_type()->set_elem_type(out_dtype);
  std::string bytes;
  m.SerializeToString(&bytes);
  auto s = make_session(bytes, OrtOptions{}, "one node");
  return run_session(s, inputs).at(0);
}

// Evaluates N with the sweep and with ONNX Runtime; both must agree to the byte.
void expect_same_as_ort(const onnx::NodeProto& n, const std::vector<HostTensor>& inputs) {
  std::vector<const HostTensor*> ptrs;
  for (const auto& t : inputs) ptrs.push_back(&t);
  auto mine = evaluate_constant_node(n, ptrs, 17);
  ASSERT_TRUE(mine.has_value()) << n.op_type() << " was not evaluated by the sweep";
  ASSERT_EQ(mine->size(), 1u);
  const HostTensor& got = mine->front();
  const HostTensor want = run_in_ort(n, inputs, got.spec.dtype);
  EXPECT_EQ(got.spec.dtype, want.spec.dtype) << n.op_type();
  EXPECT_EQ(got.spec.dims, want.spec.dims) << n.op_type();
  EXPECT_EQ(got.data, want.data) << n.op_type() << " differs from ONNX Runtime";
}

TEST(FoldSweep, ShapeWithStartAndEnd) {
  auto x = floats("x", std::vector<float>(24, 1.f), {2, 3, 4});
  expect_same_as_ort(make_node("Shape", {"x"}), {x});
  expect_same_as_ort(make_node("Shape", {"x"}, {Attr::of("start", 1)}), {x});
  expect_same_as_ort(make_node("Shape", {"x"}, {Attr::of("start", -2), Attr::of("end", -1)}), {x});
  expect_same_as_ort(make_node("Size", {"x"}), {x});
}

TEST(FoldSweep, GatherScalarVectorAndNegativeIndices) {
  auto data = ints("d", {10, 20, 30, 40});
  expect_same_as_ort(make_node("Gather", {"d", "i"}, {Attr::of("axis", 0)}), {data, ints("i", {2}, {})});
  expect_same_as_ort(make_node("Gather", {"d", "i"}, {Attr::of("axis", 0)}), {data, ints("i", {-1, 0, 3})});
  auto m = floats("m", {1, 2, 3, 4, 5, 6}, {2, 3});
  expect_same_as_ort(make_node("Gather", {"m", "i"}, {Attr::of("axis", 1)}), {m, ints("i", {2, 0}, {1, 2})});
  expect_same_as_ort(make_node("Gather", {"m", "i"}, {Attr::of("axis", -2)}), {m, ints("i", {1}, {})});
}

TEST(FoldSweep, ConcatUnsqueezeSqueeze) {
  expect_same_as_ort(make_node("Concat", {"a", "b", "c"}, {Attr::of("axis", 0)}),
                     {ints("a", {1}), ints("b", {-1, 7}), ints("c", {64})});
  expect_same_as_ort(make_node("Concat", {"a", "b"}, {Attr::of("axis", -1)}),
                     {floats("a", {1, 2, 3, 4}, {2, 2}), floats("b", {5, 6}, {2, 1})});
  expect_same_as_ort(make_node("Unsqueeze", {"x", "ax"}), {ints("x", {5}, {}), ints("ax", {0})});
  expect_same_as_ort(make_node("Unsqueeze", {"x", "ax"}), {ints("x", {1, 2, 3}), ints("ax", {-1, 0})});
  expect_same_as_ort(make_node("Squeeze", {"x"}), {ints("x", {4, 5}, {1, 2, 1})});
  expect_same_as_ort(make_node("Squeeze", {"x", "ax"}), {ints("x", {4, 5}, {1, 2, 1}), ints("ax", {-1})});
  // An empty part (exports concatenate an empty shape list): its data has no pointer at all,
  // which the copy must not touch (UBSan found it on every DEIMv2 export).
  expect_same_as_ort(make_node("Concat", {"a", "e", "b"}, {Attr::of("axis", 0)}),
                     {ints("a", {1, 2}), ints("e", {}, {0}), ints("b", {3})});
}

TEST(FoldSweep, SliceWithStepsAxesAndClamping) {
  auto v = ints("v", {0, 1, 2, 3, 4, 5, 6, 7});
  expect_same_as_ort(make_node("Slice", {"v", "s", "e"}), {v, ints("s", {1}), ints("e", {INT64_MAX})});
  expect_same_as_ort(make_node("Slice", {"v", "s", "e"}), {v, ints("s", {-3}), ints("e", {-1})});
  expect_same_as_ort(make_node("Slice", {"v", "s", "e", "a", "st"}),
                     {v, ints("s", {-1}), ints("e", {INT64_MIN}), ints("a", {0}), ints("st", {-2})});
  expect_same_as_ort(make_node("Slice", {"v", "s", "e", "a", "st"}),
                     {v, ints("s", {6}), ints("e", {1}), ints("a", {0}), ints("st", {-3})});
  auto m = floats("m", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  expect_same_as_ort(make_node("Slice", {"m", "s", "e", "a", "st"}),
                     {m, ints("s", {0, 1}), ints("e", {3, 100}), ints("a", {1, 0}), ints("st", {2, 1})});
  expect_same_as_ort(make_node("Slice", {"m", "s", "e"}), {m, ints("s", {5}), ints("e", {9})});  // empty
}

TEST(FoldSweep, CastTruncatesLikeOrt) {
  auto f = floats("f", {-2.7f, -0.5f, 0.f, 1.5f, 3.99f, 1e6f}, {6});
  expect_same_as_ort(make_node("Cast", {"f"}, {Attr::of("to", static_cast<int64_t>(TP::INT64))}), {f});
  expect_same_as_ort(make_node("Cast", {"f"}, {Attr::of("to", static_cast<int64_t>(TP::INT32))}), {f});
  expect_same_as_ort(make_node("Cast", {"f"}, {Attr::of("to", static_cast<int64_t>(TP::BOOL))}), {f});
  expect_same_as_ort(make_node("Cast", {"f"}, {Attr::of("to", static_cast<int64_t>(TP::DOUBLE))}), {f});
  auto i = ints("i", {-3, 0, 16777217, 640});
  expect_same_as_ort(make_node("Cast", {"i"}, {Attr::of("to", static_cast<int64_t>(TP::FLOAT))}), {i});
  expect_same_as_ort(make_node("Cast", {"i"}, {Attr::of("to", static_cast<int64_t>(TP::INT32))}), {i});
  // NaN -> int is undefined in C++: the sweep leaves it to ONNX Runtime.
  auto nan = floats("n", {std::nanf("")}, {1});
  std::vector<const HostTensor*> in{&nan};
  EXPECT_FALSE(evaluate_constant_node(make_node("Cast", {"n"}, {Attr::of("to", static_cast<int64_t>(TP::INT64))}), in, 17));
}

TEST(FoldSweep, ReshapeZeroAndMinusOne) {
  auto x = floats("x", std::vector<float>(24, 2.f), {2, 3, 4});
  expect_same_as_ort(make_node("Reshape", {"x", "s"}), {x, ints("s", {0, -1})});
  expect_same_as_ort(make_node("Reshape", {"x", "s"}), {x, ints("s", {4, 0, 2})});
  expect_same_as_ort(make_node("Reshape", {"x", "s"}), {x, ints("s", {-1})});
}

TEST(FoldSweep, ArithmeticWithBroadcasting) {
  expect_same_as_ort(make_node("Add", {"a", "b"}), {ints("a", {1, 2, 3, 4, 5, 6}, {2, 3}), ints("b", {10}, {})});
  expect_same_as_ort(make_node("Sub", {"a", "b"}), {ints("a", {1, 2}, {2, 1}), ints("b", {10, 20, 30}, {1, 3})});
  expect_same_as_ort(make_node("Mul", {"a", "b"}), {int32s("a", {3, -4}, {2}), int32s("b", {7, 7}, {2})});
  expect_same_as_ort(make_node("Div", {"a", "b"}), {ints("a", {-7, 7, 640, -1}), ints("b", {2, -2, 32, 3})});
  expect_same_as_ort(make_node("Div", {"a", "b"}),
                     {floats("a", {1.f, 64.f, 3.f}, {3}), floats("b", {3.f, 0.1f, 7.f}, {3})});
  expect_same_as_ort(make_node("Mul", {"a", "b"}),
                     {floats("a", {0.1f, 1e-3f, 3.3f, -2.f}, {2, 2}), floats("b", {0.7f, 12.5f}, {2})});
  expect_same_as_ort(make_node("Add", {"a", "b"}), {floats("a", {0.1f}, {}), floats("b", {0.2f, 1e8f}, {2})});
  // Integer division by zero: ONNX Runtime's business, not the sweep's.
  auto a = ints("a", {1}), z = ints("b", {0});
  std::vector<const HostTensor*> in{&a, &z};
  EXPECT_FALSE(evaluate_constant_node(make_node("Div", {"a", "b"}), in, 17));
}

TEST(FoldSweep, OpsOutsideTheSweepAreLeftToOrt) {
  auto x = floats("x", {0.5f}, {1});
  std::vector<const HostTensor*> in{&x};
  EXPECT_FALSE(evaluate_constant_node(make_node("Sin", {"x"}), in, 17));
  EXPECT_FALSE(evaluate_constant_node(make_node("Sqrt", {"x"}), in, 17));
}

// Shape arithmetic the sweep does, a sin table it cannot (left to ONNX Runtime), and a Reshape
// whose target depends on both: the folded model gives the same bytes, with at most one ONNX
// Runtime session per round.
TEST(FoldSweep, MixedGraphFoldsBitExactWithOneSessionPerRound) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 6, 6});
  auto sh = b.node("Shape", "shape", {x});
  auto hw = b.node("Slice", "slice_hw", {sh, b.ints("s2", {2}), b.ints("s4", {4})});
  auto hwf = b.node("Cast", "cast_hw", {hw}, {Attr::of("to", static_cast<int64_t>(TP::FLOAT))});
  auto ang = b.node("Mul", "angles", {hwf, b.scalar("k", 0.37f)});
  auto table = b.node("Sin", "sin_table", {ang});  // ONNX Runtime's kernel decides the bits
  auto table2 = b.node("Mul", "table_scaled", {table, b.scalar("k2", 3.f)});
  auto n = b.node("Gather", "gather_c", {sh, b.ints("i1", {1}, {})}, {Attr::of("axis", 0)});
  auto nu = b.node("Unsqueeze", "unsq_c", {n, b.ints("ax0", {0})});
  auto tgt = b.node("Concat", "tgt", {b.ints("one", {1}), nu, b.ints("m1", {-1})}, {Attr::of("axis", 0)});
  auto tokens = b.node("Reshape", "to_tokens", {x, tgt});
  auto t3 = b.node("Unsqueeze", "unsq_t", {table2, b.ints("ax01", {0, 1})});  // [1,1,2]
  auto tsum = b.node("ReduceSum", "table_sum", {t3});                          // [1,1,1]
  auto y = b.node("Mul", "mul_table", {tokens, tsum});
  b.output(y, {1, 4, 36});
  const auto model = b.build();

  onnx::ModelProto folded = model;
  fix_input_shapes(folded, {});
  auto fo = fold_static(folded);
  EXPECT_GT(fo.stats.folded_nodes, 8);
  EXPECT_GT(fo.stats.evaluated_directly, 0);
  EXPECT_GT(fo.stats.evaluated_by_ort, 0);  // Sin and what reads it
  EXPECT_LE(fo.stats.ort_sessions, fo.stats.rounds);
  EXPECT_EQ(folded.graph().node_size(), 2);  // the Reshape and the Mul remain
  const auto cases = make_verify_cases(model, {}, 2, {});
  const auto rep = verify_equivalent(model, folded, cases, 0.0);
  EXPECT_TRUE(rep.ok);
  for (const auto& w : rep.worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
}


// A chain of halvings, each Slice's end computed from the Shape of the previous Slice's output
// (as DEIMv2's decoder layers do): the sweep carries each Slice's shape forward itself, so the
// whole chain folds in one sweep (plus the one that finds nothing left), where it took one
// full shape inference per link before; the folded model gives the same bytes.
TEST(FoldSweep, ShapesCarriedForwardFoldAChainInOneSweep) {
  ModelBuilder b;
  auto cur = b.input("x", {1, 64});
  const int links = 4;
  for (int k = 0; k < links; ++k) {
    const std::string s = std::to_string(k);
    auto sh = b.node("Shape", "shape" + s, {cur});
    auto d = b.node("Gather", "dim" + s, {sh, b.ints("i1_" + s, {1}, {})}, {Attr::of("axis", 0)});
    auto df = b.node("Cast", "tofloat" + s, {d}, {Attr::of("to", static_cast<int64_t>(TP::FLOAT))});
    auto hf = b.node("Mul", "half" + s, {df, b.scalar("h" + s, 0.5f)});
    auto h = b.node("Cast", "toint" + s, {hf}, {Attr::of("to", static_cast<int64_t>(TP::INT64))});
    auto hu = b.node("Unsqueeze", "unsq" + s, {h, b.ints("ax" + s, {0})});
    auto sl = b.node("Slice", "slice" + s, {cur, b.ints("st" + s, {0}), hu, b.ints("axes" + s, {1})});
    cur = b.node("Relu", "relu" + s, {sl});
  }
  b.output(cur, {1, 4});
  const auto model = b.build();
  onnx::ModelProto folded = model;
  fix_input_shapes(folded, {});
  const auto fo = fold_static(folded);
  EXPECT_EQ(fo.stats.rounds, 2) << "one sweep folds the chain, one finds nothing more";
  EXPECT_EQ(folded.graph().node_size(), 2 * links);  // the Slices and Relus remain
  for (const auto& n : folded.graph().node()) EXPECT_TRUE(n.op_type() == "Slice" || n.op_type() == "Relu") << n.name();
  EXPECT_EQ(fo.shapes.at(folded.graph().output(0).name()).dims, (std::vector<int64_t>{1, 4}));
  const auto cases = make_verify_cases(model, {}, 1, {});
  const auto rep = verify_equivalent(model, folded, cases, 0.0);
  EXPECT_TRUE(rep.ok);
}

// A shape that node-by-node inference can only give in part after a round (a Reshape whose
// shape input is computed from a tensor ONNX Runtime folds at the end of that round) waits for
// the next round, where that input folds: no second full inference, and the shapes come out as
// a full inference of the folded model gives them.
TEST(FoldSweep, PartialShapeWaitsForTheNextRoundNotAFullInference) {
  ModelBuilder b;
  auto x = b.input("x", {1, 1});
  // NonZero is left to ONNX Runtime and its length is known only once it has run, after the sweep.
  auto r = b.node("NonZero", "nonzero", {b.ints("mask", {0, 3, 1, 0, 2, 5, 1, 0, 7})});
  auto z = b.node("Add", "z", {x, b.node("Cast", "rf", {r}, {Attr::of("to", static_cast<int64_t>(TP::FLOAT))})});
  // onnx's one-node data propagation knows Shape and Concat, not Div: the Reshape's shape input
  // has a value only once the sweep has folded it, a round later, while its data input's shape
  // changes (and so is re-inferred) in the first.
  auto half = b.node("Div", "half", {b.node("Shape", "shape_r", {r}, {Attr::of("start", 1)}), b.ints("two", {2})});
  auto shape = b.node("Concat", "shape", {b.ints("lead", {1}), half, b.ints("rest", {-1})}, {Attr::of("axis", 0)});
  const auto reshaped = b.node("Reshape", "reshape", {z, shape});
  b.output(b.node("Relu", "relu", {reshaped}), {1, 3, 2});
  const auto model = b.build();
  onnx::ModelProto folded = model;
  fix_input_shapes(folded, {});
  const auto fo = fold_static(folded);
  EXPECT_EQ(fo.stats.full_inferences, 1) << "only the first: the partial Reshape waited for round 2";
  EXPECT_EQ(fo.stats.rounds, 3);
  EXPECT_EQ(fo.stats.evaluated_by_ort, 2);  // NonZero and the Cast that reads it
  ASSERT_EQ(folded.graph().node_size(), 3);  // Add, Reshape and Relu; the Reshape's shape a constant now
  ASSERT_TRUE(fo.shapes.count(reshaped));
  EXPECT_EQ(fo.shapes.at(reshaped).dims, (std::vector<int64_t>{1, 3, 2}));
  onnx::ModelProto copy = folded;
  const ShapeMap full = infer_shapes(copy);
  for (const auto& node : folded.graph().node())
    for (const auto& o : node.output()) {
      ASSERT_TRUE(fo.shapes.count(o) && full.count(o)) << o;
      EXPECT_EQ(fo.shapes.at(o).dims, full.at(o).dims) << o;
    }
  const auto cases = make_verify_cases(model, {}, 1, {});
  EXPECT_TRUE(verify_equivalent(model, folded, cases, 0.0).ok);
}

// One node's inference is onnx's own: a Slice with known bounds, a Reshape with a -1, and what
// the sweep must not run itself (a Resize without constant scales of the right length waits for
// the isolated full inference).
TEST(NodeInference, RunsTheOpsOwnInferenceOnOneNode) {
  ModelBuilder b;
  b.node("Slice", "s", {"x", "st", "en", "ax"});
  b.node("Resize", "r", {"x", "", "scales"});
  const auto m = b.build();
  TensorInfo x{TP::FLOAT, {1, 8, 10}, true}, i1{TP::INT64, {1}, true};
  onnx::TensorProto st = tensor_proto_of(ints("st", {2})), en = tensor_proto_of(ints("en", {7})),
                    ax = tensor_proto_of(ints("ax", {2}));
  const auto out = infer_node(m.graph().node(0), {&x, &i1, &i1, &i1}, {nullptr, &st, &en, &ax}, 17);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (std::vector<int64_t>{1, 8, 5}));
  EXPECT_EQ(out[0].dtype, TP::FLOAT);
  // Without the bounds' values the shape stays open (rank only): the sweep then learns nothing.
  const auto open = infer_node(m.graph().node(0), {&x, &i1, &i1, &i1}, {nullptr, nullptr, nullptr, nullptr}, 17);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_FALSE(open[0].is_static());
  // Resize reads scales by the input's rank (onnx 1.12 overflowed on a short one): inferred here
  // only with constant scales of exactly that length.
  EXPECT_TRUE(node_inference_allowed(m.graph().node(1)));
  EXPECT_TRUE(infer_node(m.graph().node(1), {&x, nullptr, &i1}, {nullptr, nullptr, nullptr}, 17).empty())
      << "scales not constant";
  const onnx::TensorProto short_scales = tensor_proto_of(floats("scales", {2.f}, {1}));
  EXPECT_TRUE(infer_node(m.graph().node(1), {&x, nullptr, &i1}, {nullptr, nullptr, &short_scales}, 17).empty())
      << "one scale for a rank-3 input";
  const onnx::TensorProto scales = tensor_proto_of(floats("scales", {1.f, 1.f, 2.f}, {3}));
  TensorInfo s3{TP::FLOAT, {3}, true};
  const auto up = infer_node(m.graph().node(1), {&x, nullptr, &s3}, {nullptr, nullptr, &scales}, 17);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].dims, (std::vector<int64_t>{1, 8, 20}));
}

// The rewrite passes refresh shapes node by node: on a real export, every tensor's shape after
// the passes equals what a full ONNX shape inference of the rewritten model gives.
TEST(NodeInference, PassesRefreshEqualsFullInference) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  auto model = CompiledModel::compile(load_model(path), {}, "atto");
  const auto report = apply_passes(model, default_pass_names());
  int rewrites = 0;
  for (const auto& r : report.results) rewrites += r.rewrites;
  ASSERT_GT(rewrites, 0);
  onnx::ModelProto copy = model.proto();
  const ShapeMap full = infer_shapes(copy);
  int compared = 0;
  for (const auto& n : model.proto().graph().node())
    for (const auto& o : n.output()) {
      auto it = full.find(o);
      if (it == full.end() || !it->second.is_static()) continue;
      ASSERT_TRUE(model.shapes().count(o)) << o;
      EXPECT_EQ(model.shapes().at(o).dims, it->second.dims) << o;
      EXPECT_EQ(model.shapes().at(o).dtype, it->second.dtype) << o;
      ++compared;
    }
  EXPECT_GT(compared, 500);
}

}  // namespace
}  // namespace npusplit
