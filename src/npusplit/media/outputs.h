#pragma once
// What `run` writes as it goes besides the detections (report/detections_report.h): the
// annotated video, and the Ctrl-C guard that lets an interrupted run keep every frame it finished.

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

// Ctrl-C while a run is on: the first SIGINT asks the loop to stop after the current frame
// (it then writes what it has); a second one ends the process at once.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  static bool requested();
};

}  // namespace npusplit
