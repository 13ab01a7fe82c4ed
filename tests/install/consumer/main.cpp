// Uses the installed library end to end: builds a model in memory, judges it against the
// embedded hailo8 rules and against the installed rules file, and runs it in ONNX Runtime
// (the verify of a model against itself), so headers, static libraries, onnx and ONNX Runtime
// all have to come from the installed prefix.
#include <cstdio>
#include <exception>

#include "npusplit/app/analyze.h"
#include "npusplit/ir/builder.h"
#include "npusplit/report/check_report.h"
#include "npusplit/verify/verify.h"

int main() try {
  npusplit::ModelBuilder b(17);
  auto x = b.input("x", {1, 3, 8, 8});
  auto w = b.random_weight("w", {4, 3, 3, 3});
  auto y = b.node("Conv", "conv", {x, w}, {npusplit::Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto k = b.ints("k", {2}, {1});
  auto top = b.node_n("TopK", "topk", {b.node("Flatten", "flat", {y}), k}, 2);
  b.output(top[0]);
  b.output(top[1], {}, 7);
  const auto model = b.build();

  npusplit::AnalyzeOptions o;
  auto a = npusplit::analyze_proto(model, "consumer", o);
  o.target = RULES_DIR "/hailo8.yaml";
  auto from_file = npusplit::analyze_proto(model, "consumer", o);
  auto cases = npusplit::make_verify_cases(model, {}, 1, {});
  auto same = npusplit::verify_equivalent(model, model, cases, 0.0);
  bool topk_rejected = false;
  for (const auto& v : a.verdicts)
    if (v.op == "TopK" && !v.supported) topk_rejected = true;
  const int n = npusplit::unsupported_count(a), n_file = npusplit::unsupported_count(from_file);
  std::printf("nodes %zu unsupported %d (rules file: %d, TopK %s) verify %s\n", a.verdicts.size(), n, n_file,
              topk_rejected ? "rejected" : "ACCEPTED", same.ok ? "equal" : "DIFFERENT");
  return topk_rejected && n == n_file && same.ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer: error: %s\n", e.what());
  return 2;
}
