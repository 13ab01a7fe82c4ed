#include "npusplit/app/analyze.h"

#include <chrono>

#include "npusplit/analysis/cost.h"
#include "npusplit/app/range_probe.h"
#include "npusplit/base/checked_math.h"
#include "npusplit/io/model_io.h"

namespace npusplit {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

ModelSummary summarize(const onnx::ModelProto& m, const std::string& path, int64_t file_bytes) {
  ModelSummary s;
  s.path = path;
  s.file_bytes = file_bytes;
  s.ir_version = m.ir_version();
  for (const auto& o : m.opset_import()) s.opsets.emplace_back(o.domain().empty() ? "ai.onnx" : o.domain(), o.version());
  s.producer = m.producer_name() + (m.producer_version().empty() ? "" : " " + m.producer_version());
  Graph g(m.graph());
  for (const auto& vi : m.graph().input())
    if (!g.is_constant(vi.name())) s.inputs.push_back({vi.name(), tensor_info_of(vi.type())});
  for (const auto& vi : m.graph().output()) s.outputs.push_back({vi.name(), tensor_info_of(vi.type())});
  s.nodes = m.graph().node_size();
  s.parameters = parameter_count(m.graph());
  return s;
}

PartitionInput partition_input(const Analysis& a, const Graph& g) {
  PartitionInput in{g, a.model.shapes(), {}, a.flops};
  for (const auto& v : a.verdicts) in.supported.push_back(v.supported || (a.allow_suspect && v.suspect_only) ? 1 : 0);
  if (int(a.no_end.size()) == g.node_count()) in.no_end = a.no_end;
  return in;
}

void judge(Analysis& a, bool partition) {
  auto t0 = std::chrono::steady_clock::now();
  const Graph& g = a.model.graph();
  a.verdicts = evaluate_graph(a.rules, g, a.model.shapes());
  if (!a.parser_log_path.empty())
    a.parser_log = apply_parser_log(a.parser_log_text, a.parser_log_path, a.rules, g, a.verdicts);
  a.flops = graph_flops(g, a.model.shapes());
  a.total_flops = 0;
  for (auto f : a.flops) a.total_flops = sat_add(a.total_flops, f);
  a.timings.check_ms = ms_since(t0);
  if (partition) {
    t0 = std::chrono::steady_clock::now();
    a.no_end.clear();  // of the graph judged before: measured again below
    PartitionInput in = partition_input(a, g);
    a.partition = auto_partition(in);
    if (a.range_options.enabled) quant_aware_cut(a, in);
    a.timings.partition_ms = ms_since(t0);
  }
}

namespace {
void load_rules_into(Analysis& a, const AnalyzeOptions& o) {
  a.rules = load_rules(o.target, o.dfc);
  if (!o.parser_log.empty()) {
    a.parser_log_path = o.parser_log;
    a.parser_log_text = read_file(o.parser_log);
  }
  a.allow_suspect = o.allow_suspect;
  a.range_options = o.ranges;
}
}  // namespace

Analysis analyze_compiled(CompiledModel model, ModelSummary summary, const AnalyzeOptions& o) {
  Analysis a;
  load_rules_into(a, o);
  a.summary = std::move(summary);
  a.model = std::move(model);
  judge(a, o.partition);
  return a;
}

Analysis analyze_proto(onnx::ModelProto m, const std::string& label, const AnalyzeOptions& o) {
  Analysis a;
  load_rules_into(a, o);
  a.summary = summarize(m, label, static_cast<int64_t>(m.ByteSizeLong()));
  auto t0 = std::chrono::steady_clock::now();
  if (o.keep_original) {
    a.original = std::move(m);
    a.model = CompiledModel::compile(a.original, o.input_shapes, label);
  } else {
    a.model = CompiledModel::compile(std::move(m), o.input_shapes, label);
  }
  a.timings.resolve_ms = ms_since(t0);
  judge(a, o.partition);
  return a;
}

Analysis analyze(const std::filesystem::path& model, const AnalyzeOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  auto m = load_model(model);
  const double load_ms = ms_since(t0);
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(model, ec));
  Analysis a = analyze_proto(std::move(m), model.string(), o);
  a.summary.file_bytes = size;
  a.timings.load_ms = load_ms;
  return a;
}

}  // namespace npusplit
