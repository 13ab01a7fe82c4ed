#pragma once
// The 8-bit emulation's outputs (`npusplit quant`, and split --calib's), from the typed results.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/quant.h"

namespace npusplit {

// The caveat every output carries: a min/max emulation, never the DFC's result.
const char* quant_caveat();
nlohmann::json quant_json(const QuantReport& r);  // schema npusplit.quant/1
std::string quant_text(const QuantReport& r);
// split --calib: the calibration set, the emulation and the bundle files, as text and as the
// manifest's "calib_bundle" section (files named relative to the manifest, with their hashes).
std::string calib_bundle_text(const CalibBundle& b);
nlohmann::json calib_bundle_json(const CalibBundle& b);

}  // namespace npusplit
