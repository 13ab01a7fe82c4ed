#pragma once
// One exception type for every user-facing failure: the CLI prints its message on one line
// and exits 2, so bad input never turns into a crash or a stack trace.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace npusplit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace npusplit

namespace npusplit {

// Any exception in the user's terms, on one line: npusplit's own errors as they are; library
// exceptions (allocation failures, ONNX Runtime, file system, JSON, YAML) translated, without
// library internals ("basic_string::_M_create", ORT's source paths). The CLI prints this as
// "npusplit: error: <text>" and exits 2.
std::string describe_exception(const std::exception& e);
// ORT/library text cleaned of source locations and C++ signatures, first line only.
std::string clean_library_message(std::string msg);

}  // namespace npusplit
