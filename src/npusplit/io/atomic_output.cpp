#include "npusplit/io/atomic_output.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
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
// async-signal-safe functions, so the paths live in fixed buffers, slots are claimed without a
// lock (a thread interrupted while holding one would stall the handler, below), and the handler
// only calls unlink(), nanosleep(), signal() and raise().
constexpr int kSlots = 64;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
enum SlotState : int { kFree = 0, kFilling = 1, kUsed = 2 };
std::atomic<int> g_slot[kSlots];

// The handler may run on any thread (a signal to the process goes to whichever thread does not
// block it), while other threads create temporary files (stages are written in parallel) or
// rename a set into place. Those steps are BUSY sections: their thread blocks the signals, and
// the handler, having set DYING, waits for every busy section to end before it removes what is
// registered. A section that starts after DYING creates nothing (the process is going). So no
// file is created behind the handler's back, and a set being renamed is renamed whole. A busy
// section takes no lock and allocates nothing, so it never waits on the interrupted thread.
std::atomic<bool> g_dying{false};
std::atomic<int> g_busy{0};

void install_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    // A command that handles the signal itself (run: finish the frame, then stop) keeps its
    // handler, which ends through remove_temp_files_and_die; checked at every registration, so a
    // handler that was in place for a while does not leave the later files unprotected.
    if (old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temp_files_and_die;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

// PATH (shorter than kPathMax) into a free slot; -1 when all are taken (the file is then still
// removed on failure, not on a signal).
int register_temp(const char* path, size_t len) {
  if (len >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slot[i].compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(g_paths[i], path, len + 1);
    g_slot[i].store(kUsed);
    return i;
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_slot[slot].store(kFree);
}

}  // namespace

extern "C" void remove_temp_files_and_die(int sig) {
  g_dying.store(true);
  const timespec tick{0, 1000000};  // 1 ms; at most 10 s (a file system that hangs)
  for (int waited = 0; g_busy.load() > 0 && waited < 10000; ++waited) ::nanosleep(&tick, nullptr);
  for (int i = 0; i < kSlots; ++i)
    if (g_slot[i].load() == kUsed) ::unlink(g_paths[i]);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when the handler returns: the process ends by SIG, as it would have
}

namespace {

void fsync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Holds SIGINT/SIGTERM/SIGHUP on this thread while a set is renamed into place: an interrupt
// then takes effect after the last rename, never between two of them.
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

// A busy section (see g_busy): the signals held on this thread, counted for the handler. Once
// the process is dying, the thread waits here for its end instead of creating or renaming.
struct Busy {
  SignalsHeld held;
  Busy() {
    g_busy.fetch_add(1);
    if (g_dying.load()) {
      g_busy.fetch_sub(1);
      for (;;) ::pause();
    }
  }
  ~Busy() { g_busy.fetch_sub(1); }
};

}  // namespace

int pending_temp_files() {
  int n = 0;
  for (int i = 0; i < kSlots; ++i) n += g_slot[i].load() == kUsed;
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
  const std::string tmp_path = tmp.string();
  install_handlers();
  int slot = -1, fd = -1;
  {
    Busy busy;
    slot = register_temp(tmp_path.c_str(), tmp_path.size());
    fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
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
// Protobuf's output stream that keeps the serialized bytes as pieces in order instead of one
// buffer: the small fields are copied into blocks of its own, every large `bytes` field (a
// weight's raw_data) stays where it is in the message (protobuf's aliasing). A 140 MB stage is
// then written with writev straight from the weights and hashed from them on a second thread:
// no copy of its raw_data weights in user space, where serializing into a buffer took two. A
// model whose weights would mostly be copied (typed float_data, many small tensors) is
// streamed instead (HashingFileStream, below): memory stays bounded either way.
class PieceStream : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  bool Next(void** data, int* size) override {
    if (blocks_.empty() || used_ == kBlock) {
      close_piece();
      blocks_.push_back(std::make_unique<char[]>(kBlock));
      used_ = start_ = 0;
    }
    *data = blocks_.back().get() + used_;
    *size = static_cast<int>(kBlock - used_);
    used_ = kBlock;
    return true;
  }
  void BackUp(int count) override { used_ -= static_cast<size_t>(count); }
  int64_t ByteCount() const override { return static_cast<int64_t>(total_ + used_ - start_); }
  bool AllowsAliasing() const override { return true; }
  bool WriteAliasedRaw(const void* data, int size) override {
    close_piece();
    pieces_.push_back({const_cast<void*>(data), static_cast<size_t>(size)});
    total_ += static_cast<size_t>(size);
    return true;
  }
  // The pieces, once the CodedOutputStream over this stream is gone (it backs up what it did not use).
  const std::vector<iovec>& finish() {
    close_piece();
    return pieces_;
  }

 static constexpr size_t kBlock = 256 << 10;

 private:
  void close_piece() {
    if (used_ == start_) return;
    pieces_.push_back({blocks_.back().get() + start_, used_ - start_});
    total_ += used_ - start_;
    start_ = used_;
  }
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, start_ = 0, total_ = 0;  // in the last block: bytes used, where the open piece starts
  std::vector<iovec> pieces_;
};

// The other way, for a model whose weights are mostly not in large raw_data (typed float_data,
// many small tensors): pieces would copy them all into memory, so the bytes are streamed through
// a 1 MiB buffer into the file and hashed on the way (one thread, bounded memory).
class HashingFileStream : public google::protobuf::io::CopyingOutputStream {
 public:
  HashingFileStream(int fd, Sha256& h) : fd_(fd), h_(h) {}
  bool Write(const void* buffer, int size) override {
    h_.update(buffer, static_cast<size_t>(size));
    return write_all(fd_, static_cast<const char*>(buffer), static_cast<size_t>(size));
  }

 private:
  int fd_;
  Sha256& h_;
};

// Above this, a model's small fields are streamed instead of kept as pieces (HashingFileStream).
constexpr size_t kMaxCopiedBytes = 32 << 20;

// How many of the TOTAL bytes of M's serialization PieceStream would copy into its own blocks
// (all but the raw_data too large to fit a block's remaining space, which are aliased).
size_t copied_bytes(const onnx::ModelProto& m, size_t total, size_t block) {
  size_t aliased = 0;
  for (const auto& t : m.graph().initializer())
    if (t.raw_data().size() > block) aliased += t.raw_data().size();
  return total > aliased ? total - aliased : 0;
}
}  // namespace

std::string OutputSet::add_bytes(const fs::path& path, const std::string& bytes) {
  add(path, [&](int fd) { return write_all(fd, bytes.data(), bytes.size()); });
  return sha256_hex(bytes);
}

std::string OutputSet::add_model(const fs::path& path, const onnx::ModelProto& m) {
  const size_t total = m.ByteSizeLong();  // also caches the sizes the serializers below use
  if (total > static_cast<size_t>(INT32_MAX))
    fail("{}: the model is over 2 GiB, protobuf's limit for one ONNX file", printable(path.string()));
  if (copied_bytes(m, total, PieceStream::kBlock) > kMaxCopiedBytes) {
    Sha256 h;
    add(path, [&](int fd) {
      HashingFileStream file(fd, h);
      google::protobuf::io::CopyingOutputStreamAdaptor out(&file, 1 << 20);
      return m.SerializeToZeroCopyStream(&out) && out.Flush();
    });
    return h.hex();
  }
  PieceStream stream;
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.EnableAliasing(true);
    m.SerializeWithCachedSizes(&coded);
    if (coded.HadError()) fail("{}: cannot serialize the model", printable(path.string()));
  }
  const std::vector<iovec>& pieces = stream.finish();
  std::string hash;
  std::exception_ptr hash_error;
  std::thread hasher([&] {
    try {
      Sha256 h;
      for (const auto& p : pieces) h.update(p.iov_base, p.iov_len);
      hash = h.hex();
    } catch (...) {
      hash_error = std::current_exception();
    }
  });
  try {
    add(path, [&](int fd) { return writev_all(fd, pieces); });
  } catch (...) {
    hasher.join();
    throw;
  }
  hasher.join();
  if (hash_error) std::rethrow_exception(hash_error);
  return hash;
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
  size_t failed = pending_.size();
  {
    Busy busy;  // renames only: no allocation, no lock
    for (size_t i = 0; i < pending_.size(); ++i) {
      auto& p = pending_[i];
      if (::rename(p.tmp.c_str(), p.target.c_str()) != 0) {
        failed = i;
        break;
      }
      unregister_temp(p.slot);
    }
  }
  if (failed < pending_.size()) {
    const std::string what = printable(pending_[failed].target.string());
    // The files already renamed stay (they are complete); the rest are removed.
    for (size_t k = failed; k < pending_.size(); ++k) {
      ::unlink(pending_[k].tmp.c_str());
      unregister_temp(pending_[k].slot);
    }
    pending_.clear();
    fail("{}: cannot move the finished file into place", what);
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
