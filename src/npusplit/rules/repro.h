#pragma once
// Minimal reproducers, one per rule: the smallest ONNX graph a rule flags (node "n") and its
// nearest neighbour that passes, with the `hailo parser` command to run on each. A user with
// the DFC confirms or refutes an INF/suspect rule in a minute; the test suite checks that
// `check` flags exactly that rule on the failing graph and nothing on the neighbour.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npusplit/rules/rule_set.h"

namespace npusplit {

struct Repro {
  std::string target, rule, dfc;     // DFC version to check at (inside the rule's range)
  std::string what;                  // one line: the failing pattern and its neighbour
  onnx::ModelProto failing, passing;
  std::string node = "n";            // the node the rule must flag in `failing`
  // Other rules the failing graph cannot help triggering on node "n" (a runtime int64
  // parameter is also a non-float activation), where they are active.
  std::vector<std::string> also;
  // Why ONNX Runtime cannot load or run `failing` (empty: both graphs load and run, which the
  // test suite checks; when set, the suite checks that ONNX Runtime does refuse it).
  std::string ort_refuses;
  // Values for the integer inputs of `failing` whose zeros are not valid data (Split sizes
  // must add up to the axis): what the test suite runs it with.
  std::map<std::string, std::vector<int64_t>> run_with;
};

// RULE: a constraint id, a default id, or "op:<Op>". nullopt with *WHY_NOT set when the rule
// has no graph repro (static-shape: every file `check` reads is resolved to static shapes).
std::optional<Repro> make_repro(const RuleSet& rs, const std::string& rule, std::string* why_not = nullptr);
bool has_repro(const RuleSet& rs, const std::string& rule);

// A minimal graph of a supported op (status supported, no constraints) that every rule must
// accept; nullopt when there is no recipe for OP.
std::optional<onnx::ModelProto> supported_op_graph(const std::string& op);

// Writes DIR/<rule>.fail.onnx, DIR/<rule>.pass.onnx and DIR/<rule>.txt (what, parser commands).
// Returns the files written.
std::vector<std::filesystem::path> write_repro(const Repro& r, const std::filesystem::path& dir);

}  // namespace npusplit
