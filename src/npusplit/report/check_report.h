#pragma once
// `npusplit check` output: a grouped table for people and a stable JSON document
// (schema "npusplit.check/1", documented in the README).
#include <nlohmann/json.hpp>
#include <string>

#include "npusplit/results/analysis.h"
#include "npusplit/results/check.h"
#include "npusplit/results/frontier.h"

namespace npusplit {

nlohmann::json summary_json(const ModelSummary& s);
nlohmann::json check_json(const Analysis& a);
// FRONTIER (check --platform): its estimate of the automatic cut joins the summary line.
std::string check_text(const Analysis& a, bool all_nodes, const Frontier* frontier = nullptr);
int check_exit_code(const Analysis& a);  // 0 all supported, 1 some not
// The whole `check --json` document: check_json of the analysis, with --platform its `platform`
// object (every candidate with EXPLAIN).
nlohmann::json check_json(const CheckResult& r, bool explain);
int unsupported_count(const Analysis& a);
// The quantization-aware cut's record (where the merge ranges came from, what moved, what is left).
nlohmann::json range_probe_json(const RangeProbe& r);
std::string range_probe_text(const RangeProbe& r);
std::string verdict_label(const std::string& severity);  // rejected | suspect | warning

}  // namespace npusplit
