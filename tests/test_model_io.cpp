// Model I/O: every bad-input case gives a one-line npusplit::Error (and exit 2 in the CLI).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "test_support.h"

namespace npusplit {
namespace {

using test::temp_dir;

onnx::ModelProto tiny_model(int opset = 17) {
  ModelBuilder b(opset);
  auto x = b.input("x", {1, 3, 8, 8});
  auto y = b.node("Relu", "relu", {x});
  b.output(y, {1, 3, 8, 8});
  return b.build();
}

void write_bytes(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

std::string error_of(const std::filesystem::path& p) {
  try {
    load_model(p);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error must be one line: " << msg;
    return msg;
  }
  return "";
}

TEST(ModelIo, RoundTripsAModel) {
  const auto d = temp_dir("io_roundtrip");
  save_model(tiny_model(), d / "m.onnx");
  auto m = load_model(d / "m.onnx");
  EXPECT_EQ(m.graph().node_size(), 1);
  EXPECT_EQ(m.graph().node(0).op_type(), "Relu");
}

TEST(ModelIo, MissingFile) { EXPECT_NE(error_of("/nonexistent/model.onnx").find("no such file"), std::string::npos); }

TEST(ModelIo, EmptyFile) {
  const auto d = temp_dir("io_empty");
  write_bytes(d / "e.onnx", "");
  EXPECT_NE(error_of(d / "e.onnx").find("empty file"), std::string::npos);
}

TEST(ModelIo, RandomBytes) {
  const auto d = temp_dir("io_random");
  std::mt19937 rng(7);
  std::string junk(4096, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  write_bytes(d / "r.onnx", junk);
  EXPECT_FALSE(error_of(d / "r.onnx").empty());
}

TEST(ModelIo, TruncatedProtobuf) {
  const auto d = temp_dir("io_trunc");
  std::string bytes;
  auto m = tiny_model();
  test::shared_dir();
  ASSERT_TRUE(m.SerializeToString(&bytes));
  write_bytes(d / "t.onnx", bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error_of(d / "t.onnx").find("corrupt or truncated"), std::string::npos);
}

TEST(ModelIo, TruncatedRealModel) {
  NPUSPLIT_REQUIRE_MODEL(path, "deimv2_atto.onnx");
  const auto d = temp_dir("io_trunc_real");
  std::string bytes = read_file(path);
  write_bytes(d / "t.onnx", bytes.substr(0, bytes.size() - 1000));
  EXPECT_FALSE(error_of(d / "t.onnx").empty());
}

TEST(ModelIo, OpsetNewerThanSupported) {
  const auto d = temp_dir("io_opset");
  auto m = tiny_model(max_supported_opset() + 2);
  save_model(m, d / "o.onnx");
  EXPECT_NE(error_of(d / "o.onnx").find("newer than supported"), std::string::npos);
}

TEST(ModelIo, IrVersionNewerThanSupported) {
  const auto d = temp_dir("io_ir");
  auto m = tiny_model();
  m.set_ir_version(max_supported_ir_version() + 1);
  save_model(m, d / "i.onnx");
  EXPECT_NE(error_of(d / "i.onnx").find("IR version"), std::string::npos);
}

TEST(ModelIo, NoGraph) {
  const auto d = temp_dir("io_nograph");
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  save_model(m, d / "n.onnx");
  EXPECT_NE(error_of(d / "n.onnx").find("no graph"), std::string::npos);
}

TEST(ModelIo, ExternalDataIsInlinedAndMissingDataIsAnError) {
  const auto d = temp_dir("io_external");
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto w = b.weight("w", {4, 4}, std::vector<float>(16, 0.5f));
  b.output(b.node("MatMul", "mm", {x, w}), {1, 4});
  auto m = b.build();
  // Move the weight into an external file, as exporters do for large models.
  auto* t = m.mutable_graph()->mutable_initializer(0);
  const std::string raw = t->raw_data();
  write_bytes(d / "weights.bin", std::string(8, 'x') + raw);
  t->clear_raw_data();
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", "weights.bin");
  add("offset", "8");
  add("length", std::to_string(raw.size()));
  save_model(m, d / "ext.onnx");
  auto loaded = load_model(d / "ext.onnx");
  EXPECT_EQ(loaded.graph().initializer(0).raw_data(), raw);
  std::filesystem::remove(d / "weights.bin");
  EXPECT_NE(error_of(d / "ext.onnx").find("external data"), std::string::npos);
}

TEST(ModelIo, SaveIsAtomicAndLeavesNoTempFiles) {
  const auto d = temp_dir("io_atomic");
  save_model(tiny_model(), d / "a.onnx");
  save_model(tiny_model(), d / "a.onnx");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(d)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_THROW(save_model(tiny_model(), "/proc/npusplit-cannot-write/a.onnx"), Error);
}

TEST(Cli, BadInputsExitTwoWithOneLine) {
  const auto d = temp_dir("cli_bad");
  write_bytes(d / "junk.onnx", "this is not a model");
  for (const std::string& args : std::vector<std::string>{"check /nonexistent.onnx", "check '" + (d / "junk.onnx").string() + "'",
                                 "info '" + (d / "junk.onnx").string() + "'", "check"}) {
    auto r = test::run_cli(args, "bad");
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_TRUE(r.out.empty()) << args;
  }
  auto r = test::run_cli("check /nonexistent.onnx", "bad1");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace npusplit
