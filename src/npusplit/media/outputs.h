#pragma once
// What `run` writes as it goes: the annotated video, and the detections (JSON Lines appended
// per frame, or one JSON document rewritten atomically every N frames), so an interrupted run
// keeps every frame it finished.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>

#include <memory>

#include "npusplit/io/media_codecs.h"
#include <string>

namespace npusplit {

// An annotated copy of a video in the container/codec family of the input where this OpenCV
// build can write it (.mp4/.mov/.m4v: MPEG-4 Part 2; .avi: Motion JPEG; .mkv: MPEG-4 in
// Matroska; .webm: VP8), else MPEG-4 in .mp4, else Motion JPEG in .avi.
class AnnotatedVideo {
 public:
  // STEM_PATH without extension: "out/clip_annotated"; SOURCE: the input (for its extension).
  AnnotatedVideo(const std::filesystem::path& stem_path, const std::filesystem::path& source, double fps);
  ~AnnotatedVideo();
  void write(const cv::Mat& bgr);  // opens the file on the first frame (its size)
  void close();
  const std::filesystem::path& path() const { return path_; }  // known after the first frame
  std::string codec() const { return codec_; }

 private:
  std::filesystem::path stem_, source_, path_;
  double fps_;
  std::string codec_;
  std::unique_ptr<VideoWriter> writer_;  // the media plugin's
};

class DetectionsWriter {
 public:
  enum class Format { json, jsonl };
  // HEADER: the document's fields other than "frames" (schema, input, model, ...).
  // JSON: PATH is rewritten (atomically) every SAVE_EVERY frames and on close.
  // JSONL: the header is the first line, then one line per frame, flushed as written.
  // JSON has "complete": false until closed after the last frame.
  DetectionsWriter(std::filesystem::path path, Format format, nlohmann::json header, int save_every);
  ~DetectionsWriter();
  void add(nlohmann::json frame);
  // The final write; COMPLETE false when the run was interrupted. JSONL ends with a line
  // {"end": {"frames": N, "complete": ...}}. Safe to call twice.
  void close(bool complete = true);
  const std::filesystem::path& path() const { return path_; }
  int64_t frames() const { return frames_; }

 private:
  void save_json();
  std::filesystem::path path_;
  Format format_;
  nlohmann::json doc_;
  int save_every_;
  int64_t frames_ = 0, unsaved_ = 0;
  std::FILE* lines_ = nullptr;
  bool closed_ = false;
};

// Ctrl-C while a run is on: the first SIGINT asks the loop to stop after the current frame
// (it then writes what it has); a second one ends the process at once.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  static bool requested();
};

}  // namespace npusplit
