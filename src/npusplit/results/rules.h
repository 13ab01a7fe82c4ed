#pragma once
// What `npusplit repro --all` wrote: a repro graph per rule, and the rules that have none.
#include <filesystem>
#include <string>
#include <vector>

namespace npusplit {

struct ReproSkip {
  std::string target, rule, why;
};

struct ReproBatch {
  std::filesystem::path out;
  int written = 0;
  std::vector<ReproSkip> skipped;
};

}  // namespace npusplit
