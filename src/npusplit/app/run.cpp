#include "npusplit/app/run.h"

#include "npusplit/report/detections_report.h"

namespace npusplit {

RunResult run_detection(RunRequest q, const RunEvents& events) {
  Built b = build_pipeline(q.models, false);
  TwoStagePipeline& p = *b.pipeline;
  q.options.model_label = b.what;
  // In this order, each a one-line error before any output: not a detector, no inputs, an
  // input the feeder cannot fill.
  const DetrLayout layout = detr_layout(p.outputs());
  const auto media = expand_inputs(q.inputs);
  const Feeder feed(p);
  RunResult r;
  r.header = {b.what, stage_names(p), layout_name(layout), feed.width(), feed.height()};
  if (events.started) events.started(r.header);
  r.report = run_media(p, media, q.options, detections_file, [&](const InputReport& in) {
    if (events.input_done) events.input_done(in, p.is_split());
  });
  return r;
}

}  // namespace npusplit
