#include "npusplit/report/format.h"

#include <fmt/format.h>

#include <algorithm>

namespace npusplit {

namespace {
// Width in terminal columns (UTF-8 continuation bytes take none).
size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}
std::string cut(const std::string& s, size_t max) {
  if (display_width(s) <= max) return s;
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size() && w < max - 1; ++i) {
    out += s[i];
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++w;
    while (i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) out += s[++i];
  }
  return out + "…";
}
}  // namespace

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         size_t max_width) {
  std::vector<size_t> w(header.size(), 0);
  // Every column but the last is cut to MAX_WIDTH; the last (the prose) runs on.
  auto cells = rows;
  for (auto& r : cells)
    for (size_t i = 0; i + 1 < r.size() && i + 1 < header.size(); ++i) r[i] = cut(r[i], max_width);
  for (size_t i = 0; i < header.size(); ++i) w[i] = display_width(header[i]);
  for (const auto& r : cells)
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
  for (const auto& r : cells) out += line(r);
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

}  // namespace npusplit
