#pragma once
// What `calib` (and split --calib's bundle report) says about a calibration set it wrote.
#include <filesystem>
#include <string>

#include "npusplit/calib/calib_set.h"

namespace npusplit {

std::string calib_text(const CalibResult& r, const std::filesystem::path& out, bool raw_pixels);

}  // namespace npusplit
