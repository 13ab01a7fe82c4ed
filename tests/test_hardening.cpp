// Hostile input: checked arithmetic at the int64 boundaries, the model validation that runs
// before anything else reads a model, external data confined to the model's folder, atomic
// output sets, and one-line errors from library exceptions.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <limits>
#include <new>
#include <thread>

#include "npusplit/base/checked_math.h"
#include "npusplit/base/sha256.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/io/model_io.h"
#include "npusplit/io/split_manifest.h"
#include <opencv2/imgcodecs.hpp>

#include "npusplit/app/demo_model.h"
#include "npusplit/io/validate.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/ort/host_tensor.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::run_cli;
using test::temp_dir;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// ---- checked arithmetic -------------------------------------------------------------------

TEST(CheckedMath, MulAtTheBoundaries) {
  EXPECT_EQ(checked_mul(0, kMax), 0);
  EXPECT_EQ(checked_mul(1, kMax), kMax);
  EXPECT_EQ(checked_mul(kMax / 2, 2), kMax - 1);
  EXPECT_FALSE(checked_mul(kMax / 2 + 1, 2));
  EXPECT_FALSE(checked_mul(int64_t{1} << 32, int64_t{1} << 31));
  EXPECT_FALSE(checked_mul(-1, 5));  // negative dims are never a size
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
}

TEST(CheckedMath, AddAtTheBoundaries) {
  EXPECT_EQ(checked_add(kMax - 1, 1), kMax);
  EXPECT_FALSE(checked_add(kMax, 1));
  EXPECT_FALSE(checked_add(-1, 0));
}

TEST(CheckedMath, NumelOverflowsAndNegatives) {
  const std::vector<int64_t> ok{2, 3, 4}, empty{}, zero{5, 0, kMax}, neg{1, -1}, huge{int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_EQ(checked_numel(ok), 24);
  EXPECT_EQ(checked_numel(empty), 1);
  EXPECT_EQ(checked_numel(zero), 0);
  EXPECT_FALSE(checked_numel(neg));
  EXPECT_FALSE(checked_numel(huge));
}

TEST(CheckedMath, SaturatingFlavour) {
  EXPECT_EQ(sat_mul(kMax, 2), kSaturated);
  EXPECT_EQ(sat_mul(-5, 3), 0);
  EXPECT_EQ(sat_mul(6, 7), 42);
  EXPECT_EQ(sat_add(kMax, kMax), kSaturated);
  EXPECT_EQ(sat_add(-1, 4), 4);
}

TEST(CheckedMath, TensorSizesNeverWrap) {
  TensorInfo t;
  t.has_rank = true;
  t.dtype = onnx::TensorProto::FLOAT;
  t.dims = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_EQ(t.numel(), -1);
  EXPECT_EQ(t.bytes(), -1);
  t.dims = {int64_t{1} << 61};
  EXPECT_EQ(t.numel(), int64_t{1} << 61);
  EXPECT_EQ(t.bytes(), -1);  // 2^61 floats overflow as bytes
  TensorSpec s{"x", onnx::TensorProto::FLOAT, {int64_t{1} << 62, 4}};
  EXPECT_EQ(s.numel(), -1);
  EXPECT_NE(error_of([&] { HostTensor h(s); }).find("larger than"), std::string::npos);
  TensorSpec big{"y", onnx::TensorProto::FLOAT, {int64_t{1} << 30}};  // 4 GiB: above the cap
  EXPECT_NE(error_of([&] { HostTensor h(big); }).find("larger than 2 GiB"), std::string::npos);
}

// ---- text ---------------------------------------------------------------------------------

TEST(Text, PrintableEscapesInvalidUtf8AndControls) {
  EXPECT_EQ(printable("conv/1"), "conv/1");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(printable("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(printable("x\ny"), "x\\x0ay");
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(printable(std::string(300, 'a'), 10), "aaaaaaaaaa...");
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));  // overlong '/'
}

TEST(Text, LibraryMessagesLoseInternals) {
  EXPECT_EQ(clean_library_message(
                "[ONNXRuntimeError] : 1 : FAIL : Non-zero status code returned while running Conv node. "
                "Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/nn/conv.cc:44 "
                "onnxruntime::common::Status onnxruntime::Conv<float>::Compute(onnxruntime::OpKernelContext*) const "
                "X num_dims does not match W num_dims.\nmore"),
            "Non-zero status code returned while running Conv node. Status Message: X num_dims does not match W "
            "num_dims.");
  EXPECT_EQ(describe_exception(std::bad_alloc()),
            "out of memory: the input declares more data than this machine can hold");
  std::string s;
  try {
    s.reserve(std::numeric_limits<size_t>::max() / 2);
  } catch (const std::exception& e) {
    EXPECT_EQ(describe_exception(e).find("_M_create"), std::string::npos);
  }
}

// ---- validation ---------------------------------------------------------------------------

onnx::ModelProto conv_model() {
  ModelBuilder b;
  auto x = b.input("x", {1, 2, 4, 4});
  auto w = b.random_weight("w", {2, 2, 1, 1});
  auto y = b.node("Conv", "conv", {x, w});
  b.output(y, {1, 2, 4, 4});
  return b.build();
}

std::string load_error(const onnx::ModelProto& m, const std::string& name = "m.onnx") {
  const auto d = temp_dir("hard_" + name);
  std::string bytes;
  m.SerializeToString(&bytes);
  std::ofstream(d / name, std::ios::binary) << bytes;
  return error_of([&] { load_model(d / name); });
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(Validate, InitializerDataMustMatchItsShape) {
  auto m = conv_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->mutable_raw_data()->resize(12);  // 3 floats for a [2,2,1,1] weight
  EXPECT_HAS(load_error(m), "initializer 'w' holds 12 bytes of data, its shape [2,2,1,1] needs 16");
  w->clear_raw_data();
  w->add_float_data(1.f);
  EXPECT_HAS(load_error(m), "holds 1 values, its shape [2,2,1,1] needs 4");
}

TEST(Validate, NegativeAndHugeDims) {
  auto m = conv_model();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -2);
  EXPECT_HAS(load_error(m), "negative or overflowing shape");
  m = conv_model();
  auto* d = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2);
  d->set_dim_value(int64_t{1} << 40);
  EXPECT_HAS(load_error(m), "above the 2.0 GiB per-tensor limit");
  d->set_dim_value(-7);
  EXPECT_HAS(load_error(m), "model input 'x' has a negative dim (-7)");
  d->set_dim_value(0);
  EXPECT_HAS(load_error(m), "zero-sized dim");
  m = conv_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_dims(0, int64_t{1} << 62);  // no data to match: the size is refused first
  EXPECT_HAS(load_error(m), "negative or overflowing shape");
  w->set_dims(0, int64_t{1} << 30);
  EXPECT_HAS(load_error(m), "declares 8.0 GiB of data");
}

TEST(Validate, DanglingDuplicateAndUnproducedNames) {
  auto m = conv_model();
  m.mutable_graph()->mutable_node(0)->set_input(1, "nowhere");
  EXPECT_HAS(load_error(m), "node 'conv' (Conv) reads 'nowhere', which no node, input or initializer defines");
  m = conv_model();
  *m.mutable_graph()->add_output() = m.graph().output(0);
  EXPECT_HAS(load_error(m), "is listed twice");
  m = conv_model();
  m.mutable_graph()->mutable_output(0)->set_name("ghost");
  EXPECT_HAS(load_error(m), "graph output 'ghost' is produced by no node");
  m = conv_model();
  *m.mutable_graph()->add_node() = m.graph().node(0);  // the same output produced twice
  EXPECT_HAS(load_error(m), "is defined twice");
  m = conv_model();
  m.mutable_graph()->clear_input();
  EXPECT_HAS(load_error(m), "declares no inputs");
  m = conv_model();
  m.mutable_graph()->mutable_input(0)->set_name("");
  EXPECT_HAS(load_error(m), "empty name");
}

TEST(Validate, StringAndUntypedTensorsRefused) {
  auto m = conv_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::STRING);
  EXPECT_HAS(load_error(m), "string tensor");
  m = conv_model();
  m.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto::UNDEFINED);
  EXPECT_HAS(load_error(m), "has no element type");
}

TEST(Validate, MalformedControlFlowNeverReachesShapeInference) {
  ModelBuilder b;
  auto x = b.input("x", {1, 4});
  auto y = b.node("Identity", "id", {x});
  b.output(y, {1, 4});
  auto m = b.build();
  auto* scan = m.mutable_graph()->add_node();
  scan->set_op_type("Scan");
  scan->set_name("scan");
  scan->add_input(x);
  scan->add_output("s");
  auto* a = scan->add_attribute();
  a->set_name("num_scan_inputs");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(5);
  auto* body = scan->add_attribute();
  body->set_name("body");
  body->set_type(onnx::AttributeProto::GRAPH);
  body->mutable_g()->set_name("b");
  EXPECT_HAS(load_error(m), "Scan node 'scan': num_scan_inputs and its body do not match");
  scan->set_op_type("Loop");
  EXPECT_HAS(load_error(m), "Loop node 'scan'");
}

TEST(Validate, NonUtf8NamesAreEscapedInErrors) {
  auto m = conv_model();
  m.mutable_graph()->mutable_node(0)->set_input(1, "bad\xff\x01name");
  EXPECT_HAS(load_error(m), "reads 'bad\\xff\\x01name'");
}

TEST(Validate, TheSharedModelsPass) {
  NPUSPLIT_REQUIRE_MODEL(atto, "deimv2_atto.onnx");
  EXPECT_NO_THROW(load_model(atto));
  const auto real = test::shared_dir() / "models" / "real" / "picodet_layout_cdla.onnx";
  if (fs::exists(real)) {
    EXPECT_NO_THROW(load_model(real));
  }
}

// ---- external data ------------------------------------------------------------------------

// conv_model with its weight moved to external data at LOCATION (written by the caller).
onnx::ModelProto external_model(const std::string& location, const std::string& offset = "",
                                const std::string& length = "") {
  auto m = conv_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  if (!offset.empty()) add("offset", offset);
  if (!length.empty()) add("length", length);
  return m;
}

struct ExternalCase {
  fs::path dir, model;
};

ExternalCase write_external(const std::string& tag, const onnx::ModelProto& m) {
  const auto root = temp_dir("ext_" + tag);
  const auto dir = root / "model";
  fs::create_directories(dir);
  std::string bytes;
  m.SerializeToString(&bytes);
  std::ofstream(dir / "m.onnx", std::ios::binary) << bytes;
  std::ofstream(dir / "w.bin", std::ios::binary) << std::string(16, '\x01') << std::string(16, '\0');
  return {dir, dir / "m.onnx"};
}

TEST(ExternalData, ReadInsideTheFolder) {
  auto c = write_external("ok", external_model("w.bin", "16", "16"));
  auto m = load_model(c.model);
  const auto& w = m.graph().initializer(0);
  EXPECT_EQ(w.data_location(), onnx::TensorProto::DEFAULT);
  EXPECT_EQ(w.raw_data(), std::string(16, '\0'));
}

TEST(ExternalData, EscapesAreRefusedAndTheDecoyIsNeverOpened) {
  // A decoy file next to the model's folder: the model points at it in every way there is.
  auto c = write_external("escape", external_model("../decoy.bin"));
  const fs::path decoy = c.dir.parent_path() / "decoy.bin";
  std::ofstream(decoy, std::ios::binary) << std::string(16, 'D');
  fs::create_symlink(decoy, c.dir / "link.bin");
  const int ino = inotify_init1(IN_NONBLOCK);
  ASSERT_GE(ino, 0);
  ASSERT_GE(inotify_add_watch(ino, decoy.c_str(), IN_OPEN | IN_ACCESS), 0);

  const auto with = [&](const onnx::ModelProto& m) {
    std::string bytes;
    m.SerializeToString(&bytes);
    std::ofstream(c.model, std::ios::binary | std::ios::trunc) << bytes;
    return error_of([&] { load_model(c.model); });
  };
  EXPECT_HAS(with(external_model("../decoy.bin")), "leaves the model's folder");
  EXPECT_HAS(with(external_model("sub/../../decoy.bin")), "leaves the model's folder");
  EXPECT_HAS(with(external_model(decoy.string())), "is absolute");
  EXPECT_HAS(with(external_model("link.bin")), "resolves outside the model's folder");
  // The CLI too: one line, exit 2.
  auto r = run_cli("check '" + c.model.string() + "'", "ext_escape");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "npusplit: error: ");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  char buf[4096];
  EXPECT_LT(::read(ino, buf, sizeof buf), 0) << "the decoy file outside the model's folder was opened";
  ::close(ino);
}

TEST(ExternalData, OffsetsAndLengthsAreStrict) {
  const auto err = [](const std::string& tag, const std::string& off, const std::string& len) {
    auto c = write_external(tag, external_model("w.bin", off, len));
    return error_of([&] { load_model(c.model); });
  };
  EXPECT_HAS(err("neg", "-1", ""), "offset '-1' is not a non-negative integer");
  EXPECT_HAS(err("txt", "abc", ""), "offset 'abc'");
  EXPECT_HAS(err("ovf", "99999999999999999999", ""), "is not a non-negative integer");
  EXPECT_HAS(err("max", "9223372036854775807", ""), "is shorter than tensor 'w' needs");
  EXPECT_HAS(err("past", "24", ""), "is shorter than tensor 'w' needs");
  EXPECT_HAS(err("short", "0", "8"), "length 8 does not match its shape (needs 16 bytes)");
  EXPECT_HAS(err("long", "0", "32"), "length 32 does not match");
}

TEST(ExternalData, OnlyRegularFiles) {
  auto c = write_external("dot", external_model("."));
  EXPECT_HAS(error_of([&] { load_model(c.model); }), "is not a regular file");
  auto f = write_external("fifo", external_model("pipe"));
  ASSERT_EQ(::mkfifo((f.dir / "pipe").c_str(), 0600), 0);
  EXPECT_HAS(error_of([&] { load_model(f.model); }), "is not a regular file");  // and no hang
  auto m = write_external("missing", external_model("nothere.bin"));
  EXPECT_HAS(error_of([&] { load_model(m.model); }), "is missing");
}

TEST(ExternalData, ModelFileMustBeRegular) {
  const auto d = temp_dir("fifo_model");
  ASSERT_EQ(::mkfifo((d / "m.onnx").c_str(), 0600), 0);
  EXPECT_HAS(error_of([&] { load_model(d / "m.onnx"); }), "not a regular file");
}

TEST(ExternalData, FixWithoutRewritesWritesTheInlinedModel) {
  auto c = write_external("fix", external_model("w.bin", "0", "16"));
  const fs::path out = c.dir.parent_path() / "elsewhere" / "fixed.onnx";
  auto r = run_cli("fix '" + c.model.string() + "' -o '" + out.string() + "' --passes drop-noop-cast", "ext_fix");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = load_model(out);  // loads from a folder without w.bin: the data is inside
  EXPECT_EQ(m.graph().initializer(0).data_location(), onnx::TensorProto::DEFAULT);
  EXPECT_EQ(m.graph().initializer(0).raw_data(), std::string(16, '\x01'));
}

// ---- outputs ------------------------------------------------------------------------------

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

TEST(AtomicOutput, UncommittedSetLeavesNothing) {
  const auto d = temp_dir("set_abort");
  {
    OutputSet s;
    s.add_bytes(d / "a.txt", "new a");
    s.add_bytes(d / "b.txt", "new b");
    EXPECT_EQ(pending_temp_files(), 2);
  }
  EXPECT_EQ(pending_temp_files(), 0);
  EXPECT_FALSE(fs::exists(d / "a.txt"));
  EXPECT_FALSE(has_temp_files(d));
}

TEST(AtomicOutput, CommitReplacesTheSetAndReturnsHashes) {
  const auto d = temp_dir("set_commit");
  std::ofstream(d / "a.txt") << "old";
  OutputSet s;
  const auto h = s.add_bytes(d / "a.txt", "abc");
  EXPECT_EQ(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // SHA-256("abc")
  s.commit();
  EXPECT_EQ(read_file(d / "a.txt"), "abc");
  EXPECT_FALSE(has_temp_files(d));
  EXPECT_HAS(error_of([&] { write_file_atomic(d, "x"); }), "is a folder");
}

TEST(AtomicOutput, SplitWritesHashesOfItsStages) {
  NPUSPLIT_REQUIRE_MODEL(atto, "deimv2_atto.onnx");
  const auto d = temp_dir("split_hashes");
  auto r = run_cli("split '" + atto.string() + "' -o '" + d.string() + "'", "split_hashes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto manifest = nlohmann::json::parse(read_file(d / "deimv2_atto_split.json"));
  EXPECT_EQ(manifest["stage1"]["sha256"], sha256_file(d / "deimv2_atto_stage1.onnx"));
  EXPECT_EQ(manifest["stage2"]["sha256"], sha256_file(d / "deimv2_atto_stage2.onnx"));
}

TEST(AtomicOutput, InterruptedSplitLeavesNoTemporaryFiles) {
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_s.onnx");
  const auto d = temp_dir("split_sigint");
  for (int delay_ms : {150, 400, 700, 1000}) {
    for (int sig : {SIGINT, SIGTERM}) {
      const pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::freopen("/dev/null", "w", stdout);
        ::freopen("/dev/null", "w", stderr);
        ::execl(NPUSPLIT_CLI, NPUSPLIT_CLI, "split", model.c_str(), "-o", d.c_str(), (char*)nullptr);
        ::_exit(127);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      ::kill(pid, sig);
      int status = 0;
      ::waitpid(pid, &status, 0);
      EXPECT_FALSE(has_temp_files(d)) << "after signal " << sig << " at " << delay_ms << " ms";
      // Either the whole set is there, or none of it from this run: never a stage without its manifest.
      const bool s1 = fs::exists(d / "deimv2_s_stage1.onnx"), man = fs::exists(d / "deimv2_s_split.json");
      if (s1 || man) {
        EXPECT_TRUE(s1 && man && fs::exists(d / "deimv2_s_stage2.onnx"));
        const auto j = nlohmann::json::parse(read_file(d / "deimv2_s_split.json"));
        EXPECT_EQ(j["stage1"]["sha256"], sha256_file(d / "deimv2_s_stage1.onnx"));
      }
    }
  }
}

// ---- reading a manifest back: its stages must be the ones it was written with ----------

TEST(SplitManifest, ReaderChecksEveryStageHash) {
  const auto d = temp_dir("manifest_read");
  save_model(build_demo_detector(), d / "det.onnx");
  auto s = run_cli("split '" + (d / "det.onnx").string() + "' -o '" + d.string() + "'", "manifest_split");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const fs::path manifest = d / "det_split.json";
  const SplitManifest m = read_split_manifest(manifest);
  EXPECT_EQ(m.stage1, d / "det_stage1.onnx");
  EXPECT_EQ(m.stage2, d / "det_stage2.onnx");
  EXPECT_EQ(m.doc["stage1"]["sha256"], sha256_file(m.stage1));

  // run --manifest takes both stages from it.
  cv::imwrite((d / "pic.png").string(), draw_demo_picture(128));
  auto r = run_cli("run --manifest '" + manifest.string() + "' '" + (d / "pic.png").string() + "' --out '" +
                       (d / "out").string() + "'",
                   "manifest_run");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A stage replaced behind the manifest's back (here: by the other stage) is refused, by the
  // reader and by run, in one line that names the stage.
  const std::string stage1_bytes = read_file(m.stage1);
  write_file_atomic(m.stage1, read_file(m.stage2));
  EXPECT_HAS(error_of([&] { read_split_manifest(manifest); }), "stage1 (det_stage1.onnx) does not match the manifest");
  auto bad = run_cli("run --manifest '" + manifest.string() + "' '" + (d / "pic.png").string() + "'", "manifest_bad");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_HAS(bad.err, "does not match the manifest");
  write_file_atomic(m.stage1, stage1_bytes);
  EXPECT_NO_THROW(read_split_manifest(manifest));
}

TEST(SplitManifest, HostileManifestsAreRefused) {
  const auto d = temp_dir("manifest_hostile");
  std::ofstream(d / "s1.onnx") << "x";
  const std::string h = sha256_file(d / "s1.onnx");
  auto write = [&](const nlohmann::json& j) {
    write_file_atomic(d / "m.json", j.dump());
    return error_of([&] { read_split_manifest(d / "m.json"); });
  };
  auto stage = [&](const std::string& file) { return nlohmann::json{{"file", file}, {"sha256", h}}; };
  EXPECT_HAS(write(nlohmann::json::array()), "not a split manifest");
  EXPECT_HAS(write({{"stage1", stage("s1.onnx")}}), "no \"stage2\" section");
  // Stage files are siblings of the manifest: nothing else is ever opened through it.
  for (const std::string escape : {"../s1.onnx", "/etc/passwd", "sub/s1.onnx", ".."})
    EXPECT_HAS(write({{"stage1", stage(escape)}, {"stage2", stage("s1.onnx")}}), "is not a file name beside the manifest")
        << escape;
  EXPECT_HAS(write({{"stage1", {{"file", "s1.onnx"}}}, {"stage2", stage("s1.onnx")}}), "has no SHA-256");
  EXPECT_HAS(write({{"stage1", {{"file", "s1.onnx"}, {"sha256", "zz"}}}, {"stage2", stage("s1.onnx")}}),
             "has no SHA-256");
  EXPECT_HAS(write({{"stage1", stage("s1.onnx")}, {"stage2", stage("gone.onnx")}}), "stage2 file");
  write_file_atomic(d / "m.json", "{\"stage1\": ");
  EXPECT_HAS(error_of([&] { read_split_manifest(d / "m.json"); }), "not a JSON object");
  EXPECT_HAS(error_of([&] { read_split_manifest(d / "missing.json"); }), "no such file");
  write_file_atomic(d / "m.json", nlohmann::json{{"stage1", stage("s1.onnx")}, {"stage2", stage("s1.onnx")}}.dump());
  EXPECT_NO_THROW(read_split_manifest(d / "m.json"));
}

// ---- the CLI's one line -------------------------------------------------------------------

TEST(OneLine, JsonWithNonUtf8NamesStillParses) {
  ModelBuilder b;
  auto x = b.input("x", {1, 2, 4, 4});
  auto y = b.node("Relu", "r\xff\xfe", {x});
  b.output(y, {1, 2, 4, 4});
  const auto d = temp_dir("nonutf8");
  save_model(b.build(), d / "m.onnx");
  auto r = run_cli("check --json '" + (d / "m.onnx").string() + "'", "nonutf8");
  EXPECT_LE(r.exit_code, 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["nodes"][0]["name"], "r\\xff\\xfe");
}

TEST(OneLine, UnreadableImageHasNoLibraryLine) {
  NPUSPLIT_REQUIRE_MODEL(atto, "deimv2_atto.onnx");
  const auto d = temp_dir("badpng");
  // A PNG signature followed by garbage: libpng itself would print "libpng error: ...".
  std::ofstream(d / "bad.png", std::ios::binary) << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDRjunkjunkjunk", 29);
  auto r = run_cli("run --model '" + atto.string() + "' '" + (d / "bad.png").string() + "' --out '" +
                       (d / "out").string() + "'",
                   "badpng");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_HAS(r.err, "bad.png");
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line.rfind("npusplit: ", 0), 0u) << line;
}

}  // namespace
}  // namespace npusplit
