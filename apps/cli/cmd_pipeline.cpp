// run, bench: the two-stage pipeline (stage1 -> stage2, or an unsplit model) on the host.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <iostream>

#include "args.h"
#include "commands.h"
#include "preprocess_args.h"
#include "npusplit/detect/postprocess.h"
#include "npusplit/error.h"
#include "npusplit/ir/tensor_info.h"
#include "npusplit/media/bench.h"
#include "npusplit/app/run.h"
#include "npusplit/report/bench_report.h"
#include "npusplit/report/run_report.h"
#include "npusplit/pipeline/host_compare.h"
#include "npusplit/pipeline/two_stage.h"
#include "npusplit/report/format.h"
#include "npusplit/base/progress.h"
#include "npusplit/base/json_text.h"
#include "npusplit/runtime/stage.h"

namespace npusplit::cli {

namespace {

using ModelArgs = PipelineSpec;  // which models, on which backend (media/bench.h)

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--model", a.model, "an unsplit ONNX model (instead of --stage1/--stage2)");
  cmd->add_option("--manifest", a.manifest,
                  "a split manifest (<stem>_split.json): its stage1 and stage2, checked against their SHA-256");
  cmd->add_option("--stage1", a.stage1, "stage1 ONNX (from `npusplit split`)");
  cmd->add_option("--stage2", a.stage2, "stage2 ONNX (from `npusplit split`)");
  cmd->add_option("--backend", a.backend, "stage1 backend: ort (ONNX Runtime on the CPU) | hailo (needs --hef)")
      ->check(CLI::IsMember({"ort", "hailo"}))
      ->capture_default_str();
  cmd->add_option("--hef", a.hef, "with --backend hailo: the compiled stage1 (.hef)");
  cmd->add_option("--hef-input", a.hef_input,
                  "how stage1 takes its input: uint8 (0-255 NHWC pixels: the HEF of the bundle's .alls, whose "
                  "normalization layer does the rest) | float32 (default: the manifest's stage1.hef_input; with "
                  "--backend ort, uint8 runs the ONNX stage1 fed that way)")
      ->check(CLI::IsMember({"uint8", "float32"}));
  cmd->add_option("--threads", a.threads, "ONNX Runtime intra-op threads per stage (0: one per core)")
      ->check(at_least(0));
  cmd->add_flag("--no-fused-host", a.no_fused_host,
                "run stage2 as exported (default: its deformable attention runs as npusplit's fused operator)");
}

}  // namespace

// ------------------------------------------------------------------------------------------

void add_run(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Detect objects in images, videos, folders or a camera: stage1 -> stage2 (or --model); annotated "
             "images/videos + detections");
  static ModelArgs ma;
  static std::vector<std::string> inputs;
  static RunOptions ro;
  static std::string out_dir = "npusplit_out", labels_file, detections = "json";
  static bool as_json = false;
  add_model_options(cmd, ma);
  cmd->add_option("inputs", inputs, "images, videos, folders of them, glob patterns ('shots/*.jpg'), or cam:N")
      ->required();
  cmd->add_option("--threshold", ro.decode.threshold, "minimum score")->capture_default_str()->check(in_unit_interval());
  cmd->add_option("-o,--out", out_dir, "output folder")->capture_default_str();
  cmd->add_option("--labels", labels_file, "class names, one per line (default: COCO-80)");
  static PreprocessArgs pre;
  add_preprocess_options(cmd, pre);  // overrides of the manifest's record (--manifest, or the one beside --stage1)
  cmd->add_option("--max-frames", ro.max_frames, "videos and cameras: stop after N frames (0: every frame; cameras: 100)")
      ->check(at_least(0));
  cmd->add_flag("--frames-as-png", ro.frames_as_png, "videos: one annotated PNG per frame instead of an annotated video");
  cmd->add_option("--detections", detections, "json (rewritten every --save-every frames) | jsonl (a line per frame)")
      ->check(CLI::IsMember({"json", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--save-every", ro.save_every, "with --detections json: rewrite the file every N frames")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_flag("--json", as_json, "print a JSON summary (schema npusplit.run/1) instead of text");
  cmd->callback([&] {
    if (!labels_file.empty()) ro.decode.class_names = load_labels(labels_file);
    ro.out_dir = out_dir;
    ro.detections = detections == "jsonl" ? DetectionsFormat::jsonl : DetectionsFormat::json;
    ro.preprocess = run_preprocess(ma.manifest, ma.stage1, pre, as_json);
    RunEvents events;
    if (!as_json) events.started = [](const RunHeader& h) { std::cout << run_header_text(h) << std::flush; };
    events.input_done = [&](const InputReport& r, bool split) {
      if (!r.error.empty()) std::cerr << "npusplit: error: " << r.error << " (skipped)\n";
      if (!as_json) std::cout << input_report_text(r, split, ro.decode.threshold) << std::flush;
    };
    const RunResult r = run_detection({ma, inputs, ro}, events);
    std::cout << (as_json ? dump_json(run_json(r, ro.decode.threshold)) : run_summary_text(r.report));
    if (r.report.interrupted)
      std::cerr << "npusplit: interrupted: stopped after the current frame; what was done is written\n";
    exit_code = r.report.exit_code();
  });
}

void add_bench(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("bench", "Latency (p50/p90/p99) and throughput of stage1 -> stage2 or --model, "
                                          "sequential and pipelined");
  static ModelArgs ma;
  static int64_t frames = 100, warmup = 10;
  static bool pipelined = false, sequential = false, as_json = false;
  static std::string host_baseline;
  add_model_options(cmd, ma);
  cmd->add_option("--host-baseline", host_baseline,
                  "STAGE1,STAGE2 of another split (e.g. cut at the encoder's outputs): also time stage2 alone, "
                  "fused, unfused and this baseline's, side by side with the same threads");
  cmd->add_option("--frames", frames, "measured frames per mode")->capture_default_str()->check(at_least(1));
  cmd->add_option("--warmup", warmup, "frames run before measuring")->capture_default_str()->check(at_least(0));
  cmd->add_flag("--pipelined", pipelined, "only the pipelined mode (stage1 of frame n+1 overlaps stage2 of frame n)");
  cmd->add_flag("--sequential", sequential, "only the sequential mode");
  cmd->add_flag("--json", as_json, "JSON output (schema npusplit.bench/1)");
  cmd->callback([&] {
    BenchRequest q{ma, frames, warmup, sequential, pipelined, {}, {}};
    if (!host_baseline.empty()) {
      const auto parts = split_commas({host_baseline});
      if (parts.size() != 2) fail("--host-baseline takes STAGE1,STAGE2");
      q.baseline_stage1 = parts[0];
      q.baseline_stage2 = parts[1];
    }
    const BenchResult r = run_bench(q);
    std::cout << (as_json ? dump_json(bench_json(r)) : bench_text(r));
    exit_code = 0;
  });
}

}  // namespace npusplit::cli
