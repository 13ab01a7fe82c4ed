#pragma once
// How an image becomes the model input, as the split manifest records it (`preprocess`): the
// input's name, size and layout, plain resize or letterbox, channel order, scale and mean/std.
// `split` detects what the model shows (size, layout, a normalization it does itself) and takes
// the rest from the user's --preprocess options or the DETR export convention (RGB, /255, plain
// resize, no mean/std); `run` and `calib` read it back, so nobody states it twice.
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess.h"

namespace npusplit {

// What the user said (each unset field: not said).
struct PreprocessOverrides {
  std::optional<bool> letterbox, bgr;
  std::optional<float> scale;
  std::optional<std::array<float, 3>> mean, std;
  bool empty() const { return !letterbox && !bgr && !scale && !mean && !std; }
};

struct PreprocessRecord {
  std::string input;                  // the image input's name
  int width = 0, height = 0;
  std::string layout = "NCHW";        // of the model input (the calibration set is always NHWC)
  PreprocessOptions options;
  std::map<std::string, std::string> source;  // field -> "given" | "default" | "model"
  std::vector<std::string> notes;
};

// From MODEL's image input (the first float rank-4 input with 3 channels) and GIVEN.
PreprocessRecord detect_preprocess(const onnx::ModelProto& model, const PreprocessOverrides& given);
// BASE with every field GIVEN sets replaced.
PreprocessOptions apply_overrides(PreprocessOptions base, const PreprocessOverrides& given);

nlohmann::json preprocess_json(const PreprocessRecord& r);
// The manifest's `preprocess` record; a one-line Error naming WHAT when it is malformed.
PreprocessRecord preprocess_from_json(const nlohmann::json& j, const std::string& what);
std::string preprocess_text(const PreprocessOptions& o);  // "RGB, plain resize, /255, mean ..., std ..."

// A split manifest, read and checked by io/split_manifest.h (stage files beside it, their
// SHA-256); a one-line Error otherwise.
nlohmann::json load_split_manifest(const std::filesystem::path& path);
// The manifest `split` wrote beside STAGE1 (<stem>_split.json naming that file), if any.
std::optional<std::filesystem::path> manifest_beside_stage1(const std::filesystem::path& stage1);
// The manifest's preprocess record; manifests written before it existed get the defaults with a note.
PreprocessRecord manifest_preprocess(const nlohmann::json& manifest, const std::filesystem::path& path);

// "0.485,0.456,0.406" -> three floats; a one-line Error naming OPTION otherwise.
std::array<float, 3> parse_triplet(const std::string& text, const std::string& option);

}  // namespace npusplit
