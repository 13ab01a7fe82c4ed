#include "npusplit/io/atomic_output.h"

#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "npusplit/base/fd_io.h"
#include "npusplit/base/sha256.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"

namespace fs = std::filesystem;

namespace npusplit {

namespace {

// Temporary files to remove if the process is interrupted. A signal handler may only call
// async-signal-safe functions, so the paths live in fixed buffers and the handler only
// calls unlink(), signal() and raise().
constexpr int kSlots = 64;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_used[kSlots];
std::mutex g_mutex;  // registration only; never taken by the handler

extern "C" void remove_temp_files_and_die(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load()) ::unlink(g_paths[i]);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      ::sigaction(sig, nullptr, &old);
      // A command that handles the signal itself (run: finish the frame, then stop) keeps
      // its handler; its normal exit path removes the temporary files.
      if (old.sa_handler != SIG_DFL) continue;
      struct sigaction sa {};
      sa.sa_handler = remove_temp_files_and_die;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

int register_temp(const fs::path& p) {
  install_handlers_once();
  const std::string s = p.string();
  if (s.size() >= kPathMax) return -1;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int i = 0; i < kSlots; ++i)
    if (!g_used[i].load()) {
      std::memcpy(g_paths[i], s.c_str(), s.size() + 1);
      g_used[i].store(true);
      return i;
    }
  return -1;  // more than kSlots files in flight: still removed on failure, not on a signal
}

void unregister_temp(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_used[slot].store(false);
}

void fsync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Holds SIGINT/SIGTERM/SIGHUP while a set is renamed into place: an interrupt then takes
// effect after the last rename, never between two of them.
struct SignalsHeld {
  sigset_t old{};
  SignalsHeld() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&s, sig);
    ::pthread_sigmask(SIG_BLOCK, &s, &old);
  }
  ~SignalsHeld() { ::pthread_sigmask(SIG_SETMASK, &old, nullptr); }
};

}  // namespace

int pending_temp_files() {
  int n = 0;
  for (int i = 0; i < kSlots; ++i) n += g_used[i].load();
  return n;
}

void OutputSet::add(const fs::path& path, const std::function<bool(int fd)>& write) {
  const std::string what = printable(path.string());
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (fs::is_directory(path, ec)) fail("{}: is a folder; cannot write a file there", what);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = path.parent_path() / (path.filename().string() + ".tmp." + std::to_string(::getpid()) +
                                             "." + std::to_string(rng() % 1000000000));
  const int slot = register_temp(tmp);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    unregister_temp(slot);
    fail("{}: cannot write (folder missing or not writable)", what);
  }
  bool ok = write(fd);
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    unregister_temp(slot);
    fail("{}: write failed (too large, or disk full)", what);
  }
  pending_.push_back({path, tmp, slot});
}

namespace {
// Protobuf's output stream over a file descriptor that also hashes what passes through.
// Hashes what it is fed on a thread of its own: SHA-256 of a 130 MB stage1 takes about as long
// as serializing and writing it, and the two overlap on two cores. A few chunks in flight at
// most (bounded memory).
class BackgroundHasher {
 public:
  BackgroundHasher() : thread_([this] { loop(); }) {}
  ~BackgroundHasher() { finish(); }
  void feed(const void* data, size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [&] { return queue_.size() < kInFlight; });
    queue_.emplace_back(static_cast<const char*>(data), n);
    ready_.notify_one();
  }
  std::string hex() {
    finish();
    return hash_.hex();
  }

 private:
  static constexpr size_t kInFlight = 4;
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  void loop() {
    for (;;) {
      std::string chunk;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      hash_.update(chunk.data(), chunk.size());
    }
  }
  Sha256 hash_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<std::string> queue_;
  bool done_ = false;
  std::thread thread_;  // last: started once the rest is constructed
};

// A protobuf output stream into FD that feeds the hasher with every byte it writes.
class HashingFileStream : public google::protobuf::io::CopyingOutputStream {
 public:
  HashingFileStream(int fd, BackgroundHasher& h) : fd_(fd), h_(h) {}
  bool Write(const void* buffer, int size) override {
    h_.feed(buffer, static_cast<size_t>(size));
    return write_all(fd_, static_cast<const char*>(buffer), static_cast<size_t>(size));
  }

 private:
  int fd_;
  BackgroundHasher& h_;
};
}  // namespace

std::string OutputSet::add_bytes(const fs::path& path, const std::string& bytes) {
  add(path, [&](int fd) { return write_all(fd, bytes.data(), bytes.size()); });
  return sha256_hex(bytes);
}

std::string OutputSet::add_model(const fs::path& path, const onnx::ModelProto& m) {
  // Serialized straight into the file (no second in-memory copy of the weights), hashed beside it.
  BackgroundHasher h;
  add(path, [&](int fd) {
    HashingFileStream file(fd, h);
    google::protobuf::io::CopyingOutputStreamAdaptor out(&file, 1 << 20);
    return m.SerializeToZeroCopyStream(&out) && out.Flush();
  });
  return h.hex();
}

std::vector<std::string> OutputSet::add_models(const std::vector<std::pair<fs::path, const onnx::ModelProto*>>& models) {
  std::vector<std::string> hashes(models.size());
  std::vector<OutputSet> own(models.size());  // one set per thread: nothing shared while writing
  std::vector<std::exception_ptr> errors(models.size());
  const auto write_one = [&](size_t i) {
    try {
      hashes[i] = own[i].add_model(models[i].first, *models[i].second);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < models.size(); ++i) threads.emplace_back(write_one, i);
  if (!models.empty()) write_one(0);
  for (auto& t : threads) t.join();
  // Into this set in the order given (removed with it if one of them failed).
  for (auto& set : own) {
    pending_.insert(pending_.end(), set.pending_.begin(), set.pending_.end());
    set.pending_.clear();
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return hashes;
}

fs::path OutputSet::pending_path(const fs::path& path) const {
  for (const auto& p : pending_)
    if (p.target == path) return p.tmp;
  return {};
}

void OutputSet::commit() {
  {
    SignalsHeld held;
    for (size_t i = 0; i < pending_.size(); ++i) {
      auto& p = pending_[i];
      if (::rename(p.tmp.c_str(), p.target.c_str()) != 0) {
        const std::string what = printable(p.target.string());
        // The files already renamed stay (they are complete); the rest are removed.
        for (size_t k = i; k < pending_.size(); ++k) {
          ::unlink(pending_[k].tmp.c_str());
          unregister_temp(pending_[k].slot);
        }
        pending_.clear();
        fail("{}: cannot move the finished file into place", what);
      }
      unregister_temp(p.slot);
    }
  }
  std::vector<fs::path> folders;
  for (const auto& p : pending_) {
    const fs::path d = p.target.parent_path();
    if (std::find(folders.begin(), folders.end(), d) == folders.end()) folders.push_back(d);
  }
  for (const auto& d : folders) fsync_folder(d);
  pending_.clear();
}

OutputSet::~OutputSet() {
  for (const auto& p : pending_) {
    ::unlink(p.tmp.c_str());
    unregister_temp(p.slot);
  }
}

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  OutputSet s;
  s.add_bytes(path, bytes);
  s.commit();
}

void save_model(const onnx::ModelProto& m, const fs::path& path) {
  OutputSet s;
  s.add_model(path, m);
  s.commit();
}

}  // namespace npusplit
