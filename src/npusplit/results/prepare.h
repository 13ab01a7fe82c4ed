#pragma once
// What `prepare` gives per variant (report/prepare_report.h prints the table).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace npusplit {

struct PrepareRow {
  std::string variant, source, status;  // status: done | skipped (...) | failed: ...
  int cut_tensors = 0;
  int64_t crossing_bytes = 0;
  double npu_flops_share = 0;
  std::string stage1_check;
  std::optional<double> verify_max_diff;
  bool verify_ok = true;
  double seconds = 0;
  std::vector<std::filesystem::path> bundle_files;  // with --calib: calib set, .alls, _dfc.py
};

}  // namespace npusplit
