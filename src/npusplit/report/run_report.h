#pragma once
// `run`'s text (a header line, a line per input, a summary) and its JSON summary (npusplit.run/1),
// from the typed results of media/run.h.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/media/run.h"

namespace npusplit {

// What ran: the model, its stages' back ends, its input size and output layout.
struct RunHeader {
  std::string model, backend, layout;
  int width = 0, height = 0;
};

std::string run_header_text(const RunHeader& h);
std::string input_report_text(const InputReport& r, bool split, float threshold);
std::string run_summary_text(const RunReport& r);
nlohmann::json input_report_json(const InputReport& r);
nlohmann::json run_json(const RunHeader& h, float threshold, const RunReport& r);

}  // namespace npusplit
