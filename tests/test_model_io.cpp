// Model I/O: every bad-input case gives a one-line npusplit::Error (and exit 2 in the CLI).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/io/parallel_parse.h"
#include "npusplit/base/sha256.h"
#include "npusplit/ir/graph.h"
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

// The parallel parse (io/parallel_parse.h) must give the message one ParseFromString gives,
// whatever order the fields come in, and refuse (so that the one-piece parse decides) whatever
// it does not understand.
namespace {
using WFL = google::protobuf::internal::WireFormatLite;

std::string field(int number, const std::string& payload) {
  std::string out;
  google::protobuf::io::StringOutputStream s(&out);
  google::protobuf::io::CodedOutputStream c(&s);
  c.WriteTag(WFL::MakeTag(number, WFL::WIRETYPE_LENGTH_DELIMITED));
  c.WriteVarint32(static_cast<uint32_t>(payload.size()));
  c.WriteString(payload);
  return out;
}

onnx::ModelProto model_with_weights() {
  ModelBuilder b;
  auto x = b.input("x", {1, 4, 8, 8});
  auto w1 = b.random_weight("w1", {4, 4, 3, 3}, 0.1f, 1);
  auto w2 = b.random_weight("w2", {4, 4, 1, 1}, 0.1f, 2);
  auto c1 = b.node("Conv", "c1", {x, w1}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto c2 = b.node("Conv", "c2", {c1, w2});
  b.output(c2, {1, 4, 8, 8});
  auto m = b.build();
  auto* t = m.mutable_graph()->add_initializer();  // typed storage, not raw_data
  t->set_name("unused_typed");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(3);
  for (float v : {1.f, 2.f, 3.f}) t->add_float_data(v);
  m.mutable_graph()->mutable_initializer(0)->set_doc_string("first weight");
  return m;
}

bool parse_parallel(const std::filesystem::path& p, onnx::ModelProto& out, int threads) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  const int64_t size = static_cast<int64_t>(std::filesystem::file_size(p));
  const bool ok = parse_model_parallel(fd, size, out, threads);
  ::close(fd);
  return ok;
}
}  // namespace

TEST(ParallelParse, GivesTheMessageOneParseGivesWhateverTheFieldOrder) {
  const auto d = temp_dir("io_parallel");
  const onnx::ModelProto m = model_with_weights();
  // The graph's fields interleaved by hand: an initializer before the nodes, one between them,
  // an unknown field (99) among them; the model's fields around the graph in an unusual order.
  const auto& g = m.graph();
  std::string graph = field(5, g.initializer(2).SerializeAsString()) + field(1, g.node(0).SerializeAsString()) +
                      field(5, g.initializer(0).SerializeAsString()) + field(99, "kept as unknown") +
                      field(1, g.node(1).SerializeAsString()) + field(5, g.initializer(1).SerializeAsString());
  for (const auto& v : g.input()) graph += field(11, v.SerializeAsString());
  for (const auto& v : g.output()) graph += field(12, v.SerializeAsString());
  graph += field(2, g.name());
  onnx::ModelProto head = m;
  head.clear_graph();
  const std::string bytes = field(14, "") + field(7, graph) + head.SerializeAsString();
  write_bytes(d / "m.onnx", bytes);
  onnx::ModelProto one;
  ASSERT_TRUE(one.ParseFromString(bytes));
  ASSERT_EQ(one.graph().initializer_size(), 3);
  for (int threads : {1, 2, 3, 8}) {
    onnx::ModelProto par;
    ASSERT_TRUE(parse_parallel(d / "m.onnx", par, threads)) << threads;
    EXPECT_EQ(par.SerializeAsString(), one.SerializeAsString()) << threads << " thread(s)";
  }
}

TEST(ParallelParse, LeavesWhatItDoesNotUnderstandToTheOnePieceParse) {
  const auto d = temp_dir("io_parallel_refuse");
  const std::string good = model_with_weights().SerializeAsString();
  onnx::ModelProto out;
  write_bytes(d / "ok.onnx", good);
  EXPECT_TRUE(parse_parallel(d / "ok.onnx", out, 2));
  // Truncated: the graph longer than the file (a cut in the middle, one byte short), no graph.
  for (size_t cut : {good.size() / 2, good.size() - 1, size_t{3}}) {
    write_bytes(d / "t.onnx", good.substr(0, cut));
    EXPECT_FALSE(parse_parallel(d / "t.onnx", out, 2)) << cut;
    EXPECT_EQ(out.ByteSizeLong(), 0u);
  }
  const onnx::ModelProto built = model_with_weights();
  const auto& g = built.graph();
  // Two initializers: fewer are left to the one-piece parse anyway, which would prove nothing.
  const std::string nodes = field(1, g.node(0).SerializeAsString()) + field(5, g.initializer(0).SerializeAsString()) +
                            field(5, g.initializer(1).SerializeAsString());
  onnx::ModelProto head = model_with_weights();
  head.clear_graph();
  const std::string rest = head.SerializeAsString();
  {  // the well-formed file these are made from is taken
    write_bytes(d / "made.onnx", field(7, nodes) + rest);
    EXPECT_TRUE(parse_parallel(d / "made.onnx", out, 2));
  }
  auto refused_by_both = [&](const std::string& name, const std::string& bytes) {
    write_bytes(d / name, bytes);
    EXPECT_FALSE(parse_parallel(d / name, out, 2)) << name;
    onnx::ModelProto one;
    EXPECT_FALSE(one.ParseFromString(bytes)) << name << ": the one-piece parse takes it, so should this test";
  };
  // An initializer longer than its graph (the graph itself fits the file).
  refused_by_both("init_past_graph.onnx", field(7, nodes + std::string("\x2a\xe8\x07", 3) + std::string(10, 'x')) + rest);
  // Tags and lengths longer than protobuf's parser takes (6 bytes): read as 32 bits they would
  // name field 7 and a small length, and a file the parser refuses would come out valid.
  const std::string long_tag = std::string("\xba\x80\x80\x80\x80\x00", 6);
  std::string graph_len;
  {
    google::protobuf::io::StringOutputStream so(&graph_len);
    google::protobuf::io::CodedOutputStream c(&so);
    c.WriteVarint32(static_cast<uint32_t>(nodes.size()));
  }
  refused_by_both("long_tag.onnx", long_tag + graph_len + nodes + rest);
  // The same length in 6 bytes: continuation bits on, then zero groups, the last one ending it.
  std::string long_len = graph_len;
  for (auto& c : long_len) c = static_cast<char>(c | 0x80);
  while (long_len.size() < 5) long_len += '\x80';
  long_len += '\x00';
  refused_by_both("long_len.onnx", std::string("\x3a", 1) + long_len + nodes + rest);
  // The same inside the graph: an initializer's tag and an initializer's length in 6 bytes.
  const std::string init0 = g.initializer(0).SerializeAsString(), node0 = field(1, g.node(0).SerializeAsString());
  std::string init_len;
  {
    google::protobuf::io::StringOutputStream so(&init_len);
    google::protobuf::io::CodedOutputStream c(&so);
    c.WriteVarint32(static_cast<uint32_t>(init0.size()));
  }
  std::string init_long_len = init_len;
  for (auto& c : init_long_len) c = static_cast<char>(c | 0x80);
  while (init_long_len.size() < 5) init_long_len += '\x80';
  init_long_len += '\x00';
  const std::string second = field(5, g.initializer(1).SerializeAsString());
  refused_by_both("init_long_tag.onnx",
                  field(7, node0 + std::string("\xaa\x80\x80\x80\x80\x00", 6) + init_len + init0 + second) + rest);
  refused_by_both("init_long_len.onnx", field(7, node0 + std::string("\x2a", 1) + init_long_len + init0 + second) + rest);
  // The graph as a group (wire type 3), with two initializers in it: not this parser's business
  // (protobuf keeps it as an unknown field and the model has no graph).
  write_bytes(d / "group.onnx", std::string("\x3b", 1) + nodes + std::string("\x3c", 1) + rest);
  EXPECT_FALSE(parse_parallel(d / "group.onnx", out, 2));
  // Two graph fields (protobuf merges them): not this parser's business.
  write_bytes(d / "two.onnx", good + field(7, field(2, "second")));
  EXPECT_FALSE(parse_parallel(d / "two.onnx", out, 2));
  onnx::ModelProto merged;
  EXPECT_TRUE(merged.ParseFromString(good + field(7, field(2, "second"))));
  // An initializer whose bytes are not a TensorProto.
  onnx::ModelProto broken = model_with_weights();
  std::string gbytes = broken.graph().SerializeAsString() + field(5, std::string("\xff\xff\xff", 3));
  broken.clear_graph();
  write_bytes(d / "bad.onnx", broken.SerializeAsString() + field(7, gbytes));
  EXPECT_FALSE(parse_parallel(d / "bad.onnx", out, 2));
}

TEST(ParallelParse, AnInitializerFieldOfAnotherWireTypeIsKeptAsTheOnePieceParseKeepsIt) {
  const auto d = temp_dir("io_parallel_wiretype");
  const onnx::ModelProto m = model_with_weights();
  onnx::ModelProto head = m;
  head.clear_graph();
  // Field 5 as a varint: protobuf keeps it as an unknown field of the graph.
  const std::string graph = m.graph().SerializeAsString() + std::string("\x28\x07", 2);
  const std::string bytes = field(7, graph) + head.SerializeAsString();
  write_bytes(d / "m.onnx", bytes);
  onnx::ModelProto one, par;
  ASSERT_TRUE(one.ParseFromString(bytes));
  ASSERT_TRUE(parse_parallel(d / "m.onnx", par, 2));
  EXPECT_EQ(par.SerializeAsString(), one.SerializeAsString());
}

TEST(ParallelParse, LoadModelOfALargeFileGivesTheSameModelAndTheSameErrors) {
  // Over the 16 MiB from which load_model parses on several threads.
  const auto d = temp_dir("io_parallel_large");
  ModelBuilder b;
  auto x = b.input("x", {1, 1024});
  std::string y = x;
  for (int i = 0; i < 5; ++i) {
    auto w = b.random_weight("w" + std::to_string(i), {1024, 1024}, 0.01f, static_cast<uint32_t>(i + 1));
    y = b.node("MatMul", "mm" + std::to_string(i), {y, w});
  }
  b.output(y, {1, 1024});
  const auto m = b.build();
  save_model(m, d / "big.onnx");
  ASSERT_GT(std::filesystem::file_size(d / "big.onnx"), 16u << 20);
  onnx::ModelProto par;
  ASSERT_TRUE(parse_parallel(d / "big.onnx", par, 2)) << "the large file takes the parallel path";
  EXPECT_EQ(par.SerializeAsString(), m.SerializeAsString());
  const auto loaded = load_model(d / "big.onnx");
  EXPECT_EQ(loaded.SerializeAsString(), m.SerializeAsString());
  const std::string bytes = read_file(d / "big.onnx");
  write_bytes(d / "cut.onnx", bytes.substr(0, bytes.size() - 4096));
  EXPECT_NE(error_of(d / "cut.onnx").find("corrupt or truncated"), std::string::npos);
}

TEST(SaveModel, WeightsInTypedStorageAreStreamedAndHashed) {
  // 40 MiB of float_data (no raw_data): serialized through a bounded buffer, not as pieces; the
  // same bytes and hash either way.
  const auto d = temp_dir("io_typed_weights");
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  b.output(b.node("Relu", "r", {x}), {1, 4});
  auto m = b.build();
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("big_typed");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(10 << 20);
  t->mutable_float_data()->Resize(10 << 20, 0.25f);
  OutputSet set;
  const std::string hash = set.add_model(d / "typed.onnx", m);
  set.commit();
  EXPECT_EQ(read_file(d / "typed.onnx"), m.SerializeAsString());
  EXPECT_EQ(hash, sha256_file(d / "typed.onnx"));
  // And a model of large raw_data goes as pieces: the same guarantee.
  auto r = b.build();
  r.mutable_graph()->add_initializer()->CopyFrom(make_float_tensor("big_raw", {1 << 20}, std::vector<float>(1 << 20, 0.5f)));
  const std::string hash2 = set.add_model(d / "raw.onnx", r);
  set.commit();
  EXPECT_EQ(read_file(d / "raw.onnx"), r.SerializeAsString());
  EXPECT_EQ(hash2, sha256_file(d / "raw.onnx"));
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
