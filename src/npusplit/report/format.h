#pragma once
// Small helpers for the plain-text tables every command prints.
#include <string>
#include <vector>

namespace npusplit {

// Left-aligned columns, a rule under the header; cells longer than MAX_WIDTH wrap onto
// continuation lines, except in the last column, which runs on (put the long prose there).
// Nothing is ever cut off.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         size_t max_width = 70);
std::string human_bytes(double bytes);
std::string human_count(double n);  // 1.2K, 3.4M, 5.6G
std::string percent(double share);  // 0.873 -> "87.3%"
std::string ms_text(double ms);     // a latency in ms with 2-3 significant digits: 123, 12.3, 1.23

}  // namespace npusplit
