#pragma once
// The detections files `run` writes as it goes (npusplit.detections/1: one JSON document
// rewritten atomically every --save-every frames, "complete": false until the last; or
// npusplit.detections-lines/1: a header line, a line per frame flushed as written, an end line),
// and the detections array the demo writes too. Made from the typed frames of media/run.h.
#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

#include "npusplit/detect/postprocess.h"
#include "npusplit/media/run.h"

namespace npusplit {

nlohmann::json detections_json(const std::vector<Detection>& dets);
nlohmann::json frame_json(const FrameRecord& f);
// The document's fields other than its frames: schema, input, model, threshold, letterbox.
nlohmann::json detections_header(const InputStart& s);
// The sink run_media writes an input's frames into: S.detections_path in S.options' format.
std::unique_ptr<FrameSink> detections_file(const InputStart& s);

}  // namespace npusplit
