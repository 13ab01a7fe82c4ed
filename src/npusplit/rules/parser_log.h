#pragma once
// Reads the log of a failed `hailo parser` run and turns what it says into findings on the
// nodes it names, so the cut can be made again with the parser's own verdict. The signatures
// (which log lines mean what) are data: the `parser_log:` section of the target's rule file.
// A line that looks like an error but matches no signature is reported, never guessed.
#include <string>
#include <vector>

#include "npusplit/ir/graph.h"
#include "npusplit/rules/evaluator.h"
#include "npusplit/rules/rule_set.h"

namespace npusplit {

struct LogHit {
  int line_no = 0;          // 1-based
  std::string line;         // as in the log (trimmed)
  std::string signature;    // id of the matching signature
  std::vector<std::string> nodes;          // nodes it was mapped to (model node names)
  std::vector<std::string> missing_nodes;  // names it gives that are not nodes of the model
};

struct ParserLogResult {
  std::string path;
  std::vector<LogHit> hits;
  std::vector<std::pair<int, std::string>> unknown;  // error-looking lines no signature knows
  int findings_added = 0;
};

// Matches TEXT against RULES' signatures and adds one error finding per named node to
// VERDICTS (rule id "parser-log:<signature>", the log line as detail and evidence).
ParserLogResult apply_parser_log(const std::string& text, const std::string& path, const RuleSet& rules,
                                 const Graph& g, std::vector<NodeVerdict>& verdicts);

// What the log said, for the text reports (empty when no log was given).
std::string parser_log_report(const ParserLogResult& r);

}  // namespace npusplit
