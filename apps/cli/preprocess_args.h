#pragma once
// The preprocessing options `split`, `run` and `calib` share. `split` records them in the
// manifest; `run` and `calib` read the manifest and take these only as overrides.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>

#include "npusplit/detect/preprocess_record.h"
#include "npusplit/error.h"

namespace npusplit::cli {

struct PreprocessArgs {
  std::string resize, channels, mean, std;
  float scale = 0;
  bool letterbox = false;
};

inline void add_preprocess_options(CLI::App* cmd, PreprocessArgs& a, bool with_letterbox_flag = true) {
  const std::string grp = "Preprocessing (recorded in the split manifest; run/calib read it from there)";
  if (with_letterbox_flag)
    cmd->add_flag("--letterbox", a.letterbox, "letterbox instead of a plain resize (DEIMv2 uses a plain resize)")
        ->group(grp);
  cmd->add_option("--resize", a.resize, "stretch (plain resize, the default) | letterbox")
      ->check(CLI::IsMember({"stretch", "letterbox"}))
      ->group(grp);
  cmd->add_option("--channels", a.channels, "channel order the model takes: RGB (default) | BGR")
      ->check(CLI::IsMember({"RGB", "BGR", "rgb", "bgr"}))
      ->group(grp);
  cmd->add_option("--scale", a.scale, "pixel values are divided by this (default 255)")->group(grp);
  cmd->add_option("--mean", a.mean, "R,G,B subtracted after /scale (e.g. 0.485,0.456,0.406)")->group(grp);
  cmd->add_option("--std", a.std, "R,G,B divided by after the mean (e.g. 0.229,0.224,0.225)")->group(grp);
}

inline PreprocessOverrides preprocess_overrides(const PreprocessArgs& a) {
  PreprocessOverrides o;
  if (a.letterbox && a.resize == "stretch") fail("--letterbox contradicts --resize stretch");
  if (a.letterbox || !a.resize.empty()) o.letterbox = a.letterbox || a.resize == "letterbox";
  if (!a.channels.empty()) o.bgr = a.channels == "BGR" || a.channels == "bgr";
  if (a.scale != 0) {
    if (!(a.scale > 0)) fail("--scale: must be positive, got {}", a.scale);
    o.scale = a.scale;
  }
  if (!a.mean.empty()) o.mean = parse_triplet(a.mean, "--mean");
  if (!a.std.empty()) {
    o.std = parse_triplet(a.std, "--std");
    for (float s : *o.std)
      if (s == 0) fail("--std: must not be 0, got '{}'", a.std);
  }
  return o;
}

// `run`: the preprocessing the manifest (MANIFEST, or the one `split` wrote beside STAGE1)
// records, with the options given on top. Says on stderr where it came from unless QUIET.
inline PreprocessOptions run_preprocess(const std::string& manifest, const std::string& stage1,
                                        const PreprocessArgs& a, bool quiet) {
  namespace fs = std::filesystem;
  const PreprocessOverrides given = preprocess_overrides(a);
  std::optional<fs::path> path;
  if (!manifest.empty()) path = fs::path(manifest);
  else if (!stage1.empty()) path = manifest_beside_stage1(stage1);
  if (!path) return apply_overrides(PreprocessOptions{}, given);
  const PreprocessRecord rec = manifest_preprocess(load_split_manifest(*path), *path);
  const PreprocessOptions o = apply_overrides(rec.options, given);
  if (!quiet)
    std::cerr << "npusplit: preprocess " << preprocess_text(o) << " (from " << path->string()
              << (given.empty() ? "" : ", with the options given") << ")\n";
  return o;
}

}  // namespace npusplit::cli
