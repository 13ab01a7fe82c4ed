#pragma once
// What `bench` prints: the latency table (text) or schema npusplit.bench/1 (JSON).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "npusplit/media/bench.h"

namespace npusplit {

std::string bench_text(const std::string& what, const std::string& backends, const std::vector<ModeResult>& rs);
nlohmann::json bench_json(const std::string& what, const std::vector<ModeResult>& rs);
nlohmann::json dist_json(const Dist& d);
// A latency in ms with 2-3 significant digits.
std::string ms(double v);

}  // namespace npusplit
