#pragma once
// What `run` reads: files, folders (the images and videos inside, sorted), glob patterns and
// cameras, expanded into one list; and a frame source for each.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <memory>
#include <string>
#include <vector>

#include "npusplit/io/media_codecs.h"

namespace npusplit {

enum class MediaKind { image, video, camera };

struct MediaInput {
  std::string spec;             // as given, or the folder/glob entry it came from
  std::filesystem::path path;   // empty for a camera
  MediaKind kind = MediaKind::image;
  int camera_index = -1;
  std::string error;            // set when the entry cannot be used (the run reports it and goes on)
};

bool is_image_extension(const std::filesystem::path& p);
bool is_video_extension(const std::filesystem::path& p);

// Expands SPECS in order: cam:N, a folder (its image/video files, sorted by name, not
// recursive), a pattern with * ? or [ ] (sorted matches), or a file. A folder without media, a
// pattern without matches or a missing file gives one entry with `error` set.
std::vector<MediaInput> expand_inputs(const std::vector<std::string>& specs);

// Frames of one input, in BGR. The constructor throws npusplit::Error when it cannot be read.
class FrameSource {
 public:
  explicit FrameSource(const MediaInput& in);
  // The next frame; false at the end. A video that gives no first frame throws.
  bool next(cv::Mat& bgr);
  bool is_image() const { return kind_ == MediaKind::image; }
  MediaKind kind() const { return kind_; }
  int64_t frame_count() const { return frame_count_; }  // 0: unknown (cameras, some streams)
  double fps() const { return fps_; }
  cv::Size size() const { return size_; }

 private:
  MediaKind kind_;
  std::string label_;
  cv::Mat image_;
  std::unique_ptr<VideoReader> cap_;  // videos and cameras (the media plugin)
  int64_t read_ = 0, frame_count_ = 0;
  double fps_ = 0;
  cv::Size size_;
};

}  // namespace npusplit
