#pragma once
// Small argument helpers shared by the subcommands.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <type_traits>
#include <vector>

namespace npusplit::cli {

// "a,b" "c" -> {a, b, c}: list options accept both repeated flags and commas.
inline std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    size_t start = 0;
    while (start <= s.size()) {
      auto c = s.find(',', start);
      if (c == std::string::npos) c = s.size();
      if (c > start) out.push_back(s.substr(start, c - start));
      start = c + 1;
    }
  }
  return out;
}

// Numeric checks with a plain one-line message ("--frames: must be at least 1, got 0"), not
// CLI11's range text ending at 1.8e308.
inline CLI::Validator number_in(double lo, double hi, const std::string& what) {
  return CLI::Validator(
      [lo, hi, what](std::string& s) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != s.size()) return fmt::format("'{}' is not a number", s);
        if (v < lo || v > hi) return fmt::format("must be {}, got {}", what, s);
        return "";
      },
      what);
}
inline CLI::Validator at_least(double lo) { return number_in(lo, 1e300, fmt::format("at least {}", lo)); }
inline CLI::Validator in_unit_interval() { return number_in(0.0, 1.0, "between 0 and 1"); }

// One line for any parse error, with "did you mean" for misspelt commands and options.
std::string explain_parse_error(CLI::App& app, int argc, char** argv, const CLI::ParseError& e);
// A misspelt command, found before CLI11 parses (it would only say "a subcommand is required").
std::string unknown_command(CLI::App& app, int argc, char** argv);

// A command's big result (models with their weights) is left to the operating system at exit:
// freeing hundreds of MB of protobuf messages one by one costs a tenth of a second of a split
// (compilers do the same: clang's -disable-free). The list itself is never destroyed, so the
// objects stay reachable through exit and LeakSanitizer does not count them as leaks.
template <class T>
void keep_until_exit(T&& value) {
  static auto* kept = new std::vector<const void*>;
  kept->push_back(new std::decay_t<T>(std::forward<T>(value)));
}

}  // namespace npusplit::cli
