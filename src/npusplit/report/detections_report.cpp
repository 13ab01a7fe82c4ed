#include "npusplit/report/detections_report.h"

#include <algorithm>
#include <cstdio>

#include "npusplit/base/json_text.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"

namespace fs = std::filesystem;

namespace npusplit {

nlohmann::json detections_json(const std::vector<Detection>& dets) {
  auto arr = nlohmann::json::array();
  for (const auto& d : dets)
    arr.push_back({{"class_id", d.class_id}, {"label", d.label}, {"score", d.score}, {"box_xyxy", {d.x1, d.y1, d.x2, d.y2}}});
  return arr;
}

nlohmann::json frame_json(const FrameRecord& f) {
  nlohmann::json j = {{"frame", f.frame}, {"width", f.width}, {"height", f.height}};
  if (!f.png.empty()) j["png"] = f.png.string();
  j["timing_ms"] = {{"preprocess", f.preprocess_ms},
                    {"stage1", f.stage1_ms},
                    {"stage2", f.stage2_ms},
                    {"pipeline", f.pipeline_ms},
                    {"decode_draw_write", f.post_ms}};
  j["detections"] = detections_json(f.detections);
  return j;
}

nlohmann::json detections_header(const InputStart& s) {
  const RunOptions& o = *s.options;
  return {{"schema", o.detections == DetectionsFormat::jsonl ? "npusplit.detections-lines/1" : "npusplit.detections/1"},
          {"input", s.spec},
          {"model", o.model_label},
          {"threshold", o.decode.threshold},
          {"letterbox", o.preprocess.letterbox}};
}

namespace {

// One line of JSON; names that are not valid UTF-8 are escaped, never an exception.
std::string compact(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

class DetectionsFile : public FrameSink {
 public:
  DetectionsFile(fs::path path, DetectionsFormat format, nlohmann::json header, int save_every)
      : path_(std::move(path)), format_(format), doc_(std::move(header)), save_every_(std::max(1, save_every)) {
    std::error_code ec;
    if (path_.has_parent_path()) fs::create_directories(path_.parent_path(), ec);
    if (format_ == DetectionsFormat::jsonl) {
      lines_ = std::fopen(path_.c_str(), "wb");
      if (!lines_) fail("{}: cannot write", path_.string());
      write_line(compact(doc_));
    } else {
      doc_["frames"] = nlohmann::json::array();
      doc_["complete"] = false;
      save_json();
    }
  }
  ~DetectionsFile() override {
    try {
      close(false);  // not closed by the run: it ended early
    } catch (const std::exception&) {
    }
  }
  void add(const FrameRecord& f) override {
    ++frames_;
    if (format_ == DetectionsFormat::jsonl) {
      write_line(compact(frame_json(f)));
      return;
    }
    doc_["frames"].push_back(frame_json(f));
    if (++unsaved_ >= save_every_) save_json();
  }
  void close(bool complete) override {
    if (closed_) return;
    closed_ = true;
    if (lines_) {
      const std::string end = compact(nlohmann::json{{"end", {{"frames", frames_}, {"complete", complete}}}});
      std::fwrite(end.data(), 1, end.size(), lines_);
      std::fclose(lines_);
      lines_ = nullptr;
    } else {
      doc_["complete"] = complete;
      save_json();
    }
  }

 private:
  void write_line(const std::string& line) {
    if (std::fwrite(line.data(), 1, line.size(), lines_) != line.size()) fail("{}: cannot write", path_.string());
    std::fflush(lines_);
  }
  void save_json() {
    write_file_atomic(path_, dump_json(doc_));
    unsaved_ = 0;
  }
  fs::path path_;
  DetectionsFormat format_;
  nlohmann::json doc_;
  int save_every_;
  int64_t frames_ = 0, unsaved_ = 0;
  std::FILE* lines_ = nullptr;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<FrameSink> detections_file(const InputStart& s) {
  return std::make_unique<DetectionsFile>(s.detections_path, s.options->detections, detections_header(s),
                                          s.options->save_every);
}

}  // namespace npusplit
