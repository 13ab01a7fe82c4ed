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
