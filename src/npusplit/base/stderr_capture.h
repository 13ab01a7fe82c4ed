#pragma once
// Some libraries print to stderr themselves (libpng inside OpenCV: "libpng warning: iCCP ...",
// "libpng error: ..."), which breaks npusplit's one-line errors. StderrCapture redirects file
// descriptor 2 into a temporary file for its lifetime and hands back what was written, so the
// caller can turn it into its own message. It is process-wide: keep the scope short (one
// library call).
#include <string>

namespace npusplit {

class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();  // restores stderr
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  std::string finish();  // restores stderr, returns what was captured (at most 4 KiB)

 private:
  int saved_ = -1, file_ = -1;
};

}  // namespace npusplit
