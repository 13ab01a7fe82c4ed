// calib: the calibration set `hailo optimize` takes, preprocessed as the split manifest says.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "npusplit/report/calib_report.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"

namespace npusplit::cli {

// The manifest's preprocess record, with the input size taken from its stage1 when the
// manifest predates the record.
PreprocessRecord preprocess_of_manifest(const std::string& manifest) {
  const auto j = load_split_manifest(manifest);
  PreprocessRecord rec = manifest_preprocess(j, manifest);
  if (rec.width <= 0 || rec.height <= 0) {
    const auto stage1 = std::filesystem::path(manifest).parent_path() / j["stage1"]["file"].get<std::string>();
    const auto sized = detect_preprocess(load_model(stage1.string()), {});
    rec.width = sized.width;
    rec.height = sized.height;
    rec.input = sized.input;
    rec.layout = sized.layout;
  }
  return rec;
}

void add_calib(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "calib", "Write the calibration set `hailo optimize` takes (float32 NHWC .npy) from images, videos or folders, "
               "preprocessed as the split manifest records");
  static std::vector<std::string> inputs;
  static std::string manifest, out, range = "pixels";
  static int64_t count = 0;
  static uint32_t seed = 0;
  cmd->add_option("inputs", inputs, "images, videos (evenly spaced frames), folders of them, glob patterns")->required();
  cmd->add_option("--manifest", manifest, "the split manifest (<stem>_split.json): input size and preprocessing")
      ->required();
  cmd->add_option("-o,--out", out, "the .npy to write")->required();
  cmd->add_option("--count", count, "frames to write (default: all available, at most 1024)")->check(at_least(1));
  cmd->add_option("--seed", seed, "which images are taken when there are more than --count")->capture_default_str();
  cmd->add_option("--range", range,
                  "pixels: 0-255, for a model script with a normalization layer (npusplit's .alls); model: the model's "
                  "own input values")
      ->check(CLI::IsMember({"pixels", "model"}))
      ->capture_default_str();
  cmd->callback([&] {
    CalibOptions o;
    o.inputs = inputs;
    o.preprocess = preprocess_of_manifest(manifest);
    o.count = count;
    o.seed = seed;
    o.raw_pixels = range == "pixels";
    o.out = out;
    const auto r = write_calibration_set(o);
    for (const auto& s : r.skipped) std::cerr << "npusplit: error: " << s << " (skipped)\n";
    for (const auto& w : r.warnings) std::cerr << "npusplit: warning: " << w << "\n";
    std::cout << calib_text(r, out, o.raw_pixels);
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
