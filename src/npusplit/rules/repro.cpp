#include "npusplit/rules/repro.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"

namespace npusplit {

namespace {

constexpr int32_t kF = onnx::TensorProto::FLOAT;
constexpr int32_t kI64 = onnx::TensorProto::INT64;
constexpr int32_t kI32 = onnx::TensorProto::INT32;
constexpr int32_t kBool = onnx::TensorProto::BOOL;
constexpr int32_t kU8 = onnx::TensorProto::UINT8;
constexpr int32_t kI8 = onnx::TensorProto::INT8;
using Dims = std::vector<int64_t>;

// A graph x[dims] -> ... -> outputs, the node under test always named "n".
struct G {
  ModelBuilder b;
  std::string x;
  explicit G(Dims dims, int opset = 17, int32_t dtype = kF) : b(opset) {
    // The IR version an exporter pairs with the opset (ONNX Runtime refuses an opset newer
    // than the IR version it is stamped with).
    b.model().set_ir_version(opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 22 ? 10 : 11);
    x = b.input("x", std::move(dims), dtype);
  }
  // OP(x, extra...) -> output (declared DIMS when ONNX inference cannot know them).
  onnx::ModelProto op(const std::string& op, std::vector<std::string> extra = {}, std::vector<Attr> attrs = {},
                      int32_t out_dtype = kF, Dims out_dims = {}) {
    std::vector<std::string> ins{x};
    for (auto& e : extra) ins.push_back(e);
    b.output(b.node(op, "n", ins, std::move(attrs)), std::move(out_dims), out_dtype);
    return b.build();
  }
};

onnx::ModelProto unary(const std::string& op, Dims d, std::vector<Attr> attrs = {}, int opset = 17) {
  G g(std::move(d), opset);
  return g.op(op, {}, std::move(attrs));
}

// x OP y, y a second input (runtime) or a constant of C_DIMS.
onnx::ModelProto binary(const std::string& op, Dims a, Dims c, bool c_const, int32_t out = kF) {
  G g(std::move(a));
  auto y = c_const ? g.b.random_weight("c", std::move(c), 1.0f) : g.b.input("y", std::move(c));
  return g.op(op, {y}, {}, out);
}

onnx::ModelProto conv(bool const_w, Dims x = {1, 3, 8, 8}, Dims w = {4, 3, 3, 3}, const std::string& op = "Conv") {
  G g(std::move(x));
  Dims pads = w.size() == 3 ? Dims{1, 1} : (w.size() == 4 && w[2] == 1 ? Dims{0, 1, 0, 1} : Dims{1, 1, 1, 1});
  auto wt = const_w ? g.b.random_weight("w", std::move(w)) : g.b.input("w", std::move(w));
  return g.op(op, {wt}, {Attr::of("pads", pads)});
}

onnx::ModelProto reduce(const std::string& op, Dims x, Dims axes, int keepdims, int32_t out = kF) {
  G g(std::move(x));
  return g.op(op, {}, {Attr::of("axes", axes), Attr::of("keepdims", static_cast<int64_t>(keepdims))}, out);
}

onnx::ModelProto reduce_in(const std::string& op, Dims x, Dims axes, int keepdims) {  // ReduceSum: axes input
  G g(std::move(x));
  return g.op(op, {g.b.ints("axes", axes)}, {Attr::of("keepdims", static_cast<int64_t>(keepdims))});
}

onnx::ModelProto reshape(Dims in, Dims out) {
  G g(std::move(in));
  return g.op("Reshape", {g.b.ints("shape", out)});
}

onnx::ModelProto transpose(Dims in, Dims perm) {
  G g(std::move(in));
  return g.op("Transpose", {}, {Attr::of("perm", perm)});
}

onnx::ModelProto concat(int64_t axis, Dims a, Dims c) {
  G g(std::move(a));
  auto y = g.b.input("y", std::move(c));
  return g.op("Concat", {y}, {Attr::of("axis", axis)});
}

onnx::ModelProto slice(Dims in, Dims starts, Dims ends, Dims axes) {
  G g(std::move(in));
  return g.op("Slice", {g.b.ints("starts", starts), g.b.ints("ends", ends), g.b.ints("axes", axes)});
}

// The GELU Erf inside torch's exact pattern, or an Erf whose result goes elsewhere.
onnx::ModelProto erf(bool gelu) {
  G g({1, 8, 4, 4});
  auto d = g.b.node("Div", "div", {g.x, g.b.scalar("sqrt2", 1.4142135f)});
  auto e = g.b.node("Erf", "n", {d});
  if (!gelu) {
    g.b.output(g.b.node("Relu", "relu", {e}));
    return g.b.build();
  }
  auto a = g.b.node("Add", "add", {e, g.b.scalar("one", 1.f)});
  auto m = g.b.node("Mul", "mul", {g.x, a});
  g.b.output(g.b.node("Mul", "half", {m, g.b.scalar("h", 0.5f)}));
  return g.b.build();
}

// RoPE rotate_half: Concat(Neg(x2), x1), or the masked form's Concat of the halves.
onnx::ModelProto rotate_half(bool neg_into_concat) {
  G g({1, 16, 8});
  auto lo = g.b.node("Slice", "lo", {g.x, g.b.ints("s0", {0}), g.b.ints("e0", {4}), g.b.ints("a0", {2})});
  auto hi = g.b.node("Slice", "hi", {g.x, g.b.ints("s1", {4}), g.b.ints("e1", {8}), g.b.ints("a1", {2})});
  auto ng = g.b.node("Neg", "n", {hi});
  if (neg_into_concat) {
    g.b.output(g.b.node("Concat", "cat", {ng, lo}, {Attr::of("axis", int64_t{2})}));
  } else {  // the Neg feeds an Add instead (a plain Neg, in the table)
    g.b.output(g.b.node("Add", "add", {ng, lo}));
  }
  return g.b.build();
}

onnx::ModelProto split(bool as_output) {
  G g({1, 8, 4, 4});
  auto o = g.b.node_n("Split", "n", {g.x, g.b.ints("sizes", {4, 4})}, 2, {Attr::of("axis", int64_t{1})});
  if (as_output) {
    g.b.output(o[0]);
    g.b.output(o[1]);
  } else {
    g.b.output(g.b.node("Add", "add", {o[0], o[1]}));
  }
  return g.b.build();
}

onnx::ModelProto tile(Dims reps) {
  G g({1, 2, 8, 4});
  auto in = g.b.node("Relu", "pre", {g.x});
  g.b.output(g.b.node("Tile", "n", {in, g.b.ints("reps", reps)}));
  return g.b.build();
}

// GQA repeat: [1,2,8] -> Unsqueeze -> [1,2,8,1] -> repeat x2 -> [1,2,8,2] -> Reshape [1,2,16],
// the repeat done by Tile or by Concat (the measured workaround's shape).
onnx::ModelProto gqa_repeat(bool with_tile) {
  G g({1, 2, 8});
  auto u = g.b.node("Unsqueeze", "unsq", {g.x, g.b.ints("ax", {3})});
  auto t = with_tile ? g.b.node("Tile", "n", {u, g.b.ints("reps", {1, 1, 1, 2})})
                     : g.b.node("Concat", "n", {u, u}, {Attr::of("axis", int64_t{3})});
  g.b.output(g.b.node("Reshape", "merge", {t, g.b.ints("shape", {1, 2, 16})}));
  return g.b.build();
}

// A constant of a dtype the builder's float/int64 helpers do not write (bool, uint8): one
// byte per element, VALUES cycled over the element count.
std::string byte_const(ModelBuilder& b, const std::string& name, int32_t dtype, Dims dims, std::vector<uint8_t> values) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(dtype);
  for (auto d : dims) t->add_dims(d);
  std::string raw(static_cast<size_t>(n), '\0');
  for (int64_t i = 0; i < n; ++i) raw[static_cast<size_t>(i)] = static_cast<char>(values[static_cast<size_t>(i) % values.size()]);
  t->set_raw_data(raw);
  return name;
}

// A control-flow body: a graph with typed inputs and outputs, built like a model.
struct Body {
  ModelBuilder b{17, "body"};
  onnx::GraphProto graph() const { return b.build().graph(); }
};

// Attaches BODY to node NODE of B as graph attribute ATTR.
void graph_attr(ModelBuilder& b, const std::string& node, const std::string& attr, const Body& body) {
  for (auto& n : *b.model().mutable_graph()->mutable_node()) {
    if (n.name() != node) continue;
    auto* a = n.add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = body.graph();
  }
}

// A body computing OP on the outer-scope tensor X (If branches read it without inputs).
Body outer_unary(const std::string& op, const std::string& x, const std::string& out, Dims dims) {
  Body body;
  body.b.output(body.b.node(op, out, {x}), std::move(dims));
  return body;
}

// RoPE tables for 8 tokens and a rotary dim of 4: per half [1, 8, 2] (RotaryEmbedding's
// caches), or FULL [1, 8, 4] for the masked form (cos twice; sin with the -1/+1 sign mask).
struct RopeTables {
  std::vector<float> cos, sin;
};
RopeTables rope_tables(bool full) {
  RopeTables t;
  for (int p = 0; p < 8; ++p) {
    const float a[2] = {static_cast<float>(p), static_cast<float>(p) * 0.01f};  // theta = 1, 1/100
    for (int half = 0; half < (full ? 2 : 1); ++half)
      for (int k = 0; k < 2; ++k) {
        t.cos.push_back(std::cos(a[k]));
        t.sin.push_back((full && half == 0 ? -1.f : 1.f) * std::sin(a[k]));
      }
  }
  return t;
}

struct Pair {
  onnx::ModelProto fail, pass;
  std::string what;
  std::vector<std::string> also = {};
  std::map<std::string, std::vector<int64_t>> run_with = {};
};
using Recipe = std::function<Pair()>;

// Constraint and default rules, by id (the same ids in both files).
const std::map<std::string, Recipe>& constraint_recipes() {
  static const std::map<std::string, Recipe> r = {
      {"rank", [] { return Pair{unary("Relu", {1, 2, 3, 4, 4}), unary("Relu", {1, 6, 4, 4}), "5-D Relu vs 4-D"}; }},
      {"float-dtype", [] {
         G f({1, 8}, 17, kI64);
         G p({1, 8});
         return Pair{f.op("Neg", {}, {}, kI64), p.op("Neg"), "Neg on int64 vs float"};
       }},
      {"conv-const-weights", [] { return Pair{conv(false), conv(true), "Conv with a graph-input kernel vs an initializer"}; }},
      {"conv-rank3", [] {
         return Pair{conv(true, {1, 8, 16}, {8, 8, 3}), conv(true, {1, 8, 1, 16}, {8, 8, 1, 3}),
                     "Conv1d on [1,8,16] vs Conv2d (1,3) on [1,8,1,16]"};
       }},
      {"convtranspose-const-weights", [] {
         return Pair{conv(false, {1, 3, 8, 8}, {3, 4, 3, 3}, "ConvTranspose"),
                     conv(true, {1, 3, 8, 8}, {3, 4, 3, 3}, "ConvTranspose"), "ConvTranspose runtime vs constant kernel"};
       }},
      {"gemm-const-weights", [] {
         return Pair{binary("Gemm", {1, 16}, {16, 8}, false), binary("Gemm", {1, 16}, {16, 8}, true), "Gemm runtime vs constant B"};
       }},
      {"prelu-slope-layout", [] {
         return Pair{binary("PRelu", {1, 4, 8, 8}, {8}, true), binary("PRelu", {1, 4, 8, 8}, {4, 1, 1}, true),
                     "PRelu slope [8] (broadcasts over W) vs [4,1,1] (per channel)"};
       }},
      {"erf-outside-gelu", [] { return Pair{erf(false), erf(true), "Erf feeding a Relu vs torch's exact GELU"}; }},
      {"neg-concat-rotate-half", [] { return Pair{rotate_half(true), rotate_half(false), "Neg -> Concat (rotate_half) vs Neg -> Add"}; }},
      {"neg-concat-rotate-half-pre54", [] { return Pair{rotate_half(true), rotate_half(false), "Neg -> Concat vs Neg -> Add"}; }},
      {"clip-const-bounds", [] {
         G f({1, 8, 4, 4});
         auto lo = f.b.input("lo", {});
         G p({1, 8, 4, 4});
         auto hi = f.b.scalar("hi", 6.f);
         return Pair{f.op("Clip", {lo, hi}, {}), p.op("Clip", {p.b.scalar("lo", 0.f), p.b.scalar("hi", 6.f)}),
                     "Clip with a runtime min vs constant bounds"};
       }},
      {"ew-add-broadcast", [] { return Pair{binary("Add", {1, 8, 4, 4}, {1}, false), binary("Add", {1, 8, 4, 4}, {1, 8, 4, 4}, false), "x + runtime scalar vs x + same-shape"}; }},
      {"ew-add-const-layout", [] { return Pair{binary("Add", {1, 4, 8, 8}, {1, 4, 8, 1}, true), binary("Add", {1, 4, 8, 8}, {1, 4, 1, 1}, true), "x + constant [1,4,8,1] vs per-channel [1,4,1,1]"}; }},
      {"ew-sub-broadcast", [] { return Pair{binary("Sub", {1, 8, 4, 4}, {1}, false), binary("Sub", {1, 8, 4, 4}, {1, 8, 4, 4}, false), "x - runtime scalar vs same-shape"}; }},
      {"ew-mult-broadcast", [] { return Pair{binary("Mul", {1, 3, 16, 8}, {1, 1, 16, 8}, false), binary("Mul", {1, 3, 16, 8}, {1, 3, 16, 8}, false), "RoPE-style [1,3,16,8]*[1,1,16,8] vs same-shape"}; }},
      {"ew-mult-const-layout", [] { return Pair{binary("Mul", {1, 4, 8, 8}, {1, 4, 8, 1}, true), binary("Mul", {1, 4, 8, 8}, {1, 4, 8, 8}, true), "x * constant [1,4,8,1] vs full-shape constant"}; }},
      {"ew-mult-const-layout-pre54", [] { return Pair{binary("Mul", {1, 4, 8, 8}, {1, 4, 8, 1}, true), binary("Mul", {1, 4, 8, 8}, {1, 4, 8, 8}, true), "x * constant [1,4,8,1] vs full-shape constant"}; }},
      {"ew-div-broadcast", [] { return Pair{binary("Div", {1, 8, 4, 4}, {1}, false), binary("Div", {1, 8, 4, 4}, {1}, true), "x / runtime scalar vs x / constant"}; }},
      {"pow-const-exponent", [] { return Pair{binary("Pow", {1, 8, 4, 4}, {1}, false), binary("Pow", {1, 8, 4, 4}, {1}, true), "Pow with a runtime vs constant exponent"}; }},
      {"equal-const-operand", [] { return Pair{binary("Equal", {1, 8}, {1, 8}, false, kBool), binary("Equal", {1, 8}, {1}, true, kBool), "Equal of two activations vs with a constant"}; }},
      {"greater-const-operand", [] { return Pair{binary("Greater", {1, 8}, {1, 8}, false, kBool), binary("Greater", {1, 8}, {1}, true, kBool), "Greater of two activations vs with a constant"}; }},
      {"less-const-operand", [] { return Pair{binary("Less", {1, 8}, {1, 8}, false, kBool), binary("Less", {1, 8}, {1}, true, kBool), "Less of two activations vs with a constant"}; }},
      {"resize-const-params", [] {
         G f({1, 3, 8, 8});
         auto sc = f.b.input("scales", {4});
         G p({1, 3, 8, 8});
         return Pair{f.op("Resize", {"", sc}, {}, kF, {1, 3, 16, 16}), p.op("Resize", {"", p.b.weight("scales", {4}, {1, 1, 2, 2})}),
                     "Resize with runtime scales vs constant x2 nearest"};
       }},
      {"resize-mode", [] {
         G f({1, 3, 8, 8});
         G p({1, 3, 8, 8});
         return Pair{f.op("Resize", {"", f.b.weight("scales", {4}, {1, 1, 2, 2})}, {Attr::of("mode", "cubic")}),
                     p.op("Resize", {"", p.b.weight("scales", {4}, {1, 1, 2, 2})}, {Attr::of("mode", "linear")}),
                     "cubic vs linear Resize x2"};
       }},
      {"upsample-const-scales", [] {
         G f({1, 3, 4, 4}, 9);
         auto sc = f.b.input("scales", {4});
         G p({1, 3, 4, 4}, 9);
         return Pair{f.op("Upsample", {sc}, {}, kF, {1, 3, 8, 8}), p.op("Upsample", {p.b.weight("scales", {4}, {1, 1, 2, 2})}),
                     "Upsample (opset 9) runtime vs constant scales"};
       }},
      {"upsample-mode", [] {
         G f({1, 3, 4, 4}, 9);
         G p({1, 3, 4, 4}, 9);
         return Pair{f.op("Upsample", {f.b.weight("scales", {4}, {1, 1, 2, 2})}, {Attr::of("mode", "cubic")}),
                     p.op("Upsample", {p.b.weight("scales", {4}, {1, 1, 2, 2})}, {Attr::of("mode", "nearest")}),
                     "cubic vs nearest Upsample"};
       }},
      {"pad-const-pads", [] {
         G f({1, 3, 8, 8});
         auto pads = f.b.input("pads", {8}, kI64);
         G p({1, 3, 8, 8});
         return Pair{f.op("Pad", {pads}, {}, kF, {1, 3, 10, 10}), p.op("Pad", {p.b.ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})}),
                     "Pad with runtime vs constant pads", {"float-dtype"}};
       }},
      {"pad-mode", [] {
         G f({1, 3, 8, 8});
         G p({1, 3, 8, 8});
         return Pair{f.op("Pad", {f.b.ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})}, {Attr::of("mode", "reflect")}),
                     p.op("Pad", {p.b.ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})}), "reflect vs constant (zero) Pad"};
       }},
      {"concat-axis-not-batch", [] { return Pair{concat(0, {1, 8, 4, 4}, {1, 8, 4, 4}), concat(1, {1, 8, 4, 4}, {1, 8, 4, 4}), "Concat on batch vs on features"}; }},
      {"concat-rank1", [] { return Pair{concat(0, {8}, {8}), concat(1, {1, 8}, {1, 8}), "rank-1 Concat vs rank-2 on features"}; }},
      {"split-axis-not-batch", [] {
         auto mk = [](int64_t axis, Dims in) {
           G g(std::move(in));
           auto o = g.b.node_n("Split", "n", {g.x, g.b.ints("sizes", {1, 1})}, 2, {Attr::of("axis", axis)});
           g.b.output(g.b.node("Add", "add", {o[0], o[1]}));
           return g.b.build();
         };
         return Pair{mk(0, {2, 8, 4, 4}), mk(1, {1, 2, 4, 4}), "Split on batch vs on features"};
       }},
      {"split-const-sizes", [] {
         G f({1, 8, 4, 4});
         auto o = f.b.node_n("Split", "n", {f.x, f.b.input("sizes", {2}, kI64)}, 2, {Attr::of("axis", int64_t{1})});
         for (const auto& t : o) f.b.output(t, {1, 4, 4, 4});
         return Pair{f.b.build(), split(false), "Split with runtime vs constant sizes", {"float-dtype", "split-graph-output"},
                     {{"sizes", {4, 4}}}};
       }},
      {"split-graph-output", [] { return Pair{split(true), split(false), "Split outputs as graph outputs vs consumed by an Add"}; }},
      {"slice-axis-roles", [] {
         return Pair{slice({2, 16, 8, 8}, {0}, {1}, {0}), slice({1, 16, 8, 8}, {0}, {4}, {1}), "Slice on the batch axis vs on features"};
       }},
      {"slice-const-bounds", [] {
         G f({1, 16, 8, 8});
         auto st = f.b.input("starts", {1}, kI64);
         return Pair{f.op("Slice", {st, f.b.ints("ends", {8}), f.b.ints("axes", {1})}, {}, kF, {1, 8, 8, 8}),
                     slice({1, 16, 8, 8}, {0}, {8}, {1}), "Slice with runtime vs constant starts", {"float-dtype"}};
       }},
      {"gather-const-index", [] {
         G f({2, 16, 8});
         G p({1, 16, 8});
         return Pair{f.op("Gather", {f.b.ints("idx", {0}, {})}, {Attr::of("axis", int64_t{0})}),
                     p.op("Gather", {p.b.ints("idx", {0}, {})}, {Attr::of("axis", int64_t{1})}),
                     "Gather on the batch axis (timm qkv[0]) vs a constant token index (class token)"};
       }},
      {"tile-no-batch", [] { return Pair{tile({2, 1, 1, 1}), tile({1, 2, 1, 1}), "Tile on batch vs on features"}; }},
      {"tile-gqa-repeat", [] { return Pair{gqa_repeat(true), gqa_repeat(false), "Unsqueeze -> Tile -> Reshape (GQA repeat) vs the repeat as a Concat"}; }},
      {"reshape-pattern", [] { return Pair{reshape({1, 8, 4, 4}, {1, 4, 32}), reshape({1, 8, 16}, {1, 8, 4, 4}), "channel-mixing reshape vs head split"}; }},
      {"flatten-pattern", [] {
         G f({1, 8, 4, 4});
         G p({1, 8, 1, 1});
         return Pair{f.op("Flatten"), p.op("Flatten"), "Flatten of a 4x4 map vs of a pooled 1x1 map"};
       }},
      {"squeeze-pattern", [] {
         G f({1, 2, 8});
         G p({1, 1, 8, 4});
         return Pair{f.op("Squeeze", {f.b.ints("ax", {0})}), p.op("Squeeze", {p.b.ints("ax", {1})}),
                     "Squeeze of the batch axis (data moves onto it) vs dropping a unit axis"};
       }},
      {"unsqueeze-pattern", [] {
         G f({4, 8});
         G p({1, 8});
         return Pair{f.op("Unsqueeze", {f.b.ints("ax", {0})}), p.op("Unsqueeze", {p.b.ints("ax", {2})}), "Unsqueeze pushing data off the batch vs a unit axis"};
       }},
      {"transpose-pattern", [] { return Pair{transpose({1, 8, 4, 6}, {0, 3, 2, 1}), transpose({1, 8, 4, 6}, {0, 1, 3, 2}), "NCHW shuffle perm vs swap of the last two"}; }},
      {"softmax-axis", [] {
         return Pair{unary("Softmax", {1, 8, 4, 4}, {Attr::of("axis", int64_t{2})}), unary("Softmax", {1, 8, 4, 4}, {Attr::of("axis", int64_t{1})}),
                     "Softmax over H vs over features"};
       }},
      {"logsoftmax-axis", [] {
         return Pair{unary("LogSoftmax", {1, 8, 4, 4}, {Attr::of("axis", int64_t{2})}), unary("LogSoftmax", {1, 8, 4, 4}, {Attr::of("axis", int64_t{1})}),
                     "LogSoftmax over H vs over features"};
       }},
      {"layernorm-axis", [] {
         auto mk = [](int64_t axis, Dims scale) {
           G g({1, 16, 8});
           return g.op("LayerNormalization", {g.b.random_weight("s", scale, 1.f)}, {Attr::of("axis", axis)});
         };
         return Pair{mk(1, {16, 8}), mk(-1, {8}), "LayerNorm over tokens+features vs over features"};
       }},
      {"reducemean-axes", [] { return Pair{reduce("ReduceMean", {1, 8, 4, 4}, {0}, 1), reduce("ReduceMean", {1, 8, 4, 4}, {2, 3}, 1), "ReduceMean over batch vs over H,W"}; }},
      {"reducemean-keepdims", [] { return Pair{reduce("ReduceMean", {1, 8, 4, 4}, {1}, 0), reduce("ReduceMean", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"reducemax-feature-axis", [] { return Pair{reduce("ReduceMax", {1, 8, 4, 4}, {2}, 1), reduce("ReduceMax", {1, 8, 4, 4}, {1}, 1), "ReduceMax over H vs features"}; }},
      {"reducemax-keepdims", [] { return Pair{reduce("ReduceMax", {1, 8, 4, 4}, {1}, 0), reduce("ReduceMax", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"reducemin-feature-axis", [] { return Pair{reduce("ReduceMin", {1, 8, 4, 4}, {3}, 1), reduce("ReduceMin", {1, 8, 4, 4}, {1}, 1), "ReduceMin over W vs features"}; }},
      {"reducemin-keepdims", [] { return Pair{reduce("ReduceMin", {1, 8, 4, 4}, {1}, 0), reduce("ReduceMin", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"reducesum-feature-axis", [] { return Pair{reduce_in("ReduceSum", {1, 8, 16}, {1}, 1), reduce_in("ReduceSum", {1, 8, 16}, {2}, 1), "ReduceSum over tokens vs features"}; }},
      {"reducesum-keepdims", [] { return Pair{reduce_in("ReduceSum", {1, 8, 4, 4}, {1}, 0), reduce_in("ReduceSum", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"reducel2-feature-axis", [] { return Pair{reduce("ReduceL2", {1, 8, 4, 4}, {2}, 1), reduce("ReduceL2", {1, 8, 4, 4}, {1}, 1), "ReduceL2 over H vs features"}; }},
      {"reducel2-keepdims", [] { return Pair{reduce("ReduceL2", {1, 8, 4, 4}, {1}, 0), reduce("ReduceL2", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"reducesumsquare-feature-axis", [] { return Pair{reduce("ReduceSumSquare", {1, 8, 4, 4}, {2}, 1), reduce("ReduceSumSquare", {1, 8, 4, 4}, {1}, 1), "over H vs features"}; }},
      {"reducesumsquare-keepdims", [] { return Pair{reduce("ReduceSumSquare", {1, 8, 4, 4}, {1}, 0), reduce("ReduceSumSquare", {1, 8, 4, 4}, {1}, 1), "keepdims=0 vs 1"}; }},
      {"argmax-feature-axis", [] {
         G f({1, 8, 4, 4});
         G p({1, 8, 4, 4});
         return Pair{f.op("ArgMax", {}, {Attr::of("axis", int64_t{2})}, kI64), p.op("ArgMax", {}, {Attr::of("axis", int64_t{1})}, kI64),
                     "ArgMax over H vs features"};
       }},
      {"argmax-keepdims", [] {
         G f({1, 8, 4, 4});
         G p({1, 8, 4, 4});
         return Pair{f.op("ArgMax", {}, {Attr::of("axis", int64_t{1}), Attr::of("keepdims", int64_t{0})}, kI64),
                     p.op("ArgMax", {}, {Attr::of("axis", int64_t{1})}, kI64), "keepdims=0 vs 1"};
       }},
      {"onehot-axis", [] {
         auto mk = [](int64_t axis) {
           G g({1, 4}, 17, kI64);
           return g.op("OneHot", {g.b.ints("depth", {8}, {}), g.b.weight("values", {2}, {0, 1})}, {Attr::of("axis", axis)});
         };
         return Pair{mk(1), mk(-1), "OneHot axis=1 vs axis=-1"};
       }},
  };
  return r;
}

// The harness neighbour of an unsupported op: the same input through a Relu (an op every
// target takes), so a failure of the failing graph is the op's and not the harness's.
onnx::ModelProto relu_neighbour(Dims d, int opset = 17) { return unary("Relu", std::move(d), {}, opset); }

// Unsupported and fold ops: a valid single-node graph of the op.
const std::map<std::string, std::function<onnx::ModelProto()>>& op_recipes() {
  using M = onnx::ModelProto;
  static const std::map<std::string, std::function<M()>> r = {
      {"Selu", [] { return unary("Selu", {1, 8, 4, 4}); }},
      {"Celu", [] { return unary("Celu", {1, 8, 4, 4}); }},
      {"ThresholdedRelu", [] { return unary("ThresholdedRelu", {1, 8, 4, 4}); }},
      {"Sign", [] { return unary("Sign", {1, 8, 4, 4}); }},
      {"Floor", [] { return unary("Floor", {1, 8, 4, 4}); }},
      {"Ceil", [] { return unary("Ceil", {1, 8, 4, 4}); }},
      {"Round", [] { return unary("Round", {1, 8, 4, 4}); }},
      {"Sin", [] { return unary("Sin", {1, 8, 4, 4}); }},
      {"Cos", [] { return unary("Cos", {1, 8, 4, 4}); }},
      {"Hardmax", [] { return unary("Hardmax", {1, 8, 4, 4}); }},
      {"LpNormalization", [] { return unary("LpNormalization", {1, 8, 4, 4}, {Attr::of("axis", int64_t{1})}); }},
      {"MeanVarianceNormalization", [] { return unary("MeanVarianceNormalization", {1, 8, 4, 4}); }},
      {"GlobalLpPool", [] { return unary("GlobalLpPool", {1, 8, 4, 4}); }},
      {"LpPool", [] { return unary("LpPool", {1, 8, 4, 4}, {Attr::of("kernel_shape", Dims{2, 2})}); }},
      {"LRN", [] { return unary("LRN", {1, 8, 4, 4}, {Attr::of("size", int64_t{3})}); }},
      {"Trilu", [] { return unary("Trilu", {1, 8, 4, 4}); }},
      {"ReduceL1", [] { return reduce("ReduceL1", {1, 8, 4, 4}, {1}, 1); }},
      {"ReduceProd", [] { return reduce("ReduceProd", {1, 8, 4, 4}, {1}, 1); }},
      {"ReduceLogSum", [] { return reduce("ReduceLogSum", {1, 8, 4, 4}, {1}, 1); }},
      {"ReduceLogSumExp", [] { return reduce("ReduceLogSumExp", {1, 8, 4, 4}, {1}, 1); }},
      {"ArgMin", [] {
         G g({1, 8, 4, 4});
         return g.op("ArgMin", {}, {Attr::of("axis", int64_t{1})}, kI64);
       }},
      {"CumSum", [] {
         G g({1, 8, 4, 4});
         return g.op("CumSum", {g.b.ints("axis", {1}, {})});
       }},
      {"Cast", [] {
         G g({1, 8, 4, 4});
         return g.op("Cast", {}, {Attr::of("to", int64_t{kI32})}, kI32);
       }},
      {"CastLike", [] {
         G g({1, 8, 4, 4});
         return g.op("CastLike", {g.b.ints("like", {0}, {})}, {}, kI64);
       }},
      {"Einsum", [] {
         G g({1, 4, 8});
         return g.op("Einsum", {g.b.input("y", {1, 8, 4})}, {Attr::of("equation", "bij,bjk->bik")});
       }},
      {"Mod", [] {
         G g({1, 8, 4, 4});
         return g.op("Mod", {g.b.scalar("d", 3.f)}, {Attr::of("fmod", int64_t{1})});
       }},
      {"Sum", [] { return binary("Sum", {1, 8, 4, 4}, {1, 8, 4, 4}, false); }},
      {"Mean", [] { return binary("Mean", {1, 8, 4, 4}, {1, 8, 4, 4}, false); }},
      {"GreaterOrEqual", [] { return binary("GreaterOrEqual", {1, 8}, {1}, true, kBool); }},
      {"LessOrEqual", [] { return binary("LessOrEqual", {1, 8}, {1}, true, kBool); }},
      {"Not", [] {
         G g({1, 8}, 17, kBool);
         return g.op("Not", {}, {}, kBool);
       }},
      {"And", [] {
         G g({1, 8}, 17, kBool);
         return g.op("And", {g.b.input("y", {1, 8}, kBool)}, {}, kBool);
       }},
      {"Or", [] {
         G g({1, 8}, 17, kBool);
         return g.op("Or", {g.b.input("y", {1, 8}, kBool)}, {}, kBool);
       }},
      {"Xor", [] {
         G g({1, 8}, 17, kBool);
         return g.op("Xor", {g.b.input("y", {1, 8}, kBool)}, {}, kBool);
       }},
      {"Where", [] {
         ModelBuilder b;
         auto c = b.input("cond", {1, 8}, kBool);
         auto x = b.input("x", {1, 8});
         b.output(b.node("Where", "n", {c, x, b.input("y", {1, 8})}));
         return b.build();
       }},
      {"Expand", [] {
         G g({1, 1, 8});
         return g.op("Expand", {g.b.ints("shape", {1, 4, 8})});
       }},
      {"TopK", [] {
         ModelBuilder b;
         auto x = b.input("x", {1, 16});
         auto o = b.node_n("TopK", "n", {x, b.ints("k", {4})}, 2, {Attr::of("axis", int64_t{1})});
         b.output(o[0]);
         b.output(o[1], {}, kI64);
         return b.build();
       }},
      {"GatherElements", [] {
         G g({1, 16, 4});
         return g.op("GatherElements", {g.b.input("idx", {1, 8, 4}, kI64)}, {Attr::of("axis", int64_t{1})});
       }},
      {"GatherND", [] {
         G g({4, 8});
         return g.op("GatherND", {g.b.input("idx", {2, 1}, kI64)});
       }},
      {"ScatterND", [] {
         G g({4, 8});
         return g.op("ScatterND", {g.b.input("idx", {2, 1}, kI64), g.b.input("upd", {2, 8})});
       }},
      {"ScatterElements", [] {
         G g({1, 8});
         return g.op("ScatterElements", {g.b.input("idx", {1, 2}, kI64), g.b.input("upd", {1, 2})}, {Attr::of("axis", int64_t{1})});
       }},
      {"GridSample", [] {
         G g({1, 4, 8, 8});
         return g.op("GridSample", {g.b.input("grid", {1, 4, 4, 2})});
       }},
      {"RoiAlign", [] {
         G g({1, 4, 8, 8});
         return g.op("RoiAlign", {g.b.input("rois", {2, 4}), g.b.input("bidx", {2}, kI64)});
       }},
      {"MaxUnpool", [] {
         G g({1, 4, 4, 4});
         return g.op("MaxUnpool", {g.b.input("idx", {1, 4, 4, 4}, kI64)}, {Attr::of("kernel_shape", Dims{2, 2}), Attr::of("strides", Dims{2, 2})});
       }},
      {"NonZero", [] {
         G g({1, 8});
         return g.op("NonZero", {}, {}, kI64);
       }},
      {"Unique", [] {
         G g({8});
         return g.op("Unique");
       }},
      {"NonMaxSuppression", [] {
         ModelBuilder b;
         auto bx = b.input("boxes", {1, 8, 4});
         b.output(b.node("NonMaxSuppression", "n", {bx, b.input("scores", {1, 1, 8}), b.ints("max", {4}, {})}), {}, kI64);
         return b.build();
       }},
      {"QuantizeLinear", [] {
         G g({1, 8, 4, 4});
         return g.op("QuantizeLinear", {g.b.scalar("scale", 0.1f)}, {}, kU8);
       }},
      {"DequantizeLinear", [] {
         G g({1, 8, 4, 4}, 17, kI8);
         return g.op("DequantizeLinear", {g.b.scalar("scale", 0.1f)});
       }},
      {"DynamicQuantizeLinear", [] {
         ModelBuilder b;
         auto x = b.input("x", {1, 8});
         auto o = b.node_n("DynamicQuantizeLinear", "n", {x}, 3);
         b.output(o[0], {}, kU8);
         b.output(o[1]);
         b.output(o[2], {}, kU8);
         return b.build();
       }},
      {"MatMulInteger", [] {
         G g({1, 4, 8}, 17, kU8);
         return g.op("MatMulInteger", {g.b.input("w", {8, 4}, kU8)}, {}, kI32);
       }},
      {"ConvInteger", [] {
         G g({1, 1, 8, 8}, 17, kU8);
         return g.op("ConvInteger", {g.b.input("w", {2, 1, 3, 3}, kU8)}, {}, kI32);
       }},
      {"Range", [] {
         ModelBuilder b;
         auto lim = b.input("limit", {});
         b.output(b.node("Range", "n", {b.scalar("start", 0.f), lim, b.scalar("delta", 1.f)}));
         return b.build();
       }},
      {"EyeLike", [] { return unary("EyeLike", {4, 4}); }},
      // Ops newer than opset 17, each at the opset that introduced its current form.
      {"Mish", [] { return unary("Mish", {1, 8, 4, 4}, {}, 18); }},
      {"Gelu", [] { return unary("Gelu", {1, 8, 4, 4}, {}, 20); }},
      {"GroupNormalization", [] {  // opset 21: per-channel scale and bias
         G g({1, 8, 4, 4}, 21);
         return g.op("GroupNormalization", {g.b.random_weight("s", {8}, 1.f), g.b.random_weight("bias", {8})},
                     {Attr::of("num_groups", int64_t{8})});
       }},
      {"RMSNormalization", [] {
         G g({1, 16, 8}, 23);
         return g.op("RMSNormalization", {g.b.random_weight("s", {8}, 1.f)}, {Attr::of("axis", int64_t{-1})});
       }},
      {"Attention", [] {  // 4-D q, k, v: [batch, heads, tokens, head size]
         G g({1, 2, 8, 4}, 23);
         return g.op("Attention", {g.b.input("k", {1, 2, 8, 4}), g.b.input("v", {1, 2, 8, 4})});
       }},
      {"RotaryEmbedding", [] {  // [batch, tokens, features], one head; no position ids: caches [1, tokens, 2]
         G g({1, 8, 4}, 23);
         const auto t = rope_tables(false);
         return g.op("RotaryEmbedding", {g.b.weight("cos", {1, 8, 2}, t.cos), g.b.weight("sin", {1, 8, 2}, t.sin)},
                     {Attr::of("num_heads", int64_t{1})});
       }},
      // Control flow: the node carries its body as a graph attribute; the folder never folds it.
      {"If", [] {
         ModelBuilder b;
         auto c = b.input("cond", {}, kBool);
         auto x = b.input("x", {1, 8, 4, 4});
         b.output(b.node("If", "n", {c}), {1, 8, 4, 4});
         graph_attr(b, "n", "then_branch", outer_unary("Relu", x, "then", {1, 8, 4, 4}));
         graph_attr(b, "n", "else_branch", outer_unary("Sigmoid", x, "else", {1, 8, 4, 4}));
         return b.build();
       }},
      {"Loop", [] {  // two iterations of v = Relu(v), no condition
         G g({1, 8, 4, 4});
         Body body;
         body.b.input("iter", {}, kI64);
         auto cin = body.b.input("cond_in", {}, kBool);
         auto v = body.b.input("v_in", {1, 8, 4, 4});
         body.b.output(body.b.node("Identity", "cond", {cin}), {}, kBool);
         body.b.output(body.b.node("Relu", "step", {v}), {1, 8, 4, 4});
         g.b.output(g.b.node("Loop", "n", {g.b.ints("trip_count", {2}, {}), "", g.x}), {1, 8, 4, 4});
         graph_attr(g.b, "n", "body", body);
         return g.b.build();
       }},
      {"Scan", [] {  // one scan input over axis 0, one scan output: Relu per slice
         G g({1, 8, 4, 4});
         Body body;
         auto xi = body.b.input("x_i", {8, 4, 4});
         body.b.output(body.b.node("Relu", "step", {xi}), {8, 4, 4});
         g.b.output(g.b.node("Scan", "n", {g.x}, {Attr::of("num_scan_inputs", int64_t{1})}), {1, 8, 4, 4});
         graph_attr(g.b, "n", "body", body);
         return g.b.build();
       }},
      // Fold ops the folder cannot remove: their value is itself a graph output (never folded).
      {"Shape", [] {
         G g({1, 8, 4, 4});
         return g.op("Shape", {}, {}, kI64, {4});
       }},
      {"Size", [] {
         G g({1, 8, 4, 4});
         return g.op("Size", {}, {}, kI64);
       }},
      {"ConstantOfShape", [] {  // its input (Shape of x) folds; its output is the graph's
         G g({1, 8, 4, 4});
         g.b.output(g.b.node("ConstantOfShape", "n", {g.b.node("Shape", "shape", {g.x})}), {1, 8, 4, 4});
         return g.b.build();
       }},
      {"Scatter", [] {  // removed from the standard at opset 11: built at opset 10
         G g({1, 8}, 10);
         return g.op("Scatter", {g.b.input("idx", {1, 2}, kI64), g.b.input("upd", {1, 2})}, {Attr::of("axis", int64_t{1})});
       }},
      {"Compress", [] {  // a constant bool mask keeping every other feature
         G g({1, 8});
         return g.op("Compress", {byte_const(g.b, "mask", kBool, {8}, {1, 0})}, {Attr::of("axis", int64_t{1})}, kF, {1, 4});
       }},
      {"QLinearConv", [] {
         G g({1, 1, 8, 8}, 17, kU8);
         auto xs = g.b.scalar("x_scale", 0.02f), xz = byte_const(g.b, "x_zp", kU8, {}, {128});
         auto w = byte_const(g.b, "w", kU8, {2, 1, 3, 3}, {120, 130, 128});
         auto ws = g.b.scalar("w_scale", 0.01f), wz = byte_const(g.b, "w_zp", kU8, {}, {128});
         auto ys = g.b.scalar("y_scale", 0.05f), yz = byte_const(g.b, "y_zp", kU8, {}, {128});
         return g.op("QLinearConv", {xs, xz, w, ws, wz, ys, yz}, {}, kU8);
       }},
      {"QLinearMatMul", [] {
         G g({1, 4, 8}, 17, kU8);
         auto as = g.b.scalar("a_scale", 0.02f), az = byte_const(g.b, "a_zp", kU8, {}, {128});
         auto w = byte_const(g.b, "b", kU8, {8, 4}, {120, 130, 128});
         auto bs = g.b.scalar("b_scale", 0.01f), bz = byte_const(g.b, "b_zp", kU8, {}, {128});
         auto ys = g.b.scalar("y_scale", 0.05f), yz = byte_const(g.b, "y_zp", kU8, {}, {128});
         return g.op("QLinearMatMul", {as, az, w, bs, bz, ys, yz}, {}, kU8);
       }},
  };
  return r;
}

// The nearest passing neighbour of an op, where it is closer than the Relu harness: what the
// rule's fix turns the failing graph into (the exact decomposition, the unrolled body, the
// folded value, the float model), at the same opset.
struct Neighbour {
  std::function<onnx::ModelProto()> make;
  std::string what;
};
const std::map<std::string, Neighbour>& op_neighbours() {
  static const std::map<std::string, Neighbour> r = {
      {"Mish", {[] {
                  G g({1, 8, 4, 4}, 18);
                  auto t = g.b.node("Tanh", "tanh", {g.b.node("Softplus", "softplus", {g.x})});
                  g.b.output(g.b.node("Mul", "mul", {g.x, t}));
                  return g.b.build();
                }, "the fused Mish op (opset 18) vs the exact Mul(x, Tanh(Softplus(x))) at opset 18"}},
      {"Gelu", {[] {
                  G g({1, 8, 4, 4}, 20);
                  auto e = g.b.node("Erf", "erf", {g.b.node("Div", "div", {g.x, g.b.scalar("sqrt2", 1.4142135f)})});
                  auto m = g.b.node("Mul", "mul", {g.x, g.b.node("Add", "add", {e, g.b.scalar("one", 1.f)})});
                  g.b.output(g.b.node("Mul", "half", {m, g.b.scalar("h", 0.5f)}));
                  return g.b.build();
                }, "the fused Gelu op (opset 20) vs torch's exact Erf pattern at opset 20"}},
      {"GroupNormalization", {[] {
                                G g({1, 8, 4, 4}, 21);
                                return g.op("InstanceNormalization", {g.b.random_weight("s", {8}, 1.f), g.b.random_weight("bias", {8})});
                              }, "GroupNormalization with one channel per group (opset 21) vs the same math as InstanceNormalization"}},
      {"RMSNormalization", {[] {
                              G g({1, 16, 8}, 23);
                              auto sq = g.b.node("Pow", "pow", {g.x, g.b.scalar("two", 2.f)});
                              auto ms = g.b.node("ReduceMean", "mean", {sq, g.b.ints("axes", {-1})});
                              auto rms = g.b.node("Sqrt", "sqrt", {g.b.node("Add", "eps", {ms, g.b.scalar("e", 1e-5f)})});
                              auto d = g.b.node("Div", "div", {g.x, rms});
                              g.b.output(g.b.node("Mul", "scale", {d, g.b.random_weight("s", {8}, 1.f)}));
                              return g.b.build();
                            }, "RMSNormalization (opset 23) vs its Pow/ReduceMean/Add/Sqrt/Div/Mul decomposition at opset 23"}},
      {"Attention", {[] {
                       G g({1, 2, 8, 4}, 23);
                       auto kt = g.b.node("Transpose", "kt", {g.b.input("k", {1, 2, 8, 4})}, {Attr::of("perm", Dims{0, 1, 3, 2})});
                       auto s = g.b.node("Mul", "scale", {g.b.node("MatMul", "qk", {g.x, kt}), g.b.scalar("inv_sqrt_d", 0.5f)});
                       auto p = g.b.node("Softmax", "softmax", {s}, {Attr::of("axis", int64_t{-1})});
                       g.b.output(g.b.node("MatMul", "pv", {p, g.b.input("v", {1, 2, 8, 4})}));
                       return g.b.build();
                     }, "the Attention op (opset 23) vs MatMul/Softmax/MatMul attention in the timm layout at opset 23"}},
      {"RotaryEmbedding", {[] {
                             // x * cos + Concat(x[..., 2:], x[..., :2]) * (sign * sin): the masked form.
                             G g({1, 8, 4}, 23);
                             const auto t = rope_tables(true);
                             auto lo = g.b.node("Slice", "lo", {g.x, g.b.ints("s0", {0}), g.b.ints("e0", {2}), g.b.ints("a0", {2})});
                             auto hi = g.b.node("Slice", "hi", {g.x, g.b.ints("s1", {2}), g.b.ints("e1", {4}), g.b.ints("a1", {2})});
                             auto sw = g.b.node("Concat", "swap", {hi, lo}, {Attr::of("axis", int64_t{2})});
                             auto c = g.b.node("Mul", "xcos", {g.x, g.b.weight("cos", {1, 8, 4}, t.cos)});
                             auto sn = g.b.node("Mul", "swsin", {sw, g.b.weight("sin", {1, 8, 4}, t.sin)});
                             g.b.output(g.b.node("Add", "rope", {c, sn}));
                             return g.b.build();
                           }, "RotaryEmbedding (opset 23) vs the same rotation in the masked form (rope-masked) at opset 23"}},
      {"Compress", {[] {
                      G g({1, 8});
                      return g.op("Gather", {g.b.ints("kept", {0, 2, 4, 6})}, {Attr::of("axis", int64_t{1})});
                    }, "Compress with a constant mask vs a Gather of the same kept features (constant indices)"}},
      {"If", {[] { return unary("Relu", {1, 8, 4, 4}); }, "If(cond) {Relu(x)} else {Sigmoid(x)} vs the branch alone (re-exported with the condition fixed)"}},
      {"Loop", {[] {
                  G g({1, 8, 4, 4});
                  g.b.output(g.b.node("Relu", "step1", {g.b.node("Relu", "step0", {g.x})}));
                  return g.b.build();
                }, "Loop of two Relu steps vs the loop unrolled"}},
      {"Scan", {[] { return unary("Relu", {1, 8, 4, 4}); }, "Scan applying Relu per slice vs the Relu on the whole tensor"}},
      {"Shape", {[] {
                   G g({1, 8, 4, 4});
                   g.b.output(g.b.node("Reshape", "reshape", {g.b.node("Relu", "relu", {g.x}), g.b.node("Shape", "n", {g.x})}));
                   return g.b.build();
                 }, "Shape(x) as a graph output (left by the folder) vs Shape(x) read by a Reshape (folded)"}},
      {"Size", {[] {
                  G g({1, 8, 4, 4});
                  auto f = g.b.node("Cast", "cast", {g.b.node("Size", "n", {g.x})}, {Attr::of("to", int64_t{kF})});
                  g.b.output(g.b.node("Div", "div", {g.x, f}));
                  return g.b.build();
                }, "Size(x) as a graph output vs x / Size(x) (folded into a constant divisor)"}},
      {"ConstantOfShape", {[] {
                             G g({1, 8, 4, 4});
                             auto z = g.b.node("ConstantOfShape", "n", {g.b.node("Shape", "shape", {g.x})});
                             g.b.output(g.b.node("Add", "add", {g.x, z}));
                             return g.b.build();
                           }, "ConstantOfShape as a graph output vs x + ConstantOfShape(Shape(x)) (folded)"}},
      {"QLinearConv", {[] { return conv(true, {1, 1, 8, 8}, {2, 1, 3, 3}); }, "QLinearConv on uint8 vs the float Conv hailo optimize quantizes"}},
      {"QLinearMatMul", {[] { return binary("MatMul", {1, 4, 8}, {8, 4}, true); }, "QLinearMatMul on uint8 vs the float MatMul"}},
  };
  return r;
}

// Why an op has no graph repro (it still has its status test in tests/test_rules.cpp).
std::string why_no_op_repro(const std::string& op) { return "no minimal graph recipe for " + op; }

const OpRule* op_of_constraint(const RuleSet& rs, const std::string& id) {
  for (const auto& [op, r] : rs.ops)
    for (const auto& c : r.constraints)
      if (c.id == id) return &r;
  return nullptr;
}

const Constraint* constraint(const RuleSet& rs, const std::string& id) {
  for (const auto& d : rs.defaults)
    if (d.id == id) return &d;
  for (const auto& [op, r] : rs.ops)
    for (const auto& c : r.constraints)
      if (c.id == id) return &c;
  return nullptr;
}

}  // namespace

std::optional<Repro> make_repro(const RuleSet& rs, const std::string& rule, std::string* why_not) {
  auto no = [&](std::string why) -> std::optional<Repro> {
    if (why_not) *why_not = std::move(why);
    return std::nullopt;
  };
  Repro r;
  r.target = rs.target;
  r.rule = rule;
  r.dfc = rs.dfc;
  if (rule.rfind("op:", 0) == 0) {
    const std::string op = rule.substr(3);
    auto it = rs.ops.find(op);
    if (it == rs.ops.end() || (it->second.status != OpStatus::Unsupported && it->second.status != OpStatus::Fold))
      return no(fmt::format("{} has no unsupported/fold op entry {}", rs.target, op));
    auto rec = op_recipes().find(op);
    if (rec == op_recipes().end()) return no(why_no_op_repro(op));
    r.failing = rec->second();
    if (auto nb = op_neighbours().find(op); nb != op_neighbours().end()) {
      r.passing = nb->second.make();
      r.what = nb->second.what;
      return r;
    }
    Dims first;
    for (const auto& d : r.failing.graph().input(0).type().tensor_type().shape().dim()) first.push_back(d.dim_value());
    const int opset = static_cast<int>(r.failing.opset_import(0).version());
    r.passing = relu_neighbour(first.empty() ? Dims{1, 8} : first, opset);
    r.what = fmt::format("{} alone vs the same input through a Relu at the same opset (harness check)", op);
    return r;
  }
  const Constraint* c = constraint(rs, rule);
  if (!c) return no(fmt::format("{} has no rule '{}'", rs.target, rule));
  if (c->check == "static_shape")
    return no("check resolves every file before its rules run: a dynamic batch is fixed to 1, another dynamic "
              "input dim is refused (exit 2, give --input-shape), and every shape ONNX inference leaves unknown is "
              "measured by ONNX Runtime, so no file reaches the rule with an unknown shape");
  auto rec = constraint_recipes().find(rule);
  if (rec == constraint_recipes().end()) return no("no minimal graph recipe for " + rule);
  // A rule limited to some DFC versions is reproduced at the newest version it covers.
  if (!c->dfc_max.empty() && compare_versions(c->dfc_max, r.dfc) < 0) r.dfc = c->dfc_max;
  if (!c->dfc_min.empty() && compare_versions(c->dfc_min, r.dfc) > 0) r.dfc = c->dfc_min;
  (void)op_of_constraint;
  auto p = rec->second();
  r.failing = std::move(p.fail);
  r.passing = std::move(p.pass);
  r.what = p.what;
  r.also = p.also;
  r.run_with = p.run_with;
  return r;
}

std::optional<onnx::ModelProto> supported_op_graph(const std::string& op) {
  static const std::set<std::string> unary_ops = {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Softplus", "Softsign",
                                                  "Elu", "Exp", "Log", "Sqrt", "Abs", "Reciprocal", "Identity", "Dropout",
                                                  "GlobalAveragePool", "GlobalMaxPool"};
  if (unary_ops.count(op)) return unary(op, {1, 8, 4, 4});
  if (op == "HardSwish") return unary(op, {1, 8, 4, 4}, {}, 14);
  if (op == "MaxPool" || op == "AveragePool") return unary(op, {1, 8, 4, 4}, {Attr::of("kernel_shape", Dims{2, 2})});
  if (op == "DepthToSpace" || op == "SpaceToDepth") return unary(op, {1, 8, 4, 4}, {Attr::of("blocksize", int64_t{2})});
  if (op == "Min" || op == "Max" || op == "MatMul") return binary(op, {1, 2, 8, 8}, {1, 2, 8, 8}, false);
  if (op == "Neg") return unary(op, {1, 8, 4, 4});
  if (op == "LSTM" || op == "GRU" || op == "RNN") {  // [tokens, batch, features], hidden size 4, constant weights
    const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
    G g({8, 1, 6});
    auto w = g.b.random_weight("w", {1, gates * 4, 6}), r = g.b.random_weight("r", {1, gates * 4, 4});
    g.b.output(g.b.node(op, "n", {g.x, w, r}, {Attr::of("hidden_size", int64_t{4})}));
    return g.b.build();
  }
  if (op == "Constant") {  // x + Constant: the node becomes an initializer before any rule runs
    G g({1, 8});
    auto* n = g.b.model().mutable_graph()->add_node();
    n->set_op_type("Constant");
    n->set_name("n");
    n->add_output("c");
    auto* a = n->add_attribute();
    a->set_name("value_float");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(0.5f);
    g.b.output(g.b.node("Add", "add", {g.x, "c"}));
    return g.b.build();
  }
  if (op == "InstanceNormalization") {
    G g({1, 8, 4, 4});
    return g.op(op, {g.b.random_weight("s", {8}), g.b.random_weight("b", {8})});
  }
  if (op == "BatchNormalization") {
    G g({1, 8, 4, 4});
    return g.op(op, {g.b.random_weight("s", {8}), g.b.random_weight("b", {8}), g.b.random_weight("m", {8}),
                     g.b.weight("v", {8}, std::vector<float>(8, 1.f))});
  }
  return std::nullopt;
}

bool has_repro(const RuleSet& rs, const std::string& rule) {
  if (rule.rfind("op:", 0) == 0) return rs.ops.count(rule.substr(3)) && op_recipes().count(rule.substr(3));
  const Constraint* c = constraint(rs, rule);
  return c && c->check != "static_shape" && constraint_recipes().count(rule);
}

std::vector<std::filesystem::path> write_repro(const Repro& r, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::string stem;
  for (char ch : r.rule) stem += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-') ? ch : '_';
  const auto fail_p = dir / (stem + ".fail.onnx"), pass_p = dir / (stem + ".pass.onnx"), txt = dir / (stem + ".txt");
  save_model(r.failing, fail_p);
  save_model(r.passing, pass_p);
  std::string t = fmt::format(
      "rule {} (target {}, DFC {})\n{}\n\n"
      "npusplit predicts: {} is rejected (node 'n'), {} parses.\n"
      "Confirm with the Dataflow Compiler:\n"
      "  hailo parser onnx {} --hw-arch {} -y\n"
      "  hailo parser onnx {} --hw-arch {} -y\n"
      "If the first parses, the rule is wrong for this DFC: please report it with the parser log.\n"
      "Note (research §0.5): a reshape-like op alone can be absorbed rather than refused; if the\n"
      "passing graph's end node is reported missing from the HN, that is absorption, not a refusal.\n",
      r.rule, r.target, r.dfc, r.what, fail_p.filename().string(), pass_p.filename().string(),
      fail_p.filename().string(), r.target, pass_p.filename().string(), r.target);
  write_file_atomic(txt, t);
  return {fail_p, pass_p, txt};
}

}  // namespace npusplit
