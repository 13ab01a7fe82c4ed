#pragma once
// Whole-buffer reads and writes on a file descriptor: read(2)/write(2) may move less than asked,
// or be interrupted by a signal (SIGINT is held off only while an output set is renamed).
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <vector>

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

// Reads SIZE bytes at OFFSET (pread: no shared file offset, so threads may share FD); false on
// an error or end of file first.
inline bool pread_all(int fd, char* data, size_t size, off_t offset) {
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pread(fd, data + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Writes every buffer of IOV in order, IOV_MAX at a time (IOV is consumed).
inline bool writev_all(int fd, std::vector<iovec> iov) {
  size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = ::writev(fd, iov.data() + first, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    // Skip what was written: whole buffers, then part of the next one.
    while (first < iov.size() && static_cast<size_t>(n) >= iov[first].iov_len) n -= static_cast<ssize_t>(iov[first++].iov_len);
    if (n > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + n;
      iov[first].iov_len -= static_cast<size_t>(n);
    }
  }
  return true;
}

}  // namespace npusplit
