// The rule engine against the shipped rule files: for every constrained op of
// rules/hailo8.yaml (and the key ones of hailo10h.yaml) a tiny graph the rule accepts and one
// it rejects, judged the way `check` does it (resolve() + evaluate_graph()), with the rule id
// of the finding. Also every check of the vocabulary, the unsupported/fold/unknown paths and
// the rule-file loading errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "npusplit/app/analyze.h"
#include "npusplit/error.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/rules/checks.h"
#include "npusplit/rules/evaluator.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/shapes/resolve.h"
#include "test_support.h"

namespace npusplit {
namespace {

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;
constexpr int32_t kBool = onnx::TensorProto::BOOL;

const RuleSet& rules(const std::string& target) {
  static std::map<std::string, RuleSet> cache;
  auto it = cache.find(target);
  if (it == cache.end()) it = cache.emplace(target, load_rules(target)).first;
  return it->second;
}

std::string describe(const NodeVerdict& v) {
  std::string s = v.name + " (" + v.op + "):";
  if (v.findings.empty()) s += " no findings";
  for (const auto& f : v.findings) s += " [" + f.rule_id + "/" + f.severity + ": " + f.detail + "]";
  return s;
}

// Resolves M (fixed shapes, folding, ORT fallback) and judges node NODE with TARGET's rules.
NodeVerdict judge(const onnx::ModelProto& m, const std::string& node = "n", const std::string& target = "hailo8",
                  const ResolveOptions& opts = {}) {
  ResolvedModel r = resolve(m, opts);
  Graph g(r.model.graph());
  for (const auto& v : evaluate_graph(rules(target), g, r.shapes))
    if (v.name == node) return v;
  ADD_FAILURE() << "node '" << node << "' is not in the resolved graph";
  NodeVerdict missing;
  missing.name = node;
  missing.supported = false;
  missing.findings.push_back({"<node missing>", "", "", "", "", "", "error"});
  return missing;
}

// For graphs whose runtime-computed parameters would make the ORT fallback run on nonsense
// dummy values (pads/indices of 640): judge on ONNX inference alone.
NodeVerdict judge_no_ort(const onnx::ModelProto& m, const std::string& node = "n",
                         const std::string& target = "hailo8") {
  ResolveOptions o;
  o.ort_fallback = false;
  return judge(m, node, target, o);
}

::testing::AssertionResult Accepted(const NodeVerdict& v) {
  if (v.supported && v.findings.empty() && !v.suspect_only) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected accepted: " << describe(v);
}

// Rejected with a finding of rule ID (and that severity); an "error" finding makes the node
// unsupported, a "suspect" one leaves it suspect_only when it is the only kind.
::testing::AssertionResult RejectedBy(const NodeVerdict& v, const std::string& id,
                                      const std::string& severity = "error") {
  if (v.supported) return ::testing::AssertionFailure() << "expected rejected by " << id << ": " << describe(v);
  for (const auto& f : v.findings)
    if (f.rule_id == id) {
      if (f.severity != severity)
        return ::testing::AssertionFailure() << id << " has severity " << f.severity << ", expected " << severity;
      if (f.reason.empty()) return ::testing::AssertionFailure() << id << " finding carries no reason";
      return ::testing::AssertionSuccess();
    }
  return ::testing::AssertionFailure() << "no finding " << id << ": " << describe(v);
}

// The only finding is ID (nothing else, e.g. no default fired by accident).
::testing::AssertionResult OnlyRejectedBy(const NodeVerdict& v, const std::string& id,
                                          const std::string& severity = "error") {
  auto r = RejectedBy(v, id, severity);
  if (!r) return r;
  if (v.findings.size() != 1) return ::testing::AssertionFailure() << "expected only " << id << ": " << describe(v);
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------- tiny graph builders

// x[dims] -> OP(n, extra inputs) -> output.
struct Unary {
  ModelBuilder b{17};
  std::string x;
  explicit Unary(std::vector<int64_t> dims, int opset = 17, int32_t dtype = kFloat) : b(opset) {
    x = b.input("x", std::move(dims), dtype);
  }
  onnx::ModelProto with(const std::string& op, std::vector<std::string> extra = {}, std::vector<Attr> attrs = {},
                        int32_t out_dtype = kFloat) {
    std::vector<std::string> ins{x};
    for (auto& e : extra) ins.push_back(e);
    b.output(b.node(op, "n", ins, std::move(attrs)), {}, out_dtype);
    return b.build();
  }
};

onnx::ModelProto binary(const std::string& op, std::vector<int64_t> a, std::vector<int64_t> c, bool c_const,
                        int32_t out_dtype = kFloat) {
  ModelBuilder b;
  auto x = b.input("x", std::move(a));
  auto y = c_const ? b.random_weight("c", std::move(c), 1.0f) : b.input("y", std::move(c));
  b.output(b.node(op, "n", {x, y}), {}, out_dtype);
  return b.build();
}

// ---------------------------------------------------------------- conv / dense

TEST(RulesConv, ConstantWeightsAccepted) {
  Unary u({1, 3, 8, 8});
  auto w = u.b.random_weight("w", {4, 3, 3, 3});
  EXPECT_TRUE(Accepted(judge(u.with("Conv", {w}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})}))));
}

TEST(RulesConv, RuntimeWeightsRejected) {
  Unary u({1, 3, 8, 8});
  auto w = u.b.input("w", {4, 3, 3, 3});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Conv", {w})), "conv-const-weights"));
}

TEST(RulesConvTranspose, ConstantVsRuntimeWeights) {
  {
    Unary u({1, 4, 4, 4});
    auto w = u.b.random_weight("w", {4, 2, 2, 2});
    EXPECT_TRUE(Accepted(judge(u.with("ConvTranspose", {w}, {Attr::of("strides", std::vector<int64_t>{2, 2})}))));
  }
  Unary u({1, 4, 4, 4});
  auto w = u.b.input("w", {4, 2, 2, 2});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("ConvTranspose", {w}, {Attr::of("strides", std::vector<int64_t>{2, 2})})),
                             "convtranspose-const-weights"));
}

TEST(RulesGemm, ConstantVsRuntimeB) {
  {
    Unary u({1, 8});
    auto w = u.b.random_weight("w", {8, 4});
    EXPECT_TRUE(Accepted(judge(u.with("Gemm", {w}))));
  }
  Unary u({1, 8});
  auto w = u.b.input("w", {8, 4});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Gemm", {w})), "gemm-const-weights"));
}

TEST(RulesClip, ConstantVsRuntimeBounds) {
  {
    Unary u({1, 3, 8, 8});
    auto lo = u.b.scalar("lo", 0.f), hi = u.b.scalar("hi", 6.f);
    EXPECT_TRUE(Accepted(judge(u.with("Clip", {lo, hi}))));
  }
  Unary u({1, 3, 8, 8});
  auto lo = u.b.input("lo", {}), hi = u.b.scalar("hi", 6.f);
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Clip", {lo, hi})), "clip-const-bounds"));
}

// ---------------------------------------------------------------- elementwise broadcast

TEST(RulesAdd, SameShapeAndConstantsAccepted) {
  EXPECT_TRUE(Accepted(judge(binary("Add", {1, 3, 8, 8}, {1, 3, 8, 8}, false))));
  EXPECT_TRUE(Accepted(judge(binary("Add", {1, 3, 8, 8}, {1, 3, 1, 1}, true))));  // bias
  // feature_broadcast is off for Add: a runtime [1,1,H,W] operand is fine.
  EXPECT_TRUE(Accepted(judge(binary("Add", {1, 3, 8, 8}, {1, 1, 8, 8}, false))));
}

TEST(RulesAdd, RuntimeScalarAndRankMismatchRejected) {
  EXPECT_TRUE(OnlyRejectedBy(judge(binary("Add", {1, 3, 8, 8}, {1}, false)), "ew-add-broadcast"));
  EXPECT_TRUE(OnlyRejectedBy(judge(binary("Add", {1, 3, 8, 8}, {8, 8}, false)), "ew-add-broadcast"));
}

TEST(RulesSub, LayerNormStyleAcceptedRuntimeScalarRejected) {
  // x - mean over features ([1,N,C] - [1,N,1]) parses.
  EXPECT_TRUE(Accepted(judge(binary("Sub", {1, 16, 8}, {1, 16, 1}, false))));
  EXPECT_TRUE(OnlyRejectedBy(judge(binary("Sub", {1, 16, 8}, {}, false)), "ew-sub-broadcast"));
}

TEST(RulesMul, HeadBroadcastConstantIsSuspect) {
  // The DINOv3 RoPE multiply: [1,3,N,D] * [1,1,N,D] broadcasts along the feature axis.
  auto v = judge(binary("Mul", {1, 3, 16, 8}, {1, 1, 16, 8}, true));
  EXPECT_TRUE(OnlyRejectedBy(v, "ew-mult-broadcast", "suspect"));
  EXPECT_TRUE(v.suspect_only);
  EXPECT_FALSE(v.supported);
}

TEST(RulesMul, PerChannelConstantAndSameShapeAccepted) {
  EXPECT_TRUE(Accepted(judge(binary("Mul", {1, 8, 4, 4}, {1, 8, 1, 1}, true))));
  EXPECT_TRUE(Accepted(judge(binary("Mul", {1, 8, 4, 4}, {}, true))));         // constant scalar
  EXPECT_TRUE(Accepted(judge(binary("Mul", {1, 8, 4, 4}, {1, 8, 4, 4}, false))));  // SiLU-like
}

TEST(RulesMul, RuntimeScalarFlagged) {
  // A scalar computed at run time (here the mean of the input) multiplying a map.
  ModelBuilder b;
  auto x = b.input("x", {1, 8, 4, 4});
  auto s = b.node("ReduceMean", "mean", {x}, {Attr::of("keepdims", 0)});
  b.output(b.node("Mul", "n", {x, s}));
  auto v = judge(b.build());
  EXPECT_TRUE(OnlyRejectedBy(v, "ew-mult-broadcast", "suspect"));
  EXPECT_NE(v.findings[0].detail.find("scalar"), std::string::npos) << v.findings[0].detail;
  EXPECT_TRUE(OnlyRejectedBy(judge(binary("Mul", {1, 8, 4, 4}, {1}, false)), "ew-mult-broadcast", "suspect"));
}

TEST(RulesDiv, ConstantDivisorAcceptedRuntimeScalarRejected) {
  EXPECT_TRUE(Accepted(judge(binary("Div", {1, 8, 4, 4}, {}, true))));
  EXPECT_TRUE(OnlyRejectedBy(judge(binary("Div", {1, 8, 4, 4}, {}, false)), "ew-div-broadcast"));
}

TEST(RulesPow, ConstantVsRuntimeExponent) {
  {
    Unary u({1, 8, 4, 4});
    EXPECT_TRUE(Accepted(judge(u.with("Pow", {u.b.scalar("e", 2.f)}))));
  }
  Unary u({1, 8, 4, 4});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Pow", {u.b.input("e", {})})), "pow-const-exponent"));
}

TEST(RulesComparisons, ConstantOperandAcceptedRuntimeRejected) {
  for (const auto& [op, id] : std::vector<std::pair<std::string, std::string>>{
           {"Equal", "equal-const-operand"}, {"Greater", "greater-const-operand"}, {"Less", "less-const-operand"}}) {
    SCOPED_TRACE(op);
    // Bool output: the float default is skipped for these.
    EXPECT_TRUE(Accepted(judge(binary(op, {1, 8, 4, 4}, {}, true, kBool))));
    EXPECT_TRUE(OnlyRejectedBy(judge(binary(op, {1, 8, 4, 4}, {1, 8, 4, 4}, false, kBool)), id));
  }
}

// ---------------------------------------------------------------- resize / pad

TEST(RulesResize, ConstantNearestAccepted) {
  Unary u({1, 3, 8, 8});
  auto sc = u.b.weight("scales", {4}, {1, 1, 2, 2});
  EXPECT_TRUE(Accepted(judge(u.with("Resize", {"", sc}, {Attr::of("mode", "nearest")}))));
  Unary l({1, 3, 8, 8});
  auto sc2 = l.b.weight("scales", {4}, {1, 1, 2, 2});
  EXPECT_TRUE(Accepted(judge(l.with("Resize", {"", sc2}, {Attr::of("mode", "linear")}))));
}

TEST(RulesResize, CubicAndRuntimeScalesRejected) {
  {
    Unary u({1, 3, 8, 8});
    auto sc = u.b.weight("scales", {4}, {1, 1, 2, 2});
    EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Resize", {"", sc}, {Attr::of("mode", "cubic")})), "resize-mode"));
  }
  Unary u({1, 3, 8, 8});
  auto sc = u.b.input("scales", {4});
  EXPECT_TRUE(RejectedBy(judge_no_ort(u.with("Resize", {"", sc})), "resize-const-params"));
}

TEST(RulesUpsample, ConstantNearestAcceptedBicubicRejected) {
  // The legacy op, at the last opset that has it.
  {
    Unary u({1, 3, 4, 4}, 9);
    auto sc = u.b.weight("scales", {4}, {1, 1, 2, 2});
    EXPECT_TRUE(Accepted(judge_no_ort(u.with("Upsample", {sc}, {Attr::of("mode", "nearest")}))));
  }
  {
    Unary u({1, 3, 4, 4}, 9);
    auto sc = u.b.weight("scales", {4}, {1, 1, 2, 2});
    EXPECT_TRUE(RejectedBy(judge_no_ort(u.with("Upsample", {sc}, {Attr::of("mode", "cubic")})), "upsample-mode"));
  }
  Unary u({1, 3, 4, 4}, 9);
  auto sc = u.b.input("scales", {4});
  EXPECT_TRUE(RejectedBy(judge_no_ort(u.with("Upsample", {sc})), "upsample-const-scales"));
}

TEST(RulesPad, ConstantZeroPadAcceptedReflectAndRuntimeRejected) {
  auto pads = [](ModelBuilder& b) { return b.ints("pads", {0, 0, 1, 1, 0, 0, 1, 1}); };
  {
    Unary u({1, 3, 8, 8});
    EXPECT_TRUE(Accepted(judge(u.with("Pad", {pads(u.b)}))));
  }
  {
    Unary u({1, 3, 8, 8});
    EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Pad", {pads(u.b)}, {Attr::of("mode", "reflect")})), "pad-mode"));
  }
  Unary u({1, 3, 8, 8});
  EXPECT_TRUE(RejectedBy(judge_no_ort(u.with("Pad", {u.b.input("pads", {8}, kInt64)})), "pad-const-pads"));
}

// ---------------------------------------------------------------- concat / split / slice / gather / tile

onnx::ModelProto concat(int64_t axis) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 8, 8}), y = b.input("y", {1, 3, 8, 8});
  b.output(b.node("Concat", "n", {x, y}, {Attr::of("axis", axis)}));
  return b.build();
}

TEST(RulesConcat, FeaturesAcceptedBatchRejected) {
  EXPECT_TRUE(Accepted(judge(concat(1))));
  EXPECT_TRUE(Accepted(judge(concat(-1))));  // width
  EXPECT_TRUE(OnlyRejectedBy(judge(concat(0)), "concat-axis-not-batch"));
}

onnx::ModelProto split(std::vector<int64_t> dims, int64_t axis, bool const_sizes) {
  ModelBuilder b;
  auto x = b.input("x", std::move(dims));
  auto s = const_sizes ? b.ints("sizes", {1, 1}) : b.input("sizes", {2}, kInt64);
  auto outs = b.node_n("Split", "n", {x, s}, 2, {Attr::of("axis", axis)});
  for (const auto& o : outs) b.output(o);
  return b.build();
}

TEST(RulesSplit, FeatureAxisAcceptedBatchAndRuntimeSizesRejected) {
  EXPECT_TRUE(Accepted(judge(split({1, 2, 8, 8}, 1, true))));
  EXPECT_TRUE(OnlyRejectedBy(judge(split({2, 3, 8, 8}, 0, true)), "split-axis-not-batch"));
  EXPECT_TRUE(RejectedBy(judge_no_ort(split({1, 2, 8, 8}, 1, false)), "split-const-sizes"));
}

onnx::ModelProto slice(std::vector<int64_t> dims, std::vector<int64_t> starts, std::vector<int64_t> ends,
                       std::vector<int64_t> axes, bool const_starts = true) {
  ModelBuilder b;
  auto x = b.input("x", std::move(dims));
  const auto n = static_cast<int64_t>(starts.size());
  auto s = const_starts ? b.ints("starts", starts) : b.input("starts", {n}, kInt64);
  b.output(b.node("Slice", "n", {x, s, b.ints("ends", ends), b.ints("axes", axes)}));
  return b.build();
}

TEST(RulesSlice, Axis4Of5DRejected) {
  auto v = judge(slice({1, 2, 3, 4, 6}, {0}, {3}, {4}));
  EXPECT_TRUE(RejectedBy(v, "slice-axis-roles"));
  EXPECT_TRUE(RejectedBy(v, "rank"));  // and the 5-D tensor itself
}

TEST(RulesSlice, FeatureSpatialAndTokenAxesAccepted) {
  EXPECT_TRUE(Accepted(judge(slice({1, 8, 4, 4}, {0}, {4}, {1}))));
  EXPECT_TRUE(Accepted(judge(slice({1, 8, 4, 4}, {1}, {3}, {-1}))));  // width
  EXPECT_TRUE(Accepted(judge(slice({1, 10, 8}, {1}, {10}, {1}))));    // class-token split on [B,N,C]
}

TEST(RulesSlice, WholeExtentOnBatchIgnored) {
  // axes [0,1]: the batch axis is kept whole with step 1, only the feature axis is cut.
  EXPECT_TRUE(Accepted(judge(slice({1, 8, 4, 4}, {0, 0}, {1, 4}, {0, 1}))));
  EXPECT_TRUE(Accepted(judge(slice({1, 8, 4, 4}, {0, 0}, {INT64_MAX, 4}, {0, 1}))));
}

TEST(RulesSlice, RealBatchCutAndRuntimeStartsRejected) {
  EXPECT_TRUE(OnlyRejectedBy(judge(slice({2, 8, 4, 4}, {0}, {1}, {0})), "slice-axis-roles"));
  EXPECT_TRUE(RejectedBy(judge_no_ort(slice({1, 8, 4, 4}, {0}, {4}, {1}, false)), "slice-const-bounds"));
}

onnx::ModelProto gather(std::vector<int64_t> dims, int64_t axis, bool const_index) {
  ModelBuilder b;
  auto x = b.input("x", std::move(dims));
  auto i = const_index ? b.ints("idx", {0, 1}) : b.input("idx", {2}, kInt64);
  b.output(b.node("Gather", "n", {x, i}, {Attr::of("axis", axis)}));
  return b.build();
}

TEST(RulesGather, ConstantFeatureIndexAcceptedOthersRejected) {
  EXPECT_TRUE(Accepted(judge(gather({1, 8, 4, 4}, 1, true))));
  EXPECT_TRUE(OnlyRejectedBy(judge(gather({2, 8, 4}, 0, true)), "gather-const-index"));
  auto v = judge_no_ort(gather({1, 8, 4, 4}, 1, false));
  EXPECT_TRUE(RejectedBy(v, "gather-const-index"));
}

onnx::ModelProto tile(std::vector<int64_t> reps, bool const_reps = true) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 4, 4});
  auto r = const_reps ? b.ints("reps", reps) : b.input("reps", {4}, kInt64);
  b.output(b.node("Tile", "n", {x, r}));
  return b.build();
}

TEST(RulesTile, BatchRepeatRejectedOtherAxesAccepted) {
  EXPECT_TRUE(OnlyRejectedBy(judge(tile({2, 1, 1, 1})), "tile-no-batch"));
  EXPECT_TRUE(Accepted(judge(tile({1, 2, 1, 1}))));
  EXPECT_TRUE(Accepted(judge(tile({1, 1, 2, 3}))));
  EXPECT_TRUE(RejectedBy(judge_no_ort(tile({}, false)), "tile-no-batch"));
}

// ---------------------------------------------------------------- reshape-like

onnx::ModelProto reshape(std::vector<int64_t> in, std::vector<int64_t> out) {
  ModelBuilder b;
  auto x = b.input("x", std::move(in));
  b.output(b.node("Reshape", "n", {x, b.ints("shape", out)}));
  return b.build();
}

TEST(RulesReshape, LayoutMovesAccepted) {
  EXPECT_TRUE(Accepted(judge(reshape({1, 8, 64}, {1, 8, 4, 16}))));  // feature split into heads
  EXPECT_TRUE(Accepted(judge(reshape({1, 8, 4, 16}, {1, 8, 64}))));  // heads merged back
  EXPECT_TRUE(Accepted(judge(reshape({1, 8, 4, 4}, {1, 8, 16}))));   // flatten H,W into tokens
  EXPECT_TRUE(Accepted(judge(reshape({1, 16, 8}, {1, 4, 4, 8}))));   // tokens to a spatial grid
  EXPECT_TRUE(Accepted(judge(reshape({1, 8}, {1, 8, 1, 1}))));       // unit dims
}

TEST(RulesReshape, ShuffleRejected) {
  EXPECT_TRUE(OnlyRejectedBy(judge(reshape({1, 6, 4}, {1, 4, 6})), "reshape-pattern"));
  EXPECT_TRUE(OnlyRejectedBy(judge(reshape({2, 4, 8}, {1, 8, 8})), "reshape-pattern"));  // batch merged
}

TEST(RulesFlatten, SpatialMapRejectedPooledAccepted) {
  {
    Unary u({1, 8, 4, 4});
    EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Flatten", {}, {Attr::of("axis", 1)})), "flatten-pattern"));
  }
  Unary u({1, 8, 1, 1});
  EXPECT_TRUE(Accepted(judge(u.with("Flatten", {}, {Attr::of("axis", 1)}))));
}

TEST(RulesSqueeze, UnitDimsAcceptedBatchMoveRejected) {
  {
    Unary u({1, 8, 1, 1});
    EXPECT_TRUE(Accepted(judge(u.with("Squeeze", {u.b.ints("axes", {2, 3})}))));
  }
  // [1,3,8] -> [3,8]: the 3 tokens land on the batch axis.
  Unary u({1, 3, 8});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Squeeze", {u.b.ints("axes", {0})})), "squeeze-pattern"));
}

TEST(RulesUnsqueeze, UnitDimsAcceptedBatchMoveRejected) {
  {
    Unary u({1, 8});
    EXPECT_TRUE(Accepted(judge(u.with("Unsqueeze", {u.b.ints("axes", {2, 3})}))));
  }
  Unary u({3, 8});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Unsqueeze", {u.b.ints("axes", {0})})), "unsqueeze-pattern"));
}

onnx::ModelProto transpose(std::vector<int64_t> dims, std::vector<int64_t> perm) {
  Unary u(std::move(dims));
  return u.with("Transpose", {}, {Attr::of("perm", std::move(perm))});
}

TEST(RulesTranspose, RecognisedPermutationsAccepted) {
  EXPECT_TRUE(Accepted(judge(transpose({1, 3, 8, 4}, {0, 1, 3, 2}))));  // swap_last_two (K^T)
  EXPECT_TRUE(Accepted(judge(transpose({1, 16, 8}, {0, 2, 1}))));       // swap_last_two on tokens
  EXPECT_TRUE(Accepted(judge(transpose({1, 8, 4, 16}, {0, 2, 1, 3}))));  // heads_split
  EXPECT_TRUE(Accepted(judge(transpose({1, 8, 4, 4}, {0, 2, 3, 1}))));  // spatial_to_tokens
  EXPECT_TRUE(Accepted(judge(transpose({1, 4, 4, 8}, {0, 3, 1, 2}))));  // tokens_to_spatial
}

TEST(RulesTranspose, ShuffleRejected) {
  EXPECT_TRUE(OnlyRejectedBy(judge(transpose({2, 3, 4, 5}, {0, 3, 2, 1})), "transpose-pattern"));
  EXPECT_TRUE(OnlyRejectedBy(judge(transpose({2, 3, 4, 5}, {1, 0, 2, 3})), "transpose-pattern"));
}

// ---------------------------------------------------------------- softmax / normalization

TEST(RulesSoftmax, FeatureAndLastAxisAcceptedHeightRejected) {
  for (const auto& [op, id] : std::vector<std::pair<std::string, std::string>>{{"Softmax", "softmax-axis"},
                                                                               {"LogSoftmax", "logsoftmax-axis"}}) {
    SCOPED_TRACE(op);
    auto with_axis = [&](std::vector<int64_t> dims, int64_t axis) {
      Unary u(std::move(dims));
      return judge(u.with(op, {}, {Attr::of("axis", axis)}));
    };
    EXPECT_TRUE(Accepted(with_axis({1, 8, 4, 4}, 1)));   // feature
    EXPECT_TRUE(Accepted(with_axis({1, 2, 16, 16}, -1)));  // last axis of attention scores
    EXPECT_TRUE(Accepted(with_axis({1, 10, 8}, -1)));     // [B,N,C] features
    EXPECT_TRUE(OnlyRejectedBy(with_axis({1, 8, 4, 4}, 2), id));
    EXPECT_TRUE(OnlyRejectedBy(with_axis({1, 10, 8}, 0), id));
  }
}

TEST(RulesLayerNorm, FeatureAxisAcceptedTokenAxisRejected) {
  {
    Unary u({1, 10, 16});
    auto s = u.b.random_weight("scale", {16}), bias = u.b.random_weight("bias", {16});
    EXPECT_TRUE(Accepted(judge(u.with("LayerNormalization", {s, bias}, {Attr::of("axis", -1)}))));
  }
  Unary u({1, 10, 16});
  auto s = u.b.random_weight("scale", {10, 16}), bias = u.b.random_weight("bias", {10, 16});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("LayerNormalization", {s, bias}, {Attr::of("axis", 1)})), "layernorm-axis"));
}

// ---------------------------------------------------------------- reductions / argmax

// A reduce with axes as an attribute (opset 17 for all but ReduceSum).
NodeVerdict reduce_attr(const std::string& op, std::vector<int64_t> axes, int64_t keepdims,
                        std::vector<int64_t> dims = {1, 8, 4, 4}) {
  Unary u(std::move(dims));
  std::vector<Attr> attrs{Attr::of("keepdims", keepdims)};
  if (!axes.empty()) attrs.push_back(Attr::of("axes", std::move(axes)));
  return judge(u.with(op, {}, std::move(attrs)));
}

TEST(RulesReduceMax, KeepdimsAndAxisRules) {
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMax", {1}, 0), "reducemax-keepdims"));
  EXPECT_TRUE(Accepted(reduce_attr("ReduceMax", {1}, 1)));
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMax", {2}, 1), "reducemax-feature-axis"));
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMax", {-1}, 1), "reducemax-feature-axis"));
  // No axes = every axis, batch included.
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMax", {}, 1), "reducemax-feature-axis"));
  // [B,N,C]: the feature axis is the last one.
  EXPECT_TRUE(Accepted(reduce_attr("ReduceMax", {-1}, 1, {1, 10, 8})));
}

TEST(RulesReduceMean, FeatureOrSpatialAcceptedBatchAndKeepdims0Rejected) {
  EXPECT_TRUE(Accepted(reduce_attr("ReduceMean", {1}, 1)));
  EXPECT_TRUE(Accepted(reduce_attr("ReduceMean", {2, 3}, 1)));  // global pooling
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMean", {1}, 0), "reducemean-keepdims"));
  EXPECT_TRUE(OnlyRejectedBy(reduce_attr("ReduceMean", {0}, 1), "reducemean-axes"));
}

TEST(RulesReduceFeatureOnly, MinL2SumSquare) {
  for (const auto& [op, prefix] : std::vector<std::pair<std::string, std::string>>{
           {"ReduceMin", "reducemin"}, {"ReduceL2", "reducel2"}, {"ReduceSumSquare", "reducesumsquare"}}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(Accepted(reduce_attr(op, {1}, 1)));
    EXPECT_TRUE(OnlyRejectedBy(reduce_attr(op, {2}, 1), prefix + "-feature-axis"));
    EXPECT_TRUE(OnlyRejectedBy(reduce_attr(op, {1}, 0), prefix + "-keepdims"));
  }
}

TEST(RulesReduceSum, AxesAsInput) {
  auto rs = [](std::vector<int64_t> axes, int64_t keepdims, bool const_axes = true) {
    Unary u({1, 8, 4, 4});
    auto a = const_axes ? u.b.ints("axes", axes) : u.b.input("axes", {1}, kInt64);
    return u.with("ReduceSum", {a}, {Attr::of("keepdims", keepdims)});
  };
  EXPECT_TRUE(Accepted(judge(rs({1}, 1))));
  EXPECT_TRUE(OnlyRejectedBy(judge(rs({2}, 1)), "reducesum-feature-axis"));
  EXPECT_TRUE(OnlyRejectedBy(judge(rs({1}, 0)), "reducesum-keepdims"));
  // Axes computed at run time: the role cannot be checked, so it is rejected.
  EXPECT_TRUE(RejectedBy(judge_no_ort(rs({}, 1, false)), "reducesum-feature-axis"));
}

TEST(RulesArgMax, FeatureAxisKeepdims1Only) {
  auto am = [](int64_t axis, int64_t keepdims) {
    Unary u({1, 8, 4, 4});
    return judge(u.with("ArgMax", {}, {Attr::of("axis", axis), Attr::of("keepdims", keepdims)}, kInt64));
  };
  EXPECT_TRUE(Accepted(am(1, 1)));  // int64 output: the float default is skipped
  EXPECT_TRUE(OnlyRejectedBy(am(2, 1), "argmax-feature-axis"));
  EXPECT_TRUE(OnlyRejectedBy(am(1, 0), "argmax-keepdims"));
}

TEST(RulesOneHot, LastAxisOnly) {
  auto oh = [](int64_t axis) {
    ModelBuilder b;
    auto i = b.input("i", {1, 4}, kInt64);
    auto depth = b.ints("depth", {8}, {});
    auto values = b.weight("values", {2}, {0.f, 1.f});
    b.output(b.node("OneHot", "n", {i, depth, values}, {Attr::of("axis", axis)}));
    return judge(b.build());
  };
  EXPECT_TRUE(Accepted(oh(-1)));
  EXPECT_TRUE(OnlyRejectedBy(oh(1), "onehot-axis"));
}

// ---------------------------------------------------------------- unsupported / unknown / fold

TEST(RulesUnsupported, DetrDecoderOpsRejected) {
  {  // TopK
    ModelBuilder b;
    auto x = b.input("x", {1, 64});
    auto o = b.node_n("TopK", "n", {x, b.ints("k", {5})}, 2, {Attr::of("axis", 1)});
    b.output(o[0]);
    b.output(o[1], {}, kInt64);
    auto v = judge(b.build());
    EXPECT_TRUE(OnlyRejectedBy(v, "unsupported-op"));
    EXPECT_EQ(v.findings[0].reason, rules("hailo8").ops.at("TopK").reason);
  }
  {  // GatherElements
    ModelBuilder b;
    auto x = b.input("x", {1, 64, 2});
    auto i = b.input("i", {1, 10, 2}, kInt64);
    b.output(b.node("GatherElements", "n", {x, i}, {Attr::of("axis", 1)}));
    EXPECT_TRUE(OnlyRejectedBy(judge_no_ort(b.build()), "unsupported-op"));
  }
  {  // GridSample
    ModelBuilder b;
    auto x = b.input("x", {1, 8, 8, 8});
    auto g = b.input("grid", {1, 4, 4, 2});
    b.output(b.node("GridSample", "n", {x, g}));
    EXPECT_TRUE(OnlyRejectedBy(judge(b.build()), "unsupported-op"));
  }
  {  // Mod
    Unary u({1, 8});
    EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Mod", {u.b.scalar("d", 3.f)}, {Attr::of("fmod", 1)})), "unsupported-op"));
  }
}

// Every op the file marks unsupported is reported with its own reason, whatever its inputs
// (the status alone decides; no model needed).
TEST(RulesUnsupported, EveryUnsupportedAndFoldOpOfTheFile) {
  for (const std::string target : {"hailo8", "hailo10h"}) {
    const auto& rs = rules(target);
    int unsupported = 0, fold = 0;
    for (const auto& [op, r] : rs.ops) {
      if (r.status != OpStatus::Unsupported && r.status != OpStatus::Fold) continue;
      SCOPED_TRACE(target + " " + op);
      onnx::GraphProto g;
      auto* n = g.add_node();
      n->set_op_type(op);
      n->set_name("n");
      n->add_input("x");
      n->add_output("y");
      Graph idx(g);
      const auto v = evaluate_node(rs, idx, {}, 0);
      ASSERT_EQ(v.findings.size(), 1u);
      EXPECT_FALSE(v.supported);
      EXPECT_FALSE(v.suspect_only);
      EXPECT_EQ(v.findings[0].rule_id, r.status == OpStatus::Fold ? "must-fold" : "unsupported-op");
      EXPECT_EQ(v.findings[0].reason, r.reason);
      EXPECT_FALSE(v.findings[0].reason.empty());
      (r.status == OpStatus::Fold ? fold : unsupported)++;
    }
    EXPECT_GT(unsupported, 20) << target;
    EXPECT_GE(fold, 3) << target;
  }
}

TEST(RulesUnknown, OpMissingFromTheFile) {
  ASSERT_EQ(rules("hailo8").ops.count("Shrink"), 0u);
  Unary u({1, 8, 4, 4});
  auto v = judge(u.with("Shrink"));
  EXPECT_TRUE(OnlyRejectedBy(v, "unknown-op"));
  EXPECT_EQ(v.findings[0].reason, rules("hailo8").unknown_op.reason);
}

TEST(RulesUnknown, NonDefaultDomainOp) {
  // A Relu of another domain is not the ONNX Relu the rule file describes.
  ModelBuilder b;
  auto* o = b.model().add_opset_import();
  o->set_domain("com.example");
  o->set_version(1);
  auto x = b.input("x", {1, 8, 4, 4});
  auto y = b.node("Relu", "n", {x});
  b.model().mutable_graph()->mutable_node(0)->set_domain("com.example");
  b.output(y);
  auto v = judge_no_ort(b.build());
  EXPECT_TRUE(RejectedBy(v, "unknown-op"));
  // ai.onnx spelled out is the default domain.
  ModelBuilder c;
  auto cx = c.input("x", {1, 8, 4, 4});
  auto cy = c.node("Relu", "n", {cx});
  c.model().mutable_graph()->mutable_node(0)->set_domain("ai.onnx");
  c.output(cy);
  EXPECT_TRUE(Accepted(judge(c.build())));
}

TEST(RulesFold, ShapeOfStaticTensorDisappearsAfterResolve) {
  // y = Reshape(x, Shape(x)): the Shape node must fold at the fixed input shape.
  ModelBuilder b;
  auto x = b.input("x", {1, 8, 4, 4});
  auto s = b.node("Shape", "shape", {x});
  auto sq = b.node("Relu", "relu", {x});
  b.output(b.node("Reshape", "n", {sq, s}));
  const auto m = b.build();

  // Unfolded, the Shape node is judged "must fold".
  {
    onnx::ModelProto copy = m;
    auto shapes = infer_shapes(copy);
    Graph g(copy.graph());
    const auto v = evaluate_node(rules("hailo8"), g, shapes, g.find_node("shape"));
    EXPECT_TRUE(OnlyRejectedBy(v, "must-fold"));
  }
  auto r = resolve(m);
  for (const auto& n : r.model.graph().node()) EXPECT_NE(n.op_type(), "Shape") << n.name();
  EXPECT_GE(r.stats.folded_nodes, 1);
  Graph g(r.model.graph());
  for (const auto& v : evaluate_graph(rules("hailo8"), g, r.shapes)) EXPECT_TRUE(Accepted(v));
}

// ---------------------------------------------------------------- the defaults

TEST(RulesDefaults, RankAbove4Rejected) {
  Unary u({1, 2, 3, 4, 5});
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Relu")), "rank"));
  Unary ok({1, 2, 3, 4});
  EXPECT_TRUE(Accepted(judge(ok.with("Relu"))));
}

TEST(RulesDefaults, UnknownShapeRejected) {
  // Judged before shapes are fixed: the dynamic batch is still symbolic.
  Unary u({-1, 3, 8, 8});
  auto m = u.with("Relu");
  auto shapes = infer_shapes(m);
  Graph g(m.graph());
  EXPECT_TRUE(OnlyRejectedBy(evaluate_node(rules("hailo8"), g, shapes, 0), "static-shape"));
  // After resolve() the batch is 1 and the same node is fine.
  EXPECT_TRUE(Accepted(judge(m)));
}

TEST(RulesDefaults, NonFloatActivationRejected) {
  Unary u({1, 8}, 17, kInt64);
  EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Neg", {}, {}, kInt64)), "float-dtype"));
  // Ops that skip the float default (Identity carries any dtype).
  Unary id({1, 8}, 17, kInt64);
  EXPECT_TRUE(Accepted(judge(id.with("Identity", {}, {}, kInt64))));
}

TEST(RulesDefaults, PlainSupportedOpsAccepted) {
  const auto& rs = rules("hailo8");
  for (const std::string op : {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Softplus", "Softsign", "Elu",
                               "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Identity",
                               "InstanceNormalization", "GlobalAveragePool", "GlobalMaxPool"}) {
    SCOPED_TRACE(op);
    ASSERT_TRUE(rs.ops.count(op));
    EXPECT_EQ(rs.ops.at(op).status, OpStatus::Supported);
    Unary u({1, 8, 4, 4});
    std::vector<std::string> extra;
    if (op == "InstanceNormalization") extra = {u.b.random_weight("s", {8}), u.b.random_weight("b", {8})};
    EXPECT_TRUE(Accepted(judge(u.with(op, extra))));
  }
  {
    Unary u({1, 8, 4, 4});
    EXPECT_TRUE(Accepted(judge(u.with("MaxPool", {}, {Attr::of("kernel_shape", std::vector<int64_t>{2, 2})}))));
  }
  {  // activation x activation MatMul (attention scores)
    ModelBuilder b;
    auto q = b.input("q", {1, 2, 16, 8}), k = b.input("k", {1, 2, 8, 16});
    b.output(b.node("MatMul", "n", {q, k}));
    EXPECT_TRUE(Accepted(judge(b.build())));
  }
}

// ---------------------------------------------------------------- the check vocabulary

// A one-op rule file with one check, to exercise checks no shipped file uses.
RuleSet custom_rules(const std::string& check_yaml) {
  return parse_rules("target: t\nops:\n  Relu:\n    status: constrained\n    constraints:\n      - " + check_yaml + "\n",
                     "custom.yaml");
}

NodeVerdict judge_with(const RuleSet& rs, const onnx::ModelProto& m) {
  auto r = resolve(m);
  Graph g(r.model.graph());
  return evaluate_node(rs, g, r.shapes, g.find_node("n"));
}

TEST(RulesChecks, BatchOne) {
  auto rs = custom_rules("{id: b1, check: batch_one, reason: \"batch 1 only\"}");
  Unary one({1, 3, 4, 4});
  EXPECT_TRUE(Accepted(judge_with(rs, one.with("Relu"))));
  Unary two({2, 3, 4, 4});
  auto v = judge_with(rs, two.with("Relu"));
  EXPECT_TRUE(OnlyRejectedBy(v, "b1"));
  EXPECT_NE(v.findings[0].detail.find("batch"), std::string::npos);
  Unary vec({5});  // rank 1 has no batch axis
  EXPECT_TRUE(Accepted(judge_with(rs, vec.with("Relu"))));
}

TEST(RulesChecks, AxesRolesDefaults) {
  // With the attribute absent: default none accepts, all checks every axis, <int> one axis.
  auto rs = custom_rules("{id: a, check: axes_roles, attr: axis, roles: [feature], default: none}");
  Unary u({1, 8, 4, 4});
  EXPECT_TRUE(Accepted(judge_with(rs, u.with("Relu"))));
  auto rs_all = custom_rules("{id: a, check: axes_roles, attr: axis, roles: [feature], default: all, reason: r}");
  Unary v({1, 8, 4, 4});
  EXPECT_TRUE(OnlyRejectedBy(judge_with(rs_all, v.with("Relu")), "a"));
  auto rs_spatial = custom_rules("{id: a, check: axes_roles, attr: axis, roles: [spatial], default: 2}");
  Unary w({1, 8, 4, 4});
  EXPECT_TRUE(Accepted(judge_with(rs_spatial, w.with("Relu"))));
}

TEST(RulesChecks, AttrInWithoutDefaultPassesWhenAbsent) {
  auto rs = custom_rules("{id: m, check: attr_in, attr: mode, values: [a]}");
  Unary u({1, 8});
  EXPECT_TRUE(Accepted(judge_with(rs, u.with("Relu"))));
}

TEST(RulesChecks, ClassifiersDirectly) {
  EXPECT_EQ(classify_reshape({1, 8, 64}, {1, 8, 4, 16}), "feature_split");
  EXPECT_EQ(classify_reshape({1, 8, 4, 16}, {1, 8, 64}), "feature_merge");
  EXPECT_EQ(classify_reshape({1, 8, 1}, {1, 8}), "unit_dims");
  EXPECT_EQ(classify_reshape({1, 6, 4}, {1, 4, 6}), "shuffle");
  EXPECT_EQ(classify_reshape({1, 6, 4}, {1, 6, 4}), "identity");
  EXPECT_EQ(classify_transpose({0, 1, 3, 2}, {1, 2, 3, 4}), "swap_last_two");
  EXPECT_EQ(classify_transpose({0, 2, 1, 3}, {1, 2, 3, 4}), "heads_split");
  EXPECT_EQ(classify_transpose({0, 3, 2, 1}, {2, 3, 4, 5}), "shuffle");
  EXPECT_EQ(classify_transpose({2, 0, 1}, {1, 8, 16}), "swap_last_two");  // unit axis moves are free
  EXPECT_EQ(axis_role(4, 1), "feature");
  EXPECT_EQ(axis_role(3, 1), "width");
  EXPECT_EQ(axis_role(5, 4), "other");
  EXPECT_EQ(feature_axis(3), 2);
  EXPECT_EQ(feature_axis(5), -1);
  for (const std::string c : {"rank_max", "static_shape", "float_only", "const_inputs", "axes_roles", "attr_in",
                              "tile_no_batch", "reshape_pattern", "transpose_pattern", "ew_broadcast",
                              "gather_const_index", "batch_one"})
    EXPECT_TRUE(is_known_check(c)) << c;
  EXPECT_FALSE(is_known_check("no_such_check"));
}

// ---------------------------------------------------------------- the same judgement via analyze_proto

TEST(RulesAnalyze, AnalyzeProtoJudgesAndCuts) {
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 3, 3})},
                  {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto r = b.node("ReduceMax", "rmax", {c}, {Attr::of("axes", std::vector<int64_t>{1}), Attr::of("keepdims", 0)});
  auto f = b.node("Reshape", "flat", {r, b.ints("shape", {1, 256})});
  auto tk = b.node_n("TopK", "topk", {f, b.ints("k", {5})}, 2, {Attr::of("axis", 1)});
  b.output(tk[0]);
  AnalyzeOptions o;
  o.target = "hailo8";
  auto a = analyze_proto(b.build(), "tiny", o);
  std::map<std::string, NodeVerdict> by;
  for (const auto& v : a.verdicts) by[v.name] = v;
  EXPECT_TRUE(Accepted(by.at("conv")));
  EXPECT_TRUE(OnlyRejectedBy(by.at("rmax"), "reducemax-keepdims"));
  EXPECT_TRUE(OnlyRejectedBy(by.at("topk"), "unsupported-op"));
  EXPECT_EQ(a.partition.stage1_nodes, 1);
  ASSERT_EQ(a.partition.crossing.size(), 1u);
  EXPECT_EQ(a.partition.crossing[0], c);
}

// ---------------------------------------------------------------- hailo10h, key cases

TEST(RulesHailo10h, KeyCasesAgreeWithHailo8) {
  for (const std::string t : {"hailo8", "hailo10h"}) {
    SCOPED_TRACE(t);
    {
      Unary u({1, 8, 4, 4});
      EXPECT_TRUE(OnlyRejectedBy(
          judge(u.with("ReduceMax", {}, {Attr::of("axes", std::vector<int64_t>{1}), Attr::of("keepdims", 0)}), "n", t),
          "reducemax-keepdims"));
    }
    {
      Unary u({1, 8, 4, 4});
      EXPECT_TRUE(OnlyRejectedBy(
          judge(u.with("ReduceMax", {}, {Attr::of("axes", std::vector<int64_t>{2}), Attr::of("keepdims", 1)}), "n", t),
          "reducemax-feature-axis"));
    }
    {
      Unary u({1, 8, 4, 4});
      EXPECT_TRUE(Accepted(
          judge(u.with("ReduceMax", {}, {Attr::of("axes", std::vector<int64_t>{1}), Attr::of("keepdims", 1)}), "n", t)));
    }
    {
      ModelBuilder b;
      auto x = b.input("x", {1, 8, 8, 8});
      b.output(b.node("GridSample", "n", {x, b.input("grid", {1, 4, 4, 2})}));
      EXPECT_TRUE(OnlyRejectedBy(judge(b.build(), "n", t), "unsupported-op"));
    }
    {
      ModelBuilder b;
      auto x = b.input("x", {1, 64});
      auto o = b.node_n("TopK", "n", {x, b.ints("k", {5})}, 2, {Attr::of("axis", 1)});
      b.output(o[0]);
      b.output(o[1], {}, kInt64);
      EXPECT_TRUE(OnlyRejectedBy(judge(b.build(), "n", t), "unsupported-op"));
    }
    EXPECT_TRUE(OnlyRejectedBy(judge(tile({2, 1, 1, 1}), "n", t), "tile-no-batch"));
    EXPECT_TRUE(Accepted(judge(tile({1, 2, 1, 1}), "n", t)));
    EXPECT_TRUE(OnlyRejectedBy(judge(binary("Mul", {1, 3, 16, 8}, {1, 1, 16, 8}, true), "n", t), "ew-mult-broadcast",
                               "suspect"));
    EXPECT_TRUE(Accepted(judge(binary("Mul", {1, 8, 4, 4}, {1, 8, 1, 1}, true), "n", t)));
    EXPECT_TRUE(RejectedBy(judge(slice({1, 2, 3, 4, 6}, {0}, {3}, {4}), "n", t), "slice-axis-roles"));
    EXPECT_TRUE(Accepted(judge(slice({1, 8, 4, 4}, {0}, {4}, {1}), "n", t)));
    EXPECT_TRUE(OnlyRejectedBy(judge(concat(0), "n", t), "concat-axis-not-batch"));
    EXPECT_TRUE(OnlyRejectedBy(judge(reshape({1, 6, 4}, {1, 4, 6}), "n", t), "reshape-pattern"));
    EXPECT_TRUE(OnlyRejectedBy(judge(transpose({2, 3, 4, 5}, {0, 3, 2, 1}), "n", t), "transpose-pattern"));
    {
      Unary u({1, 3, 8, 8});
      EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Conv", {u.b.input("w", {4, 3, 3, 3})}), "n", t), "conv-const-weights"));
    }
    {
      Unary u({1, 8, 4, 4});
      EXPECT_TRUE(OnlyRejectedBy(judge(u.with("Flatten", {}, {Attr::of("axis", 1)}), "n", t), "flatten-pattern"));
    }
  }
}

// Every constraint of the shipped files has an accept/reject test above. A new constraint
// without one fails here: add its two cases to this file, then its id to the list.
TEST(RulesCoverage, EveryConstraintIsExercised) {
  const std::set<std::string> tested = {
      "conv-const-weights", "convtranspose-const-weights", "gemm-const-weights", "clip-const-bounds",
      "ew-add-broadcast", "ew-sub-broadcast", "ew-mult-broadcast", "ew-div-broadcast", "pow-const-exponent",
      "equal-const-operand", "greater-const-operand", "less-const-operand", "resize-const-params", "resize-mode",
      "upsample-const-scales", "upsample-mode", "pad-const-pads", "pad-mode", "concat-axis-not-batch",
      "split-axis-not-batch", "split-const-sizes", "slice-axis-roles", "slice-const-bounds", "gather-const-index",
      "tile-no-batch", "reshape-pattern", "flatten-pattern", "squeeze-pattern", "unsqueeze-pattern",
      "transpose-pattern", "softmax-axis", "logsoftmax-axis", "layernorm-axis", "reducemean-axes",
      "reducemean-keepdims", "reducemax-feature-axis", "reducemax-keepdims", "reducemin-feature-axis",
      "reducemin-keepdims", "reducesum-feature-axis", "reducesum-keepdims", "reducel2-feature-axis",
      "reducel2-keepdims", "reducesumsquare-feature-axis", "reducesumsquare-keepdims", "argmax-feature-axis",
      "argmax-keepdims", "onehot-axis", "rank", "static-shape", "float-dtype",
      // Issue 15's rules: both ways in tests/test_rules_audit.cpp (RuleRepro/TwoWay, from the repro builder).
      "conv-rank3", "prelu-slope-layout", "erf-outside-gelu", "ew-add-const-layout", "ew-mult-const-layout",
      "ew-mult-const-layout-pre54", "concat-rank1", "tile-gqa-repeat", "neg-concat-rotate-half",
      "neg-concat-rotate-half-pre54", "split-graph-output"};
  for (const std::string t : {"hailo8", "hailo10h"}) {
    const auto& rs = rules(t);
    for (const auto& d : rs.defaults) EXPECT_TRUE(tested.count(d.id)) << t << " default '" << d.id << "' has no test";
    for (const auto& [op, r] : rs.ops) {
      if (r.status == OpStatus::Constrained) {
        EXPECT_FALSE(r.constraints.empty()) << t << " " << op;
      }
      for (const auto& c : r.constraints)
        EXPECT_TRUE(tested.count(c.id)) << t << " " << op << ": constraint '" << c.id << "' has no test";
    }
  }
}

// ---------------------------------------------------------------- loading rule files

using test::error_of;

TEST(RulesLoad, UnknownTargetListsTheKnownOnes) {
  const auto msg = error_of([] { load_rules("hailo9"); });
  EXPECT_NE(msg.find("hailo9"), std::string::npos) << msg;
  for (const std::string t : {"hailo8", "hailo8l", "hailo8r", "hailo10h", "hailo15h"})
    EXPECT_NE(msg.find(t), std::string::npos) << t << " missing from: " << msg;
  const auto known = known_targets();
  EXPECT_NE(std::find(known.begin(), known.end(), "hailo8l"), known.end());
}

TEST(RulesLoad, UnknownCheckNameRejected) {
  const auto d = test::temp_dir("rules_bad_check");
  const auto path = d / "bad.yaml";
  std::ofstream(path) << "target: bad\nops:\n  Relu:\n    status: constrained\n    constraints:\n"
                         "      - {id: x, check: no_such_check, reason: r}\n";
  const auto msg = error_of([&] { load_rules(path.string()); });
  EXPECT_NE(msg.find("no_such_check"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Relu"), std::string::npos) << msg;
}

TEST(RulesLoad, OtherMalformedFilesRejected) {
  EXPECT_NE(error_of([] { parse_rules("ops: {}\n", "x.yaml"); }).find("target"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rules("target: t\n", "x.yaml"); }).find("ops"), std::string::npos);
  EXPECT_NE(error_of([] { parse_rules("target: t\nops:\n  Relu: {status: maybe}\n", "x.yaml"); }).find("maybe"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_rules("target: t\nops:\n  TopK: {status: unsupported}\n", "x.yaml"); })
                .find("reason"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_rules("target: t\nops:\n  Relu:\n    status: constrained\n    constraints:\n"
                          "      - {check: rank_max, severity: fatal}\n",
                          "x.yaml");
            }).find("severity"),
            std::string::npos);
  error_of([] { parse_rules("target: [unclosed\n", "x.yaml"); });
  error_of([] { load_rules("/nonexistent/rules.yaml"); });
}

TEST(RulesLoad, AliasesAndHailo10h) {
  const auto& h8 = rules("hailo8");
  for (const std::string alias : {"hailo8l", "hailo8r"}) {
    auto rs = load_rules(alias);
    EXPECT_EQ(rs.target, "hailo8") << alias;
    EXPECT_EQ(rs.hw_arch, alias) << "hailo parser --hw-arch must name the chip asked for";
    EXPECT_EQ(rs.ops.size(), h8.ops.size());
  }
  auto h10 = load_rules("hailo10h");
  EXPECT_EQ(h10.target, "hailo10h");
  EXPECT_EQ(h10.hw_arch, "hailo10h");
  EXPECT_GT(h10.ops.size(), 100u);
  EXPECT_EQ(h10.rule_for("TopK").status, OpStatus::Unsupported);
  EXPECT_EQ(h10.rule_for("Conv").status, OpStatus::Constrained);
  EXPECT_EQ(load_rules("hailo15h").target, "hailo10h");
  // The file by path gives the same rules as the embedded copy.
  auto by_path = load_rules(std::string(NPUSPLIT_SOURCE_DIR) + "/rules/hailo8.yaml");
  EXPECT_EQ(by_path.target, "hailo8");
  EXPECT_EQ(by_path.ops.size(), h8.ops.size());
  // The suspect severity survives loading.
  const auto& mul = h8.ops.at("Mul");
  ASSERT_EQ(mul.constraints.size(), 2u);  // ew-mult-broadcast, ew-mult-const-layout (issue 15)
  EXPECT_EQ(mul.constraints[0].severity, "suspect");
  EXPECT_EQ(mul.constraints[1].severity, "suspect");
}

}  // namespace
}  // namespace npusplit
