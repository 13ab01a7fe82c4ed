#pragma once
// The shared front half of every command: load, resolve shapes, fold, judge, cost, cut.
#include <filesystem>
#include <string>

#include "npusplit/results/analysis.h"

namespace npusplit {

ModelSummary summarize(const onnx::ModelProto& m, const std::string& path, int64_t file_bytes);
// Judges and partitions A.model (again after rewrites): rules, FLOPs, the automatic cut.
void judge(Analysis& a, bool partition);
// load -> compile (the one resolve) -> judge.
Analysis analyze(const std::filesystem::path& model, const AnalyzeOptions& o);
Analysis analyze_proto(onnx::ModelProto m, const std::string& label, const AnalyzeOptions& o);
// Judges a model compiled by the caller (no resolve); SUMMARY describes the file it came from.
Analysis analyze_compiled(CompiledModel model, ModelSummary summary, const AnalyzeOptions& o);
PartitionInput partition_input(const Analysis& a, const Graph& g);

}  // namespace npusplit
