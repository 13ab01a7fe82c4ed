#include "npusplit/base/stderr_capture.h"

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace npusplit {

StderrCapture::StderrCapture() {
  std::fflush(stderr);
  char name[] = "/tmp/npusplit-stderr-XXXXXX";
  file_ = ::mkstemp(name);
  if (file_ < 0) return;  // capture is best effort: without it, the library's text shows
  ::unlink(name);
  saved_ = ::dup(2);
  if (saved_ < 0 || ::dup2(file_, 2) < 0) {
    if (saved_ >= 0) ::close(saved_);
    ::close(file_);
    saved_ = file_ = -1;
  }
}

std::string StderrCapture::finish() {
  if (saved_ < 0) return {};
  std::fflush(stderr);
  ::dup2(saved_, 2);
  ::close(saved_);
  saved_ = -1;
  std::string out(4096, '\0');
  const ssize_t n = ::pread(file_, out.data(), out.size(), 0);
  ::close(file_);
  file_ = -1;
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

StderrCapture::~StderrCapture() { finish(); }

}  // namespace npusplit
