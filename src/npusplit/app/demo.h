#pragma once
// The demo recipe: a small DETR-like detector and a picture built in code, then check -> split
// -> verify -> run, the split pipeline beside the unsplit model (report/demo_report.h prints it).
#include <filesystem>

#include "npusplit/results/demo.h"

namespace npusplit {

DemoResult run_demo(const std::filesystem::path& dir);

}  // namespace npusplit
