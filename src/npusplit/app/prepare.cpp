#include "npusplit/app/prepare.h"

#include <chrono>

#include "npusplit/error.h"
#include "npusplit/report/format.h"

namespace npusplit {

namespace fs = std::filesystem;

std::string variant_alias(const std::string& v) {
  if (v == "x1") return "m";
  if (v == "x2") return "l";
  if (v == "x3") return "x";
  return "";
}

namespace {
std::string file_for(const std::string& pattern, const std::string& variant) {
  std::string s = pattern;
  const std::string key = "{variant}";
  auto p = s.find(key);
  if (p == std::string::npos) fail("--pattern '{}' has no {{variant}}", pattern);
  return s.replace(p, key.size(), variant);
}
}  // namespace

std::vector<PrepareRow> prepare_models(const PrepareOptions& o,
                                       const std::function<void(size_t, size_t, const std::string&)>& progress) {
  if (!fs::is_directory(o.src)) fail("{}: not a folder", o.src.string());
  std::error_code ec;
  fs::create_directories(o.dst, ec);
  if (ec) fail("{}: cannot create the output folder", o.dst.string());
  std::vector<PrepareRow> rows;
  size_t k = 0;
  for (const auto& v : o.variants) {
    if (progress) progress(k, o.variants.size(), v);
    ++k;
    PrepareRow row;
    row.variant = v;
    fs::path src = o.src / file_for(o.pattern, v);
    if (!fs::exists(src) && !variant_alias(v).empty()) {
      const fs::path alt = o.src / file_for(o.pattern, variant_alias(v));
      if (fs::exists(alt)) src = alt;
    }
    row.source = src.filename().string();
    if (!fs::exists(src)) {
      row.status = "skipped (no " + file_for(o.pattern, v) +
                   (variant_alias(v).empty() ? "" : " or " + file_for(o.pattern, variant_alias(v))) + ")";
      rows.push_back(row);
      continue;
    }
    const std::string stem = "deimv2_" + v;
    const fs::path s1 = o.dst / (stem + "_stage1.onnx"), s2 = o.dst / (stem + "_stage2.onnx");
    if (!o.force && fs::exists(s1) && fs::exists(s2) && fs::last_write_time(s1) >= fs::last_write_time(src) &&
        fs::last_write_time(s2) >= fs::last_write_time(src)) {
      row.status = "skipped (up to date; --force to redo)";
      rows.push_back(row);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
      SplitOptions so;
      so.model = src;
      so.out_dir = o.dst;
      so.stem = stem;
      so.target = o.target;
      so.verify = o.verify;
      so.verify_random = o.verify_random;
      so.verify_images = o.verify_images;
      so.fix = o.fix;
      so.pack = o.pack;
      so.input_shapes = o.input_shapes;
      auto r = split_model(so);
      row.status = "done";
      row.cut_tensors = static_cast<int>(r.stages.renamed.size());
      row.crossing_bytes = r.analysis.partition.crossing_bytes;
      row.npu_flops_share = r.analysis.partition.npu_flops_share();
      row.stage1_check = r.manifest["stage1"]["check"]["verdict"].get<std::string>();
      if (r.verify) {
        double worst = 0;
        for (const auto& w : r.verify->worst) worst = std::max(worst, w.max_abs_diff);
        row.verify_max_diff = worst;
        row.verify_ok = r.verify->ok;
      }
    } catch (const Error& e) {
      row.status = std::string("failed: ") + e.what();
    }
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back(row);
  }
  if (progress) progress(o.variants.size(), o.variants.size(), "");
  return rows;
}

std::string prepare_text(const std::vector<PrepareRow>& rows) {
  std::vector<std::vector<std::string>> t;
  for (const auto& r : rows) {
    if (r.status != "done") {
      t.push_back({r.variant, r.source, r.status, "", "", "", "", ""});
      continue;
    }
    t.push_back({r.variant, r.source, r.status, std::to_string(r.cut_tensors), human_bytes(double(r.crossing_bytes)),
                 percent(r.npu_flops_share), r.stage1_check,
                 r.verify_max_diff ? fmt::format("{:g}{}", *r.verify_max_diff, r.verify_ok ? "" : " FAIL") : "-",
                 fmt::format("{:.1f} s", r.seconds)});
  }
  return format_table({"variant", "source", "status", "cut tensors", "per frame", "NPU FLOPs", "stage1 check",
                       "verify max diff", "time"},
                      t, 60);
}

}  // namespace npusplit
