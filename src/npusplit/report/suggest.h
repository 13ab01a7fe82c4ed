#pragma once
// "Did you mean ...": the closest names to a misspelt one (commands, options, tensors, nodes).
#include <string>
#include <vector>

namespace npusplit {

// Up to MAX candidates close to WORD, best first: edit distance within about a third of the
// word's length, or WORD being a part of the candidate (long ONNX names are often given in part).
std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         size_t max = 3);
// "; did you mean 'a', 'b'?" or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates, size_t max = 3);

}  // namespace npusplit
