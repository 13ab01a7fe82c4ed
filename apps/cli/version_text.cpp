// `npusplit --version`: what a bug report needs to say which npusplit ran: its version, the
// ONNX Runtime library it loaded (it may differ from the headers it was built with), the onnx
// library it was built with, and each rules file with the DFC versions it documents.
#include "version_text.h"

#include <fmt/format.h>
#include <onnx/common/version.h>

#include "npusplit/io/media_codecs.h"
#include "npusplit/rules/embedded_rules.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/version.h"

#ifdef NPUSPLIT_HAVE_MIMALLOC
#include <mimalloc.h>

#include <cstdlib>
#endif

namespace npusplit::cli {

namespace {
// Which allocator malloc() really is: linked is not enough (a library earlier in the search
// order, or an LD_PRELOAD, would win), so a block from malloc is asked whether it is mimalloc's.
std::string allocator_text() {
#ifdef NPUSPLIT_HAVE_MIMALLOC
  void* p = std::malloc(64);
  const bool ours = mi_is_in_heap_region(p);
  std::free(p);
  const int v = mi_version();
  if (ours) return fmt::format("mimalloc {}.{}.{}", v / 100, (v / 10) % 10, v % 10);
  return fmt::format("another malloc (mimalloc {}.{}.{} is linked but not in use: LD_PRELOAD?)", v / 100, (v / 10) % 10,
                     v % 10);
#else
  return "the C library's malloc";
#endif
}
}  // namespace

std::string version_text() {
  std::string s = fmt::format("npusplit {}\n  onnxruntime {}\n  onnx {}\n", kVersion, ort_version(), ONNX_VERSION_STRING);
  for (const auto& [name, text] : embedded_rule_files()) {
    const RuleSet rs = parse_rules(text, "rules/" + name);
    std::string versions;
    for (const auto& v : rs.dfc_versions) versions += (versions.empty() ? "" : ", ") + v;
    s += fmt::format("  rules/{}: target {}, DFC {} (default {})\n", name, rs.target, versions.empty() ? "-" : versions,
                     rs.dfc.empty() ? "-" : rs.dfc);
  }
  const std::string plugin = media_codecs_location();
  s += fmt::format("  image/video plugin: {}\n", plugin.empty() ? "not found (run, calib and --calib cannot read pictures)" : plugin);
  s += fmt::format("  allocator: {}\n", allocator_text());
  if (!s.empty() && s.back() == '\n') s.pop_back();  // CLI11 adds the final newline
  return s;
}

}  // namespace npusplit::cli
