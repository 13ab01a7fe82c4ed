#include "npusplit/shapes/isolated_inference.h"

#include <fcntl.h>
#include <onnx/shape_inference/implementation.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "npusplit/base/fd_io.h"
#include "npusplit/error.h"

namespace npusplit {

namespace {
[[noreturn]] void child(onnx::ModelProto& m, int out) {
  // Only onnx code runs here (no ORT, no logging): what the parent's other threads held at
  // fork time is never touched. glibc's malloc is fork-safe.
  // A Ctrl-C reaches the whole process group: the child just ends (the parent's handlers, which
  // remove the parent's temporary files and wait for its busy sections, are not the child's).
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
  const int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) ::dup2(devnull, 2);
  try {
    onnx::ShapeInferenceOptions opts{false, 0, true};
    onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (...) {
    // best effort: what inference could not do, folding and ONNX Runtime supply
  }
  onnx::GraphProto result;
  *result.mutable_value_info() = m.graph().value_info();
  *result.mutable_output() = m.graph().output();
  std::string bytes;
  result.SerializeToString(&bytes);
  ::_exit(write_all(out, bytes.data(), bytes.size()) ? 0 : 3);
}
}  // namespace

void infer_shapes_isolated(onnx::ModelProto& m, int timeout_s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("cannot start shape inference (pipe)");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail("cannot start shape inference (fork)");
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(m, fds[1]);
  }
  ::close(fds[1]);
  std::string bytes;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool timed_out = false;
  char buf[1 << 16];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) fail("ONNX shape inference did not finish within {} s on this model", timeout_s);
  if (WIFSIGNALED(status))
    fail("ONNX shape inference crashed on this model (signal {}): the graph is malformed", WTERMSIG(status));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("ONNX shape inference failed to report its result");
  onnx::GraphProto result;
  if (!result.ParseFromString(bytes)) fail("ONNX shape inference returned an unreadable result");
  auto* g = m.mutable_graph();
  *g->mutable_value_info() = std::move(*result.mutable_value_info());
  if (result.output_size() == g->output_size())
    for (int i = 0; i < g->output_size(); ++i) *g->mutable_output(i) = std::move(*result.mutable_output(i));
}

}  // namespace npusplit
