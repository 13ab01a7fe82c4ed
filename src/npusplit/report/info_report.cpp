#include "npusplit/report/info_report.h"

#include <fmt/format.h>

#include "npusplit/report/check_report.h"
#include "npusplit/report/format.h"

namespace npusplit {

nlohmann::json info_json(const Analysis& a) {
  nlohmann::json j = {{"schema", "npusplit.info/1"}};
  j.update(summary_json(a.summary));
  j["flops"] = a.total_flops;
  j["nodes_after_folding"] = a.model.proto().graph().node_size();
  j["notes"] = a.model.notes();
  return j;
}

std::string info_text(const Analysis& a) {
  const auto& s = a.summary;
  std::string out = fmt::format("{}\n  size {}, IR version {}, producer '{}'\n", s.path,
                                human_bytes(double(s.file_bytes)), s.ir_version, s.producer);
  for (const auto& [d, v] : s.opsets) out += fmt::format("  opset {} {}\n", d, v);
  for (const auto& t : s.inputs)
    out += fmt::format("  input  {} {} {}\n", t.name, dtype_name(t.info.dtype), shape_str(t.info));
  for (const auto& t : s.outputs)
    out += fmt::format("  output {} {} {}\n", t.name, dtype_name(t.info.dtype), shape_str(t.info));
  out += fmt::format("  {} nodes ({} after folding shape computations), {} parameters, {} FLOPs per frame\n", s.nodes,
                     a.model.proto().graph().node_size(), human_count(double(s.parameters)),
                     human_count(double(a.total_flops)));
  for (const auto& n : a.model.notes()) out += "  note: " + n + "\n";
  return out;
}

}  // namespace npusplit
