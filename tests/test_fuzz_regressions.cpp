// Every file in tests/data/fuzz/ is a model the fuzzer (scripts/fuzz.sh) produced: either a
// reproducer of a crash that was fixed, or a corpus entry that reaches an error path. Each
// must go through the same steps as the fuzz target without crashing, and through the CLI's
// check and split with exit 0/1, or exit 2 and one line, and no file left behind on exit 2.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "npusplit/app/analyze.h"
#include "npusplit/io/model_io.h"
#include "npusplit/split/splitter.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> reproducers() {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(NPUSPLIT_SOURCE_DIR) / "tests" / "data" / "fuzz";
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".onnx") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzRegressions, ThereAreReproducers) { EXPECT_FALSE(reproducers().empty()); }

TEST(FuzzRegressions, LibraryPathNeverCrashes) {
  for (const auto& p : reproducers()) {
    SCOPED_TRACE(p.filename().string());
    try {
      auto m = load_model(p);
      AnalyzeOptions o;
      o.keep_original = false;
      auto a = analyze_proto(std::move(m), p.string(), o);
      if (a.partition.stage1_nodes > 0) {
        auto s = build_stages(a.model.proto(), a.model.shapes(), a.partition, SplitNames{});
        check_model(s.stage1, "stage1");
        check_model(s.stage2, "stage2");
      }
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

TEST(FuzzRegressions, CliGivesOneLineAndNoPartialOutput) {
  for (const auto& p : reproducers()) {
    SCOPED_TRACE(p.filename().string());
    const auto out = test::temp_dir("fuzz_" + p.stem().string());
    // split loads, validates, judges and cuts: it covers check's path and adds the writing.
    for (const std::string cmd : {"split"}) {
      const std::string args =
          cmd + " '" + p.string() + "'" + (cmd == "split" ? " -o '" + out.string() + "'" : std::string());
      auto r = test::run_cli(args, "fuzz_" + cmd);
      ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2) << r.exit_code << r.err;
      if (r.exit_code == 2) {
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("npusplit: error: ", 0), 0u) << r.err;
        if (cmd == "split") {
          EXPECT_TRUE(fs::is_empty(out)) << "partial output after exit 2";
        }
      }
    }
  }
}

// crash-*.onnx: models that crashed npusplit before a fix; each has a .expected file with the
// text its one-line error must contain.
TEST(FuzzRegressions, FixedCrashesGiveTheirMessage) {
  int n = 0;
  for (const auto& p : reproducers()) {
    if (p.filename().string().rfind("crash-", 0) != 0) continue;
    SCOPED_TRACE(p.filename().string());
    std::ifstream f(fs::path(p).replace_extension(".expected"));
    std::string expected;
    std::getline(f, expected);
    ASSERT_FALSE(expected.empty()) << "missing .expected beside the reproducer";
    auto r = test::run_cli("check '" + p.string() + "'", "fuzz_crash");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace npusplit
