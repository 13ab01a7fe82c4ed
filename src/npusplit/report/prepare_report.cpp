#include "npusplit/report/prepare_report.h"

#include <fmt/format.h>

#include "npusplit/report/format.h"

namespace npusplit {

std::string prepare_text(const std::vector<PrepareRow>& rows) {
  std::vector<std::vector<std::string>> t;
  for (const auto& r : rows) {
    if (r.status != "done") {
      t.push_back({r.variant, r.source, r.status, "", "", "", "", ""});
      continue;
    }
    t.push_back({r.variant, r.source, r.status, std::to_string(r.cut_tensors), human_bytes(double(r.crossing_bytes)),
                 percent(r.npu_flops_share), r.stage1_check,
                 r.verify_max_diff ? fmt::format("{:g}{}", *r.verify_max_diff, r.verify_ok ? "" : " FAIL") : "-",
                 fmt::format("{:.1f} s", r.seconds)});
  }
  std::string out = format_table({"variant", "source", "status", "cut tensors", "per frame", "NPU FLOPs", "stage1 check",
                                   "verify max diff", "time"},
                                  t, 60);
  for (const auto& r : rows)
    if (!r.bundle_files.empty()) {
      out += fmt::format("{}: DFC bundle (npusplit did not run the DFC):", r.variant);
      for (const auto& f : r.bundle_files) out += " " + f.filename().string();
      out += "\n";
    }
  return out;
}

}  // namespace npusplit
