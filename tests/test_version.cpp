// `npusplit --version`: the tool, the ONNX Runtime it loaded, onnx, each rules file and its DFC versions.
#include <gtest/gtest.h>
#include <onnx/common/version.h>

#include "npusplit/rules/rule_set.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/version.h"
#include "test_support.h"

namespace npusplit {
namespace {

TEST(Version, NamesToolLibrariesAndRules) {
  const auto r = test::run_cli("--version", "version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("npusplit ") + kVersion + "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("onnxruntime " + ort_version() + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("onnx ") + ONNX_VERSION_STRING + "\n"), std::string::npos) << r.out;
  const RuleSet h8 = load_rules_all_versions("hailo8");
  std::string versions;
  for (const auto& v : h8.dfc_versions) versions += (versions.empty() ? "" : ", ") + v;
  EXPECT_NE(r.out.find("rules/hailo8.yaml: target hailo8, DFC " + versions + " (default " + h8.dfc + ")"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rules/hailo10h.yaml: target hailo10h"), std::string::npos) << r.out;
}

// The CLI's allocator: when the build found mimalloc, malloc() in the running CLI must really be
// mimalloc's (it must come first in the symbol search order, before the C library).
TEST(Version, NamesTheAllocatorInUse) {
  const auto r = test::run_cli("--version", "version_allocator");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (NPUSPLIT_CLI_MIMALLOC)
    EXPECT_NE(r.out.find("  allocator: mimalloc 2."), std::string::npos) << r.out;
  else
    EXPECT_NE(r.out.find("  allocator: the C library's malloc\n"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace npusplit
