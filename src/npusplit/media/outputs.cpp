#include "npusplit/media/outputs.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <opencv2/core/utils/logger.hpp>

#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/base/json_text.h"

namespace npusplit {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------------
// AnnotatedVideo

namespace {

struct VideoFormat {
  const char* extension;
  const char* fourcc;
};

std::vector<VideoFormat> formats_for(const fs::path& source) {
  std::string e = source.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  std::vector<VideoFormat> f;
  if (e == ".avi") f.push_back({".avi", "MJPG"});
  else if (e == ".mov") f.push_back({".mov", "mp4v"});
  else if (e == ".m4v") f.push_back({".m4v", "mp4v"});
  else if (e == ".mkv") f.push_back({".mkv", "mp4v"});
  else if (e == ".webm") f.push_back({".webm", "VP80"});
  f.push_back({".mp4", "mp4v"});
  f.push_back({".avi", "MJPG"});
  return f;
}

}  // namespace

AnnotatedVideo::AnnotatedVideo(const fs::path& stem_path, const fs::path& source, double fps)
    : stem_(stem_path), source_(source), fps_(fps > 0 ? fps : 25) {}

AnnotatedVideo::~AnnotatedVideo() { close(); }

void AnnotatedVideo::write(const cv::Mat& bgr) {
  if (!writer_ || !writer_->is_open()) {
    std::error_code ec;
    if (stem_.has_parent_path()) fs::create_directories(stem_.parent_path(), ec);
    for (const auto& f : formats_for(source_)) {
      fs::path p = stem_;
      p += f.extension;
      try {
        writer_ = media_codecs().open_writer(p.string(), f.fourcc, fps_, bgr.size());
        if (writer_->is_open()) {
          path_ = p;
          codec_ = f.fourcc;
          break;
        }
      } catch (const cv::Exception&) {
      }
      fs::remove(p, ec);
    }
    if (!writer_ || !writer_->is_open()) fail("{}: this OpenCV build cannot write a video (use --frames-as-png)", stem_.string());
  }
  writer_->write(bgr);
}

void AnnotatedVideo::close() {
  if (writer_ && writer_->is_open()) writer_->release();
}

// ------------------------------------------------------------------------------------------
// InterruptGuard

namespace {
std::atomic<bool> g_interrupt{false};
void (*g_previous)(int) = SIG_DFL;
extern "C" void on_sigint(int) {
  if (g_interrupt.exchange(true)) remove_temp_files_and_die(SIGINT);  // the second Ctrl-C: stop now
}
}  // namespace

InterruptGuard::InterruptGuard() {
  g_interrupt = false;
  g_previous = std::signal(SIGINT, on_sigint);
}
InterruptGuard::~InterruptGuard() { std::signal(SIGINT, g_previous == SIG_ERR ? SIG_DFL : g_previous); }
bool InterruptGuard::requested() { return g_interrupt.load(); }

}  // namespace npusplit
