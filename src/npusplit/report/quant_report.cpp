#include "npusplit/report/calib_report.h"
#include "npusplit/report/quant_report.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "npusplit/ir/tensor_info.h"
#include "npusplit/report/format.h"

namespace npusplit {

using nlohmann::json;

const char* quant_caveat() {
  return "a simple min/max emulation (per-tensor uint8 activations, int8 weights, no equalization, bias correction or "
         "fine-tuning): pessimistic next to the DFC's optimization, and never the DFC's result";
}

namespace {
json db_json(double v) { return std::isfinite(v) ? json(std::round(v * 100) / 100) : json(nullptr); }
std::string db_text(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", v) : (v > 0 ? "exact" : "-inf"); }

}  // namespace

json quant_json(const QuantReport& r) {
  json j = {{"schema", "npusplit.quant/1"},
            {"caveat", quant_caveat()},
            {"manifest", r.manifest.string()},
            {"calib", r.calib.string()},
            {"frames", r.frames},
            {"calib_values", r.calib_pixels ? "pixels 0-255 (normalized as the manifest's preprocess says)" : "model input values"},
            {"stage1", r.stage1.string()},
            {"stage2", r.stage2.string()},
            {"emulation",
             {{"activations", "uint8 per tensor, asymmetric, min/max of the calibration set (zero kept exact)"},
              {"weights", r.weights == WeightGranularity::per_channel ? "int8 symmetric per output channel"
                                                                      : "int8 symmetric per tensor"},
              {"crossing_bits", r.bits},
              {"activation_points", !r.quantize_activations ? "off" : r.every_tensor ? "every activation tensor"
                                     : "fused-layer outputs (not before BatchNormalization, an activation function or "
                                       "an elementwise op with a constant that is the only reader)"},
              {"weights_quantized", r.quantize_weights},
              {"activation_tensors", r.activations},
              {"activation_qdq_pairs", r.activation_pairs},
              {"weight_qdq_pairs", r.weight_pairs}}},
            {"thresholds", {{"a16_sqnr_db", r.a16_threshold_db}, {"mixed_range_ratio", r.mixed_range_ratio}}},
            {"layout", r.layout},
            {"timing_s", {{"ranges", r.ranges_s}, {"emulation", r.emulation_s}}},
            {"notes", r.notes}};
  const auto mixed_json = [](const MixedRange& m) {
    json p = json::array();
    for (const auto& x : m.parts) p.push_back({{"tensor", x.tensor}, {"min", x.min}, {"max", x.max}});
    return json{{"node", m.node}, {"op", m.op}, {"ratio", std::isfinite(m.ratio) ? json(m.ratio) : json(nullptr)}, {"parts", p}};
  };
  j["crossing"] = json::array();
  for (const auto& c : r.crossing) {
    json e = json::array();
    for (const auto& x : c.effect8) e.push_back({{"output", x.output}, {"sqnr_db", db_json(x.sqnr_db)}});
    json cj = {{"name", c.name}, {"original_tensor", c.original_tensor}, {"shape", c.shape}, {"min", c.min},
               {"max", c.max}, {"sqnr8_db", db_json(c.sqnr8_db)}, {"sqnr16_db", db_json(c.sqnr16_db)},
               {"levels8", c.levels8}, {"effect8_on_outputs", e}, {"a16", c.a16}};
    if (c.mixed) {
      cj["mixed_range"] = mixed_json(*c.mixed);
      cj["mixed_range"]["fix"] = "end stage1 before the merge (split --cut at its inputs) so each part gets its own "
                                 "scale, or give this output 16 bits (quantization_param(..., precision_mode=a16_w16))";
    }
    j["crossing"].push_back(cj);
  }
  j["outputs"] = json::array();
  for (const auto& x : r.outputs) j["outputs"].push_back({{"output", x.output}, {"sqnr_db", db_json(x.sqnr_db)}});
  if (r.drift)
    j["detection_drift"] = {{"frames", r.drift->frames},
                            {"compared", r.drift->compared},
                            {"kept", r.drift->kept},
                            {"kept_share", r.drift->kept_share()},
                            {"mean_iou", r.drift->mean_iou},
                            {"mean_abs_score_change", r.drift->mean_abs_score_change},
                            {"class_flips", r.drift->class_flips},
                            {"rule", "per frame, the top-scoring float detections, each matched to the unused emulated "
                                     "detection of highest IoU; kept when IoU >= 0.5"}};
  j["activation_ranges"] = json::array();
  const std::set<std::string> quantized(r.quantized.begin(), r.quantized.end());
  for (const auto& x : r.ranges)
    j["activation_ranges"].push_back({{"tensor", x.tensor}, {"min", x.min}, {"max", x.max}, {"qdq", quantized.count(x.tensor) > 0}});
  j["npu_merges"] = json::array();
  for (const auto& m : r.npu_merges) j["npu_merges"].push_back(mixed_json(m));
  return j;
}

std::string quant_text(const QuantReport& r) {
  std::string s = fmt::format("quant {} on {} calibration frame(s) of {}\n", r.manifest.string(), r.frames, r.calib.string());
  s += fmt::format("  NOTE: {}\n", quant_caveat());
  s += fmt::format("  {} activations; Q/DQ pairs: {} activations ({}), {} weights ({}); crossing tensors at {} bits\n",
                   r.activations, r.activation_pairs,
                   !r.quantize_activations ? "off" : r.every_tensor ? "every tensor" : "fused-layer outputs",
                   r.weight_pairs,
                   !r.quantize_weights ? "off" : r.weights == WeightGranularity::per_channel ? "per channel" : "per tensor",
                   r.bits);
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.crossing) {
    std::string eff;
    for (const auto& e : c.effect8)
      if (std::isfinite(e.sqnr_db)) eff += fmt::format("{}{} {}", eff.empty() ? "" : ", ", e.output, db_text(e.sqnr_db));
    if (eff.empty()) eff = "no output changes";
    rows.push_back({c.name, dims_str(c.shape), fmt::format("[{:.3g}, {:.3g}]", c.min, c.max), db_text(c.sqnr8_db),
                    db_text(c.sqnr16_db), std::to_string(c.levels8), eff,
                    c.a16 ? "a16" : "", c.mixed ? fmt::format("{:.0f}x ({})", c.mixed->ratio, c.mixed->node) : ""});
  }
  s += "crossing tensors (SQNR dB of the tensor alone; 'alone -> outputs': the outputs that change with only this tensor "
       "at 8 bits)\n";
  s += format_table({"tensor", "shape", "range", "8-bit", "16-bit", "levels", "alone -> outputs (dB)",
                     fmt::format("<{:g} dB", r.a16_threshold_db), "mixed ranges"},
                    rows);
  std::string outs;
  for (const auto& x : r.outputs) outs += fmt::format("{}{} {} dB", outs.empty() ? "" : ", ", x.output, db_text(x.sqnr_db));
  s += fmt::format("whole stage1 emulated -> outputs: {}\n", outs);
  if (r.drift)
    s += fmt::format("detection drift (top {} per frame, IoU >= 0.5): {:.1f}% kept, mean IoU {:.3f}, mean |score change| "
                     "{:.4f}, {} class flip(s) of {} compared\n",
                     r.drift->frames ? r.drift->compared / r.drift->frames : 0, 100 * r.drift->kept_share(),
                     r.drift->mean_iou, r.drift->mean_abs_score_change, r.drift->class_flips, r.drift->compared);
  for (const auto& c : r.crossing)
    if (c.mixed)
      s += fmt::format("warning: {} merges parts whose ranges differ {:.0f}x (at {}): one 8-bit scale for all of "
                       "them. Fix: end stage1 before the merge (split --cut at its inputs), or a16_w16 on this output\n",
                       c.name, c.mixed->ratio, c.mixed->node);
  if (!r.npu_merges.empty())
    s += fmt::format("{} merge(s) inside stage1 join parts whose ranges differ more than {:g}x (see --json npu_merges)\n",
                     r.npu_merges.size(), r.mixed_range_ratio);
  for (const auto& n : r.notes) s += "note: " + n + "\n";
  s += fmt::format("time: ranges {:.1f} s, emulation {:.1f} s\n", r.ranges_s, r.emulation_s);
  return s;
}

std::string calib_bundle_text(const CalibBundle& b) {
  std::string s = calib_text(b.calib, b.calib_path, true);
  s += quant_text(b.quant);
  s += fmt::format("DFC bundle (npusplit did not run the DFC): {} {}\n", b.alls_path.string(), b.script_path.string());
  if (!b.bundle.a16.empty()) {
    s += "  16-bit outputs:";
    for (const auto& t : b.bundle.a16) s += " " + t;
    s += "\n";
  }
  for (const auto& c : b.bundle.commands) s += "  " + c + "\n";
  return s;
}

json calib_bundle_json(const CalibBundle& b) {
  return {{"calib", {{"file", b.calib_path.filename().string()},
                     {"shape", b.calib.shape},
                     {"inputs", b.inputs},
                     {"count", b.count},
                     {"seed", b.seed},
                     {"skipped", b.calib.skipped},
                     {"values", "0-255 pixels (the model script's normalization layer does the rest)"}}},
          {"alls", {{"file", b.alls_path.filename().string()}, {"sha256", b.alls_sha256}}},
          {"dfc_script", {{"file", b.script_path.filename().string()}, {"sha256", b.script_sha256}}},
          {"a16", b.bundle.a16},
          {"quant", {{"caveat", quant_caveat()},
                     {"frames", b.quant.frames},
                     {"crossing_sqnr8_db", [&] {
                        json j = json::object();
                        for (const auto& c : b.quant.crossing) j[c.name] = db_json(c.sqnr8_db);
                        return j;
                      }()},
                     {"outputs_sqnr_db", [&] {
                        json j = json::object();
                        for (const auto& x : b.quant.outputs) j[x.output] = db_json(x.sqnr_db);
                        return j;
                      }()}}}};
}

}  // namespace npusplit
