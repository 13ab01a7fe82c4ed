#pragma once
// What a HEF's stage1 takes and gives, from the split manifest (plain C++: HailoRT is not needed,
// so it is tested on every host). runtime/hailo_stage.cpp only asks HailoRT for the names.
//   - Outputs: HailoRT names a HEF output "<group>/<layer>"; get_original_names_from_vstream_name()
//     gives the ONNX node names fused into it. The manifest records, per crossing tensor, the ONNX
//     end node(s) that produce it; map_hef_outputs() matches the two by name, never by shape.
//   - Input: a HEF whose model script carries the normalization layer (npusplit's .alls) takes
//     uint8 0-255 pixels, NHWC; PixelFedStage feeds any such stage from the float NCHW tensor
//     run/bench make, and prepend_pixel_normalization() gives ONNX Runtime the same contract.
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/runtime/stage.h"

namespace npusplit {

enum class HefInput { uint8, float32 };
HefInput parse_hef_input(const std::string& s);  // "uint8" | "float32"; one-line Error otherwise
const char* hef_input_name(HefInput h);

// The normalization on 0-255 pixels (as the .alls writes it): model value = (pixel - mean) / std.
struct PixelNormalization {
  std::array<float, 3> mean{0, 0, 0}, std{255, 255, 255};
};

// Per crossing tensor (stage2's input name), the ONNX node(s) whose output it is.
struct CrossingEnd {
  std::string tensor;
  std::vector<std::string> end_nodes;
};

// From a split manifest (`crossing[].end_nodes`); WHAT names it in errors. A manifest without
// the mapping (written before it existed, or edited) is a one-line Error.
std::vector<CrossingEnd> crossing_ends(const nlohmann::json& manifest, const std::string& what);
// The manifest's `stage1.hef_input` record (format and normalization); defaults for older ones.
struct HefInputRecord {
  HefInput format = HefInput::uint8;
  PixelNormalization norm;
};
HefInputRecord hef_input_record(const nlohmann::json& manifest);

// One HEF output: its HailoRT name and the original ONNX names HailoRT reports for it.
struct HefOutputNames {
  std::string name;
  std::vector<std::string> original_names;
};
// HEF output name -> crossing tensor. An output whose original names name no crossing end node,
// or name the end nodes of two tensors, a crossing tensor no output (or two outputs) carries:
// one-line Error naming it. HEF is the file's name for the messages.
std::map<std::string, std::string> map_hef_outputs(const std::vector<CrossingEnd>& crossing,
                                                   const std::vector<HefOutputNames>& outputs, const std::string& hef);

// STAGE1 taking uint8 [1,H,W,3] pixels (same input name): Cast, NHWC -> NCHW, (x - mean) / std,
// into the original float input, as the model script's normalization layer does on the chip.
onnx::ModelProto prepend_pixel_normalization(const onnx::ModelProto& stage1, const PixelNormalization& n);

// The model's float NCHW input back to the pixels it came from: round(v * std + mean), clamped to 0-255.
void float_nchw_to_pixels_nhwc(const HostTensor& in, const PixelNormalization& n, HostTensor& out);

// A stage that takes uint8 NHWC pixels (a HEF with a normalization layer, or an ORT stage1 with
// prepend_pixel_normalization()) behind the float NCHW input the pipeline gives every stage1.
std::unique_ptr<Stage> make_pixel_fed_stage(std::unique_ptr<Stage> inner, const PixelNormalization& n);

}  // namespace npusplit
