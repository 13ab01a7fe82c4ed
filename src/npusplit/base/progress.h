#pragma once
// Progress of long work on stderr: quiet for work that ends within a second, and whenever
// stderr is not a terminal (logs and pipes stay clean). NPUSPLIT_PROGRESS=1 forces it on
// (one line per second, for CI logs), NPUSPLIT_PROGRESS=0 off.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace npusplit {

// Whether progress is drawn at all, and whether as a redrawn terminal line.
bool progress_enabled();

class Progress {
 public:
  enum class Style {
    steps,   // "verify: stage2 on chelsea.png (3/6) 4.2 s"
    frames,  // "video.mp4 [#####.....] 120/300 frames, 24.1 frames/s, ETA 0:07"
  };
  // LABEL names the job; TOTAL is the number of items (0: unknown, e.g. a camera).
  Progress(std::string label, int64_t total, Style style = Style::steps);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A new step starts: WHAT is being done now, DONE items are finished.
  void step(int64_t done, std::string what = "");
  // Items finished (frames), without changing the step text.
  void advance(int64_t done);
  void set_total(int64_t total);
  // Erases the line for a moment (output on stdout follows); the next tick redraws it.
  void clear();
  // Clears the line for good; the job's own output follows.
  void finish();
  // What the line shows now (also used by the tests).
  std::string line() const;

 private:
  void tick();
  std::string line_locked() const;

  // Work inside other work (verify inside split inside prepare) draws no line of its own: its
  // step shows after the outer one's ("prepare: s (5/8) 12 s -- verify: stage2, random #0").
  Progress* outer_ = nullptr;
  std::string detail_;
  std::string label_, what_;
  int64_t total_ = 0, done_ = 0;
  Style style_;
  bool enabled_ = false, tty_ = false, drawn_ = false, stop_ = false;
  std::chrono::steady_clock::time_point start_, last_line_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread ticker_;
};

}  // namespace npusplit
