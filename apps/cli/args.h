#pragma once
// Small argument helpers shared by the subcommands.
#include <string>
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

}  // namespace npusplit::cli
