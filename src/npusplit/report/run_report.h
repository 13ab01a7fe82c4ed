#pragma once
// `run`'s text (a header line, a line per input, a summary) and its JSON summary (npusplit.run/1),
// from the typed results (results/run.h).
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/run.h"

namespace npusplit {

std::string run_header_text(const RunHeader& h);
std::string input_report_text(const InputReport& r, bool split, float threshold);
std::string run_summary_text(const RunReport& r);
nlohmann::json input_report_json(const InputReport& r);
nlohmann::json run_json(const RunResult& r, float threshold);

}  // namespace npusplit
