#pragma once
// Shared test helpers: where the shared test data is, temporary folders, running the CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "npusplit/error.h"

namespace npusplit::test {

namespace fs = std::filesystem;

// NPUSPLIT_SHARED, else ../shared beside the project root.
inline fs::path shared_dir() {
  if (const char* e = std::getenv("NPUSPLIT_SHARED"); e && *e) return e;
  return fs::path(NPUSPLIT_SOURCE_DIR) / ".." / "shared";
}

// A shared model by file name: the unpacked copy in the build tree first (the .xz ones), then
// shared/models. Empty when absent.
inline fs::path shared_model(const std::string& file) {
  for (const auto& p : {fs::path(NPUSPLIT_BINARY_DIR) / "models" / file, shared_dir() / "models" / file})
    if (fs::exists(p)) return p;
  return {};
}

inline fs::path shared_image(const std::string& file) { return shared_dir() / "images" / file; }

#define NPUSPLIT_REQUIRE_SHARED()                                                                   \
  do {                                                                                              \
    if (!std::filesystem::exists(npusplit::test::shared_dir() / "models"))                          \
      GTEST_SKIP() << "shared test data not found at " << npusplit::test::shared_dir()              \
                   << " (set NPUSPLIT_SHARED)";                                                     \
  } while (0)

#define NPUSPLIT_REQUIRE_MODEL(var, file)                                                           \
  NPUSPLIT_REQUIRE_SHARED();                                                                        \
  const auto var = npusplit::test::shared_model(file);                                              \
  if (var.empty()) GTEST_SKIP() << file << " not found (run the test setup that unpacks models)"

// A fresh folder under the build tree's test scratch area.
inline fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Runs F, which must throw npusplit::Error, and returns its message (checked to be one
// non-empty line, as every user-facing error must be).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const npusplit::Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error must be one line: " << msg;
    EXPECT_FALSE(msg.empty());
    return msg;
  }
  ADD_FAILURE() << "expected an npusplit::Error";
  return "";
}

struct CliResult {
  int exit_code;
  std::string out, err;
};

// Runs the npusplit CLI with ARGS (a shell-quoted string), capturing stdout and stderr.
inline CliResult run_cli(const std::string& args, const std::string& tag = "cli") {
  const fs::path d = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "cli_io";
  fs::create_directories(d);
  const fs::path out = d / (tag + ".out"), err = d / (tag + ".err");
  const std::string cmd =
      std::string("'") + NPUSPLIT_CLI + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int rc = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    FILE* f = std::fopen(p.c_str(), "rb");
    std::string s;
    if (!f) return s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  };
  return {WEXITSTATUS(rc), slurp(out), slurp(err)};
}

}  // namespace npusplit::test
