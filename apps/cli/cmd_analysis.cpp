// info, check, split, verify: the analysis commands.
#include <fmt/format.h>

#include <iostream>

#include "args.h"
#include "commands.h"
#include "preprocess_args.h"
#include "npusplit/app/analyze.h"
#include "npusplit/app/check.h"
#include "npusplit/app/platform.h"
#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/html_report.h"
#include "npusplit/report/info_report.h"
#include "npusplit/report/platform_report.h"
#include "npusplit/report/format.h"
#include "npusplit/base/json_text.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit::cli {

namespace {
std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}
}  // namespace


void add_info(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("info", "What an ONNX file is: IR, opsets, inputs/outputs, nodes, parameters, FLOPs");
  static std::string model;
  static std::vector<std::string> shapes;
  static bool as_json = false;
  cmd->add_option("model", model, "ONNX model")->required();
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,... for dynamic inputs (batch defaults to 1)");
  cmd->add_flag("--json", as_json, "JSON output");
  cmd->callback([&] {
    AnalyzeOptions o;
    o.input_shapes = parse_input_shapes(shapes);
    o.partition = false;
    o.keep_original = false;
    auto a = analyze(model, o);
    if (as_json) std::cout << dump_json(info_json(a));
    else std::cout << info_text(a);
    exit_code = 0;
  });
}

void add_check(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check", "Which nodes will the Hailo parser reject, why, and what to do (exit 0 clean, 1 findings, 2 error)");
  static std::string model, target = "hailo8";
  static std::vector<std::string> shapes;
  static bool as_json = false, all = false;
  cmd->add_option("model", model, "ONNX model")->required();
  cmd->add_option("--target", target, "hailo8 | hailo8l | hailo10h | ... or a rules .yaml file")->capture_default_str();
  static std::string dfc, parser_log;
  cmd->add_option("--dfc", dfc, "DFC version of the rules, e.g. 3.33 or 5.3 (default: the newest documented)");
  cmd->add_option("--parser-log", parser_log, "log of a failed `hailo parser` run: its errors become findings");
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,... for dynamic inputs (batch defaults to 1)");
  cmd->add_flag("--json", as_json, "the full report as JSON (schema npusplit.check/1)");
  cmd->add_flag("--all", all, "one row per node instead of grouped rows");
  static bool no_ranges = false;
  cmd->add_flag("--no-quant-ranges", no_ranges,
                "skip measuring the merges' value ranges (one seeded synthetic image through the model's preprocessing): "
                "no quant-mixed-range finding, and mixed merges may end stage1");
  static std::string platform, objective = "fps";
  static double host_factor = 0;
  static bool explain = false;
  cmd->add_option("--platform", platform, "estimate the automatic cut's frame time on a platform profile (" +
                                              join_names(known_platforms()) + ", or a .yaml file)");
  cmd->add_option("--objective", objective, "with --platform: fps (pipelined) or latency (sequential)")->capture_default_str();
  cmd->add_option("--host-factor", host_factor, "with --platform: host ms on the target per host ms measured here (default: the profile's)")
      ->check(at_least(0));
  cmd->add_flag("--explain", explain, "with --platform: list the best candidate cuts with their figures");
  static std::string html;
  cmd->add_option("--html", html, "also write the HTML report (graph by module, findings, crossing tensors) to FILE");
  cmd->callback([&] {
    if (!html.empty()) require_html_report();
    if (explain && platform.empty()) fail("--explain needs --platform P");
    CheckOptions o;
    o.platform = platform;
    o.objective = objective;
    o.host_factor = host_factor;
    o.analyze.ranges.enabled = !no_ranges;
    o.analyze.target = target;
    o.analyze.dfc = dfc;
    o.analyze.parser_log = parser_log;
    o.analyze.input_shapes = parse_input_shapes(shapes);
    o.analyze.keep_original = false;
    CheckResult r = run_check(model, o);
    const Analysis& a = r.analysis;
    const Frontier* frontier = r.frontier.empty() ? nullptr : &r.frontier;
    if (!html.empty()) write_html_report(html, check_html(a, frontier));
    if (as_json) {
      std::cout << dump_json(check_json(r, explain));
    } else {
      if (explain) std::cout << frontier_text(r.frontier);
      std::cout << check_text(a, all, frontier);
    }
    exit_code = check_exit_code(a);
    keep_until_exit(std::move(r));
  });
}

void add_split(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("split", "Cut a model into stage1 (NPU) and stage2 (host) and write both + a manifest");
  static SplitOptions o;
  static std::string model, out, cut = "auto";
  static std::vector<std::string> shapes, images, passes;
  static bool as_json = false;
  cmd->add_option("model", model, "ONNX model")->required();
  cmd->add_option("-o,--out", out, "output folder")->required();
  cmd->add_option("--target", o.target, "target rules")->capture_default_str();
  cmd->add_option("--dfc", o.dfc, "DFC version of the rules (default: the newest documented)");
  cmd->add_option("--parser-log", o.parser_log, "log of a failed `hailo parser` run on a stage1: the nodes it names are rejected, then the cut is made again");
  cmd->add_option("--cut", cut, "auto, or TENSOR|NODE[,...] to cut at (a node stands for its outputs)")
      ->capture_default_str();
  cmd->add_option("--feature-name", o.feature_name, "name of the tensor(s) at the cut")->capture_default_str();
  cmd->add_flag("--pack", o.pack, "concatenate the cut tensors into one (the user's layout)");
  cmd->add_flag("--allow-suspect", o.allow_suspect, "also put nodes with only 'suspect' findings in stage1");
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,...");
  static bool no_fix = false, fix_flag = false;
  cmd->add_flag("--no-fix", no_fix, "cut the model as given, without the exact rewrite passes (they run by default)");
  cmd->add_flag("--fix", fix_flag, "the default: apply the exact rewrite passes before cutting (kept for scripts)");
  cmd->add_option("--passes", passes, "passes to apply (default: every exact pass)");
  cmd->add_flag("--verify", o.verify, "prove the split in ONNX Runtime after writing");
  cmd->add_option("--image", images, "with --verify: images to verify on");
  cmd->add_option("--random", o.verify_random, "with --verify: seeded random inputs")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--tolerance", o.tolerance, "with --verify: max abs diff allowed")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--stage1-opset", o.stage1_opset,
                  "write stage1 at this opset (default: the model's, converted into the target parser's range)");
  cmd->add_flag("--fused-host", o.fused_host,
                "also write <stem>_stage2_fused.onnx: stage2 with npusplit's fused deformable attention "
                "(custom domain 'npusplit', for npusplit's runtime; --verify checks it within --fused-tolerance)");
  cmd->add_option("--fused-tolerance", o.fused_tolerance, "with --fused-host --verify: max abs diff allowed")
      ->capture_default_str();
  cmd->add_flag("--json", as_json, "print the manifest");
  static bool split_no_ranges = false;
  cmd->add_flag("--no-quant-ranges", split_no_ranges,
                "skip measuring the merges' value ranges (on --calib's images, else one seeded synthetic image): mixed "
                "merges may end stage1, no quant-mixed-range warning");
  static bool explain = false;
  cmd->add_option("--platform", o.platform, "choose the cut with the best estimated frame time on a platform profile (" +
                                                join_names(known_platforms()) + ", or a .yaml file); with --cut: estimate that cut");
  cmd->add_option("--objective", o.objective, "with --platform: fps (pipelined, max of the stages) or latency (their sum)")
      ->capture_default_str();
  cmd->add_option("--host-factor", o.host_factor, "with --platform: host ms on the target per host ms measured here (default: the profile's)")
      ->check(at_least(0));
  cmd->add_flag("--explain", explain, "with --platform: list the best candidate cuts with their figures");
  cmd->add_option("--min-gain", o.min_gain_percent,
                  "with --platform: percent a timed cut must beat today's automatic cut by, beyond both timings' spreads")
      ->capture_default_str()
      ->check(at_least(0));
  static std::string html;
  cmd->add_option("--html", html, "also write the HTML report (graph by module, crossing tensors, verify, candidate cuts) to FILE");
  static PreprocessArgs pre;
  add_preprocess_options(cmd, pre);
  static std::vector<std::string> calib;
  static int64_t calib_count = 0;
  cmd->add_option("--calib", calib, "images/videos/folders: also write the calibration set, the 8-bit emulation "
                                    "(`quant`) and the DFC bundle (.alls, _dfc.py) beside the stages");
  cmd->add_option("--calib-count", calib_count, "with --calib: frames in the calibration set (default: all, at most 1024)")
      ->check(at_least(1));
  cmd->callback([&] {
    o.model = model;
    o.out_dir = out;
    o.preprocess = preprocess_overrides(pre);
    if (cut != "auto") o.cut = split_commas({cut});
    o.input_shapes = parse_input_shapes(shapes);
    o.verify_images = images;
    o.fix_passes = split_commas(passes);
    if (no_fix && (fix_flag || !o.fix_passes.empty())) fail("--no-fix contradicts {}", fix_flag ? "--fix" : "--passes");
    o.fix = !no_fix;
    o.calib_images = calib;
    o.calib_count = calib_count;
    o.quant_ranges = !split_no_ranges;
    if (explain && o.platform.empty()) fail("--explain needs --platform P");
    if (!html.empty()) require_html_report();
    auto r = split_model(o);
    if (!html.empty()) write_html_report(html, split_html(r));
    if (as_json) std::cout << dump_json(r.manifest);
    else std::cout << (explain ? frontier_text(r.frontier) : std::string()) << split_text(r);
    if (r.calib) {
      for (const auto& sk : r.calib->calib.skipped) std::cerr << "npusplit: error: " << sk << " (skipped)\n";
      for (const auto& w : r.calib->calib.warnings) std::cerr << "npusplit: warning: " << w << "\n";
    }
    exit_code = (r.verify && !r.verify->ok) || (r.verify_fused && !r.verify_fused->ok) ? 1 : 0;
    keep_until_exit(std::move(r));
  });
}

void add_verify(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("verify", "Run ORIGINAL and STAGE1 -> STAGE2 on the same inputs and compare every output (exit 0 iff equal within tolerance)");
  static std::string original, s1, s2;
  static std::vector<std::string> images, shapes;
  static int random = 2;
  static double tol = 0.0;
  static bool as_json = false;
  cmd->add_option("original", original, "the unsplit model")->required();
  cmd->add_option("stage1", s1, "stage1 model")->required();
  cmd->add_option("stage2", s2, "stage2 model")->required();
  cmd->add_option("--image", images, "images (resized to the input, RGB, /255)");
  cmd->add_option("--random", random, "seeded random input cases")->capture_default_str()->check(at_least(0));
  cmd->add_option("--tolerance", tol, "max abs diff allowed (0: bit-exact)")->capture_default_str()->check(at_least(0));
  cmd->add_option("--input-shape", shapes, "NAME=D0,D1,...");
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.verify/1)");
  cmd->callback([&] {
    auto m0 = load_model(original);
    auto m1 = load_model(s1);
    auto m2 = load_model(s2);
    auto cases = make_verify_cases(m0, parse_input_shapes(shapes), random, images);
    if (cases.empty()) throw npusplit::Error("nothing to verify: give --random N > 0 or --image FILE");
    auto r = verify_split(m0, m1, m2, cases, tol);
    if (as_json) std::cout << dump_json(verify_json(r));
    else std::cout << verify_text(r);
    exit_code = r.ok ? 0 : 1;
  });
}

}  // namespace npusplit::cli
