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

namespace npusplit::cli {

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
  if (!s.empty() && s.back() == '\n') s.pop_back();  // CLI11 adds the final newline
  return s;
}

}  // namespace npusplit::cli
