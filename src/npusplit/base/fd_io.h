#pragma once
// Whole-buffer writes to a file descriptor: write(2) may write less than asked, or be
// interrupted by a signal (SIGINT is held off only while an output set is renamed).
#include <cerrno>
#include <cstddef>
#include <unistd.h>

namespace npusplit {

inline bool write_all(int fd, const char* data, size_t size) {
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace npusplit
