#include "npusplit/base/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace npusplit {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kQuietFor = std::chrono::seconds(1);  // work shorter than this prints nothing

// NPUSPLIT_PROGRESS_PERIOD_MS: the quiet time and the line period (tests and CI logs set it so
// that progress does not depend on how fast the machine is); 0 when unset.
std::chrono::milliseconds period_override() {
  if (const char* e = std::getenv("NPUSPLIT_PROGRESS_PERIOD_MS"); e && *e) {
    char* end = nullptr;
    const long v = std::strtol(e, &end, 10);
    if (end && *end == '\0' && v > 0 && v < 600000) return std::chrono::milliseconds(v);
  }
  return std::chrono::milliseconds(0);
}
std::mutex g_top_mu;
Progress* g_top = nullptr;  // the outermost live Progress

std::string clock_str(double s) {
  const auto t = static_cast<int64_t>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02d}:{:02d}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02d}", t / 60, t % 60);
}
}  // namespace

bool progress_enabled() {
  if (const char* e = std::getenv("NPUSPLIT_PROGRESS"); e && *e) return std::string(e) != "0";
  return ::isatty(STDERR_FILENO) != 0;
}

Progress::Progress(std::string label, int64_t total, Style style)
    : label_(std::move(label)), total_(total), style_(style) {
  start_ = Clock::now();
  {
    std::lock_guard<std::mutex> lock(g_top_mu);
    if (g_top) outer_ = g_top;
    else g_top = this;
  }
  if (outer_) return;
  enabled_ = progress_enabled();
  tty_ = enabled_ && ::isatty(STDERR_FILENO) != 0;
  if (enabled_) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() { finish(); }

void Progress::step(int64_t done, std::string what) {
  std::string detail;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = done;
    what_ = std::move(what);
    if (outer_) detail = line_locked();
  }
  if (outer_) {
    std::lock_guard<std::mutex> lock(outer_->mu_);
    outer_->detail_ = detail;
  }
}

void Progress::advance(int64_t done) {
  std::string detail;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = done;
    if (outer_) detail = line_locked();
  }
  if (outer_) {
    std::lock_guard<std::mutex> lock(outer_->mu_);
    outer_->detail_ = detail;
  }
}

void Progress::set_total(int64_t total) {
  std::lock_guard<std::mutex> lock(mu_);
  total_ = total;
}

void Progress::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(g_top_mu);
    if (g_top == this) g_top = nullptr;
  }
  if (outer_) {
    std::lock_guard<std::mutex> lock(outer_->mu_);
    outer_->detail_.clear();
    return;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  // With a set period, a run shorter than it still leaves its last line (deterministic logs).
  if (enabled_ && !tty_ && !drawn_ && period_override().count() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stderr, "%s\n", line_locked().c_str());
  }
  if (drawn_ && tty_) std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
}

void Progress::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_ && tty_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

std::string Progress::line() const {
  std::lock_guard<std::mutex> lock(mu_);
  return line_locked();
}

std::string Progress::line_locked() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (style_ == Style::steps) {
    std::string s = label_ + ":";
    if (!what_.empty()) s += " " + what_;
    if (total_ > 0) s += fmt::format(" ({}/{})", std::min(done_ + 1, total_), total_);
    if (!outer_) s += fmt::format(" {:.0f} s", elapsed);
    if (!detail_.empty()) s += " -- " + detail_;
    return s;
  }
  const double rate = elapsed > 0 ? double(done_) / elapsed : 0;
  std::string s = label_;
  if (!what_.empty()) s += " " + what_;
  if (total_ > 0) {
    const int width = 20;
    const int fill = static_cast<int>(double(std::min(done_, total_)) / double(total_) * width);
    s += fmt::format(" [{}{}] {}/{} frames", std::string(size_t(fill), '#'), std::string(size_t(width - fill), '.'),
                     done_, total_);
  } else {
    s += fmt::format(" {} frames", done_);
  }
  s += fmt::format(", {:.1f} frames/s", rate);
  if (total_ > 0 && rate > 0) s += ", ETA " + clock_str(double(std::max<int64_t>(0, total_ - done_)) / rate);
  else s += ", " + clock_str(elapsed);
  if (!detail_.empty()) s += " -- " + detail_;
  return s;
}

// Redraws on a terminal every 0.2 s; writes a line per second otherwise (forced on).
void Progress::tick() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto forced = period_override();
  const auto period = forced.count() ? forced : tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1000);
  const auto quiet_for = forced.count() ? std::chrono::duration_cast<Clock::duration>(forced)
                                        : std::chrono::duration_cast<Clock::duration>(kQuietFor);
  while (!stop_) {
    cv_.wait_for(lock, period, [this] { return stop_; });
    if (stop_) break;
    const auto now = Clock::now();
    if (now - start_ < quiet_for) continue;
    const std::string s = line_locked();
    if (tty_) std::fprintf(stderr, "\r\033[K%s", s.c_str());
    else std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
    drawn_ = true;
    last_line_ = now;
  }
}

}  // namespace npusplit
