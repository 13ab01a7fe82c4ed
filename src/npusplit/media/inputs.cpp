#include "npusplit/media/inputs.h"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include "npusplit/io/media_codecs.h"

#include "npusplit/detect/preprocess.h"
#include "npusplit/error.h"

namespace npusplit {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

bool is_media(const fs::path& p) { return is_image_extension(p) || is_video_extension(p); }

// A file's kind by its extension; an unknown extension is tried as an image first (OpenCV
// recognises images by their signature), then as a video.
MediaInput file_input(const std::string& spec, const fs::path& p) {
  MediaInput in;
  in.spec = spec;
  in.path = p;
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    in.error = "no such file";
  } else if (fs::is_directory(p, ec)) {
    in.error = "is a folder";
  } else if (is_video_extension(p)) {
    in.kind = MediaKind::video;
  } else if (is_image_extension(p)) {
    in.kind = MediaKind::image;
  } else {
    bool image = false;
    try {
      image = media_codecs().have_image_reader(p.string());
    } catch (const cv::Exception&) {
    }
    in.kind = image ? MediaKind::image : MediaKind::video;
  }
  return in;
}

}  // namespace

bool is_image_extension(const fs::path& p) {
  static const char* exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jp2"};
  const auto e = lower_extension(p);
  return std::any_of(std::begin(exts), std::end(exts), [&](const char* x) { return e == x; });
}

bool is_video_extension(const fs::path& p) {
  static const char* exts[] = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"};
  const auto e = lower_extension(p);
  return std::any_of(std::begin(exts), std::end(exts), [&](const char* x) { return e == x; });
}

std::vector<MediaInput> expand_inputs(const std::vector<std::string>& specs) {
  std::vector<MediaInput> out;
  for (const auto& spec : specs) {
    if (spec.rfind("cam:", 0) == 0) {
      MediaInput in;
      in.spec = spec;
      in.kind = MediaKind::camera;
      const std::string id = spec.substr(4);
      const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
      if (digits) in.camera_index = std::stoi(id);
      else in.error = "a camera is cam:N with N a device number (cam:0)";
      out.push_back(in);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(spec, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(spec, ec))
        if (e.is_regular_file(ec) && is_media(e.path())) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        MediaInput in;
        in.spec = spec;
        in.path = spec;
        in.error = "folder without images or videos";
        out.push_back(in);
      }
      for (const auto& f : files) out.push_back(file_input(f.string(), f));
      continue;
    }
    if (spec.find_first_of("*?[") != std::string::npos && !fs::exists(spec, ec)) {
      glob_t g{};
      const int rc = ::glob(spec.c_str(), 0, nullptr, &g);
      std::vector<fs::path> files;
      if (rc == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i)
          if (!fs::is_directory(g.gl_pathv[i], ec)) files.emplace_back(g.gl_pathv[i]);
      ::globfree(&g);
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        MediaInput in;
        in.spec = spec;
        in.error = "no file matches this pattern";
        out.push_back(in);
      }
      for (const auto& f : files) out.push_back(file_input(f.string(), f));
      continue;
    }
    out.push_back(file_input(spec, spec));
  }
  return out;
}

FrameSource::FrameSource(const MediaInput& in) : kind_(in.kind), label_(in.spec) {
  if (!in.error.empty()) fail("{}: {}", in.spec, in.error);
  if (kind_ == MediaKind::image) {
    image_ = read_image(in.path.string());
    size_ = image_.size();
    frame_count_ = 1;
    return;
  }
  try {
    cap_ = kind_ == MediaKind::camera ? media_codecs().open_camera(in.camera_index)
                                      : media_codecs().open_video(in.path.string());
  } catch (const cv::Exception&) {
  }
  if (!cap_ || !cap_->is_open())
    fail("{}: {}", in.spec, kind_ == MediaKind::camera ? "cannot open the camera" : "not a readable image or video");
  fps_ = cap_->get(VideoProp::fps);
  if (!(fps_ > 0 && fps_ < 1000)) fps_ = kind_ == MediaKind::camera ? 30 : 25;
  const double n = cap_->get(VideoProp::frame_count);
  frame_count_ = kind_ == MediaKind::video && n > 0 && n < 1e9 ? int64_t(n) : 0;
  size_ = {int(cap_->get(VideoProp::width)), int(cap_->get(VideoProp::height))};
}

bool FrameSource::next(cv::Mat& bgr) {
  if (kind_ == MediaKind::image) {
    if (read_++ > 0) return false;
    bgr = image_;
    return true;
  }
  bool ok = false;
  try {
    ok = cap_->read(bgr);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok || bgr.empty()) {
    if (read_ == 0)
      fail("{}: {} gave no frame (unreadable or empty)", label_, kind_ == MediaKind::camera ? "the camera" : "the video");
    return false;
  }
  if (read_ == 0) size_ = bgr.size();
  ++read_;
  return true;
}

}  // namespace npusplit
