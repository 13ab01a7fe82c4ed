#pragma once
// What `bench` prints: the latency table (text) or schema npusplit.bench/1 (JSON).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "npusplit/media/bench.h"
#include "npusplit/pipeline/host_compare.h"

namespace npusplit {

std::string bench_text(const std::string& what, const std::string& backends, const std::vector<ModeResult>& rs);
nlohmann::json bench_json(const std::string& what, const std::vector<ModeResult>& rs);
nlohmann::json dist_json(const Dist& d);
// bench --host-baseline: stage2 alone, fused and unfused, beside another split's stage2 (the
// third row is the baseline the ratios are taken against).
std::string host_stage2_text(const std::vector<Stage2Timing>& ts, int threads, int64_t frames, const std::string& baseline);
nlohmann::json host_stage2_json(const std::vector<Stage2Timing>& ts);
// The whole `bench` result: the modes' table, then (with a baseline) the stage2 comparison;
// JSON: npusplit.bench/1 with `host_stage2` when there is a baseline.
std::string bench_text(const BenchResult& r);
nlohmann::json bench_json(const BenchResult& r);

}  // namespace npusplit
