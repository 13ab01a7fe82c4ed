#include "npusplit/app/split.h"

#include "npusplit/app/range_probe.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <fstream>
#include <cmath>
#include <map>

#include "npusplit/base/checked_math.h"
#include "npusplit/base/memory.h"
#include "npusplit/bundle/split_calib.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/detect/preprocess_record.h"
#include "npusplit/error.h"
#include "npusplit/host/fuse_msda.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/io/model_io.h"
#include "npusplit/passes/pass.h"
#include "npusplit/app/platform.h"
#include "npusplit/platform/host_time.h"
#include "npusplit/report/check_report.h"
#include "npusplit/report/split_report.h"
#include "npusplit/report/html_report.h"
#include "npusplit/report/format.h"
#include "npusplit/base/progress.h"
#include "npusplit/report/suggest.h"
#include "npusplit/base/json_text.h"
#include "npusplit/ort/msda_op.h"
#include "npusplit/ort/ort_util.h"
#include "npusplit/split/opset_convert.h"

namespace npusplit {

namespace fs = std::filesystem;

// --cut takes tensor names, or node names (Hailo's tools speak nodes) standing for their outputs.
std::vector<std::string> resolve_cut_names(const Graph& g, const std::vector<std::string>& names) {
  std::vector<std::string> tensors;
  std::vector<std::string> known;  // for suggestions: every tensor and node name
  auto candidates = [&]() -> const std::vector<std::string>& {
    if (known.empty())
      for (int i = 0; i < g.node_count(); ++i) {
        known.push_back(g.node(i).name());
        for (const auto& t : g.node(i).output())
          if (!t.empty()) known.push_back(t);
      }
    return known;
  };
  for (const auto& n : names) {
    if (g.producer(n) >= 0 || g.is_graph_input(n)) {
      tensors.push_back(n);
      continue;
    }
    int node = -1;
    for (int i = 0; i < g.node_count() && node < 0; ++i)
      if (g.node(i).name() == n) node = i;
    if (node < 0)
      fail("--cut {}: no tensor or node of that name (after folding){}", n, did_you_mean(n, candidates()));
    for (const auto& t : g.node(node).output())
      if (!t.empty()) tensors.push_back(t);
  }
  return tensors;
}

namespace {

// Stage1 into the opset range the target's parser takes (or --stage1-opset), after the cut:
// the host-only ops (GridSample has no down-conversion adapter) stay at the model's opset in
// stage2. The converted stage1 is checked against the unconverted one, which is returned
// (the cut itself is proven on it: ONNX Runtime may run an op's two versions with kernels
// that round differently, which says nothing about the cut).
std::optional<onnx::ModelProto> convert_stage1_opset(SplitResult& r, const SplitOptions& o, const RuleSet& rules) {
  auto& st = r.stage1_opset;
  st.model = st.written = default_opset(r.stages.stage1);
  int64_t want = st.model;
  if (o.stage1_opset) {
    want = o.stage1_opset;
    st.reason = fmt::format("--stage1-opset {}", o.stage1_opset);
  } else if (!rules.opset.contains(st.model)) {
    want = st.model > rules.opset.max ? rules.opset.max : rules.opset.min;
    st.reason = fmt::format("the {} parser (DFC {}) takes opsets {}-{} [{}]", rules.target, rules.dfc, rules.opset.min,
                            rules.opset.max, rules.opset.evidence);
  }
  if (want == st.model) {
    st.reason.clear();
    return std::nullopt;
  }
  auto converted = convert_opset(r.stages.stage1, static_cast<int>(want), "stage1");
  check_model(converted, fmt::format("stage1 converted to opset {}", want));
  const auto cases = make_verify_cases(r.stages.stage1, o.input_shapes, 1, o.verify_images);
  st.check = verify_equivalent(r.stages.stage1, converted, cases, 0.0);
  if (!st.check->ok) {
    double worst = 0;
    for (const auto& w : st.check->worst) worst = std::max(worst, w.max_abs_diff);
    std::string changed;
    for (const auto& c : ops_changed_between(r.stages.stage1, static_cast<int>(st.model), static_cast<int>(want)))
      changed += (changed.empty() ? "" : ", ") + c;
    r.warnings.push_back(fmt::format("stage1 converted from opset {} to {} differs from the unconverted stage1 in "
                                     "ONNX Runtime by up to {:.3g} (ops of another version: {})",
                                     st.model, want, worst, changed.empty() ? "none" : changed));
  }
  st.written = want;
  onnx::ModelProto unconverted = std::move(r.stages.stage1);
  r.stages.stage1 = std::move(converted);
  return unconverted;
}

}  // namespace

namespace {

// The cut: automatic (the analysis made it) or at the tensors/nodes the user named.
Partition cut_of(const Analysis& a, const SplitOptions& o) {
  if (o.cut.empty()) return a.partition;
  const Graph& g = a.model.graph();
  std::vector<std::string> reasons;
  for (const auto& v : a.verdicts)
    reasons.push_back(v.findings.empty() ? "" : v.findings.front().reason + (v.findings.front().detail.empty() ? "" : " (" + v.findings.front().detail + ")"));
  return manual_partition(partition_input(a, g), resolve_cut_names(g, o.cut), reasons);
}

// Why stage2 reads each original runtime input (or does not).
std::map<std::string, std::string> stage2_input_reasons(const Graph& g, const Partition& p) {
  std::map<std::string, std::string> why;
  for (const auto& in : g.runtime_inputs()) {
    const bool used = std::find(p.stage2_inputs.begin(), p.stage2_inputs.end(), in) != p.stage2_inputs.end();
    std::string reason;
    if (used) {
      for (int c : g.consumers(in))
        if (!p.stage1[c]) {
          reason = fmt::format("needed: host node '{}' ({}) reads it", g.node(c).name(), g.node(c).op_type());
          break;
        }
    } else {
      reason = "not needed: no host node reads it (only stage1 does)";
    }
    why[in] = reason;
  }
  return why;
}

// stage1 judged on its own, as `npusplit check stage1.onnx` would (its shapes are known: the
// cut tensors are renamed copies of resolved tensors).
std::vector<NodeVerdict> judge_stage1(const StageModels& stages, const ShapeMap& shapes, const RuleSet& rules) {
  ShapeMap s1_shapes = shapes;
  for (const auto& [from, to] : stages.renamed) s1_shapes[to] = s1_shapes.at(from);
  for (const auto& vi : stages.stage1.graph().value_info()) s1_shapes[vi.name()] = tensor_info_of(vi.type());
  for (const auto& vi : stages.stage1.graph().output()) s1_shapes[vi.name()] = tensor_info_of(vi.type());
  Graph g1(stages.stage1.graph());
  return evaluate_graph(rules, g1, s1_shapes);
}

// With --pack --verify: each packed part's value range on the verify inputs. One quantization
// scale for parts whose ranges differ widely wastes most of the 8 bits on the small ones.
void judge_pack_ranges(SplitResult& r) {
  const auto& range = r.verify->stage1_part_ranges;
  if (range.empty()) return;
  double lo = INFINITY, hi = 0;
  std::string desc;
  for (size_t k = 0; k < range.size(); ++k) {
    const double span = std::max(std::abs(range[k].first), std::abs(range[k].second));
    lo = std::min(lo, span);
    hi = std::max(hi, span);
    desc += fmt::format("{}part {}: [{:.3g}, {:.3g}]", k ? "; " : "", k, range[k].first, range[k].second);
  }
  r.pack_ranges = desc;
  if (lo > 0 && hi / lo > 4.0)
    r.warnings.push_back(fmt::format("packed parts differ in value range by {:.1f}x ({}): expect quantization "
                                     "loss; consider separate outputs (no --pack)", hi / lo, desc));
}

}  // namespace

// The recipe: load -> compile (the one resolve: input shapes, folding) -> rewrite passes ->
// judge + cut -> stages -> stage1 opset -> verify -> manifest (report/) -> one set of files.
SplitResult split_model(const SplitOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  SplitResult r;
  if (o.stage1_opset && (o.stage1_opset < 7 || o.stage1_opset > max_supported_opset()))
    fail("--stage1-opset {}: must be within 7-{}", o.stage1_opset, max_supported_opset());
  AnalyzeOptions ao;
  ao.target = o.target;
  ao.dfc = o.dfc;
  ao.parser_log = o.parser_log;
  ao.input_shapes = o.input_shapes;
  ao.allow_suspect = o.allow_suspect;
  ao.ranges.images = o.calib_images;
  ao.ranges.seed = o.range_seed;
  ao.ranges.enabled = o.quant_ranges;
  // split measures the merges that decide its cut; with --calib (on the way to quantization)
  // every merge left in stage1 too, as check does.
  ao.ranges.scope = o.calib_images.empty() ? RangeScope::cut : RangeScope::stage1;
  ao.ranges.preprocess = o.preprocess;
  // A --calib that names nothing usable fails before any work (not after the whole split).
  if (!o.calib_images.empty()) require_calibration_inputs(o.calib_images);
  if (o.calib_count && o.calib_images.empty()) fail("--calib-count needs --calib IMAGES");
  // A bad --platform or --objective fails before any work.
  std::optional<PlatformProfile> platform;
  if (!o.platform.empty()) platform = platform_profile(o.platform, o.objective, o.host_factor);
  auto loaded = load_model(o.model);
  std::error_code ec;
  ModelSummary summary = summarize(loaded, o.model.string(), static_cast<int64_t>(fs::file_size(o.model, ec)));
  spdlog::debug("split: loaded, peak {:.0f} MiB", peak_rss_mib());
  // Copies of the weights are what bounds memory on the large variants: the loaded model is
  // kept only when verify needs it; the compiled one is rewritten in place and moved into the stages.
  onnx::ModelProto original;
  if (o.verify) original = loaded;
  CompiledModel model = CompiledModel::compile(std::move(loaded), o.input_shapes, o.model.string());
  spdlog::debug("split: compiled, peak {:.0f} MiB", peak_rss_mib());
  // --no-fix on an automatic cut: the same analysis of the rewritten model says what the
  // passes would have given (one line in the report, only when they would move the cut).
  if (!o.fix && o.compare_with_fix && o.cut.empty()) {
    Progress progress("split", 0);
    progress.step(0, "what the exact passes would give");
    CompiledModel fixed = model.clone();
    apply_passes(fixed, default_pass_names());
    r.share_with_fix = analyze_compiled(std::move(fixed), summary, ao).partition.npu_flops_share();
  }
  if (o.fix) {
    Progress progress("split", 0);
    progress.step(0, "rewrite passes");
    r.fix = apply_passes(model, o.fix_passes.empty() ? default_pass_names() : o.fix_passes);
    spdlog::debug("split: rewritten, peak {:.0f} MiB", peak_rss_mib());
  }
  r.analysis = analyze_compiled(std::move(model), std::move(summary), ao);
  Analysis& a = r.analysis;
  if (r.share_with_fix) {
    const double without = a.partition.npu_flops_share();
    if (std::abs(*r.share_with_fix - without) >= 0.0005)
      r.notes.push_back(fmt::format("--no-fix: stage1 holds {} of the FLOPs; the exact rewrite passes would put {} "
                                    "on the NPU (drop --no-fix)",
                                    percent(without), percent(*r.share_with_fix)));
  }
  spdlog::debug("split: analysed, peak {:.0f} MiB", peak_rss_mib());
  if (platform && a.partition.stage1_nodes == 0)
    fail("{}: no node at the model's inputs is supported by {}: nothing to put in stage1", o.model.string(),
         a.rules.target);
  if (platform) {
    // Today's automatic cut is the baseline; with --cut the user's cut is estimated beside it.
    const Partition baseline = a.partition;
    a.partition = cut_of(a, o);
    auto choice = platform_choice(a, baseline, *platform, o.objective, o.cut.empty() ? nullptr : &a.partition,
                                  o.min_gain_percent / 100.0);
    a.partition = std::move(choice.chosen);
    r.frontier = std::move(choice.frontier);
  } else {
    a.partition = cut_of(a, o);
  }
  // The quant-mixed-range findings follow the cut that is written (the user's or the platform's).
  if (!o.cut.empty() || platform) flag_npu_merges(a);
  if (a.partition.stage1_nodes == 0)
    fail("{}: no node at the model's inputs is supported by {}: nothing to put in stage1", o.model.string(),
         a.rules.target);
  r.stage2_input_reasons = stage2_input_reasons(a.model.graph(), a.partition);
  const auto input_specs = a.model.input_specs();
  SplitNames names{o.feature_name, o.pack};
  r.graph = sketch_graph(a.model.graph());  // for split --html: the proto moves just below
  r.stages = build_stages(a.model.release(), a.model.shapes(), a.partition, names);  // the weights move
  spdlog::debug("split: stages built, peak {:.0f} MiB", peak_rss_mib());
  check_model(r.stages.stage1, "stage1");
  check_model(r.stages.stage2, "stage2");
  const auto unconverted_stage1 = convert_stage1_opset(r, o, a.rules);
  // The frame-time model's host part against the written stage2, timed the way bench runs it.
  if (!r.frontier.empty())
    r.frontier.candidates[r.frontier.chosen].estimate.host_written_ms = measure_stages_ms({&r.stages.stage2})[0].ms;

  const std::string stem = o.stem.empty() ? o.model.stem().string() : o.stem;
  r.stage1_path = o.out_dir / (stem + "_stage1.onnx");
  r.stage2_path = o.out_dir / (stem + "_stage2.onnx");
  r.manifest_path = o.out_dir / (stem + "_split.json");
  for (const auto& p : {r.stage1_path, r.stage2_path})
    if (fs::exists(p) && fs::equivalent(p, o.model)) fail("{}: output would overwrite the input model", p.string());

  onnx::ModelProto fused_stage2;
  if (o.fused_host) {
    fused_stage2 = r.stages.stage2;
    r.fused_ops = fuse_deformable_attention(fused_stage2).fused;
    r.stage2_fused_nodes = fused_stage2.graph().node_size();
    r.stage2_fused_path = o.out_dir / (stem + "_stage2_fused.onnx");
  }
  // One set: both stages (and the fused stage2), then the manifest that names them with their
  // hashes. An interrupted split leaves the previous set; a reader can tell a stage that does not
  // belong to its manifest. The stages are final here: they are written (each on its own thread)
  // while stage1 is judged and verify runs, which only read them; FILES is this thread's again
  // once WRITING is joined (an error on the way joins it too, and FILES then removes them).
  OutputSet files;
  std::vector<std::pair<fs::path, const onnx::ModelProto*>> models = {{r.stage1_path, &r.stages.stage1},
                                                                       {r.stage2_path, &r.stages.stage2}};
  if (o.fused_host) models.emplace_back(r.stage2_fused_path, &fused_stage2);
  auto writing = std::async(std::launch::async, [&] { return files.add_models(models); });

  r.stage1_verdicts = judge_stage1(r.stages, a.model.shapes(), a.rules);
  if (o.pack && r.stages.pack_layout.size() > 1)
    r.warnings.push_back(
        "--pack joins tensors into one output: on the NPU the 8-bit quantizer would give them one scale (Hailo's "
        "guidance is to keep them separate), and the packing Reshape/Concat are not parsable -- the hailo parser "
        "command ends before them, so pack what HailoRT returns on the host");
  r.split_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  if (o.verify) {
    const auto tv = std::chrono::steady_clock::now();
    auto cases = make_verify_cases(input_specs, o.verify_random, o.verify_images);
    // The reference stage1 is the unconverted one: the opset conversion is checked on its own.
    const onnx::ModelProto& stage1_ref = unconverted_stage1 ? *unconverted_stage1 : r.stages.stage1;
    const bool packed_float = o.pack && r.stages.pack_layout.size() > 1 &&
                              r.stages.stage1.graph().output(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT;
    r.verify = verify_split(original, stage1_ref, r.stages.stage2, cases, o.tolerance,
                            packed_float ? r.stages.pack_layout : std::vector<std::pair<int64_t, int64_t>>{});
    if (o.fused_host)
      r.verify_fused = check_fused_stage2(stage1_ref, r.stages.stage2, fused_stage2, cases, o.fused_tolerance);
    r.verify_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - tv).count();
    judge_pack_ranges(r);
    a.original = std::move(original);
  }

  r.preprocess = detect_preprocess(r.stages.stage1, o.preprocess);
  const std::vector<std::string> hashes = writing.get();
  spdlog::debug("split: stages written and synced");
  r.stage1_sha256 = hashes[0];
  r.stage2_sha256 = hashes[1];
  if (o.fused_host) r.stage2_fused_sha256 = hashes[2];
  if (!o.calib_images.empty()) {
    std::map<std::string, std::string> original_of;
    for (const auto& [orig, name] : r.stages.renamed) original_of[name] = orig;
    const CalibBundleInputs ci{.stage1 = r.stages.stage1,
                               .stage2 = r.stages.stage2,
                               .preprocess = r.preprocess,
                               .original_of = std::move(original_of),
                               .dir = o.out_dir,
                               .stem = stem,
                               .stage1_file = r.stage1_path.filename().string(),
                               .stage2_file = r.stage2_path.filename().string(),
                               .hw_arch = a.rules.hw_arch,
                               .manifest = r.manifest_path,
                               .images = o.calib_images,
                               .count = o.calib_count};
    r.calib = add_calib_bundle(ci, files);
  }
  r.manifest = split_manifest(r, o);
  files.add_bytes(r.manifest_path, dump_json(r.manifest));
  files.commit();
  spdlog::debug("split: committed");
  return r;
}

}  // namespace npusplit
