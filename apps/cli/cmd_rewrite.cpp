// fix and prepare: rewriting models and splitting a folder of variants.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "args.h"
#include "commands.h"
#include "npusplit/app/fix.h"
#include "npusplit/app/prepare.h"
#include "npusplit/report/prepare_report.h"
#include "npusplit/error.h"
#include "npusplit/base/json_text.h"

namespace npusplit::cli {


void add_fix(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("fix", "Apply proven rewrites that make the Hailo parser accept more of the model");
  static FixOptions o;
  static std::string model, out;
  static std::vector<std::string> passes, shapes, images;
  static bool list = false, as_json = false;
  static double tol = -1;
  cmd->add_option("model", model, "ONNX model");
  cmd->add_option("-o,--out", out, "rewritten model to write");
  cmd->add_option("--target", o.target, "target rules")->capture_default_str();
  cmd->add_option("--passes", passes, "comma-separated passes (default: every exact pass)");
  cmd->add_flag("--list-passes", list, "list the passes and exit");
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,...");
  cmd->add_flag("--verify", o.verify, "compare original and rewritten in ONNX Runtime");
  cmd->add_option("--image", images, "with --verify: images");
  cmd->add_option("--random", o.verify_random, "with --verify: random cases")->capture_default_str()->check(at_least(0));
  cmd->add_option("--tolerance", tol, "with --verify: max abs diff (default 0 for exact passes, 1e-4 otherwise)")
      ->check(at_least(0));
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.fix/1)");
  cmd->callback([&] {
    if (list) {
      std::cout << list_passes_text();
      exit_code = 0;
      return;
    }
    if (model.empty() || out.empty()) throw CLI::RequiredError("MODEL and -o OUT");
    o.model = model;
    o.out = out;
    o.passes = split_commas(passes);
    o.input_shapes = parse_input_shapes(shapes);
    o.verify_images = images;
    if (tol >= 0) o.tolerance = tol;
    auto r = fix_model(o);
    if (as_json) std::cout << dump_json(fix_json(r, o));
    else std::cout << fix_text(r, o);
    exit_code = (r.verify && !r.verify->ok) ? 1 : 0;
  });
}

void add_prepare(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("prepare", "Split every DEIMv2 variant in SRC_DIR into DST_DIR (stage1/stage2/manifest)");
  static PrepareOptions o;
  static std::string src, dst, out;
  static std::vector<std::string> variants, images, shapes;
  static bool no_fix = false, fix_flag = false;
  cmd->add_option("src", src, "folder with deimv2_{variant}.onnx")->required();
  cmd->add_option("dst", dst, "output folder (or -o)");
  cmd->add_option("-o,--out", out, "output folder (instead of DST)");
  cmd->add_option("--variants", variants, "comma-separated (default atto,femto,pico,n,s,x1,x2,x3; x1/x2/x3 fall back to m/l/x files)");
  cmd->add_option("--pattern", o.pattern, "file name pattern in SRC_DIR")->capture_default_str();
  cmd->add_option("--target", o.target, "target rules")->capture_default_str();
  cmd->add_flag("--verify", o.verify, "verify each split");
  cmd->add_option("--image", images, "with --verify: images");
  cmd->add_option("--random", o.verify_random, "with --verify: random cases")->capture_default_str()->check(at_least(0));
  cmd->add_flag("--no-fix", no_fix, "cut the models as given, without the exact rewrite passes (they run by default)");
  cmd->add_flag("--fix", fix_flag, "the default: apply the exact rewrite passes before cutting (kept for scripts)");
  cmd->add_flag("--pack", o.pack, "pack the cut tensors into one (the user's layout)");
  cmd->add_flag("--force", o.force, "redo every variant, even those whose stamp says up to date");
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,...");
  cmd->add_option("--calib", o.calib, "images/videos/folders: per variant also the calibration set, the 8-bit emulation "
                                      "and the DFC bundle (.alls, _dfc.py), as split --calib");
  cmd->add_option("--calib-count", o.calib_count, "with --calib: frames per calibration set (default: all, at most 1024)")
      ->check(at_least(1));
  cmd->callback([&] {
    if (!dst.empty() && !out.empty()) fail("give the output folder once: DST or -o, not both");
    if (dst.empty() && out.empty()) fail("no output folder: npusplit prepare SRC DST (or -o DST)");
    if (no_fix && fix_flag) fail("--no-fix contradicts --fix");
    o.src = src;
    o.dst = dst.empty() ? out : dst;
    o.fix = !no_fix;
    if (!variants.empty()) o.variants = split_commas(variants);
    o.verify_images = images;
    o.input_shapes = parse_input_shapes(shapes);
    auto rows = prepare_models(o, nullptr);
    std::cout << prepare_text(rows);
    bool failed = false;
    for (const auto& r : rows) failed |= r.status.rfind("failed", 0) == 0 || !r.verify_ok;
    exit_code = failed ? 1 : 0;
  });
}

}  // namespace npusplit::cli
