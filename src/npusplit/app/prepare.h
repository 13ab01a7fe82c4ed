#pragma once
// `npusplit prepare`: the user's batch tool -- split every DEIMv2 variant in a folder.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "npusplit/app/split.h"
#include "npusplit/results/prepare.h"

namespace npusplit {

struct PrepareOptions {
  std::filesystem::path src, dst;
  std::vector<std::string> variants = {"atto", "femto", "pico", "n", "s", "x1", "x2", "x3"};
  std::string pattern = "deimv2_{variant}.onnx";  // file name in SRC
  std::string target = "hailo8";
  bool verify = false, force = false, fix = true, pack = false;
  int verify_random = 1;
  std::vector<std::string> verify_images;
  InputShapes input_shapes;
  // --calib IMAGES: per variant also the calibration set, the 8-bit emulation and the DFC bundle
  // (as `split --calib`), and the quantization-aware cut measures the merges on these images.
  std::vector<std::string> calib;
  int64_t calib_count = 0;
};


// x1/x2/x3 are the user's names for upstream's M/L/X: a missing deimv2_x1.onnx falls back to
// deimv2_m.onnx (and x2 -> l, x3 -> x).
std::string variant_alias(const std::string& v);
std::vector<PrepareRow> prepare_models(const PrepareOptions& o,
                                       const std::function<void(size_t done, size_t total, const std::string&)>& progress);
// prepare_text (the table): report/prepare_report.h

// What a variant's outputs were made from: the input's content hash, every option that changes
// the outputs, the rules and the tool version. Written beside the outputs as <stem>_prepare.json;
// prepare redoes a variant whenever it differs.
nlohmann::json prepare_stamp(const PrepareOptions& o, const std::filesystem::path& input);
// SHA-256 of the file's bytes (hex).
std::string file_content_hash(const std::filesystem::path& path);

}  // namespace npusplit
