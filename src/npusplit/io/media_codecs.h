#pragma once
// OpenCV's image codecs and video back ends (imgcodecs, videoio) bring GDAL, FFmpeg, GStreamer
// and about 240 shared libraries with them: linked into every command they cost ~0.1 s of
// start-up (dynamic symbol lookups), though check, split and fix never decode a picture. They
// live in a plugin (libnpusplit_media_codecs.so, src/plugins/media_codecs.cpp), loaded on the
// first call to media_codecs().
#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

namespace npusplit {

enum class VideoProp { fps, frame_count, width, height };

class VideoReader {
 public:
  virtual ~VideoReader() = default;
  virtual bool is_open() const = 0;
  virtual bool read(cv::Mat& bgr) = 0;
  virtual double get(VideoProp p) const = 0;
};

class VideoWriter {
 public:
  virtual ~VideoWriter() = default;
  virtual bool is_open() const = 0;
  virtual void write(const cv::Mat& bgr) = 0;
  virtual void release() = 0;
};

// The calls npusplit makes of imgcodecs/videoio (they may throw cv::Exception, as OpenCV does).
class MediaCodecs {
 public:
  virtual ~MediaCodecs() = default;
  virtual cv::Mat read_image(const std::string& path) = 0;  // BGR; empty when unreadable
  virtual bool encode_image(const std::string& ext, const cv::Mat& img, std::vector<uchar>& out) = 0;
  virtual bool have_image_reader(const std::string& path) = 0;
  virtual std::unique_ptr<VideoReader> open_video(const std::string& path) = 0;
  virtual std::unique_ptr<VideoReader> open_camera(int index) = 0;
  // FOURCC: four characters ("mp4v"); a writer that is not open when the format cannot be written.
  virtual std::unique_ptr<VideoWriter> open_writer(const std::string& path, const char* fourcc, double fps,
                                                   cv::Size size) = 0;
};

// The plugin's entry point (extern "C", so dlsym finds it by this name).
using MediaCodecsEntry = MediaCodecs* (*)();
inline constexpr const char* kMediaCodecsEntry = "npusplit_media_codecs";
inline constexpr const char* kMediaCodecsFile = "libnpusplit_media_codecs.so";

// Loads the plugin once (thread-safe) and returns it; throws npusplit::Error with one line
// naming where it looked when it is missing or broken.
MediaCodecs& media_codecs();
// The folders searched, in order: $NPUSPLIT_PLUGIN_DIR, the folder of the binary or Python module
// holding this library, its ../lib/npusplit (an installed prefix), its parent (the build tree's
// tests/ and bench/), the configured install folder.
std::vector<std::string> media_codecs_search_path();
// Loads the plugin from the first of DIRS that holds it (what media_codecs() does once, on its
// search path); throws npusplit::Error with one line when none can be loaded.
MediaCodecs& load_media_codecs(const std::vector<std::string>& dirs);
// The plugin file the first call would load (the first on the search path), or empty; nothing loaded.
std::string media_codecs_location();

}  // namespace npusplit
