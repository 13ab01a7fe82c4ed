#include "npusplit/report/demo_report.h"

#include <fmt/format.h>

#include "npusplit/report/check_report.h"
#include "npusplit/report/format.h"
#include "npusplit/report/split_report.h"

namespace npusplit {

std::string demo_text(const DemoResult& r) {
  std::string s =
      "npusplit demo: a small DETR-like detector (conv backbone, TopK + GatherElements query selection,\n"
      "GridSample sampling, postprocess to label_xyxy_score) built in code, then the whole flow.\n\n";
  s += "1. model: " + r.model.string() + "\n";
  s += "\n2. check (hailo8):\n" + check_text(r.check, false) + "\n";
  s += "3. split + verify:\n" + split_text(r.split) + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : r.detections)
    rows.push_back({d.label, fmt::format("{:.2f}", d.score), fmt::format("{:.0f},{:.0f},{:.0f},{:.0f}", d.x1, d.y1, d.x2, d.y2)});
  s += "4. run (ONNX Runtime on the CPU for both stages; HailoRT would take stage1 on a device):\n" +
       format_table({"class", "score", "box (x1,y1,x2,y2)"}, rows);
  s += fmt::format(
      "\nlatency: stage1 {:.2f} ms + stage2 {:.2f} ms = {:.2f} ms split; {:.2f} ms unsplit\n"
      "detections: {} ({} of {} drawn blobs found with the right colour); split == unsplit: {}\n"
      "wrote: {}, {}, {}, {}\n",
      r.split_timing.stage1_ms, r.split_timing.stage2_ms, r.split_timing.total_ms, r.whole_timing.total_ms,
      r.detections.size(), r.blobs_found, r.blobs_drawn, r.split_equals_unsplit ? "yes" : "NO", r.annotated.string(),
      r.split.stage1_path.string(), r.split.stage2_path.string(), r.split.manifest_path.string());
  return s;
}

}  // namespace npusplit
