#include "npusplit/report/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace npusplit {

namespace {
// Width in terminal columns (UTF-8 continuation bytes take none).
size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}
// The first MAX columns of S (whole UTF-8 characters) and the rest.
std::pair<std::string, std::string> take_columns(const std::string& s, size_t max) {
  size_t i = 0, w = 0;
  while (i < s.size() && w < max) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++w;
  }
  return {s.substr(0, i), s.substr(i)};
}

// S as lines of at most MAX columns, broken after spaces where possible: nothing is cut off.
std::vector<std::string> wrap(const std::string& s, size_t max) {
  std::vector<std::string> lines;
  std::string rest = s;
  while (display_width(rest) > max) {
    auto [head, tail] = take_columns(rest, max);
    const size_t space = head.rfind(' ');
    if (space != std::string::npos && space > 0) {
      tail = head.substr(space + 1) + tail;
      head = head.substr(0, space);
    }
    lines.push_back(head);
    rest = tail;
  }
  lines.push_back(rest);
  return lines;
}
}  // namespace

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         size_t max_width) {
  std::vector<size_t> w(header.size(), 0);
  // Cells wider than MAX_WIDTH wrap onto continuation lines; the last column (the prose)
  // runs on unwrapped. Nothing is ever cut.
  std::vector<std::vector<std::string>> lines;  // physical lines
  for (const auto& r : rows) {
    std::vector<std::vector<std::string>> parts(r.size());
    size_t height = 1;
    for (size_t i = 0; i < r.size(); ++i) {
      parts[i] = (i + 1 < r.size() && i + 1 < header.size()) ? wrap(r[i], max_width) : std::vector<std::string>{r[i]};
      height = std::max(height, parts[i].size());
    }
    for (size_t k = 0; k < height; ++k) {
      std::vector<std::string> l;
      for (const auto& p : parts) l.push_back(k < p.size() ? p[k] : "");
      lines.push_back(std::move(l));
    }
  }
  for (size_t i = 0; i < header.size(); ++i) w[i] = display_width(header[i]);
  for (const auto& r : lines)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < r.size() ? r[i] : "";
      s += c;
      if (i + 1 < w.size()) s += std::string(w[i] - display_width(c) + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(header);
  std::vector<std::string> rule;
  for (size_t i = 0; i < w.size(); ++i)
    rule.push_back(std::string(i + 1 == w.size() ? std::min(w[i], max_width) : w[i], '-'));
  out += line(rule);
  for (const auto& r : lines) out += line(r);
  return out;
}

std::string human_bytes(double b) {
  if (b < 1024) return fmt::format("{:.0f} B", b);
  if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return fmt::format("{:.2f} MiB", b / 1024 / 1024);
  return fmt::format("{:.2f} GiB", b / 1024 / 1024 / 1024);
}

std::string human_count(double n) {
  if (n < 1e3) return fmt::format("{:.0f}", n);
  if (n < 1e6) return fmt::format("{:.1f}K", n / 1e3);
  if (n < 1e9) return fmt::format("{:.1f}M", n / 1e6);
  return fmt::format("{:.2f}G", n / 1e9);
}

std::string percent(double share) { return fmt::format("{:.1f}%", share * 100.0); }

std::string ms_text(double ms) {
  return ms >= 100 ? fmt::format("{:.0f}", ms) : ms >= 10 ? fmt::format("{:.1f}", ms) : fmt::format("{:.2f}", ms);
}

}  // namespace npusplit
