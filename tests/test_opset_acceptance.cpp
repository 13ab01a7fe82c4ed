// Acceptance at the opsets current exporters write: the shared models converted to opsets 18-21
// by onnx's version converter (the `opset_models` fixture, tests/opset_fixture.h says which at
// which) give the same `check` findings and the same automatic cut as at opset 17, and
// `split --verify` / `split --fix --verify` stay bit-exact with a clean stage1 written back at
// opset 17 (hailo8's DFC 3.x range), equal to the unconverted stage1 within ONNX Runtime's
// kernel rounding.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "npusplit/app/analyze.h"
#include "npusplit/app/split.h"
#include "npusplit/io/model_io.h"
#include "opset_fixture.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string file;
  int opset;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.file << " at opset " << c.opset; }

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const auto& [file, opsets] : test::opset_models())
    for (int k : opsets) v.push_back({file, k});
  return v;
}

// The copy at OPSET (made now when the fixture did not run, e.g. a direct gtest run).
fs::path opset_copy(const fs::path& original, const Case& c) {
  const auto p = test::opset_copy_path(NPUSPLIT_BINARY_DIR, c.file, c.opset);
  test::make_opset_copy(original, c.opset, p);
  return p;
}

// node name -> rule ids of its findings (accepted nodes map to an empty set).
std::map<std::string, std::set<std::string>> findings_by_node(const Analysis& a) {
  std::map<std::string, std::set<std::string>> m;
  for (const auto& v : a.verdicts) {
    auto& s = m[v.name];
    for (const auto& f : v.findings) s.insert(f.rule_id);
  }
  return m;
}

std::set<std::string> stage1_nodes(const Analysis& a) {
  std::set<std::string> s;
  const auto& g = a.model.proto().graph();
  for (int i = 0; i < g.node_size(); ++i)
    if (a.partition.stage1[i]) s.insert(g.node(i).name());
  return s;
}

std::vector<std::string> crossing(const SplitResult& r) {
  std::vector<std::string> v;
  for (const auto& c : r.manifest["crossing"]) v.push_back(c["original_tensor"].get<std::string>());
  return v;
}

class AtNewerOpset : public ::testing::TestWithParam<Case> {};

TEST_P(AtNewerOpset, CheckFindsTheSameAndCutsTheSame) {
  NPUSPLIT_REQUIRE_MODEL(original, GetParam().file);
  const auto copy = opset_copy(original, GetParam());
  AnalyzeOptions o;
  o.keep_original = false;
  const auto a17 = analyze(original, o), an = analyze(copy, o);
  ASSERT_EQ(default_opset(an.model.proto()), GetParam().opset);
  EXPECT_EQ(an.model.stats().unresolved, 0);
  const auto f17 = findings_by_node(a17), fn = findings_by_node(an);
  for (const auto& [node, ids] : f17) {
    auto it = fn.find(node);
    if (it == fn.end()) {
      ADD_FAILURE() << node << " is missing at opset " << GetParam().opset;
      continue;
    }
    EXPECT_EQ(it->second, ids) << node;
  }
  for (const auto& [node, ids] : fn)
    EXPECT_TRUE(f17.count(node)) << node << " only exists at opset " << GetParam().opset;
  EXPECT_EQ(stage1_nodes(an), stage1_nodes(a17)) << "the automatic cut moved";
  EXPECT_EQ(an.partition.crossing_bytes, a17.partition.crossing_bytes);
}

TEST_P(AtNewerOpset, SplitAndSplitFixAreBitExactWithACleanOpset17Stage1) {
  NPUSPLIT_REQUIRE_MODEL(original, GetParam().file);
  const auto copy = opset_copy(original, GetParam());
  const std::string tag = fs::path(GetParam().file).stem().string() + "_" + std::to_string(GetParam().opset);
  for (bool fix : {false, true}) {
    SCOPED_TRACE(fix ? "--fix" : "plain");
    SplitOptions o;
    o.model = copy;
    o.out_dir = test::temp_dir("opset_acceptance_" + tag + (fix ? "_fix" : ""));
    o.fix = fix;
    o.verify = true;
    o.verify_random = 1;  // (the opset-17 acceptance verifies on the photos too)
    const auto r = split_model(o);
    ASSERT_TRUE(r.verify.has_value());
    EXPECT_TRUE(r.verify->ok);
    for (const auto& w : r.verify->worst) {
      EXPECT_EQ(w.max_abs_diff, 0.0) << w.name;
      EXPECT_EQ(w.nonfinite_mismatch, 0) << w.name;
    }
    EXPECT_EQ(r.manifest["stage1"]["check"]["verdict"], "clean");
    // stage1 back at hailo8's opset 17 and equal to the unconverted one; stage2 as exported.
    EXPECT_EQ(default_opset(r.stages.stage1), 17);
    EXPECT_EQ(default_opset(r.stages.stage2), GetParam().opset);
    // The written stage1 against the unconverted one: equal up to the last bit of ONNX Runtime's
    // AveragePool-19 kernel (it rounds unlike AveragePool-11, which the opset-17 file runs).
    ASSERT_TRUE(r.stage1_opset.check.has_value());
    for (const auto& w : r.stage1_opset.check->worst) {
      EXPECT_LE(w.max_abs_diff, 1e-6) << w.name;
      EXPECT_EQ(w.nonfinite_mismatch, 0) << w.name;
    }
    if (!r.stage1_opset.check->ok) {
      ASSERT_FALSE(r.warnings.empty());
      EXPECT_NE(r.manifest["warnings"].dump().find("AveragePool (19 -> 11)"), std::string::npos) << r.manifest["warnings"];
    }
    // The same cut as the opset-17 model's (without --fix: the test above).
    if (!fix) continue;
    SplitOptions o17 = o;
    o17.model = original;
    o17.verify = false;
    o17.out_dir = test::temp_dir("opset_acceptance_" + tag + "_fix17");
    const auto r17 = split_model(o17);
    EXPECT_EQ(crossing(r), crossing(r17));
    EXPECT_EQ(r.manifest["stage1"]["nodes"], r17.manifest["stage1"]["nodes"]);
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, AtNewerOpset, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.file.substr(0, info.param.file.size() - 5);
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n + "_opset" + std::to_string(info.param.opset);
});

}  // namespace
}  // namespace npusplit
