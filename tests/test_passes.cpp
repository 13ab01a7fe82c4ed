// Rewrite passes: every pass on small graphs built here -- where it applies (rewrite counts,
// op types, names derived from the original nodes, the names reported in PassResult.changes),
// what it must leave alone, and that ONNX Runtime gives the same numbers before and after
// (bit for bit for the exact passes) on a model that still passes the ONNX checker.
// Then apply_passes itself (order, names, fixed point), `fix` end to end and through the CLI,
// and the shared DEIMv2-S model (fix and split --fix).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "npusplit/app/analyze.h"
#include "npusplit/app/fix.h"
#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/passes/pass.h"
#include "npusplit/shapes/resolve.h"
#include "npusplit/verify/verify.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::temp_dir;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

using Ints = std::vector<int64_t>;

// ---------------------------------------------------------------- helpers

struct Applied {
  onnx::ModelProto before, after;  // BEFORE: input shapes fixed, otherwise as built
  FixReport report;

  const PassResult& result(const std::string& pass) const {
    for (const auto& r : report.results)
      if (r.pass == pass) return r;
    static const PassResult none;
    ADD_FAILURE() << "pass " << pass << " did not run";
    return none;
  }
  int rewrites(const std::string& pass) const { return result(pass).rewrites; }
};

Applied run_passes(const onnx::ModelProto& m, const std::vector<std::string>& passes) {
  Applied a;
  a.before = m;
  fix_input_shapes(a.before, {});
  a.after = a.before;
  a.report = apply_passes(a.after, passes);
  return a;
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int k = 0;
  for (const auto& n : m.graph().node()) k += n.op_type() == op;
  return k;
}

const onnx::NodeProto* node_named(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& n : m.graph().node())
    if (n.name() == name) return &n;
  return nullptr;
}

const onnx::TensorProto* init_named(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::set<std::string> node_names(const onnx::ModelProto& m) {
  std::set<std::string> s;
  for (const auto& n : m.graph().node()) s.insert(n.name());
  return s;
}

std::vector<std::string> befores(const PassResult& r) {
  std::vector<std::string> v;
  for (const auto& c : r.changes) v.push_back(c.before);
  return v;
}

std::string ops_of(const onnx::ModelProto& m) {
  std::string s;
  for (const auto& n : m.graph().node()) s += n.op_type() + "(" + n.name() + ") ";
  return s;
}

ShapeMap shapes_of(const onnx::ModelProto& m) {
  ResolveOptions ro;
  ro.fold = false;
  return resolve(m, ro).shapes;
}

std::vector<float> floats_of(const onnx::TensorProto& t) {
  auto d = tensor_to_double(t);
  return {d.begin(), d.end()};
}

// ONNX Runtime on two seeded random cases: every output within TOL (exactly equal when 0).
::testing::AssertionResult SameOutputs(const onnx::ModelProto& original, const onnx::ModelProto& rewritten,
                                       double tol = 0.0) {
  try {
    const auto cases = make_verify_cases(original, {}, 2, {});
    const auto r = verify_equivalent(original, rewritten, cases, tol);
    double worst = 0;
    std::string detail;
    for (const auto& w : r.worst) {
      worst = std::max(worst, w.max_abs_diff);
      detail += " " + w.name + ": diff " + std::to_string(w.max_abs_diff) + (w.shape_mismatch ? " (shape mismatch)" : "") +
                (w.nonfinite_mismatch ? " (NaN/Inf mismatch)" : "");
    }
    if (r.worst.empty()) return ::testing::AssertionFailure() << "no outputs compared";
    if (!r.ok || worst > tol || (tol == 0.0 && worst != 0.0))
      return ::testing::AssertionFailure() << "outputs differ (tolerance " << tol << "):" << detail;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "verify threw: " << e.what();
  }
}

::testing::AssertionResult Checks(const onnx::ModelProto& m) {
  try {
    check_model(m, "rewritten model");
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
}

// Exact passes: identical numbers and a valid model.
void expect_sound(const Applied& a, double tol = 0.0) {
  EXPECT_TRUE(SameOutputs(a.before, a.after, tol)) << ops_of(a.after);
  EXPECT_TRUE(Checks(a.after));
}

// Rule ids found on any node of M by `check` (hailo8).
std::multiset<std::string> findings_of(const onnx::ModelProto& m, std::map<std::string, std::set<std::string>>* by_node = nullptr) {
  AnalyzeOptions o;
  o.target = "hailo8";
  o.partition = false;
  auto a = analyze_proto(m, "test", o);
  std::multiset<std::string> ids;
  for (const auto& v : a.verdicts)
    for (const auto& f : v.findings) {
      ids.insert(f.rule_id);
      if (by_node) (*by_node)[v.name].insert(f.rule_id);
    }
  return ids;
}


// Adds If(max(x) > 0.5) whose then/else bodies (Relu/Neg) read TENSOR (of DIMS) from the outer scope
// without listing it as an input, and makes its result the graph output "if_out".
void add_if_reading(ModelBuilder& b, const std::string& x, const std::string& tensor, const Ints& dims) {
  auto mx = b.node("ReduceMax", "rmax_all", {x}, {Attr::of("keepdims", 0)});
  auto cond = b.node("Greater", "gt", {mx, b.scalar("half", 0.5f)});
  auto branch = [&](const std::string& name, const std::string& op) {
    onnx::GraphProto g;
    g.set_name(name);
    auto* n = g.add_node();
    n->set_op_type(op);
    n->set_name(name + "_node");
    n->add_input(tensor);
    n->add_output(name + "_y");
    auto* o = g.add_output();
    o->set_name(name + "_y");
    o->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
    for (auto d : dims) o->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
    return g;
  };
  auto* n = b.model().mutable_graph()->add_node();
  n->set_op_type("If");
  n->set_name("if");
  n->add_input(cond);
  n->add_output("if_out");
  for (const auto& [attr, op] : {std::pair<std::string, std::string>{"then_branch", "Relu"}, {"else_branch", "Neg"}}) {
    auto* a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = branch(attr, op);
  }
  b.output("if_out", dims);
}

// True when M fails the ONNX checker because a subgraph reads an outer tensor nothing writes.
bool dangling_outer_reference(const onnx::ModelProto& m, const std::string& tensor) {
  try {
    check_model(m, "m");
    return false;
  } catch (const Error& e) {
    return std::string(e.what()).find(tensor) != std::string::npos;
  }
}

// The harness itself: a one-ulp change and a shape change are both caught.
TEST(PassHarness, SameOutputsDetectsDifferences) {
  auto model = [](float s, Ints shape) {
    ModelBuilder b;
    auto x = b.input("x", {1, 4, 6});
    auto m = b.node("Mul", "mul", {x, b.scalar("s", s)});
    b.output(b.node("Reshape", "reshape", {m, b.ints("shape", shape)}));
    auto p = b.build();
    fix_input_shapes(p, {});
    return p;
  };
  const auto a = model(0.3f, {1, 24});
  EXPECT_TRUE(SameOutputs(a, model(0.3f, {1, 24})));
  EXPECT_FALSE(SameOutputs(a, model(std::nextafter(0.3f, 1.f), {1, 24})));
  EXPECT_TRUE(SameOutputs(a, model(std::nextafter(0.3f, 1.f), {1, 24}), 1e-5));
  EXPECT_FALSE(SameOutputs(a, model(0.3f, {24, 1}), 1.0));
}

// ---------------------------------------------------------------- fold-static

// images -> Reshape(images, Concat(Gather(Shape(images), [0]), [-1])) -> Relu.
onnx::ModelProto shape_chain_model() {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 8, 8});
  auto shape = b.node("Shape", "shape", {x});
  auto batch = b.node("Gather", "gather", {shape, b.ints("idx0", {0})}, {Attr::of("axis", 0)});
  auto target = b.node("Concat", "concat", {batch, b.ints("minus1", {-1})}, {Attr::of("axis", 0)});
  auto flat = b.node("Reshape", "reshape", {x, target});
  b.output(b.node("Relu", "relu", {flat}));
  return b.build();
}

TEST(PassFoldStatic, ShapeGatherConcatReshapeChainBecomesInitializer) {
  auto a = run_passes(shape_chain_model(), {"fold-static"});
  EXPECT_EQ(a.rewrites("fold-static"), 3);  // Shape, Gather, Concat
  EXPECT_EQ(count_op(a.after, "Shape"), 0);
  EXPECT_EQ(count_op(a.after, "Gather"), 0);
  EXPECT_EQ(count_op(a.after, "Concat"), 0);
  const auto* rs = node_named(a.after, "reshape");
  ASSERT_NE(rs, nullptr) << ops_of(a.after);
  const auto* shape = init_named(a.after, rs->input(1));
  ASSERT_NE(shape, nullptr) << "the Reshape target is not an initializer: " << rs->input(1);
  EXPECT_EQ(tensor_to_int64(*shape), (Ints{1, -1}));
  EXPECT_NE(node_named(a.after, "relu"), nullptr);
  ASSERT_EQ(a.result("fold-static").changes.size(), 3u);  // one per folded node, by name
  EXPECT_EQ(a.result("fold-static").changes[0].after, "(folded into an initializer)");
  expect_sound(a);
}

// A RoPE-like table: positions from Range(0, N) with N read from the input's shape, an
// inverse-frequency product, a ConstantOfShape zero offset, sin/cos of the angles. Only the
// three nodes that read x's values stay.
onnx::ModelProto rope_table_model() {
  ModelBuilder b;
  const int64_t H = 2, N = 6, D = 4;
  auto x = b.input("x", {1, H, N, D});
  auto shape = b.node("Shape", "shape", {x});
  auto n = b.node("Gather", "gather_n", {shape, b.ints("idx2", {2}, {})}, {Attr::of("axis", 0)});  // scalar N
  auto nf = b.node("Cast", "cast_n", {n}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto pos = b.node("Range", "range", {b.scalar("zero", 0.f), nf, b.scalar("one", 1.f)});  // [N]
  auto pos2 = b.node("Unsqueeze", "pos_col", {pos, b.ints("ax1", {1})});                   // [N,1]
  auto freqs = b.node("Mul", "freqs", {pos2, b.weight("inv_freq", {1, D / 2}, {1.f, 0.01f})});  // [N,D/2]
  auto n1 = b.node("Unsqueeze", "n_vec", {n, b.ints("ax0", {0})});
  auto zshape = b.node("Concat", "zero_shape", {n1, b.ints("half", {D / 2})}, {Attr::of("axis", 0)});
  auto zeros = b.node("ConstantOfShape", "zeros", {zshape});
  auto phase = b.node("Add", "phase", {freqs, zeros});
  auto emb = b.node("Concat", "emb", {phase, phase}, {Attr::of("axis", -1)});  // [N,D]
  auto sin = b.node("Sin", "sin", {emb});
  auto cos = b.node("Cos", "cos", {emb});
  auto a = b.node("Mul", "mul_cos", {x, cos});
  auto c = b.node("Mul", "mul_sin", {x, sin});
  b.output(b.node("Add", "rope_add", {a, c}));
  return b.build();
}

TEST(PassFoldStatic, RopeTablesFromRangeAndConstantOfShapeBecomeInitializers) {
  auto a = run_passes(rope_table_model(), {"fold-static"});
  const int folded = a.before.graph().node_size() - a.after.graph().node_size();
  EXPECT_EQ(folded, a.before.graph().node_size() - 3);
  EXPECT_EQ(a.rewrites("fold-static"), folded);
  for (const char* op : {"Shape", "Gather", "Cast", "Range", "Unsqueeze", "ConstantOfShape", "Concat", "Sin", "Cos"})
    EXPECT_EQ(count_op(a.after, op), 0) << op;
  // What reads the input's values is not folded.
  EXPECT_EQ(node_names(a.after), (std::set<std::string>{"mul_cos", "mul_sin", "rope_add"}));
  const auto* mc = node_named(a.after, "mul_cos");
  const auto* ms = node_named(a.after, "mul_sin");
  ASSERT_TRUE(mc && ms);
  const auto* cos = init_named(a.after, mc->input(1));
  const auto* sin = init_named(a.after, ms->input(1));
  ASSERT_TRUE(cos && sin);
  EXPECT_EQ(tensor_info_of(*sin).dims, (Ints{6, 4}));
  const auto sv = floats_of(*sin);
  EXPECT_NEAR(sv[4 * 5 + 0], std::sin(5.0), 1e-6);  // row 5: angles 5*1, 5*0.01, 5*1, 5*0.01
  expect_sound(a);
}

TEST(PassFoldStatic, LeavesDataDependentGraphsAlone) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 6});
  auto r = b.node("Relu", "relu", {x});
  auto m = b.node("ReduceMax", "rmax", {r}, {Attr::of("axes", Ints{2}), Attr::of("keepdims", 1)});
  b.output(b.node("Sub", "sub", {r, m}));
  auto a = run_passes(b.build(), {"fold-static"});
  EXPECT_EQ(a.rewrites("fold-static"), 0);
  EXPECT_TRUE(a.result("fold-static").changes.empty());
  EXPECT_EQ(node_names(a.after), (std::set<std::string>{"relu", "rmax", "sub"}));
  expect_sound(a);
}

TEST(PassFoldStatic, ChangesNameTheFoldedNodes) {
  auto a = run_passes(shape_chain_model(), {"fold-static"});
  std::string all;
  for (const auto& c : a.result("fold-static").changes) all += c.before + ";";
  // Regression: fold-static once reported PassChange{"<N> nodes", "initializers"}.
  EXPECT_NE(all, "3 nodes;") << "fold-static reports PassChange{\"<N> nodes\", \"initializers\"} instead of the folded "
                    "node names (pass.h: before = \"node name(s) matched\"); FoldStatic::run collects the names "
                    "in a local `before` vector and never uses them";
  for (const char* n : {"shape", "gather", "concat"}) EXPECT_NE(all.find(n), std::string::npos) << all;
}

// ---------------------------------------------------------------- drop-noop-cast

TEST(PassDropNoopCast, FloatToFloatRemovedFloatToInt64Kept) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto c1 = b.node("Cast", "cast_same", {x}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto c2 = b.node("Cast", "cast_same2", {c1}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto r = b.node("Relu", "relu", {c2});
  auto s = b.node("Mul", "scale", {x, b.scalar("ten", 10.f)});
  auto ci = b.node("Cast", "cast_int", {s}, {Attr::of("to", static_cast<int64_t>(kInt64))});
  auto cf = b.node("Cast", "cast_back", {ci}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  b.output(b.node("Add", "add", {r, cf}));
  auto a = run_passes(b.build(), {"drop-noop-cast"});
  EXPECT_EQ(a.rewrites("drop-noop-cast"), 2);
  EXPECT_EQ(befores(a.result("drop-noop-cast")), (std::vector<std::string>{"cast_same", "cast_same2"}));
  for (const auto& c : a.result("drop-noop-cast").changes) EXPECT_EQ(c.after, "(removed)");
  EXPECT_EQ(node_named(a.after, "cast_same"), nullptr);
  EXPECT_EQ(node_named(a.after, "cast_same2"), nullptr);
  ASSERT_NE(node_named(a.after, "relu"), nullptr);
  EXPECT_EQ(node_named(a.after, "relu")->input(0), "x");
  EXPECT_NE(node_named(a.after, "cast_int"), nullptr);
  EXPECT_NE(node_named(a.after, "cast_back"), nullptr);
  EXPECT_EQ(count_op(a.after, "Cast"), 2);
  expect_sound(a);
}

TEST(PassDropNoopCast, CastWritingAGraphOutputIsKept) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  b.output(b.node("Cast", "cast_out", {b.node("Relu", "relu", {x})}, {Attr::of("to", static_cast<int64_t>(kFloat))}));
  auto a = run_passes(b.build(), {"drop-noop-cast"});
  EXPECT_EQ(a.rewrites("drop-noop-cast"), 0);
  EXPECT_NE(node_named(a.after, "cast_out"), nullptr);
  expect_sound(a);
}

TEST(PassDropNoopCast, CastReadInsideAnIfBodyKeepsTheModelValid) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto c = b.node("Cast", "cast_same", {x}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  add_if_reading(b, x, c, {1, 4, 8});
  const auto m = b.build();
  ASSERT_TRUE(Checks(m));
  auto a = run_passes(m, {"drop-noop-cast"});
  ASSERT_FALSE(dangling_outer_reference(a.after, c))
      << "drop-noop-cast removes a Cast whose output an If/Loop/Scan body reads from the outer "
                    "scope; it rewires only the top-level node inputs, so the body still reads '"
                 << c << "', which nothing writes any more (ONNX checker and ONNX Runtime reject the model). "
                    "It should skip such Casts (Graph::implicit_inputs) or rename inside the bodies too.";
  expect_sound(a);
}

// ---------------------------------------------------------------- reduce-keepdims

TEST(PassReduceKeepdims, LastAxisOfTokensKeepdimsPlusReshape) {
  ModelBuilder b;
  auto x = b.input("x", {1, 5, 6});
  b.output(b.node("ReduceMax", "rmax", {x}, {Attr::of("axes", Ints{2}), Attr::of("keepdims", 0)}));
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 1);
  EXPECT_EQ(befores(a.result("reduce-keepdims")), (std::vector<std::string>{"rmax"}));
  EXPECT_EQ(count_op(a.after, "Transpose"), 0);
  ASSERT_EQ(count_op(a.after, "ReduceMax"), 1);
  for (const auto& n : a.after.graph().node())
    if (n.op_type() == "ReduceMax") {
      EXPECT_EQ(n.name().rfind("rmax/", 0), 0u) << n.name();
      EXPECT_EQ(attr_int(n, "keepdims", 1), 1);
      EXPECT_EQ(attr_ints(n, "axes"), Ints{2});
    }
  const auto* sq = node_named(a.after, "rmax/squeeze");
  ASSERT_NE(sq, nullptr) << ops_of(a.after);
  EXPECT_EQ(sq->op_type(), "Reshape");
  EXPECT_EQ(sq->output(0), "rmax_out");  // the output keeps its name
  EXPECT_NE(a.result("reduce-keepdims").changes[0].after.find("rmax/squeeze"), std::string::npos);
  const auto shapes = shapes_of(a.after);
  EXPECT_EQ(shapes.at("rmax_out").dims, (Ints{1, 5}));
  expect_sound(a);
}

TEST(PassReduceKeepdims, ChangesNameTheWrittenReduceNode) {
  ModelBuilder b;
  auto x = b.input("x", {1, 5, 6});
  b.output(b.node("ReduceMax", "rmax", {x}, {Attr::of("axes", Ints{2}), Attr::of("keepdims", 0)}));
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  ASSERT_FALSE(!node_named(a.after, "rmax/keepdims") && node_named(a.after, "rmax/keepdims_1"))
      << "reduce-keepdims names the new reduce node twice: red.set_name(ed.fresh(\"rmax/keepdims\")) "
                    "reserves the name, then ed.add(op, red.name(), ...) calls fresh() again, so the node is "
                    "'rmax/keepdims_1' (or 'X/on_feature_1') while PassResult.changes says '"
                 << a.result("reduce-keepdims").changes[0].after << "'";
  ASSERT_EQ(a.result("reduce-keepdims").changes.size(), 1u);
  EXPECT_EQ(a.result("reduce-keepdims").changes[0].after, "rmax/keepdims + rmax/squeeze");
  ASSERT_NE(node_named(a.after, "rmax/keepdims"), nullptr) << ops_of(a.after);
  EXPECT_EQ(node_named(a.after, "rmax/keepdims")->op_type(), "ReduceMax");
}

TEST(PassReduceKeepdims, OutputFeedingShapeSensitiveOpsStillRight) {
  // The [1,8] results feed a Reshape (whose target assumes rank 2), a Concat on axis 1 and a
  // TopK on the last axis: all see exactly the same tensors after the rewrite.
  ModelBuilder b;
  auto x = b.input("x", {1, 8, 6});
  auto mx = b.node("ReduceMax", "rmax", {x}, {Attr::of("axes", Ints{-1}), Attr::of("keepdims", 0)});
  auto mn = b.node("ReduceMin", "rmin", {x}, {Attr::of("axes", Ints{2}), Attr::of("keepdims", 0)});
  b.output(b.node("Reshape", "reshape", {mx, b.ints("shape24", {1, 2, 4})}));
  auto cat = b.node("Concat", "concat", {mx, mn}, {Attr::of("axis", 1)});  // [1,16]
  auto tk = b.node_n("TopK", "topk", {cat, b.ints("k", {3})}, 2, {Attr::of("axis", -1)});
  b.output(tk[0]);
  b.output(tk[1], {}, kInt64);
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 2);
  EXPECT_EQ(befores(a.result("reduce-keepdims")), (std::vector<std::string>{"rmax", "rmin"}));
  for (const auto& n : a.after.graph().node())
    if (n.op_type().rfind("Reduce", 0) == 0) {
      EXPECT_EQ(attr_int(n, "keepdims", 1), 1) << n.name();
    }
  const auto sb = shapes_of(a.before), sa = shapes_of(a.after);
  for (const char* t : {"rmax_out", "rmin_out", "reshape_out", "concat_out", "topk_out0", "topk_out1"})
    EXPECT_EQ(sa.at(t).dims, sb.at(t).dims) << t;
  EXPECT_EQ(sa.at("concat_out").dims, (Ints{1, 16}));
  expect_sound(a);
}

TEST(PassReduceKeepdims, MaxOverNonFeatureAxisOfRank4GetsTransposePair) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 5, 6});
  b.output(b.node("ReduceMax", "rmax_h", {x}, {Attr::of("axes", Ints{2}), Attr::of("keepdims", 1)}));  // [1,4,1,6]
  b.output(b.node("ReduceMax", "rmax_w", {x}, {Attr::of("axes", Ints{-1}), Attr::of("keepdims", 0)}));  // [1,4,5]
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 2);
  EXPECT_EQ(befores(a.result("reduce-keepdims")), (std::vector<std::string>{"rmax_h", "rmax_w"}));
  EXPECT_EQ(count_op(a.after, "Transpose"), 4);
  for (const std::string base : {"rmax_h", "rmax_w"}) {
    const auto* to = node_named(a.after, base + "/to_feature");
    const auto* from = node_named(a.after, base + "/from_feature");
    ASSERT_TRUE(to && from) << ops_of(a.after);
    EXPECT_EQ(to->op_type(), "Transpose");
    EXPECT_EQ(from->op_type(), "Transpose");
    EXPECT_EQ(attr_ints(*to, "perm"), attr_ints(*from, "perm"));  // a swap is its own inverse
    EXPECT_NE(node_named(a.after, base + "/squeeze"), nullptr);
  }
  EXPECT_EQ(attr_ints(*node_named(a.after, "rmax_h/to_feature"), "perm"), (Ints{0, 2, 1, 3}));
  EXPECT_EQ(attr_ints(*node_named(a.after, "rmax_w/to_feature"), "perm"), (Ints{0, 3, 2, 1}));
  for (const auto& n : a.after.graph().node())
    if (n.op_type() == "ReduceMax") {
      EXPECT_EQ(attr_ints(n, "axes"), Ints{1}) << n.name();  // now on the feature axis
      EXPECT_EQ(attr_int(n, "keepdims", 0), 1) << n.name();
    }
  // Rerunning finds nothing more: the rewritten reductions are in the accepted form.
  auto again = run_passes(a.after, {"reduce-keepdims"});
  EXPECT_EQ(again.rewrites("reduce-keepdims"), 0);
  const auto s = shapes_of(a.after);
  EXPECT_EQ(s.at("rmax_h_out").dims, (Ints{1, 4, 1, 6}));
  EXPECT_EQ(s.at("rmax_w_out").dims, (Ints{1, 4, 5}));
  expect_sound(a);
}

TEST(PassReduceKeepdims, SumOverNonFeatureAxisOnlyGetsKeepdims) {
  // A sum is not moved onto the feature axis (a different order could round differently);
  // only keepdims=0 is rewritten, and a keepdims=1 sum is not touched at all.
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 5, 6});
  b.output(b.node("ReduceSum", "rsum", {x, b.ints("axes_h", {2})}, {Attr::of("keepdims", 0)}));
  b.output(b.node("ReduceSum", "rsum_keep", {x, b.ints("axes_w", {3})}, {Attr::of("keepdims", 1)}));
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 1);
  EXPECT_EQ(befores(a.result("reduce-keepdims")), (std::vector<std::string>{"rsum"}));
  EXPECT_EQ(count_op(a.after, "Transpose"), 0);
  EXPECT_NE(node_named(a.after, "rsum_keep"), nullptr);
  EXPECT_NE(node_named(a.after, "rsum/squeeze"), nullptr);
  for (const auto& n : a.after.graph().node())
    if (n.op_type() == "ReduceSum") {
      EXPECT_EQ(attr_int(n, "keepdims", 0), 1) << n.name();
      const auto* ax = init_named(a.after, n.input(1));
      ASSERT_NE(ax, nullptr);
      EXPECT_EQ(tensor_to_int64(*ax), n.name() == "rsum_keep" ? Ints{3} : Ints{2}) << n.name();
    }
  EXPECT_EQ(shapes_of(a.after).at("rsum_out").dims, (Ints{1, 4, 6}));
  expect_sound(a);
}

TEST(PassReduceKeepdims, KeepdimsOneOnFeatureAxisUntouched) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 5, 6});
  auto t = b.input("t", {1, 5, 6});
  b.output(b.node("ReduceMax", "rmax_c", {x}, {Attr::of("axes", Ints{1}), Attr::of("keepdims", 1)}));
  b.output(b.node("ReduceMax", "rmax_tok", {t}, {Attr::of("axes", Ints{-1}), Attr::of("keepdims", 1)}));
  b.output(b.node("ArgMax", "amax_tok", {t}, {Attr::of("axis", 2), Attr::of("keepdims", 1)}), {}, kInt64);
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 0);
  EXPECT_EQ(node_names(a.after), (std::set<std::string>{"rmax_c", "rmax_tok", "amax_tok"}));
  EXPECT_EQ(a.after.graph().node_size(), 3);
  expect_sound(a);
}

TEST(PassReduceKeepdims, ArgMaxKeepdimsZero) {
  ModelBuilder b;
  auto t = b.input("t", {1, 5, 6});
  auto x = b.input("x", {1, 4, 5, 6});
  b.output(b.node("ArgMax", "amax", {t}, {Attr::of("axis", -1), Attr::of("keepdims", 0)}), {}, kInt64);   // [1,5]
  b.output(b.node("ArgMax", "amax_h", {x}, {Attr::of("axis", 2), Attr::of("keepdims", 0)}), {}, kInt64);  // [1,4,6]
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 2);
  EXPECT_EQ(befores(a.result("reduce-keepdims")), (std::vector<std::string>{"amax", "amax_h"}));
  for (const auto& n : a.after.graph().node())
    if (n.op_type() == "ArgMax") {
      EXPECT_EQ(attr_int(n, "keepdims", 0), 1) << n.name();
      EXPECT_EQ(attr_int(n, "axis", -9), n.name().rfind("amax_h/", 0) == 0 ? 1 : 2) << n.name();
    }
  EXPECT_NE(node_named(a.after, "amax/squeeze"), nullptr);
  EXPECT_NE(node_named(a.after, "amax_h/to_feature"), nullptr);
  EXPECT_NE(node_named(a.after, "amax_h/from_feature"), nullptr);
  const auto s = shapes_of(a.after);
  EXPECT_EQ(s.at("amax_out").dims, (Ints{1, 5}));
  EXPECT_EQ(s.at("amax_out").dtype, kInt64);
  EXPECT_EQ(s.at("amax_h_out").dims, (Ints{1, 4, 6}));
  expect_sound(a);
}

TEST(PassReduceKeepdims, ReduceOverAllOrSeveralAxes) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 6});
  b.output(b.node("ReduceMax", "rall", {x}, {Attr::of("keepdims", 0)}));  // -> scalar
  b.output(b.node("ReduceMean", "rmean", {x}, {Attr::of("axes", Ints{1, 2}), Attr::of("keepdims", 0)}));  // -> [1]
  auto a = run_passes(b.build(), {"reduce-keepdims"});
  EXPECT_EQ(a.rewrites("reduce-keepdims"), 2);
  EXPECT_EQ(count_op(a.after, "Transpose"), 0);  // several axes: nothing to move
  const auto s = shapes_of(a.after);
  EXPECT_EQ(s.at("rall_out").dims, Ints{});
  EXPECT_EQ(s.at("rmean_out").dims, Ints{1});
  expect_sound(a);
}

// ---------------------------------------------------------------- batch-one

TEST(PassBatchOne, RemovesIdentityTileExpandConcatSlice) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 4});
  auto tile = b.node("Tile", "tile", {x, b.ints("reps1", {1, 1, 1, 1})});
  auto expand = b.node("Expand", "expand", {x, b.ints("same_shape", {1, 3, 4, 4})});
  auto cat = b.node("Concat", "concat1", {x}, {Attr::of("axis", 0)});
  auto sl = b.node("Slice", "slice_all", {x, b.ints("s0", {0}), b.ints("e_big", {kInt64Max}), b.ints("ax1", {1})});
  auto s1 = b.node("Add", "add1", {b.node("Relu", "relu_t", {tile}), expand});
  auto s2 = b.node("Add", "add2", {s1, cat});
  b.output(b.node("Mul", "mul", {s2, sl}));
  auto a = run_passes(b.build(), {"batch-one"});
  EXPECT_EQ(a.rewrites("batch-one"), 4);
  EXPECT_EQ(befores(a.result("batch-one")), (std::vector<std::string>{"tile", "expand", "concat1", "slice_all"}));
  EXPECT_EQ(a.result("batch-one").changes[0].after, "tile/batch_one (Identity)");
  for (const char* op : {"Tile", "Expand", "Concat", "Slice", "Identity"}) EXPECT_EQ(count_op(a.after, op), 0) << op;
  EXPECT_EQ(node_named(a.after, "relu_t")->input(0), "x");
  EXPECT_EQ(node_named(a.after, "add1")->input(1), "x");
  expect_sound(a);
}

TEST(PassBatchOne, GatherOfBatchZeroBecomesReshape) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4});
  auto g = b.node("Gather", "gather0", {x, b.ints("zero", {0}, {})}, {Attr::of("axis", 0)});  // [3,4]
  b.output(b.node("MatMul", "mm", {g, b.random_weight("w", {4, 2})}));
  auto a = run_passes(b.build(), {"batch-one"});
  EXPECT_EQ(a.rewrites("batch-one"), 1);
  ASSERT_EQ(a.result("batch-one").changes.size(), 1u);
  EXPECT_EQ(a.result("batch-one").changes[0].before, "gather0");
  EXPECT_EQ(a.result("batch-one").changes[0].after, "gather0/batch_one (Reshape)");
  EXPECT_EQ(count_op(a.after, "Gather"), 0);
  const auto* rs = node_named(a.after, "gather0/batch_one");
  ASSERT_NE(rs, nullptr) << ops_of(a.after);
  EXPECT_EQ(rs->op_type(), "Reshape");
  EXPECT_EQ(rs->output(0), "gather0_out");
  ASSERT_NE(init_named(a.after, rs->input(1)), nullptr);
  EXPECT_EQ(tensor_to_int64(*init_named(a.after, rs->input(1))), (Ints{3, 4}));
  expect_sound(a);
}

TEST(PassBatchOne, LeavesRealBatchOpsAndReversingSliceAlone) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 4});
  auto y = b.input("y", {2, 4, 4});
  auto z = b.input("z", {1, 3, 4, 4});
  b.output(b.node("Tile", "tile_batch", {x, b.ints("reps2", {2, 1, 1})}));     // repeats the batch of 1
  b.output(b.node("Tile", "tile_b2", {y, b.ints("reps2b", {2, 1, 1})}));       // batch 2 input
  b.output(b.node("Tile", "tile_b2_ones", {y, b.ints("reps1", {1, 1, 1})}));   // batch 2: not batch-one's business
  b.output(b.node("Gather", "gather_b2", {y, b.ints("zero", {0}, {})}, {Attr::of("axis", 0)}));
  b.output(b.node("Slice", "reverse_w", {z, b.ints("s", {-1}), b.ints("e", {kInt64Min}), b.ints("ax", {3}),
                                         b.ints("st", {-1})}));  // same shape, reversed data
  b.output(b.node("Gather", "gather_c1", {z, b.ints("one", {1}, {})}, {Attr::of("axis", 1)}));  // not the batch axis
  auto a = run_passes(b.build(), {"batch-one"});
  EXPECT_EQ(a.rewrites("batch-one"), 0) << ops_of(a.after);
  EXPECT_EQ(node_names(a.after), node_names(a.before));
  EXPECT_EQ(count_op(a.after, "Reshape"), 0);
  expect_sound(a);
}

TEST(PassBatchOne, IdentityReadInsideAnIfBodyKeepsTheModelValid) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto t = b.node("Tile", "tile", {x, b.ints("reps1", {1, 1, 1})});
  add_if_reading(b, x, t, {1, 4, 8});
  const auto m = b.build();
  ASSERT_TRUE(Checks(m));
  auto a = run_passes(m, {"batch-one"});
  EXPECT_EQ(a.rewrites("batch-one"), 1);
  ASSERT_FALSE(dangling_outer_reference(a.after, t))
      << "batch-one's remove_identities() bypasses the Identity that replaced '" << t
                 << "' by rewiring top-level node inputs only; an If/Loop/Scan body that reads '" << t
                 << "' from the outer scope is left dangling (ONNX checker and ONNX Runtime reject the model). "
                    "It should keep Identities whose output a subgraph reads (Graph::implicit_inputs).";
  expect_sound(a);
}

// ---------------------------------------------------------------- rank5-to-rank4

constexpr int64_t kTok = 6, kHeads = 2, kHd = 4, kEmb = kHeads * kHd;

// x [1,N,E] -> qkv MatMul [1,N,3E] -> Reshape [1,N,3,H,D] -> form A: Transpose [2,0,3,1,4],
// Split(axis 0), Squeeze(0) -> q/k/v [1,H,N,D]; form B: Split(axis 2), Squeeze(2) -> [1,N,H,D]
// then per-part head Transposes. -> softmax(q k^T) v -> [1,N,E].
onnx::ModelProto qkv_attention(bool form_a) {
  ModelBuilder b;
  auto x = b.input("x", {1, kTok, kEmb});
  auto qkv = b.node("MatMul", "attn/qkv", {x, b.random_weight("qkv_w", {kEmb, 3 * kEmb}, 0.5f)});
  auto r5 = b.node("Reshape", "attn/Reshape", {qkv, b.ints("qkv_shape", {1, kTok, 3, kHeads, kHd})});
  std::vector<std::string> parts;
  std::string axes;
  if (form_a) {
    auto t = b.node("Transpose", "attn/Transpose", {r5}, {Attr::of("perm", Ints{2, 0, 3, 1, 4})});
    parts = b.node_n("Split", "attn/Split", {t}, 3, {Attr::of("axis", 0)});
    axes = b.ints("sq_axes", {0});
  } else {
    parts = b.node_n("Split", "attn/Split", {r5}, 3, {Attr::of("axis", 2)});
    axes = b.ints("sq_axes", {2});
  }
  std::vector<std::string> qkv3;
  const char* names[] = {"attn/Squeeze_q", "attn/Squeeze_k", "attn/Squeeze_v"};
  for (int k = 0; k < 3; ++k) {
    auto s = b.node("Squeeze", names[k], {parts[k], axes});
    if (!form_a) s = b.node("Transpose", std::string(names[k]) + "_heads", {s}, {Attr::of("perm", Ints{0, 2, 1, 3})});
    qkv3.push_back(s);
  }
  auto kt = b.node("Transpose", "attn/k_t", {qkv3[1]}, {Attr::of("perm", Ints{0, 1, 3, 2})});
  auto scores = b.node("MatMul", "attn/scores", {qkv3[0], kt});
  auto probs = b.node("Softmax", "attn/softmax", {scores}, {Attr::of("axis", -1)});
  auto ctx = b.node("MatMul", "attn/context", {probs, qkv3[2]});
  auto ct = b.node("Transpose", "attn/ctx_t", {ctx}, {Attr::of("perm", Ints{0, 2, 1, 3})});
  b.output(b.node("Reshape", "attn/merge", {ct, b.ints("merge_shape", {1, kTok, kEmb})}));
  return b.build();
}

void expect_no_rank5(const Applied& a) {
  for (const auto& [name, info] : shapes_of(a.after)) EXPECT_LE(info.rank(), 4) << name << " " << shape_str(info);
  auto ids_before = findings_of(a.before);
  auto ids_after = findings_of(a.after);
  EXPECT_GT(ids_before.count("rank"), 0u) << "the test graph should trip the rank rule before the pass";
  EXPECT_EQ(ids_after.count("rank"), 0u);
}

TEST(PassRank5ToRank4, FormATransposeSplitSqueeze) {
  auto a = run_passes(qkv_attention(true), {"rank5-to-rank4"});
  EXPECT_EQ(a.rewrites("rank5-to-rank4"), 1);
  ASSERT_EQ(a.result("rank5-to-rank4").changes.size(), 1u);
  EXPECT_EQ(a.result("rank5-to-rank4").changes[0].before, "attn/Reshape + attn/Transpose + attn/Split");
  EXPECT_EQ(a.result("rank5-to-rank4").changes[0].after, "attn/Split/slice0, attn/Split/slice1, attn/Split/slice2");
  EXPECT_EQ(count_op(a.after, "Split"), 0);
  EXPECT_EQ(count_op(a.after, "Squeeze"), 0);
  EXPECT_EQ(node_named(a.after, "attn/Reshape"), nullptr);
  EXPECT_EQ(node_named(a.after, "attn/Transpose"), nullptr);
  for (int k = 0; k < 3; ++k) {
    const auto* sl = node_named(a.after, "attn/Split/slice" + std::to_string(k));
    ASSERT_NE(sl, nullptr) << ops_of(a.after);
    EXPECT_EQ(sl->op_type(), "Slice");
    EXPECT_EQ(sl->input(0), "attn/qkv_out");  // the rank-3 qkv tensor
    EXPECT_EQ(tensor_to_int64(*init_named(a.after, sl->input(1))), Ints{k * kEmb});
    const auto* heads = node_named(a.after, "attn/Split/heads" + std::to_string(k));
    ASSERT_NE(heads, nullptr);
    EXPECT_EQ(heads->op_type(), "Reshape");
  }
  // The Squeezes' names now belong to the head Transposes writing q, k, v.
  for (const char* n : {"attn/Squeeze_q", "attn/Squeeze_k", "attn/Squeeze_v"}) {
    const auto* t = node_named(a.after, n);
    ASSERT_NE(t, nullptr) << n;
    EXPECT_EQ(t->op_type(), "Transpose");
    EXPECT_EQ(attr_ints(*t, "perm"), (Ints{0, 2, 1, 3}));
  }
  expect_no_rank5(a);
  expect_sound(a);
}

TEST(PassRank5ToRank4, FormBSplitOnAxis2Squeeze) {
  auto a = run_passes(qkv_attention(false), {"rank5-to-rank4"});
  EXPECT_EQ(a.rewrites("rank5-to-rank4"), 1);
  ASSERT_EQ(a.result("rank5-to-rank4").changes.size(), 1u);
  EXPECT_EQ(a.result("rank5-to-rank4").changes[0].before, "attn/Reshape + attn/Split");
  EXPECT_EQ(count_op(a.after, "Split"), 0);
  EXPECT_EQ(count_op(a.after, "Squeeze"), 0);
  EXPECT_EQ(count_op(a.after, "Slice"), 3);
  for (const char* n : {"attn/Squeeze_q", "attn/Squeeze_k", "attn/Squeeze_v"}) {
    const auto* r = node_named(a.after, n);
    ASSERT_NE(r, nullptr) << n;
    EXPECT_EQ(r->op_type(), "Reshape");
    EXPECT_EQ(tensor_to_int64(*init_named(a.after, r->input(1))), (Ints{1, kTok, kHeads, kHd}));
  }
  expect_no_rank5(a);
  expect_sound(a);
}

TEST(PassRank5ToRank4, LeavesOther5DReshapesAlone) {
  ModelBuilder b;
  auto x = b.input("x", {1, kTok, 3 * kEmb});
  auto r5 = b.node("Reshape", "r5", {x, b.ints("s5", {1, kTok, 3, kHeads, kHd})});
  auto t5 = b.node("Transpose", "t5", {r5}, {Attr::of("perm", Ints{0, 2, 1, 3, 4})});
  auto parts = b.node_n("Split", "split5", {t5}, 3, {Attr::of("axis", 1)});  // not the qkv pattern
  auto a0 = b.node("Add", "add01", {parts[0], parts[1]});
  auto a1 = b.node("Add", "add012", {a0, parts[2]});
  b.output(b.node("Reshape", "r3", {a1, b.ints("s3", {1, kTok, kEmb})}));
  auto a = run_passes(b.build(), {"rank5-to-rank4"});
  EXPECT_EQ(a.rewrites("rank5-to-rank4"), 0);
  EXPECT_EQ(node_names(a.after), node_names(a.before));
  expect_sound(a);
}

// ---------------------------------------------------------------- rope-masked

constexpr int64_t kRH = 2, kRN = 4, kRD = 8;

struct RopeGraph {
  ModelBuilder b;
  std::string x, rot;
};

// x [1,H,N,D]; rot = Concat(Neg(x[..., FIRST_NEG ? :D/2 : D/2:]), x[..., other half]).
RopeGraph rotate_half(bool wrong_halves = false) {
  RopeGraph g;
  auto& b = g.b;
  g.x = b.input("x", {1, kRH, kRN, kRD});
  auto lo = b.node("Slice", "slice_lo", {g.x, b.ints("lo_s", {0}), b.ints("lo_e", {kRD / 2}), b.ints("lo_a", {-1})});
  auto hi = b.node("Slice", "slice_hi", {g.x, b.ints("hi_s", {kRD / 2}), b.ints("hi_e", {kInt64Max}), b.ints("hi_a", {3})});
  auto neg = b.node("Neg", "neg", {wrong_halves ? lo : hi});
  g.rot = b.node("Concat", "rotate_half", {neg, wrong_halves ? hi : lo}, {Attr::of("axis", -1)});
  return g;
}

std::vector<float> table(float phase) {
  std::vector<float> v;
  for (int64_t n = 0; n < kRN; ++n)
    for (int64_t d = 0; d < kRD; ++d) v.push_back(std::sin(phase + 0.37f * n + 0.11f * d));
  return v;
}

TEST(PassRopeMasked, SignFoldedIntoFollowingSinTable) {
  auto g = rotate_half();
  auto& b = g.b;
  auto sin = b.weight("sin_table", {1, 1, kRN, kRD}, table(0.f));
  auto cos = b.weight("cos_table", {1, 1, kRN, kRD}, table(1.f));
  auto ms = b.node("Mul", "mul_sin", {g.rot, sin});
  auto mc = b.node("Mul", "mul_cos", {g.x, cos});
  b.output(b.node("Add", "rope_add", {mc, ms}));
  auto a = run_passes(b.build(), {"rope-masked"});
  EXPECT_EQ(a.rewrites("rope-masked"), 1);
  ASSERT_EQ(a.result("rope-masked").changes.size(), 1u);
  EXPECT_EQ(a.result("rope-masked").changes[0].before, "neg + rotate_half");
  EXPECT_EQ(a.result("rope-masked").changes[0].after, "rotate_half/swap_halves (sign folded into the sin table)");
  EXPECT_EQ(count_op(a.after, "Neg"), 0);
  EXPECT_EQ(count_op(a.after, "Mul"), 2);  // mul_sin and mul_cos: no sign Mul added
  const auto* sw = node_named(a.after, "rotate_half/swap_halves");
  ASSERT_NE(sw, nullptr) << ops_of(a.after);
  EXPECT_EQ(sw->op_type(), "Concat");
  EXPECT_EQ(sw->input(0), "slice_hi_out");
  EXPECT_EQ(sw->input(1), "slice_lo_out");
  const auto* ms2 = node_named(a.after, "mul_sin");
  ASSERT_NE(ms2, nullptr);
  const onnx::TensorProto* signed_t = nullptr;
  for (const auto& in : ms2->input())
    if (init_named(a.after, in)) signed_t = init_named(a.after, in);
  ASSERT_NE(signed_t, nullptr);
  EXPECT_EQ(signed_t->name(), "sin_table/signed");
  const auto sv = floats_of(*signed_t), orig = table(0.f);
  ASSERT_EQ(sv.size(), orig.size());
  for (size_t e = 0; e < sv.size(); ++e) EXPECT_EQ(sv[e], (e % kRD < kRD / 2 ? -1.f : 1.f) * orig[e]) << e;
  expect_sound(a);
}

TEST(PassRopeMasked, WithoutConstantMulAddsSignMul) {
  auto g = rotate_half();
  auto& b = g.b;
  b.output(b.node("Add", "add", {g.rot, g.x}));
  auto a = run_passes(b.build(), {"rope-masked"});
  EXPECT_EQ(a.rewrites("rope-masked"), 1);
  ASSERT_EQ(a.result("rope-masked").changes.size(), 1u);
  EXPECT_EQ(a.result("rope-masked").changes[0].after, "rotate_half/swap_halves + sign Mul");
  EXPECT_EQ(count_op(a.after, "Neg"), 0);
  const auto* sign = node_named(a.after, "rotate_half/sign");
  ASSERT_NE(sign, nullptr) << ops_of(a.after);
  EXPECT_EQ(sign->op_type(), "Mul");
  EXPECT_EQ(sign->output(0), "rotate_half_out");
  const auto* v = init_named(a.after, "rotate_half/sign_vector");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(tensor_info_of(*v).dims, (Ints{1, 1, 1, kRD}));
  EXPECT_EQ(floats_of(*v), (std::vector<float>{-1, -1, -1, -1, 1, 1, 1, 1}));
  expect_sound(a);
}

TEST(PassRopeMasked, WrongHalvesLeftAlone) {
  auto g = rotate_half(/*wrong_halves=*/true);
  auto& b = g.b;
  b.output(b.node("Mul", "mul_sin", {g.rot, b.weight("sin_table", {1, 1, kRN, kRD}, table(0.f))}));
  auto a = run_passes(b.build(), {"rope-masked"});
  EXPECT_EQ(a.rewrites("rope-masked"), 0);
  EXPECT_EQ(count_op(a.after, "Neg"), 1);
  EXPECT_EQ(node_names(a.after), node_names(a.before));
  expect_sound(a);
}

TEST(PassRopeMasked, SharedSinTableSignedOnceOriginalKeptForOtherReaders) {
  // q and k rotate_halves multiply by the same table, which a plain Mul also reads.
  ModelBuilder b;
  auto x = b.input("x", {1, kRH, kRN, kRD});
  auto y = b.input("y", {1, kRH, kRN, kRD});
  auto sin = b.weight("sin_table", {1, 1, kRN, kRD}, table(0.f));
  auto rope = [&](const std::string& p, const std::string& in) {
    auto lo = b.node("Slice", p + "lo", {in, b.ints(p + "lo_s", {0}), b.ints(p + "lo_e", {kRD / 2}), b.ints(p + "lo_a", {-1})});
    auto hi = b.node("Slice", p + "hi", {in, b.ints(p + "hi_s", {kRD / 2}), b.ints(p + "hi_e", {kRD}), b.ints(p + "hi_a", {-1})});
    auto r = b.node("Concat", p + "rot", {b.node("Neg", p + "neg", {hi}), lo}, {Attr::of("axis", -1)});
    return b.node("Mul", p + "mul", {sin, r});  // table first
  };
  auto s1 = b.node("Add", "qk", {rope("q_", x), rope("k_", y)});
  b.output(b.node("Add", "sum", {s1, b.node("Mul", "plain", {x, sin})}));
  auto a = run_passes(b.build(), {"rope-masked"});
  EXPECT_EQ(a.rewrites("rope-masked"), 2);
  EXPECT_EQ(befores(a.result("rope-masked")), (std::vector<std::string>{"q_neg + q_rot", "k_neg + k_rot"}));
  EXPECT_EQ(count_op(a.after, "Neg"), 0);
  EXPECT_EQ(count_op(a.after, "Mul"), 3);
  EXPECT_EQ(node_named(a.after, "q_mul")->input(0), "sin_table/signed");
  EXPECT_EQ(node_named(a.after, "k_mul")->input(0), "sin_table/signed");
  EXPECT_EQ(node_named(a.after, "plain")->input(1), "sin_table");
  int signed_copies = 0;
  for (const auto& t : a.after.graph().initializer()) signed_copies += t.name().rfind("sin_table/signed", 0) == 0;
  EXPECT_EQ(signed_copies, 1);
  expect_sound(a);
}

// ---------------------------------------------------------------- broadcast-explicit

TEST(PassBroadcastExplicit, FeatureBroadcastConstantMaterialised) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 8});
  auto m = b.node("Mul", "mul_a", {x, b.random_weight("rope_sin", {1, 1, 4, 8})});
  auto low = b.node("Add", "add_low", {b.random_weight("bias2d", {4, 8}), m});  // lower rank, constant first
  b.output(b.node("Sub", "sub_mid", {low, b.random_weight("mid", {3, 1, 8})}));    // lower rank, broadcast on N
  auto a = run_passes(b.build(), {"broadcast-explicit"});
  EXPECT_EQ(a.rewrites("broadcast-explicit"), 3);
  EXPECT_EQ(befores(a.result("broadcast-explicit")), (std::vector<std::string>{"mul_a", "add_low", "sub_mid"}));
  EXPECT_NE(a.result("broadcast-explicit").changes[0].after.find("rope_sin/full"), std::string::npos);
  const auto* mul = node_named(a.after, "mul_a");
  const auto* add = node_named(a.after, "add_low");
  ASSERT_TRUE(mul && add) << ops_of(a.after);
  EXPECT_EQ(mul->input(1), "rope_sin/full");
  EXPECT_EQ(add->input(0), "bias2d/full");
  ASSERT_NE(init_named(a.after, "rope_sin/full"), nullptr);
  EXPECT_EQ(tensor_info_of(*init_named(a.after, "rope_sin/full")).dims, (Ints{1, 3, 4, 8}));
  EXPECT_EQ(tensor_info_of(*init_named(a.after, "bias2d/full")).dims, (Ints{1, 3, 4, 8}));
  ASSERT_NE(init_named(a.after, "mid/full"), nullptr);
  {
    // Spot-check the index arithmetic: full[0,c,n,d] == mid[c,0,d].
    const auto full = floats_of(*init_named(a.after, "mid/full")), mid = floats_of(*init_named(a.before, "mid"));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t n = 0; n < 4; ++n)
        for (int64_t d = 0; d < 8; ++d) ASSERT_EQ(full[(c * 4 + n) * 8 + d], mid[c * 8 + d]) << c << n << d;
  }
  EXPECT_EQ(init_named(a.after, "rope_sin"), nullptr);  // unused now: removed
  std::map<std::string, std::set<std::string>> by_before, by_after;
  findings_of(a.before, &by_before);
  findings_of(a.after, &by_after);
  EXPECT_TRUE(by_before["mul_a"].count("ew-mult-broadcast")) << "the test graph should be a suspect before";
  EXPECT_FALSE(by_after["mul_a"].count("ew-mult-broadcast"));
  expect_sound(a);
}

TEST(PassBroadcastExplicit, SharedConstantMaterialisedOnce) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 8});
  auto y = b.input("y", {1, 3, 4, 8});
  auto c = b.random_weight("table", {1, 1, 4, 8});
  auto m1 = b.node("Mul", "mul_x", {x, c});
  auto m2 = b.node("Mul", "mul_y", {c, y});
  b.output(b.node("Add", "sum", {m1, m2}));
  auto a = run_passes(b.build(), {"broadcast-explicit"});
  EXPECT_EQ(a.rewrites("broadcast-explicit"), 2);
  ASSERT_EQ(a.after.graph().initializer_size(), 1);
  EXPECT_EQ(a.after.graph().initializer(0).name(), "table/full");
  EXPECT_EQ(node_named(a.after, "mul_x")->input(1), "table/full");
  EXPECT_EQ(node_named(a.after, "mul_y")->input(0), "table/full");
  expect_sound(a);
}

TEST(PassBroadcastExplicit, ConstantBroadcastOnTheLastAxisIsFilledRowByRow) {
  // [3,4,1] against [1,3,4,8]: each output row is one value repeated (the fill path), and a
  // lower rank (lead axis) on top.
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 8});
  b.output(b.node("Mul", "mul_col", {x, b.random_weight("col", {3, 4, 1})}));
  auto a = run_passes(b.build(), {"broadcast-explicit"});
  ASSERT_EQ(a.rewrites("broadcast-explicit"), 1) << ops_of(a.after);
  const auto full = floats_of(*init_named(a.after, "col/full")), col = floats_of(*init_named(a.before, "col"));
  ASSERT_EQ(full.size(), 96u);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t d = 0; d < 8; ++d) ASSERT_EQ(full[(c * 4 + n) * 8 + d], col[c * 4 + n]) << c << n << d;
  expect_sound(a);
}

TEST(PassBroadcastExplicit, LeavesPerChannelScalarAndRuntimeOperandsAlone) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 5, 5});
  auto rt = b.input("rt", {1, 1, 5, 5});
  auto tok = b.input("tok", {1, 6, 4});
  b.output(b.node("Mul", "mul_pc", {x, b.random_weight("pc", {1, 4, 1, 1})}));
  b.output(b.node("Add", "add_pc3", {x, b.random_weight("pc3", {4, 1, 1})}));
  b.output(b.node("Mul", "mul_s", {x, b.scalar("s", 0.5f)}));
  b.output(b.node("Mul", "mul_s1", {x, b.weight("s1", {1}, {2.f})}));
  b.output(b.node("Mul", "mul_rt", {x, rt}));  // broadcasts over channels, but not a constant
  b.output(b.node("Mul", "mul_gamma", {tok, b.random_weight("gamma", {4})}));  // LayerScale [C] on tokens
  auto a = run_passes(b.build(), {"broadcast-explicit"});
  EXPECT_EQ(a.rewrites("broadcast-explicit"), 0) << ops_of(a.after);
  EXPECT_EQ(a.after.graph().initializer_size(), a.before.graph().initializer_size());
  for (const auto& t : a.after.graph().initializer()) EXPECT_EQ(t.name().find("/full"), std::string::npos);
  expect_sound(a);
}

// ---------------------------------------------------------------- scale-into-weights

TEST(PassScaleIntoWeights, MatMulTimesScalarFoldsIntoWeights) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto w = b.random_weight("W", {8, 6}, 0.5f);
  auto mm = b.node("MatMul", "mm", {x, w});
  b.output(b.node("Mul", "scale", {mm, b.scalar("s", 0.125f)}));
  const auto defaults = default_pass_names();
  EXPECT_EQ(std::count(defaults.begin(), defaults.end(), "scale-into-weights"), 0);
  auto a = run_passes(b.build(), {"scale-into-weights"});
  EXPECT_FALSE(a.report.exact);
  EXPECT_EQ(a.rewrites("scale-into-weights"), 1);
  ASSERT_EQ(a.result("scale-into-weights").changes.size(), 1u);
  EXPECT_EQ(a.result("scale-into-weights").changes[0].before, "mm + scale");
  EXPECT_EQ(a.result("scale-into-weights").changes[0].after, "mm/scaled");
  EXPECT_EQ(count_op(a.after, "Mul"), 0);
  ASSERT_EQ(count_op(a.after, "MatMul"), 1);
  const auto* m = node_named(a.after, "mm/scaled");
  ASSERT_NE(m, nullptr) << ops_of(a.after);
  EXPECT_EQ(m->output(0), "scale_out");
  EXPECT_EQ(m->input(1), "W/scaled");
  const auto wv = floats_of(*init_named(a.before, "W")), sv = floats_of(*init_named(a.after, "W/scaled"));
  ASSERT_EQ(wv.size(), sv.size());
  for (size_t i = 0; i < wv.size(); ++i) EXPECT_EQ(sv[i], wv[i] * 0.125f);
  // Not exact in general: (x W) s rounds each output once after the sum, x (W s) rounds each
  // scaled weight and then sums; the results differ by a few ulps. (With s = 1/8 both
  // roundings happen to be exact, but the pass only promises a small tolerance.)
  expect_sound(a, 1e-5);
}

TEST(PassScaleIntoWeights, SharedWeightLeftAlone) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto w = b.random_weight("W", {8, 6});
  auto m1 = b.node("Mul", "scale1", {b.node("MatMul", "mm1", {x, w}), b.scalar("s1", 0.125f)});
  auto m2 = b.node("Mul", "scale2", {b.node("MatMul", "mm2", {x, w}), b.scalar("s2", 0.5f)});
  b.output(b.node("Add", "add", {m1, m2}));
  auto a = run_passes(b.build(), {"scale-into-weights"});
  EXPECT_EQ(a.rewrites("scale-into-weights"), 0);
  EXPECT_EQ(node_names(a.after), node_names(a.before));
  expect_sound(a);
}

TEST(PassScaleIntoWeights, ConvWithBiasTimesScalar) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 8, 8});
  auto c = b.node("Conv", "conv", {x, b.random_weight("cw", {4, 3, 3, 3}, 0.3f), b.random_weight("cb", {4}, 0.3f)},
                  {Attr::of("pads", Ints{1, 1, 1, 1})});
  b.output(b.node("Mul", "scale", {b.scalar("s", 0.37f), c}));  // scalar first
  auto a = run_passes(b.build(), {"scale-into-weights"});
  EXPECT_EQ(a.rewrites("scale-into-weights"), 1);
  EXPECT_EQ(befores(a.result("scale-into-weights")), (std::vector<std::string>{"conv + scale"}));
  EXPECT_EQ(count_op(a.after, "Mul"), 0);
  const auto* conv = node_named(a.after, "conv/scaled");
  ASSERT_NE(conv, nullptr) << ops_of(a.after);
  EXPECT_EQ(conv->op_type(), "Conv");
  EXPECT_EQ(conv->input(1), "cw/scaled");
  EXPECT_EQ(conv->input(2), "cb/scaled");
  EXPECT_EQ(attr_ints(*conv, "pads"), (Ints{1, 1, 1, 1}));
  const auto bv = floats_of(*init_named(a.before, "cb")), sbv = floats_of(*init_named(a.after, "cb/scaled"));
  for (size_t i = 0; i < bv.size(); ++i) EXPECT_EQ(sbv[i], bv[i] * 0.37f);
  // Not exact: 0.37 is not a power of two, so scaling each weight rounds differently from
  // scaling each convolution sum; the difference is a few float32 ulps of outputs of size ~1.
  expect_sound(a, 1e-5);
}

TEST(PassScaleIntoWeights, HigherRankOneElementScaleKeepsOutputShape) {
  // Mul([1,4,6], s[1,1,1,1]) broadcasts the result to [1,1,4,6]; folding s into the weights
  // must not change the output's rank.
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8});
  auto mm = b.node("MatMul", "mm", {x, b.random_weight("W", {8, 6})});
  auto out = b.node("Mul", "scale", {mm, b.weight("s4", {1, 1, 1, 1}, {0.125f})});
  b.output(b.node("Relu", "relu", {out}));
  auto a = run_passes(b.build(), {"scale-into-weights"});
  const auto rep = verify_equivalent(a.before, a.after, make_verify_cases(a.before, {}, 1, {}), 1e-5);
  ASSERT_EQ(rep.worst.size(), 1u);
  ASSERT_FALSE(rep.worst[0].shape_mismatch)
      << "scale-into-weights folds a one-element constant of higher rank than the MatMul/Conv "
                    "output (Mul([1,4,6], s[1,1,1,1]) gives [1,1,4,6]); the rewritten MatMul writes [1,4,6], so "
                    "the model's output changes shape (ONNX Runtime: "
                 << a.after.graph().output(0).name() << " shape mismatch) while the graph still declares the "
                    "old shape. It should skip a Mul whose output shape differs from the product's.";
  expect_sound(a, 1e-5);
}

// ---------------------------------------------------------------- apply_passes

TEST(PassRegistry, DocumentedOrderAndDefaults) {
  std::vector<std::string> names;
  for (const auto& p : all_passes()) {
    names.push_back(p->name());
    EXPECT_FALSE(p->description().empty()) << p->name();
    EXPECT_FALSE(p->source().empty()) << p->name();
    EXPECT_EQ(find_pass(p->name()), p.get());
    if (!p->exact()) {
      EXPECT_FALSE(p->inexact_reason().empty()) << p->name();
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"fold-static", "drop-noop-cast", "reduce-keepdims", "batch-one",
                                             "rank5-to-rank4", "rope-masked", "broadcast-explicit",
                                             "scale-into-weights"}));
  EXPECT_EQ(default_pass_names(), (std::vector<std::string>{"fold-static", "drop-noop-cast", "reduce-keepdims",
                                                            "batch-one", "rank5-to-rank4", "rope-masked",
                                                            "broadcast-explicit"}));
  EXPECT_EQ(find_pass("nope"), nullptr);
}

TEST(PassRegistry, RunsInRegistryOrderWhateverOrderGiven) {
  auto a = run_passes(shape_chain_model(), {"scale-into-weights", "broadcast-explicit", "fold-static"});
  ASSERT_EQ(a.report.results.size(), 3u);
  EXPECT_EQ(a.report.results[0].pass, "fold-static");
  EXPECT_EQ(a.report.results[1].pass, "broadcast-explicit");
  EXPECT_EQ(a.report.results[2].pass, "scale-into-weights");
  EXPECT_FALSE(a.report.exact);
  auto d = run_passes(shape_chain_model(), default_pass_names());
  EXPECT_TRUE(d.report.exact);
  EXPECT_EQ(d.report.results.size(), 7u);
}

TEST(PassRegistry, UnknownPassIsOneLineErrorListingPasses) {
  auto m = shape_chain_model();
  fix_input_shapes(m, {});
  try {
    apply_passes(m, {"fold-static", "nope"});
    FAIL() << "no error for an unknown pass";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
    for (const auto& p : all_passes()) EXPECT_NE(msg.find(p->name()), std::string::npos) << msg;
  }
}

TEST(PassRegistry, FoldStaticExposesConstantForBroadcastExplicit) {
  // The RoPE table is Sin of a constant: until fold-static makes it an initializer,
  // broadcast-explicit sees a computed operand and leaves it alone.
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 8});
  auto sin = b.node("Sin", "sin", {b.random_weight("angles", {1, 1, 4, 8}, 3.f)});
  b.output(b.node("Mul", "mul", {x, sin}));
  const auto m = b.build();
  auto alone = run_passes(m, {"broadcast-explicit"});
  EXPECT_EQ(alone.rewrites("broadcast-explicit"), 0);
  auto a = run_passes(m, {"broadcast-explicit", "fold-static"});
  EXPECT_EQ(a.rewrites("fold-static"), 1);
  EXPECT_EQ(a.rewrites("broadcast-explicit"), 1);
  EXPECT_GE(a.report.iterations, 2);  // the last iteration changes nothing
  EXPECT_EQ(count_op(a.after, "Sin"), 0);
  const auto* mul = node_named(a.after, "mul");
  ASSERT_NE(mul, nullptr);
  ASSERT_NE(init_named(a.after, mul->input(1)), nullptr);
  EXPECT_EQ(tensor_info_of(*init_named(a.after, mul->input(1))).dims, (Ints{1, 3, 4, 8}));
  expect_sound(a);
}

TEST(PassRegistry, LaterPassEnablingAnEarlierOneRunsAnotherIteration) {
  // rank5-to-rank4 (5th) turns a one-part qkv split into a Slice keeping the whole channel
  // axis; batch-one (4th) removes that identity Slice in the next iteration.
  ModelBuilder b;
  auto x = b.input("x", {1, kTok, kEmb});
  auto r5 = b.node("Reshape", "r5", {x, b.ints("s5", {1, kTok, 1, kHeads, kHd})});
  auto parts = b.node_n("Split", "split1", {r5}, 1, {Attr::of("axis", 2)});
  auto q = b.node("Squeeze", "sq", {parts[0], b.ints("ax2", {2})});  // [1,N,H,D]
  b.output(b.node("Relu", "relu", {q}));
  auto a = run_passes(b.build(), {"batch-one", "rank5-to-rank4"});
  EXPECT_EQ(a.rewrites("rank5-to-rank4"), 1);
  EXPECT_EQ(a.rewrites("batch-one"), 1);
  EXPECT_EQ(befores(a.result("batch-one")), (std::vector<std::string>{"split1/slice0"}));
  EXPECT_EQ(a.report.iterations, 3);
  EXPECT_EQ(count_op(a.after, "Slice"), 0);
  EXPECT_EQ(node_named(a.after, "sq")->input(0), "x");
  expect_sound(a);
}

TEST(PassRegistry, AllDefaultPassesTogetherStayExact) {
  // A bit of everything in one graph: each pass finds its pattern after the earlier ones ran.
  auto g = rotate_half();
  auto& b = g.b;
  auto cast = b.node("Cast", "cast_same", {g.x}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto sin = b.node("Sin", "sin", {b.random_weight("angles", {1, 1, kRN, kRD}, 3.f)});
  auto ms = b.node("Mul", "mul_sin", {g.rot, sin});
  auto sum = b.node("Add", "rope_add", {cast, ms});
  auto tile = b.node("Tile", "tile", {sum, b.ints("reps", {1, 1, 1, 1})});
  b.output(b.node("ReduceMax", "rmax", {tile}, {Attr::of("axes", Ints{3}), Attr::of("keepdims", 0)}));
  auto a = run_passes(b.build(), default_pass_names());
  for (const char* p : {"fold-static", "drop-noop-cast", "reduce-keepdims", "batch-one", "rope-masked",
                        "broadcast-explicit"})
    EXPECT_GE(a.rewrites(p), 1) << p << "\n" << ops_of(a.after);
  EXPECT_EQ(a.rewrites("rank5-to-rank4"), 0);
  for (const char* op : {"Neg", "Cast", "Tile", "Sin"}) EXPECT_EQ(count_op(a.after, op), 0) << op;
  expect_sound(a);
}

// ---------------------------------------------------------------- fix_model and the CLI

// A model that needs fixing: a float->float Cast, a keepdims=0 ReduceMax, a channel broadcast.
onnx::ModelProto needs_fixing() {
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3}, 0.3f)}, {Attr::of("pads", Ints{1, 1, 1, 1})});
  auto cast = b.node("Cast", "cast_same", {c}, {Attr::of("to", static_cast<int64_t>(kFloat))});
  auto m = b.node("Mul", "mul_map", {cast, b.random_weight("map", {1, 1, 16, 16})});
  b.output(b.node("ReduceMax", "rmax", {m}, {Attr::of("axes", Ints{1}), Attr::of("keepdims", 0)}));
  return b.build();
}

onnx::ModelProto conv_relu() {
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3}, 0.3f)}, {Attr::of("pads", Ints{1, 1, 1, 1})});
  b.output(b.node("Relu", "relu", {c}));
  return b.build();
}

TEST(FixModel, WritesOutLeavesInputAloneAndVerifies) {
  const auto d = temp_dir("fix_e2e");
  const auto in = d / "in.onnx", out = d / "out" / "fixed.onnx";
  save_model(needs_fixing(), in);
  const std::string bytes = read_file(in);
  const auto mtime = fs::last_write_time(in);
  FixOptions o;
  o.model = in;
  o.out = out;
  o.verify = true;
  auto r = fix_model(o);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.report.exact);
  EXPECT_EQ(r.tolerance, 0.0);
  std::map<std::string, int> rw;
  for (const auto& pr : r.report.results) rw[pr.pass] = pr.rewrites;
  EXPECT_EQ(rw["drop-noop-cast"], 1);
  EXPECT_EQ(rw["reduce-keepdims"], 1);
  EXPECT_EQ(rw["broadcast-explicit"], 1);
  EXPECT_EQ(rw.count("scale-into-weights"), 0u);
  ASSERT_TRUE(r.verify.has_value());
  EXPECT_TRUE(r.verify->ok);
  EXPECT_EQ(r.verify->cases.size(), 2u);
  for (const auto& w : r.verify->worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
  ASSERT_TRUE(fs::exists(out));
  auto written = load_model(out);
  EXPECT_TRUE(Checks(written));
  EXPECT_EQ(count_op(written, "Cast"), 0);
  EXPECT_EQ(read_file(in), bytes);
  EXPECT_EQ(fs::last_write_time(in), mtime);
  EXPECT_LE(r.after.suspect, r.before.suspect);
  EXPECT_NE(fix_text(r, o).find("verify: PASS"), std::string::npos) << fix_text(r, o);
  EXPECT_EQ(fix_json(r, o)["schema"].get<std::string>(), "npusplit.fix/1");
}

TEST(FixModel, NothingToDoCopiesInputByteForByte) {
  const auto d = temp_dir("fix_noop");
  const auto in = d / "in.onnx", out = d / "out.onnx";
  save_model(conv_relu(), in);
  FixOptions o;
  o.model = in;
  o.out = out;
  auto r = fix_model(o);
  EXPECT_FALSE(r.changed);
  for (const auto& pr : r.report.results) EXPECT_EQ(pr.rewrites, 0) << pr.pass;
  ASSERT_TRUE(fs::exists(out));
  EXPECT_EQ(read_file(out), read_file(in));
  EXPECT_EQ(r.after.nodes, r.before.nodes);
  EXPECT_NE(fix_text(r, o).find("no rewrite applied"), std::string::npos);
}

TEST(FixModel, RefusesToOverwriteItsInput) {
  const auto d = temp_dir("fix_same");
  const auto in = d / "in.onnx";
  save_model(needs_fixing(), in);
  const std::string bytes = read_file(in);
  FixOptions o;
  o.model = in;
  o.out = in;
  EXPECT_THROW(fix_model(o), Error);
  EXPECT_EQ(read_file(in), bytes);
}

TEST(FixCli, ListPasses) {
  auto r = run_cli("fix --list-passes", "fix_list");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& p : all_passes()) EXPECT_NE(r.out.find(p->name()), std::string::npos) << p->name() << "\n" << r.out;
  EXPECT_EQ(r.out, list_passes_text());
}

TEST(FixCli, UnknownPassExitsTwoWithOneLine) {
  const auto d = temp_dir("fix_cli_nope");
  const auto in = d / "in.onnx", out = d / "out.onnx";
  save_model(needs_fixing(), in);
  auto r = run_cli("fix '" + in.string() + "' -o '" + out.string() + "' --passes nope", "fix_nope");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fold-static"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(FixCli, FixesAndVerifies) {
  const auto d = temp_dir("fix_cli_ok");
  const auto in = d / "in.onnx", out = d / "out.onnx";
  save_model(needs_fixing(), in);
  auto r = run_cli("fix '" + in.string() + "' -o '" + out.string() + "' --verify --random 1 --json", "fix_ok");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["changed"].get<bool>());
  EXPECT_TRUE(fs::exists(out));
}

// ---------------------------------------------------------------- the shared DEIMv2-S model

TEST(FixShared, DeimV2SFixIsExactAndHelpsCheck) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_s.onnx");
  const auto d = temp_dir("fix_deimv2_s");
  FixOptions o;
  o.model = model;
  o.out = d / "deimv2_s_fixed.onnx";
  o.verify = true;
  o.verify_random = 1;
  auto r = fix_model(o);
  EXPECT_TRUE(r.changed);
  ASSERT_TRUE(r.verify.has_value());
  EXPECT_TRUE(r.verify->ok);
  EXPECT_EQ(r.verify->cases.size(), 1u);
  EXPECT_FALSE(r.verify->worst.empty());
  for (const auto& w : r.verify->worst) EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
  EXPECT_LT(r.after.suspect, r.before.suspect);
  EXPECT_GT(r.after.npu_flops_share, 0.9);
  EXPECT_TRUE(fs::exists(o.out));
}

// `check` of stage1 alone. SplitResult is being reshaped concurrently (stage1_check, an
// Analysis, becomes stage1_verdicts): accept either.
template <class R>
const std::vector<NodeVerdict>& stage1_verdicts_of(const R& r) {
  if constexpr (requires { r.stage1_verdicts; })
    return r.stage1_verdicts;
  else
    return r.stage1_check.verdicts;
}

TEST(FixShared, DeimV2SSplitWithFixGivesCleanStage1) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_s.onnx");
  SplitOptions o;
  o.model = model;
  o.out_dir = temp_dir("split_fix_deimv2_s");
  o.fix = true;
  auto r = split_model(o);
  const auto& verdicts = stage1_verdicts_of(r);
  ASSERT_FALSE(verdicts.empty());
  int rewrites = 0;
  for (const auto& p : r.manifest["passes"]) rewrites += p["rewrites"].get<int>();
  EXPECT_GT(rewrites, 0) << r.manifest.dump();
  for (const auto& v : r.stage1_verdicts)
    for (const auto& f : v.findings) {
      EXPECT_NE(f.rule_id, "rank") << v.name << ": " << f.detail;
      EXPECT_NE(f.rule_id, "ew-mult-broadcast") << v.name << ": " << f.detail;
    }
  EXPECT_EQ(count_op(r.stages.stage1, "Neg"), 0);
  EXPECT_GT(r.stages.stage1.graph().node_size(), 100);
}

}  // namespace
}  // namespace npusplit
