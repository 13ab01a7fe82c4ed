#include "npusplit/report/run_report.h"

#include <fmt/format.h>

#include "npusplit/report/format.h"

namespace npusplit {

namespace {
const char* kind_name(MediaKind k) {
  return k == MediaKind::image ? "image" : k == MediaKind::video ? "video" : "camera";
}
}  // namespace

std::string run_header_text(const RunHeader& h) {
  return fmt::format("run {} ({}; input {}x{}, {} layout)\n", h.model, h.backend, h.width, h.height, h.layout);
}

std::string input_report_text(const InputReport& r, bool split, float threshold) {
  if (!r.error.empty()) return fmt::format("{}: skipped: {}\n", r.spec, r.error);
  const std::string stages = split ? fmt::format("stage1 {} ms, stage2 {} ms", ms_text(r.mean_stage1_ms), ms_text(r.mean_stage2_ms))
                                   : fmt::format("model {} ms", ms_text(r.mean_stage1_ms));
  std::string out;
  if (r.kind == MediaKind::image)
    out = fmt::format("{}: {} detection(s) >= {}; preprocess {} ms, {}, postprocess {} ms -> {}\n", r.spec,
                      r.detections, threshold, ms_text(r.mean_preprocess_ms), stages, ms_text(r.mean_post_ms),
                      r.annotated_path.string());
  else
    out = fmt::format("{}: {} frame(s), {} detection(s) >= {}; per frame (mean) preprocess {} ms, {}, postprocess {} ms "
                      "-> {}{}\n",
                      r.spec, r.frames, r.detections, threshold, ms_text(r.mean_preprocess_ms), stages, ms_text(r.mean_post_ms),
                      r.annotated_path.string(), r.codec.empty() ? "" : " (" + r.codec + ")");
  out += fmt::format("  detections: {}\n", r.detections_path.string());
  if (r.interrupted)
    out += fmt::format("  interrupted (Ctrl-C) after frame {}: everything up to it is written\n", r.frames);
  return out;
}

std::string run_summary_text(const RunReport& r) {
  std::string out;
  if (r.interrupted)
    out += fmt::format("run: interrupted by Ctrl-C; {} input(s) not started\n", r.not_started);
  if (r.failed() > 0)
    out += fmt::format("run: {} of {} input(s) failed (listed above as skipped)\n", r.failed(), r.inputs.size());
  return out;
}

nlohmann::json input_report_json(const InputReport& r) {
  nlohmann::json j = {{"input", r.spec}, {"kind", kind_name(r.kind)}};
  if (!r.error.empty()) {
    j["error"] = r.error;
    return j;
  }
  j["frames"] = r.frames;
  j["detections"] = r.detections;
  j["json"] = r.detections_path.string();
  j["annotated"] = r.annotated_path.string();
  if (r.kind == MediaKind::image) j["last_png"] = r.annotated_path.string();
  if (!r.codec.empty()) j["codec"] = r.codec;
  j["interrupted"] = r.interrupted;
  j["mean_ms"] = {{"preprocess", r.mean_preprocess_ms},
                  {"stage1", r.mean_stage1_ms},
                  {"stage2", r.mean_stage2_ms},
                  {"pipeline", r.mean_pipeline_ms},
                  {"decode_draw_write", r.mean_post_ms}};
  return j;
}

nlohmann::json run_json(const RunResult& result, float threshold) {
  const RunHeader& h = result.header;
  const RunReport& r = result.report;
  nlohmann::json j = {{"schema", "npusplit.run/1"}, {"model", h.model},           {"backend", h.backend},
                      {"layout", h.layout},         {"threshold", threshold},     {"interrupted", r.interrupted},
                      {"failed", r.failed()},       {"inputs", nlohmann::json::array()}};
  for (const auto& in : r.inputs) j["inputs"].push_back(input_report_json(in));
  return j;
}

}  // namespace npusplit
