#pragma once
// DETR-family outputs -> detections in original image pixels.
//
// Two output layouts:
//   - user layout: `label_xyxy_score` float [N,Q,6] = (class id as float, x1, y1, x2, y2, score),
//     the box normalised to [0,1] of the model input;
//   - official layout (upstream export): `labels` int64 [N,Q], `boxes` float [N,Q,4] in pixels of
//     the `orig_target_sizes` input (int64 [N,2] = w,h), `scores` float [N,Q].
// Either way the box is brought back through the ImageTransform of the preprocessing (stretch or
// letterbox) to the original image. Only batch item 0 is decoded (the pipeline fixes batch to 1).

#include <filesystem>
#include <string>
#include <vector>

#include "npusplit/detect/preprocess.h"
#include "npusplit/ort/host_tensor.h"

namespace npusplit {

struct Detection {
  int class_id = -1;
  std::string label;
  float score = 0;
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // original image pixels
};

enum class DetrLayout { LabelXyxyScore, Official };

// Which layout OUTPUTS (by name and shape) are in; a one-line Error when neither.
DetrLayout detr_layout(const std::vector<TensorSpec>& outputs);
std::string layout_name(DetrLayout l);

// The official layout's size input: int64 [N,2] named orig_target_sizes.
bool is_orig_sizes_input(const TensorSpec& s);
// Writes (w, h) of the original image into every row of T.
void fill_orig_sizes(HostTensor& t, const ImageTransform& tr);

struct DecodeOptions {
  float threshold = 0.5f;                 // keep score >= threshold
  std::vector<std::string> class_names;   // empty: COCO-80
  bool clip = true;                       // clip boxes to the original image
};

// Decodes OUTPUTS (found by name) of one frame, best score first. Non-finite rows are skipped.
std::vector<Detection> decode_detections(const std::vector<HostTensor>& outputs, const ImageTransform& tr,
                                         const DecodeOptions& o = {});

// A box in model-input pixels -> original image pixels (undoing stretch or letterbox).
void input_to_source(const ImageTransform& tr, float& x, float& y);

const std::vector<std::string>& coco80_names();
// One name per line (trailing '\r' and a final empty line ignored); a one-line Error when the
// file cannot be read or is empty.
std::vector<std::string> load_labels(const std::filesystem::path& path);
std::string class_label(int class_id, const std::vector<std::string>& names);


}  // namespace npusplit
