#include "npusplit/base/json_text.h"

#include <limits>

#include "npusplit/base/text.h"

namespace npusplit {

namespace {
constexpr size_t kWhole = std::numeric_limits<size_t>::max();

nlohmann::json escaped(const nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    return is_valid_utf8(s) ? j : nlohmann::json(printable(s, kWhole));
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(escaped(v));
    return out;
  }
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) out[is_valid_utf8(k) ? k : printable(k, kWhole)] = escaped(v);
    return out;
  }
  return j;
}
}  // namespace

std::string dump_json(const nlohmann::json& j) {
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::type_error&) {  // invalid UTF-8 somewhere: escape, then dump
    return escaped(j).dump(2) + "\n";
  }
}

}  // namespace npusplit
