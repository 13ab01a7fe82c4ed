// quant: a min/max 8-bit emulation of stage1 on the calibration set, per crossing tensor.
#include <iostream>

#include "commands.h"
#include "npusplit/error.h"
#include "npusplit/quant/emulate.h"
#include "npusplit/report/quant_report.h"
#include "npusplit/base/json_text.h"

namespace npusplit::cli {

void add_quant(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "quant", "Emulate the NPU's 8-bit quantization of stage1 (min/max, Q/DQ in ONNX Runtime) on a calibration set: "
               "SQNR per crossing tensor and model output, detection drift");
  static std::string manifest, calib, weights = "per-channel";
  static int bits = 8;
  static int64_t frames = 0;
  static bool as_json = false, every_tensor = false;
  static std::string what = "all";
  cmd->add_option("manifest", manifest, "the split manifest (<stem>_split.json)")->required();
  cmd->add_option("--calib", calib, "the calibration set (.npy from `npusplit calib`)")->required();
  cmd->add_option("--bits", bits, "precision of the crossing tensors in the whole-stage1 emulation (8 | 16)")
      ->check(CLI::IsMember({8, 16}))
      ->capture_default_str();
  cmd->add_option("--weights", weights, "int8 weight scales: per-channel | per-tensor")
      ->check(CLI::IsMember({"per-channel", "per-tensor"}))
      ->capture_default_str();
  cmd->add_option("--frames", frames, "use only the first N calibration frames (0: all)");
  cmd->add_option("--quantize", what, "all | weights | activations: which part of stage1 is quantized")
      ->check(CLI::IsMember({"all", "weights", "activations"}))
      ->capture_default_str();
  cmd->add_flag("--every-tensor", every_tensor,
                "Q/DQ after every activation tensor (default: at fused-layer outputs, as the DFC stores them)");
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.quant/1)");
  cmd->callback([&] {
    if (frames < 0) fail("--frames: must be at least 0, got {}", frames);
    QuantOptions o;
    o.manifest = manifest;
    o.calib = calib;
    o.bits = bits;
    o.weights = weights == "per-tensor" ? WeightGranularity::per_tensor : WeightGranularity::per_channel;
    o.max_frames = frames;
    o.quantize_weights = what != "activations";
    o.quantize_activations = what != "weights";
    o.every_tensor = every_tensor;
    const auto r = run_quant(o);
    if (as_json) std::cout << dump_json(quant_json(r));
    else std::cout << quant_text(r);
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
