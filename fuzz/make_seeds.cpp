// Writes the fuzzer's seed corpus: small models built in code that reach the interesting
// parts of npusplit (folding of shape arithmetic, Resize with constant scales, control flow,
// a DETR-like detector with GridSample/TopK, external data), so mutation starts from valid
// models instead of random bytes. Usage: npusplit_fuzz_seeds DIR
#include <cstdio>
#include <filesystem>
#include <string>

#include "npusplit/app/demo_model.h"
#include "npusplit/ir/builder.h"

namespace {
using npusplit::Attr;
using npusplit::ModelBuilder;

void write(const std::filesystem::path& dir, const std::string& name, const onnx::ModelProto& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  FILE* f = std::fopen((dir / (name + ".onnx")).c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  {
    ModelBuilder b;
    auto x = b.input("x", {1, 3, 8, 8});
    auto w = b.random_weight("w", {4, 3, 3, 3});
    auto c = b.node("Conv", "conv", {x, w}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
    b.output(b.node("Relu", "relu", {c}), {1, 4, 8, 8});
    write(dir, "conv", b.build());
  }
  {
    // Shape arithmetic that folding evaluates: Shape -> Gather -> Concat -> Reshape.
    ModelBuilder b;
    auto x = b.input("x", {1, 4, 6, 6});
    auto s = b.node("Shape", "shape", {x});
    auto g = b.node("Gather", "gather", {s, b.ints("idx", {1}, {1})}, {Attr::of("axis", 0)});
    auto cat = b.node("Concat", "cat", {b.ints("one", {1}, {1}), g, b.ints("m1", {-1}, {1})}, {Attr::of("axis", 0)});
    auto r = b.node("Reshape", "reshape", {x, cat});
    auto t = b.node("Transpose", "tr", {r}, {Attr::of("perm", std::vector<int64_t>{0, 2, 1})});
    b.output(b.node("Softmax", "sm", {t}, {Attr::of("axis", -1)}), {1, 36, 4});
    write(dir, "shape_chain", b.build());
  }
  {
    ModelBuilder b;
    auto x = b.input("x", {1, 2, 4, 4});
    auto scales = b.weight("scales", {4}, {1.f, 1.f, 2.f, 2.f});
    auto r = b.node("Resize", "resize", {x, "", scales}, {Attr::of("mode", "nearest")});
    b.output(r, {1, 2, 8, 8});
    write(dir, "resize", b.build());
  }
  {
    ModelBuilder b;
    auto x = b.input("x", {1, 8, 16});
    auto k = b.ints("k", {3}, {1});
    auto rm = b.node("ReduceMax", "rmax", {x}, {Attr::of("axes", std::vector<int64_t>{2}), Attr::of("keepdims", 0)});
    auto tk = b.node_n("TopK", "topk", {rm, k}, 2, {Attr::of("axis", 1)});
    auto ge = b.node("GatherElements", "ge", {rm, tk[1]}, {Attr::of("axis", 1)});
    b.output(ge, {1, 3});
    write(dir, "topk", b.build());
  }
  {
    ModelBuilder b;
    auto x = b.input("x", {1, 4, 5, 5});
    auto grid = b.input("grid", {1, 3, 3, 2});
    b.output(b.node("GridSample", "gs", {x, grid}, {Attr::of("align_corners", 0)}), {1, 4, 3, 3});
    write(dir, "grid_sample", b.build());
  }
  {
    // External data: the fuzzer's sandbox folder holds weights.bin (4096 bytes).
    ModelBuilder b;
    auto x = b.input("x", {1, 2, 4, 4});
    auto w = b.random_weight("w", {2, 2, 1, 1});
    b.output(b.node("Conv", "conv", {x, w}), {1, 2, 4, 4});
    auto m = b.build();
    auto* t = m.mutable_graph()->mutable_initializer(0);
    t->clear_raw_data();
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    for (auto [k, v] : {std::pair{"location", "weights.bin"}, {"offset", "64"}, {"length", "16"}}) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    write(dir, "external", m);
  }
  write(dir, "demo_detector", npusplit::build_demo_detector());
  return 0;
}
