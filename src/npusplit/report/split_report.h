#pragma once
// Everything `split` (and `verify`) prints or writes as a document, produced from the typed
// results: the manifest (schema npusplit.split/1), the text report, the verify table/JSON.
#include <nlohmann/json.hpp>

#include <string>

#include "npusplit/results/split.h"

namespace npusplit {

nlohmann::json split_manifest(const SplitResult& r, const SplitOptions& o);
std::string split_text(const SplitResult& r);
// What the Python binding's split() returns: the manifest, the files, the stage1 end nodes a DFC
// script needs, the verify report and the text.
nlohmann::json split_result_json(const SplitResult& r);
// split --fused-host --verify: the fused stage2 against the unfused one, case by case.
std::string fused_check_text(const FusedCheck& c);
// "clean" | "suspect only" | "unsupported nodes": `check` of stage1 alone (packing nodes aside).
std::string stage1_check_verdict(const SplitResult& r);
std::string hailo_parser_command(const std::string& stage1_file, const std::string& hw_arch,
                                 const StageModels& s);
std::string verify_text(const VerifyReport& r);
nlohmann::json verify_json(const VerifyReport& r);

}  // namespace npusplit
