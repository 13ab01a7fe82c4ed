#include "npusplit/report/suggest.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace npusplit {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         size_t max) {
  if (word.empty()) return {};
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    if (c == word) continue;
    size_t d = edit_distance(word, c);
    // A prefix or part of a long name ("/model/decoder/Concat_2" of "..._output_0") ranks just
    // behind a one-letter typo.
    if (d > limit && word.size() >= 4 && c.find(word) != std::string::npos) d = limit;
    if (d <= limit) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second.size() < y.second.size();
  });
  std::vector<std::string> out;
  for (const auto& [d, c] : scored) {
    if (out.size() == max) break;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates, size_t max) {
  const auto m = closest_matches(word, candidates, max);
  if (m.empty()) return "";
  std::string s = "; did you mean ";
  for (size_t i = 0; i < m.size(); ++i) s += (i ? (i + 1 == m.size() ? " or '" : ", '") : "'") + m[i] + "'";
  return s + "?";
}

}  // namespace npusplit
