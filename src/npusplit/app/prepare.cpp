#include "npusplit/app/prepare.h"


#include <chrono>
#include <fstream>

#include "npusplit/base/sha256.h"
#include "npusplit/io/split_manifest.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/base/json_text.h"
#include "npusplit/io/model_io.h"
#include "npusplit/report/format.h"
#include "npusplit/base/progress.h"
#include "npusplit/rules/embedded_rules.h"
#include "npusplit/version.h"

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

// A rules file given by path is hashed as it is on disk; a built-in target by the rule files
// compiled into this binary.
std::string rules_hash(const std::string& target) {
  if (target.find('/') != std::string::npos || target.ends_with(".yaml")) return file_content_hash(target);
  Sha256 h;
  for (const auto& [name, text] : embedded_rule_files()) {
    h.update(name.data(), name.size());
    h.update("\0", 1);
    h.update(text.data(), text.size());
    h.update("\0", 1);
  }
  return h.hex();
}

bool stamp_matches(const fs::path& stamp_path, const nlohmann::json& want) {
  std::ifstream in(stamp_path);
  if (!in) return false;
  try {
    return nlohmann::json::parse(in) == want;
  } catch (const nlohmann::json::exception&) {
    return false;  // a damaged stamp means: redo
  }
}

// The stages still are the ones their manifest was written with (an edited or half-replaced set
// is redone, not skipped).
bool set_intact(const fs::path& manifest) {
  try {
    read_split_manifest(manifest);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

std::string file_content_hash(const fs::path& path) { return sha256_file(path); }

nlohmann::json prepare_stamp(const PrepareOptions& o, const fs::path& input) {
  nlohmann::json shapes = nlohmann::json::object();
  for (const auto& [name, dims] : o.input_shapes) shapes[name] = dims;
  nlohmann::json stamp = {{"schema", "npusplit.prepare-stamp/1"},
          {"tool", std::string("npusplit ") + kVersion},
          {"input", {{"file", input.filename().string()}, {"sha256", file_content_hash(input)}}},
          {"rules", {{"target", o.target}, {"sha256", rules_hash(o.target)}}},
          {"options",
           {{"fix", o.fix},
            {"pack", o.pack},
            {"input_shapes", shapes},
            {"verify", o.verify},
            {"verify_random", o.verify ? o.verify_random : 0},
            {"verify_images", o.verify ? o.verify_images : std::vector<std::string>{}}}}};
  // Only with --calib, so stamps written without it stay valid.
  if (!o.calib.empty()) stamp["options"]["calib"] = {{"inputs", o.calib}, {"count", o.calib_count}};
  return stamp;
}

std::vector<PrepareRow> prepare_models(const PrepareOptions& o,
                                       const std::function<void(size_t, size_t, const std::string&)>& progress) {
  if (!fs::is_directory(o.src)) fail("{}: not a folder", o.src.string());
  std::error_code ec;
  fs::create_directories(o.dst, ec);
  if (ec) fail("{}: cannot create the output folder", o.dst.string());
  // Nothing to do is an error (exit 2), not an empty table: say what was looked for.
  {
    std::vector<std::string> looked;
    bool any = false;
    for (const auto& v : o.variants) {
      looked.push_back(file_for(o.pattern, v));
      if (!variant_alias(v).empty()) looked.push_back(file_for(o.pattern, variant_alias(v)));
    }
    for (const auto& f : looked) any |= fs::exists(o.src / f);
    if (!any) {
      std::string list;
      for (const auto& f : looked) list += (list.empty() ? "" : ", ") + f;
      fail("{}: no model to prepare: looked for {} (set --pattern or --variants)", o.src.string(), list);
    }
  }
  std::vector<PrepareRow> rows;
  size_t k = 0;
  Progress bar("prepare", int64_t(o.variants.size()));
  for (const auto& v : o.variants) {
    bar.step(int64_t(k), v);
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
    const fs::path s1 = o.dst / (stem + "_stage1.onnx"), s2 = o.dst / (stem + "_stage2.onnx"),
                   manifest = o.dst / (stem + "_split.json"), stamp_path = o.dst / (stem + "_prepare.json");
    const nlohmann::json stamp = prepare_stamp(o, src);
    if (!o.force && fs::exists(s1) && fs::exists(s2) && stamp_matches(stamp_path, stamp) && set_intact(manifest)) {
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
      so.calib_images = o.calib;
      so.calib_count = o.calib_count;
      auto r = split_model(so);
      if (r.calib) row.bundle_files = {r.calib->calib_path, r.calib->alls_path, r.calib->script_path};
      // Written last: a run interrupted before this point is redone next time.
      write_file_atomic(stamp_path, dump_json(stamp));
      row.status = "done";
      row.cut_tensors = static_cast<int>(r.stages.renamed.size());
      row.crossing_bytes = r.analysis.partition.crossing_bytes;
      row.npu_flops_share = r.analysis.partition.npu_flops_share();
      row.stage1_check = stage1_check_verdict(r);
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
  bar.finish();
  if (progress) progress(o.variants.size(), o.variants.size(), "");
  return rows;
}

}  // namespace npusplit
