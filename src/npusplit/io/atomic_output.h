#pragma once
// Every file npusplit writes goes through here. A file is written to a temporary name beside
// its target, flushed to disk (fsync), renamed into place, and the folder is fsynced, so a
// reader sees the old file or the new one, never half of one, even after a power loss.
// Files that belong together (stage1 + stage2 + manifest, a DFC bundle) are an OutputSet:
// all are written first, then renamed in the order added (the manifest last) with SIGINT/
// SIGTERM held off, so an interrupted command leaves the old set or the new one. Temporary
// files are removed on failure, on destruction and when the process gets SIGINT/SIGTERM/SIGHUP.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace npusplit {

class OutputSet {
 public:
  OutputSet() = default;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  ~OutputSet();  // removes the temporary files of a set never committed

  // Writes the content now, to a temporary file beside PATH (its folder is created).
  // Both return the SHA-256 of what was written (hex), computed while writing.
  std::string add_bytes(const std::filesystem::path& path, const std::string& bytes);
  std::string add_model(const std::filesystem::path& path, const onnx::ModelProto& m);
  // Several models at once, each serialized, hashed and written by its own thread (the weights of
  // a split are most of its time, and they go to two files); the hashes in the order given.
  std::vector<std::string> add_models(
      const std::vector<std::pair<std::filesystem::path, const onnx::ModelProto*>>& models);
  // WRITE gets a file descriptor and returns false on failure.
  void add(const std::filesystem::path& path, const std::function<bool(int fd)>& write);

  // The temporary file holding what was added for PATH (readable until commit), or empty.
  std::filesystem::path pending_path(const std::filesystem::path& path) const;

  // Moves every file into place, in the order added.
  void commit();

 private:
  struct Pending {
    std::filesystem::path target, tmp;
    int slot;
  };
  std::vector<Pending> pending_;
};

void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);
void save_model(const onnx::ModelProto& m, const std::filesystem::path& path);

// How many temporary files are registered for removal (tests: none may stay behind).
int pending_temp_files();

// The signal handler behind every output set, for a command with a handler of its own that
// ends the process (run's second Ctrl-C): waits for the sets being created or renamed on other
// threads, removes every temporary file, and re-raises SIG with its default action. Async-signal-safe.
extern "C" void remove_temp_files_and_die(int sig);

}  // namespace npusplit
