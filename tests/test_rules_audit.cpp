// Issue 15: every rule both ways at its target (generated from the repro builder: the minimal
// failing graph must be flagged by exactly that rule, its neighbour by nothing), DFC-version
// selection, the generated documents against the committed copies, the research audit against
// research/hailo_ops.md, and the parser log in the loop (log excerpts quoted in public issues).
#include <gtest/gtest.h>

#include "npusplit/app/rules.h"
#include "npusplit/report/rules_report.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npusplit/app/analyze.h"
#include "npusplit/app/split.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/ir/builder.h"
#include "npusplit/ir/graph.h"
#include "npusplit/rules/evaluator.h"
#include "npusplit/rules/markdown.h"
#include "npusplit/rules/parser_log.h"
#include "npusplit/rules/repro.h"
#include "npusplit/rules/rule_set.h"
#include "npusplit/runtime/ort_util.h"
#include "npusplit/shapes/resolve.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> targets() { return {"hailo8", "hailo10h"}; }

std::string source_dir() { return NPUSPLIT_SOURCE_DIR; }

// Two lines of the Y26 error list (see kY26Log below), for the CLI test.
const char* kY26LogForCli =
    "UnsupportedShuffleLayerError in op /model.23/Flatten: Failed to determine type of layer to create in node /model.23/Flatten\n"
    "UnsupportedOperationError in op /model.23/TopK: TopK operation is unsupported\n";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Flag {
  std::string node, op, rule, severity;
};

// Every finding `check` would report on M at RS.
std::vector<Flag> flags_of(const onnx::ModelProto& m, const RuleSet& rs) {
  ResolvedModel r = resolve(m, {});
  Graph g(r.model.graph());
  std::vector<Flag> out;
  for (const auto& v : evaluate_graph(rs, g, r.shapes))
    for (const auto& f : v.findings) out.push_back({v.name, v.op, f.rule_id, f.severity});
  return out;
}

std::string describe(const std::vector<Flag>& fs) {
  std::string s;
  for (const auto& f : fs) s += " [" + f.node + " " + f.op + ": " + f.rule + "/" + f.severity + "]";
  return s.empty() ? " none" : s;
}

// ---------------------------------------------------------------- every rule, both ways

// Loads FILE in ONNX Runtime and runs it once on plain inputs (floats 1, integers and bools 0:
// valid indices, nonzero scales; RUN_WITH for integer inputs whose zeros are not valid); ""
// when it runs, else ONNX Runtime's message.
std::string ort_run_error_bytes(const std::string& bytes, const std::string& what,
                                const std::map<std::string, std::vector<int64_t>>& run_with = {}) {
  try {
    OrtOptions o;
    o.intra_threads = 1;
    auto session = make_session(bytes, o, what);
    std::vector<HostTensor> inputs;
    for (const auto& s : session_inputs(session)) {
      HostTensor t(s);
      if (s.dtype == onnx::TensorProto::FLOAT) std::fill(t.as<float>(), t.as<float>() + t.numel(), 1.f);
      if (auto v = run_with.find(s.name); v != run_with.end() && s.dtype == onnx::TensorProto::INT64 &&
                                           static_cast<int64_t>(v->second.size()) == t.numel())
        std::copy(v->second.begin(), v->second.end(), t.as<int64_t>());
      inputs.push_back(std::move(t));
    }
    run_session(session, inputs);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}
std::string ort_run_error(const fs::path& file, const std::map<std::string, std::vector<int64_t>>& run_with = {}) {
  return ort_run_error_bytes(slurp(file), file.filename().string(), run_with);
}

struct RuleCase {
  std::string target, rule;
};

std::vector<RuleCase> all_rule_cases() {
  std::vector<RuleCase> out;
  for (const auto& t : targets()) {
    const auto rs = load_rules_all_versions(t);
    for (const auto& id : rule_ids(rs))
      if (has_repro(rs, id)) out.push_back({t, id});
  }
  return out;
}

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.target << " " << c.rule; }

class TwoWay : public ::testing::TestWithParam<RuleCase> {};

TEST_P(TwoWay, FailsAndNeighbourPasses) {
  const auto& c = GetParam();
  const auto all = load_rules_all_versions(c.target);
  std::string why;
  auto r = make_repro(all, c.rule, &why);
  ASSERT_TRUE(r) << why;
  const RuleSet rs = load_rules(c.target, r->dfc);
  std::string op, severity = "error", expect_id = c.rule;
  if (c.rule.rfind("op:", 0) == 0) {
    op = c.rule.substr(3);
    expect_id = rs.ops.at(op).status == OpStatus::Fold ? "must-fold" : "unsupported-op";
  } else {
    bool found = false;
    for (const auto& d : rs.defaults)
      if (d.id == c.rule) severity = d.severity, found = true;
    for (const auto& [o, rule] : rs.ops)
      for (const auto& k : rule.constraints)
        if (k.id == c.rule) severity = k.severity, op = o, found = true;
    ASSERT_TRUE(found) << c.rule << " is not active at DFC " << r->dfc;
  }
  // Through the files `repro` writes and the analysis `check` runs on them.
  const fs::path dir = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "repro" / c.target;
  const auto files = write_repro(*r, dir);
  AnalyzeOptions o;
  o.target = c.target;
  o.dfc = r->dfc;
  o.partition = false;
  auto flags_from_file = [&](const fs::path& f) {
    std::vector<Flag> out;
    for (const auto& v : analyze(f, o).verdicts)
      for (const auto& k : v.findings) out.push_back({v.name, v.op, k.rule_id, k.severity});
    return out;
  };
  auto bad = flags_from_file(files[0]);
  // The declared unavoidable companions (e.g. float-dtype for a runtime int64 parameter), on "n" only.
  std::erase_if(bad, [&](const Flag& f) {
    return f.node == "n" && std::find(r->also.begin(), r->also.end(), f.rule) != r->also.end();
  });
  ASSERT_EQ(bad.size(), 1u) << r->what << ": expected exactly " << c.rule << ", got" << describe(bad);
  EXPECT_EQ(bad[0].node, "n") << describe(bad);
  EXPECT_EQ(bad[0].rule, expect_id) << describe(bad);
  EXPECT_EQ(bad[0].severity, severity) << describe(bad);
  if (!op.empty() && c.rule.rfind("op:", 0) == 0) {
    EXPECT_EQ(bad[0].op, op);
  }
  const auto good = flags_from_file(files[1]);
  EXPECT_TRUE(good.empty()) << r->what << ": the neighbour is flagged:" << describe(good);
  // Both files are real models: ONNX Runtime loads and runs them (or, where the repro says it
  // cannot, really refuses the failing one).
  const std::string ort_fail = ort_run_error(files[0], r->run_with);
  if (r->ort_refuses.empty()) EXPECT_EQ(ort_fail, "") << r->what;
  else EXPECT_NE(ort_fail, "") << r->what << ": ONNX Runtime runs it, but the repro says: " << r->ort_refuses;
  EXPECT_EQ(ort_run_error(files[1]), "") << r->what << " (the neighbour)";
}

INSTANTIATE_TEST_SUITE_P(RuleRepro, TwoWay, ::testing::ValuesIn(all_rule_cases()),
                         [](const ::testing::TestParamInfo<RuleCase>& i) {
                           std::string s = i.param.target + "_" + i.param.rule;
                           for (auto& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

// Every supported op (no constraints) with a minimal graph: alone, no rule flags it.
struct OpCase {
  std::string target, op;
};
void PrintTo(const OpCase& c, std::ostream* os) { *os << c.target << " " << c.op; }
std::vector<OpCase> supported_op_cases() {
  std::vector<OpCase> out;
  for (const auto& t : targets())
    for (const auto& [op, r] : load_rules_all_versions(t).ops)
      if (r.status == OpStatus::Supported && supported_op_graph(op)) out.push_back({t, op});
  return out;
}
class Accepted : public ::testing::TestWithParam<OpCase> {};
TEST_P(Accepted, AloneInAMinimalGraph) {
  const auto& c = GetParam();
  const auto m = *supported_op_graph(c.op);
  const auto flags = flags_of(m, load_rules(c.target));
  EXPECT_TRUE(flags.empty()) << c.op << " at " << c.target << ":" << describe(flags);
  EXPECT_EQ(ort_run_error_bytes(m.SerializeAsString(), c.op), "") << "the graph is not a model ONNX Runtime runs";
}
INSTANTIATE_TEST_SUITE_P(RuleStatus, Accepted, ::testing::ValuesIn(supported_op_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& i) {
                           std::string s = i.param.target + "_" + i.param.op;
                           for (auto& ch : s)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

// Where the neighbour is the rule's fix applied to the failing graph (an exact decomposition,
// the unrolled body, the float-equivalent op), both compute the same function: run on the same
// varied inputs, their outputs agree.
TEST(RuleRepro, ExactNeighboursComputeTheSameOutputs) {
  const std::vector<std::string> exact = {"op:Mish", "op:Gelu", "op:GroupNormalization", "op:RMSNormalization",
                                          "op:Attention", "op:RotaryEmbedding", "op:Loop", "op:Scan", "op:Compress"};
  const auto rs = load_rules_all_versions("hailo10h");
  auto run = [](const onnx::ModelProto& m) {
    OrtOptions o;
    o.intra_threads = 1;
    auto session = make_session(m.SerializeAsString(), o, "repro");
    std::vector<HostTensor> inputs;
    for (const auto& s : session_inputs(session)) {
      HostTensor t(s);
      EXPECT_EQ(s.dtype, onnx::TensorProto::FLOAT) << s.name;
      if (s.dtype != onnx::TensorProto::FLOAT) continue;
      for (int64_t i = 0; i < t.numel(); ++i) t.as<float>()[i] = std::sin(0.7f * static_cast<float>(i) + s.name.size());
      inputs.push_back(std::move(t));
    }
    return run_session(session, inputs);
  };
  for (const auto& rule : exact) {
    SCOPED_TRACE(rule);
    auto r = make_repro(rs, rule);
    ASSERT_TRUE(r);
    const auto a = run(r->failing), b = run(r->passing);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    ASSERT_EQ(a[0].spec.dims, b[0].spec.dims);
    double worst = 0;
    for (int64_t i = 0; i < a[0].numel(); ++i)
      worst = std::max(worst, std::abs(element_as_double(a[0], i) - element_as_double(b[0], i)));
    EXPECT_LT(worst, 1e-4) << r->what;
  }
}

// The If and Loop fixes say the folder does not remove control flow that reads activations,
// even with a constant condition / trip count: the repro graphs with the condition made a
// constant still hold their If / Loop after resolution.
TEST(RuleRepro, ControlFlowReadingActivationsIsNotFolded) {
  const auto rs = load_rules_all_versions("hailo8");
  for (const std::string op : {"If", "Loop"}) {
    auto r = make_repro(rs, "op:" + op);
    ASSERT_TRUE(r) << op;
    onnx::ModelProto m = r->failing;
    if (op == "If") {  // the cond input becomes a constant true
      m.mutable_graph()->mutable_input()->erase(m.mutable_graph()->mutable_input()->begin());
      auto* t = m.mutable_graph()->add_initializer();
      t->set_name("cond");
      t->set_data_type(onnx::TensorProto::BOOL);
      t->set_raw_data(std::string(1, '\1'));
    }
    const auto res = resolve(m);
    int kept = 0;
    for (const auto& n : res.model.graph().node()) kept += n.op_type() == op;
    EXPECT_EQ(kept, 1) << op;
    const auto flags = flags_of(m, load_rules("hailo8"));
    ASSERT_EQ(flags.size(), 1u) << op << describe(flags);
    EXPECT_EQ(flags[0].rule, "unsupported-op");
  }
}

// Every rule has a repro graph but static-shape, which says why (and is tested both ways below).
TEST(RuleRepro, RulesWithoutAGraphSayWhy) {
  for (const auto& t : targets()) {
    const auto rs = load_rules_all_versions(t);
    std::vector<std::string> without;
    for (const auto& id : rule_ids(rs)) {
      std::string why;
      if (!make_repro(rs, id, &why)) {
        without.push_back(id);
        EXPECT_FALSE(why.empty()) << t << " " << id;
        EXPECT_EQ(why.find("no minimal graph recipe"), std::string::npos) << t << " " << id << ": " << why;
      }
    }
    EXPECT_EQ(without, std::vector<std::string>{"static-shape"}) << t;
  }
}

// static-shape has no repro file: check resolves every file to static shapes (inputs fixed,
// the rest measured by ONNX Runtime) before any rule runs. Both ways on the evaluator, before
// and after resolution, at every target.
TEST(RuleRepro, StaticShapeBothWaysBeforeAndAfterResolve) {
  ModelBuilder b;
  auto x = b.input("x", {-1, 8, 4, 4});
  b.output(b.node("Relu", "n", {x}));
  const auto m = b.build();
  for (const auto& t : targets()) {
    const auto rs = load_rules(t);
    onnx::ModelProto unresolved = m;
    const auto shapes = infer_shapes(unresolved);
    Graph g(unresolved.graph());
    const auto v = evaluate_node(rs, g, shapes, 0);
    ASSERT_EQ(v.findings.size(), 1u) << t;
    EXPECT_EQ(v.findings[0].rule_id, "static-shape") << t;
    EXPECT_TRUE(flags_of(m, rs).empty()) << t << ": the same node at batch 1 is flagged";
  }
}

TEST(RuleRepro, WrittenFilesLoadAndSayHowToRunTheParser) {
  const auto rs = load_rules_all_versions("hailo10h");
  auto r = make_repro(rs, "neg-concat-rotate-half");
  ASSERT_TRUE(r);
  const fs::path dir = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "repro_written";
  fs::remove_all(dir);
  auto files = write_repro(*r, dir);
  ASSERT_EQ(files.size(), 3u);
  auto m = load_model(files[0]);
  EXPECT_EQ(m.graph().node_size(), r->failing.graph().node_size());
  EXPECT_NO_THROW(load_model(files[1]));
  const auto txt = slurp(files[2]);
  EXPECT_NE(txt.find("hailo parser onnx neg-concat-rotate-half.fail.onnx --hw-arch hailo10h"), std::string::npos) << txt;
  EXPECT_NE(txt.find("DFC 5.4"), std::string::npos) << txt;
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- the CLI

TEST(RulesCli, ReproAllWritesOneGraphPairPerRuleAndCheckFlagsIt) {
  const fs::path dir = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "repro_all";
  fs::remove_all(dir);
  const auto r = test::run_cli("repro --all -o '" + dir.string() + "'", "repro_all");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int fail_files = 0;
  for (const auto& t : targets())
    for (const auto& e : fs::directory_iterator(dir / t))
      if (e.path().string().ends_with(".fail.onnx")) ++fail_files;
  EXPECT_EQ(fail_files, static_cast<int>(all_rule_cases().size()));
  EXPECT_NE(r.out.find("no repro ("), std::string::npos) << "rules without a graph are listed with the reason";
  // One through `check` itself: exit 1, the rule id in the JSON, the neighbour exit 0.
  const auto bad = test::run_cli("check '" + (dir / "hailo10h" / "neg-concat-rotate-half.fail.onnx").string() +
                                     "' --target hailo10h --json", "repro_check_bad");
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.out.find("\"neg-concat-rotate-half\""), std::string::npos);
  const auto good = test::run_cli("check '" + (dir / "hailo10h" / "neg-concat-rotate-half.pass.onnx").string() +
                                      "' --target hailo10h", "repro_check_good");
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("DFC 5.4 rules (default: newest documented)"), std::string::npos) << good.out;
  const auto at53 = test::run_cli("check '" + (dir / "hailo10h" / "neg-concat-rotate-half.fail.onnx").string() +
                                      "' --target hailo10h --dfc 5.3", "repro_check_53");
  EXPECT_EQ(at53.exit_code, 1);
  EXPECT_NE(at53.out.find("DFC 5.3 rules (chosen with --dfc)"), std::string::npos) << at53.out;
  EXPECT_NE(at53.out.find("suspect"), std::string::npos) << at53.out;
  EXPECT_NE(at53.out.find("unverified on 5.2/5.3"), std::string::npos) << at53.out;
  fs::remove_all(dir);
}

TEST(RulesCli, ReproBatchIsATypedResultTheReportPrints) {
  const fs::path dir = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "repro_batch";
  fs::remove_all(dir);
  const ReproBatch b = write_all_repros("hailo8", dir);
  const auto ids = rule_ids(load_rules_all_versions("hailo8"));
  EXPECT_EQ(b.written + static_cast<int>(b.skipped.size()), static_cast<int>(ids.size()));
  EXPECT_GT(b.written, 0);
  ASSERT_FALSE(b.skipped.empty()) << "hailo8's static-shape has no repro graph";
  for (const auto& s : b.skipped) {
    EXPECT_EQ(s.target, "hailo8");
    EXPECT_FALSE(s.why.empty()) << s.rule;
  }
  // What it says it wrote is on disk: a failing graph per written rule, in OUT itself.
  int fail_files = 0;
  for (const auto& e : fs::directory_iterator(dir)) fail_files += e.path().string().ends_with(".fail.onnx");
  EXPECT_EQ(fail_files, b.written);
  const std::string text = repro_batch_text(b);
  EXPECT_NE(text.find(std::to_string(b.written) + " repros written under " + dir.string()), std::string::npos) << text;
  for (const auto& sk : b.skipped) EXPECT_NE(text.find("hailo8 " + sk.rule + ": no repro (" + sk.why + ")"), std::string::npos);
  // Every target: one folder each, the skipped rules of all of them.
  fs::remove_all(dir);
  const ReproBatch all = write_all_repros("", dir);
  std::set<std::string> skipped_targets;
  for (const auto& sk : all.skipped) skipped_targets.insert(sk.target);
  int all_fail_files = 0;
  for (const auto& t : known_targets())
    if (fs::is_directory(dir / t))
      for (const auto& e : fs::directory_iterator(dir / t)) all_fail_files += e.path().string().ends_with(".fail.onnx");
  EXPECT_EQ(all_fail_files, all.written);
  EXPECT_GT(all.written, b.written);
  EXPECT_EQ(skipped_targets, (std::set<std::string>{"hailo8", "hailo10h"}));
  EXPECT_TRUE(fs::is_directory(dir / "hailo8") && fs::is_directory(dir / "hailo10h"));
  fs::remove_all(dir);
}

TEST(RulesCli, BadArgumentsAreOneLineErrors) {
  const auto r1 = test::run_cli("repro no-such-rule -o /tmp/npusplit_x", "repro_bad");
  EXPECT_EQ(r1.exit_code, 2);
  EXPECT_NE(r1.err.find("npusplit: error: no repro for 'no-such-rule'"), std::string::npos) << r1.err;
  const auto r2 = test::run_cli("rules --target hailo8 --markdown --audit", "rules_bad");
  EXPECT_EQ(r2.exit_code, 2);
  const fs::path log = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "missing.log";
  const auto r3 = test::run_cli("check /nonexistent.onnx --dfc 9.9", "check_bad_dfc");
  EXPECT_EQ(r3.exit_code, 2);
}

TEST(RulesCli, MarkdownOnStdoutIsTheCommittedDocument) {
  const auto r = test::run_cli("rules --markdown", "rules_md");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == slurp(fs::path(source_dir()) / "docs" / "supported-ops.md"));
}

// split --parser-log: the log of a failed parse of a stage1 moves the cut.
TEST(RulesCli, SplitWithAParserLogCutsAgain) {
  const fs::path dir = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "split_log";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto c = b.node("Conv", "/model.0/conv/Conv", {x, b.random_weight("w0", {8, 3, 3, 3})}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto r1 = b.node("Relu", "/model.0/act/Relu", {c});
  auto c2 = b.node("Conv", "/model.23/Flatten", {r1, b.random_weight("w1", {8, 8, 1, 1})});
  b.output(b.node("Relu", "/model.23/TopK", {c2}));
  save_model(b.build(), dir / "m.onnx");
  write_file_atomic(dir / "parser.log", kY26LogForCli);
  const auto plain = test::run_cli("split '" + (dir / "m.onnx").string() + "' -o '" + (dir / "a").string() + "' --json", "split_nolog");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto logged = test::run_cli("split '" + (dir / "m.onnx").string() + "' -o '" + (dir / "b").string() +
                                        "' --parser-log '" + (dir / "parser.log").string() + "' --json", "split_log");
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  const auto j0 = nlohmann::json::parse(plain.out), j1 = nlohmann::json::parse(logged.out);
  EXPECT_EQ(j0["stage1"]["nodes"], 4);
  EXPECT_EQ(j1["stage1"]["nodes"], 2);
  EXPECT_EQ(j1["parser_log"]["findings_added"], 2);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- DFC versions

TEST(RulesDfc, DefaultIsTheNewestDocumented) {
  const auto h8 = load_rules("hailo8");
  EXPECT_EQ(h8.dfc, "3.33");
  EXPECT_EQ(h8.dfc_choice, "default");
  const auto h10 = load_rules("hailo10h");
  EXPECT_EQ(h10.dfc, "5.4");
  EXPECT_EQ(h10.dfc_versions.back(), "5.4");
}

TEST(RulesDfc, VersionSelectsTheRulesOfThatCompiler) {
  auto ids = [](const RuleSet& rs) {
    auto v = rule_ids(rs);
    return std::set<std::string>(v.begin(), v.end());
  };
  const auto v54 = ids(load_rules("hailo10h", "5.4"));
  const auto v53 = ids(load_rules("hailo10h", "5.3"));
  const auto v542 = ids(load_rules("hailo10h", "5.4.0"));
  EXPECT_TRUE(v54.count("neg-concat-rotate-half"));
  EXPECT_FALSE(v54.count("neg-concat-rotate-half-pre54"));
  EXPECT_FALSE(v53.count("neg-concat-rotate-half"));
  EXPECT_TRUE(v53.count("neg-concat-rotate-half-pre54"));
  EXPECT_TRUE(v54.count("split-graph-output"));
  EXPECT_FALSE(v53.count("split-graph-output"));
  EXPECT_EQ(v54, v542);
  EXPECT_EQ(load_rules("hailo10h", "5.3").dfc_choice, "--dfc");
  // The same RoPE rotate_half graph: an error at 5.4, a suspect at 5.3.
  auto r = make_repro(load_rules_all_versions("hailo10h"), "neg-concat-rotate-half");
  ASSERT_TRUE(r);
  auto at54 = flags_of(r->failing, load_rules("hailo10h", "5.4"));
  auto at53 = flags_of(r->failing, load_rules("hailo10h", "5.3"));
  ASSERT_EQ(at54.size(), 1u);
  ASSERT_EQ(at53.size(), 1u);
  EXPECT_EQ(at54[0].severity, "error");
  EXPECT_EQ(at53[0].severity, "suspect");
}

TEST(RulesDfc, OtherGenerationAndGarbageRejected) {
  EXPECT_NE(test::error_of([] { load_rules("hailo8", "5.4"); }).find("DFC 3.x"), std::string::npos);
  EXPECT_NE(test::error_of([] { load_rules("hailo10h", "3.33"); }).find("DFC 5.x"), std::string::npos);
  EXPECT_FALSE(test::error_of([] { load_rules("hailo8", "latest"); }).empty());
  EXPECT_EQ(compare_versions("3.28", "3.33.1"), -1);
  EXPECT_EQ(compare_versions("5.4", "5.4.0"), 0);
  EXPECT_EQ(compare_versions("5.10", "5.4"), 1);
}

// ---------------------------------------------------------------- generated documents

std::vector<RuleSet> shipped_sets() { return shipped_rule_sets(); }

TEST(RulesDocs, SupportedOpsMatchesTheCommittedDocument) {
  const auto committed = slurp(fs::path(source_dir()) / "docs" / "supported-ops.md");
  ASSERT_FALSE(committed.empty()) << "docs/supported-ops.md missing";
  EXPECT_TRUE(committed == supported_ops_markdown(shipped_sets()))
      << "docs/supported-ops.md is stale: regenerate with `npusplit rules --markdown -o docs/supported-ops.md`";
}

TEST(RulesDocs, AuditMatchesTheCommittedDocument) {
  const auto committed = slurp(fs::path(source_dir()) / "docs" / "rules-audit.md");
  ASSERT_FALSE(committed.empty()) << "docs/rules-audit.md missing";
  EXPECT_TRUE(committed == audit_markdown(shipped_sets()))
      << "docs/rules-audit.md is stale: regenerate with `npusplit rules --audit -o docs/rules-audit.md`";
}

TEST(RulesDocs, EveryOpHasItsRowWithEvidenceAndSource) {
  const auto md = supported_ops_markdown(shipped_sets());
  for (const auto& rs : shipped_sets()) {
    EXPECT_NE(md.find("## " + rs.target + " "), std::string::npos);
    for (const auto& [op, r] : rs.ops) {
      EXPECT_NE(md.find("| " + op + " | "), std::string::npos) << op;
      EXPECT_FALSE(r.evidence.empty() && r.constraints.empty()) << rs.target << " " << op << " has no evidence";
    }
  }
}

// ---------------------------------------------------------------- the audit against the research

// The first cell of every table row of §1 (operator table) and §2 (error strings) of
// research/hailo_ops.md.
std::vector<std::string> research_rows(const std::string& md) {
  std::vector<std::string> rows;
  std::istringstream in(md);
  std::string line, section;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) section = line;
    const bool wanted = section.rfind("## 1.", 0) == 0 || section.rfind("## 2.", 0) == 0;
    if (!wanted || line.rfind("| ", 0) != 0) {
      in_table = false;
      continue;
    }
    if (!in_table) {  // header row, then the --- row
      in_table = true;
      std::getline(in, line);
      continue;
    }
    auto end = line.find(" | ", 2);
    rows.push_back(line.substr(2, end - 2));
  }
  return rows;
}

TEST(RulesAudit, EveryResearchRowHasARuleOrAReasonInBothFiles) {
  const fs::path md = fs::path(test::shared_dir()) / "research" / "hailo_ops.md";
  if (!fs::exists(md)) GTEST_SKIP() << md << " absent (shared research notes)";
  const auto rows = research_rows(slurp(md));
  ASSERT_GT(rows.size(), 80u);
  for (const auto& t : targets()) {
    const auto rs = load_rules_all_versions(t);
    const auto ids = rule_ids(rs);
    const std::set<std::string> known(ids.begin(), ids.end());
    for (const auto& row : rows) {
      const ResearchRow* hit = nullptr;
      for (const auto& r : rs.research)
        if (row == r.row) hit = &r;
      EXPECT_TRUE(hit) << t << ": no research entry for row: " << row.substr(0, 90);
    }
    for (const auto& r : rs.research) {
      EXPECT_FALSE(r.rules.empty() && r.reason.empty()) << t << " " << r.row;
      for (const auto& id : r.rules) {
        // op:X names an op entry (its status is the rule), else a constraint/default id.
        const bool ok = id.rfind("op:", 0) == 0 ? rs.ops.count(id.substr(3)) > 0 : known.count(id) > 0;
        EXPECT_TRUE(ok) << t << ": research row '" << r.row << "' names unknown rule " << id;
      }
    }
  }
}

// ---------------------------------------------------------------- the parser's log in the loop

// A small detector-shaped graph whose node names are those the quoted logs name. Every op in it
// is one the rules accept, so each finding below can only come from the log.
struct LogModel {
  onnx::ModelProto m;
  explicit LogModel(const std::vector<std::string>& head_nodes) {
    ModelBuilder b;
    auto x = b.input("images", {1, 3, 16, 16});
    auto c = b.node("Conv", "/model.0/conv/Conv", {x, b.random_weight("w0", {8, 3, 3, 3})}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
    auto t = b.node("Relu", "/model.0/act/Relu", {c});
    for (const auto& name : head_nodes) t = b.node("Relu", name, {t});
    b.output(t);
    m = b.build();
  }
};

Analysis analyze_with_log(const onnx::ModelProto& m, const std::string& log, const std::string& target = "hailo8",
                          bool allow_suspect = false) {
  // One file per test: ctest runs tests in parallel processes.
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  static int serial = 0;
  const fs::path p = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" /
                     (std::string("parser_log_") + info->name() + "_" + std::to_string(serial++) + ".log");
  fs::create_directories(p.parent_path());
  write_file_atomic(p, log);
  AnalyzeOptions o;
  o.target = target;
  o.parser_log = p.string();
  o.allow_suspect = allow_suspect;
  return analyze_proto(m, "log-test", o);
}

const NodeVerdict* verdict(const Analysis& a, const std::string& name) {
  for (const auto& v : a.verdicts)
    if (v.name == name) return &v;
  return nullptr;
}

bool has_log_finding(const Analysis& a, const std::string& node, const std::string& sig) {
  const auto* v = verdict(a, node);
  if (!v) return false;
  for (const auto& f : v->findings)
    if (f.rule_id == "parser-log:" + sig && f.severity == "error" && f.evidence == "MEAS" && !f.detail.empty()) return true;
  return false;
}

// Quoted verbatim (node names and all) from the YOLO26n Hailo-8L write-up, the full error list
// of the end-to-end head (research/hailo_ops.md: Y26; DanielDubinsky/yolo26_hailo repo family).
const char* kY26Log =
    "hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:\n"
    "UnsupportedOperationError in op /model.23/GatherElements: GatherElements operation is unsupported\n"
    "UnsupportedOperationError in op /model.23/GatherElements_1: GatherElements operation is unsupported\n"
    "UnsupportedReduceMaxLayerError in op /model.23/ReduceMax: Failed to create reduce max layer at vertex /model.23/ReduceMax. Reduce max is only supported on the features axis, and with keepdim=True\n"
    "UnsupportedShuffleLayerError in op /model.23/Flatten: Failed to determine type of layer to create in node /model.23/Flatten\n"
    "UnsupportedOperationError in op /model.23/TopK: TopK operation is unsupported\n"
    "UnsupportedOperationError in op /model.23/TopK_1: TopK operation is unsupported\n"
    "UnsupportedOperationError in op /model.23/Mod: Mod operation is unsupported\n"
    "UnsupportedGatherLayerError in op /model.23/Gather_3: Can't find index\n";

TEST(ParserLog, Y26ErrorListMarksEveryNamedNodeAndCutsBeforeThem) {
  const std::vector<std::string> head = {"/model.23/Flatten", "/model.23/ReduceMax", "/model.23/TopK", "/model.23/GatherElements",
                                         "/model.23/TopK_1", "/model.23/GatherElements_1", "/model.23/Mod", "/model.23/Gather_3"};
  LogModel lm(head);
  AnalyzeOptions plain;
  const auto before = analyze_proto(lm.m, "no-log", plain);
  EXPECT_EQ(count_verdicts(before.verdicts).rejected, 0);
  const auto a = analyze_with_log(lm.m, kY26Log);
  EXPECT_TRUE(has_log_finding(a, "/model.23/GatherElements", "unsupported-operation"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/GatherElements_1", "unsupported-operation"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/ReduceMax", "unsupported-reduce-max"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/Flatten", "unsupported-shuffle"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/TopK", "unsupported-operation"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/Mod", "unsupported-operation"));
  EXPECT_TRUE(has_log_finding(a, "/model.23/Gather_3", "unsupported-gather"));
  EXPECT_EQ(a.parser_log.findings_added, 8);
  EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
  // The cut moves: before, the whole chain was stage1; now it ends before the first named node.
  EXPECT_EQ(before.partition.stage1_nodes, before.verdicts.size());
  EXPECT_EQ(a.partition.stage1_nodes, 2u) << "stage1 = the Conv and its Relu";
  EXPECT_NE(a.partition.stage1_nodes, before.partition.stage1_nodes);
}

// The fast-plate-ocr thread (DFC 3.x, hailo8l): a shuffle list with a softmax line, and the
// parser's recommendation of end nodes. https://github.com/ankandrew/fast-plate-ocr/issues/44
const char* kFpoShuffleLog =
    " UnsupportedShuffleLayerError in op CCT_OCR_1/transformer_block_4_1/multi_head_attention_3_1/key_1/Reshape_1: Failed to determine type of layer to create in node CCT_OCR_1/transformer_block_4_1/multi_head_attention_3_1/key_1/Reshape_1\n"
    " UnsupportedSoftmaxLayerError in op CCT_OCR_1/transformer_block_2_1/multi_head_attention_1_1/softmax_1_1/Softmax: Unsupported softmax\n";

TEST(ParserLog, ShuffleAndSoftmaxLinesFromFastPlateOcr) {
  LogModel lm({"CCT_OCR_1/transformer_block_2_1/multi_head_attention_1_1/softmax_1_1/Softmax",
               "CCT_OCR_1/transformer_block_4_1/multi_head_attention_3_1/key_1/Reshape_1"});
  const auto a = analyze_with_log(lm.m, kFpoShuffleLog);
  EXPECT_TRUE(has_log_finding(a, "CCT_OCR_1/transformer_block_4_1/multi_head_attention_3_1/key_1/Reshape_1", "unsupported-shuffle"));
  EXPECT_TRUE(has_log_finding(a, "CCT_OCR_1/transformer_block_2_1/multi_head_attention_1_1/softmax_1_1/Softmax", "unsupported-softmax"));
  EXPECT_EQ(a.partition.stage1_nodes, 2u);
}

const char* kFpoRecommendationLog =
    "[info] Running `hailo parser onnx last.onnx --hw-arch hailo8l --input-format input=BCHW --tensor-shapes input=[1,3,64,128]`\n"
    "[info] Translation started on ONNX model last\n"
    "[info] Restored ONNX model last (completion time: 00:00:00.02)\n"
    "[info] Extracted ONNXRuntime meta-data for Hailo model (completion time: 00:00:00.11)\n"
    "[info] Simplified ONNX model for a parsing retry attempt (completion time: 00:00:00.66)\n"
    "Parsing failed with recommendations for end node names: ['CCT_OCR_nchw_1/CCT_OCR_1/mlp_1/dense_1/Gelu/mul', 'CCT_OCR_nchw_1/CCT_OCR_1/mlp_1/dense_1/Gelu/truediv'].\n"
    "Would you like to parse again with the recommendation? (y/n)\n"
    "y\n";

TEST(ParserLog, RecommendedEndNodesBecomeTheCut) {
  // The recommended end nodes in the model, with more graph after them.
  ModelBuilder b;
  auto x = b.input("input", {1, 3, 8, 8});
  auto c = b.node("Conv", "conv", {x, b.random_weight("w", {4, 3, 1, 1})});
  auto mul = b.node("Relu", "CCT_OCR_nchw_1/CCT_OCR_1/mlp_1/dense_1/Gelu/mul", {c});
  auto div = b.node("Sigmoid", "CCT_OCR_nchw_1/CCT_OCR_1/mlp_1/dense_1/Gelu/truediv", {c});
  auto after = b.node("Add", "after", {mul, div});
  b.output(b.node("Relu", "tail", {after}));
  const auto m = b.build();
  AnalyzeOptions plain;
  const auto before = analyze_proto(m, "no-log", plain);
  ASSERT_EQ(before.partition.stage1_nodes, 5u);
  const auto a = analyze_with_log(m, kFpoRecommendationLog);
  EXPECT_TRUE(has_log_finding(a, "after", "recommended-end-nodes"));
  EXPECT_FALSE(has_log_finding(a, "tail", "recommended-end-nodes")) << "only the first nodes after the end nodes";
  EXPECT_EQ(a.partition.stage1_nodes, 3u) << "stage1 ends at the two recommended end nodes";
  EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
}

// rf-detr-cpp, DFC 5.3 on hailo10h (docs/decisions/0005-hailo-edge-compile.md):
// https://github.com/weftspun/rf-detr-cpp/blob/main/docs/decisions/0005-hailo-edge-compile.md
TEST(ParserLog, ConcatOverBatchFromRfDetrOnHailo10h) {
  LogModel lm({"/encoder/encoder/embeddings/Tile"});
  const auto a = analyze_with_log(
      lm.m, "    UnsupportedConcatLayerError in op /encoder/encoder/embeddings/Tile:\n    Unsupported concat over axis batch\n",
      "hailo10h");
  EXPECT_TRUE(has_log_finding(a, "/encoder/encoder/embeddings/Tile", "unsupported-concat"));
  EXPECT_EQ(a.partition.stage1_nodes, 2u);
  // Its second line is the message, not a new error.
  EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
}

// The ZeroDivisionError has no public trace (research §2): this log is written from the
// user's description (DFC 3.33, ew_mult shape handling). It maps to the ew-mult-broadcast
// suspects; with --allow-suspect they would have gone to the NPU, now they cannot.
TEST(ParserLog, ZeroDivisionErrorEscalatesTheEwMultSuspects) {
  ModelBuilder b;
  auto x = b.input("x", {1, 3, 16, 8});
  auto rope = b.input("rope", {1, 1, 16, 8});
  auto c = b.node("Relu", "/backbone/pre", {x});
  auto m = b.node("Mul", "/backbone/rope/Mul", {c, rope});
  b.output(b.node("Relu", "/backbone/post", {m}));
  const auto model = b.build();
  AnalyzeOptions o;
  o.allow_suspect = true;
  const auto before = analyze_proto(model, "no-log", o);
  ASSERT_EQ(count_verdicts(before.verdicts).suspect, 1);
  ASSERT_EQ(before.partition.stage1_nodes, 3u);
  const std::string log =
      "Traceback (most recent call last):\n"
      "  File \"/venv/lib/python3.10/site-packages/hailo_sdk_common/hailo_nn/hn_layers/ew_mult.py\", line 88, in _calc_output_shape\n"
      "    ratio = features // other_features\n"
      "ZeroDivisionError: integer division or modulo by zero\n";
  const auto a = analyze_with_log(model, log, "hailo8", true);
  EXPECT_TRUE(has_log_finding(a, "/backbone/rope/Mul", "zero-division"));
  EXPECT_EQ(a.partition.stage1_nodes, 1u);
  EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
}

// A crash site named only in a traceback frame (PetalWild, DFC 5.4): the rotate_half Neg.
TEST(ParserLog, NegFeatureShuffleCrashMapsToTheRotateHalfNeg) {
  auto r = make_repro(load_rules_all_versions("hailo10h"), "neg-concat-rotate-half");
  ASSERT_TRUE(r);
  const std::string log =
      "  File \"/venv/lib/python3.10/site-packages/hailo_sdk_client/model_translator/fuser/fuser.py\", line 1, in _handle_neg_feature_shuffle\n"
      "IndexError: list assignment index out of range\n";
  const auto a = analyze_with_log(r->failing, log, "hailo10h");
  EXPECT_TRUE(has_log_finding(a, "n", "neg-feature-shuffle"));
  // The IndexError line itself is the exception the frame explains, but nothing names it: it
  // is reported rather than guessed.
  ASSERT_EQ(a.parser_log.unknown.size(), 1u);
  EXPECT_NE(a.parser_log.unknown[0].second.find("IndexError"), std::string::npos);
}

// Every error class of research §2 whose line names a node: one line each on a chain of Relus
// named as in the line, so each finding comes from the log alone and moves the cut to before
// that node. Lines marked (research) are the research notes' quoted fragments completed with
// the parser's "<ErrorClass> in op <node>: <message>" format; the others are verbatim quotes.
TEST(ParserLog, EveryNodeNamingErrorClassMovesTheCut) {
  struct Case {
    std::string sig, node, line;
  };
  const std::vector<Case> cases = {
      {"unsupported-operation", "/model.23/Mod", "UnsupportedOperationError in op /model.23/Mod: Mod operation is unsupported"},  // Y26
      {"unsupported-shuffle", "/model.23/Flatten", "UnsupportedShuffleLayerError in op /model.23/Flatten: Failed to determine type of layer to create in node /model.23/Flatten"},  // Y26
      {"unsupported-gather", "/model.23/Gather_3", "UnsupportedGatherLayerError in op /model.23/Gather_3: Can't find index"},  // Y26
      {"unsupported-reduce-max", "/model.23/ReduceMax", "UnsupportedReduceMaxLayerError in op /model.23/ReduceMax: Failed to create reduce max layer at vertex /model.23/ReduceMax. Reduce max is only supported on the features axis, and with keepdim=True"},  // Y26
      {"unsupported-softmax", "CCT_OCR_1/transformer_block_2_1/multi_head_attention_1_1/softmax_1_1/Softmax", "UnsupportedSoftmaxLayerError in op CCT_OCR_1/transformer_block_2_1/multi_head_attention_1_1/softmax_1_1/Softmax: Unsupported softmax"},  // fast-plate-ocr#44
      {"unsupported-concat", "/encoder/encoder/embeddings/Tile", "UnsupportedConcatLayerError in op /encoder/encoder/embeddings/Tile: Unsupported concat over axis batch"},  // rf-detr-cpp ADR 0005
      {"unsupported-slice", "/blocks.0/attn/Gather", "UnsupportedSliceLayerError in op /blocks.0/attn/Gather: Gather operation on the batch dimension is not supported"},  // (research)
      {"unsupported-reduce-sum", "/mlp/ReduceSum", "UnsupportedReduceSumLayerError in op /mlp/ReduceSum: Failed to create reduce sum layer"},  // (research)
      {"unsupported-activation", "/mlp/act/Erf", "UnsupportedActivationLayerError in op /mlp/act/Erf: Unexpected activation at /mlp/act/Erf, op=Erf"},  // (research)
      {"unsupported-lstm", "/rnn/LSTM", "UnsupportedLSTMLayerError in op /rnn/LSTM: activation types ['Sigmoid', 'Tanh', 'Tanh'] are not supported"},  // (research)
      {"ew-mult-inputs", "/blocks/blocks.0/attn/Mul", "UnsupportedModelError: ew mult layer ew_mult1 (translated from /blocks/blocks.0/attn/Mul) expects 2 inputs but found 1"},  // research (HF ViT-L)
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sig);
    LogModel lm({"/pre/Relu", c.node, "/post/Relu"});
    const auto a = analyze_with_log(lm.m, c.line + "\n");
    EXPECT_TRUE(has_log_finding(a, c.node, c.sig)) << parser_log_report(a.parser_log);
    EXPECT_EQ(a.parser_log.findings_added, 1);
    EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
    EXPECT_EQ(a.partition.stage1_nodes, 3u) << "stage1 ends before " << c.node;
  }
}

// Crash sites that name no node map to the nodes of the rule they belong to (research §2).
// Where that rule is a suspect, the cut moves (with --allow-suspect the nodes were on the NPU);
// where it is already an error, the log confirms it.
TEST(ParserLog, CrashSitesMapToTheirRulesNodes) {
  {  // hailo8: Unsqueeze -> Tile -> Reshape is a suspect (COMM 3.28)
    auto r = make_repro(load_rules_all_versions("hailo8"), "tile-gqa-repeat");
    ASSERT_TRUE(r);
    AnalyzeOptions o;
    o.allow_suspect = true;
    const auto before = analyze_proto(r->failing, "no-log", o);
    const auto a = analyze_with_log(r->failing,
                                    "  File \"/venv/lib/python3.10/site-packages/hailo_sdk_client/model_translator/onnx_translator/onnx_graph.py\", line 1, in is_null_transpose_near_torch_tile\n",
                                    "hailo8", true);
    EXPECT_TRUE(has_log_finding(a, "n", "tile-gqa"));
    EXPECT_EQ(count_verdicts(a.verdicts).rejected, count_verdicts(before.verdicts).rejected + 1) << "suspect -> rejected";
    EXPECT_FALSE(verdict(a, "n")->suspect_only);
  }
  {  // hailo10h at 5.3: Neg -> Concat is a suspect there; the 5.4 crash site confirms it
    auto r = make_repro(load_rules_all_versions("hailo10h"), "neg-concat-rotate-half-pre54");
    ASSERT_TRUE(r);
    const fs::path p = fs::path(NPUSPLIT_BINARY_DIR) / "test_tmp" / "parser_log_neg_pre54.log";
    write_file_atomic(p, "  File \"fuser.py\", line 1, in _handle_neg_feature_shuffle\n");
    AnalyzeOptions o;
    o.target = "hailo10h";
    o.dfc = "5.3";
    o.allow_suspect = true;
    const auto before = analyze_proto(r->failing, "no-log", o);
    o.parser_log = p.string();
    const auto a = analyze_proto(r->failing, "log", o);
    EXPECT_TRUE(has_log_finding(a, "n", "neg-feature-shuffle")) << parser_log_report(a.parser_log);
    EXPECT_LT(a.partition.stage1_nodes, before.partition.stage1_nodes);
  }
  {  // the Conv whose kernel is a graph input: already an error, the log confirms it
    auto r = make_repro(load_rules_all_versions("hailo8"), "conv-const-weights");
    ASSERT_TRUE(r);
    const auto a = analyze_with_log(r->failing, "  File \"x.py\", line 1, in get_dynamic_kernel_shape\n");
    EXPECT_TRUE(has_log_finding(a, "n", "dynamic-kernel"));
  }
}

TEST(ParserLog, UnknownTextIsReportedNotGuessed) {
  LogModel lm({"head"});
  const auto a = analyze_with_log(lm.m,
                                  // The research's form of UnexpectedNodeError names no node in a
                                  // known place: reported, not mapped.
                                  "UnexpectedNodeError: Expand (...)\n"
                                  "SomeNewError in something: the parser changed\n"
                                  "UnsupportedOperationError in op not_a_node_here: TopK operation is unsupported\n"
                                  "[info] all fine\n");
  EXPECT_EQ(a.parser_log.findings_added, 0);
  ASSERT_EQ(a.parser_log.unknown.size(), 2u);
  EXPECT_EQ(a.parser_log.unknown[0].first, 1);
  EXPECT_EQ(a.parser_log.unknown[1].first, 2);
  ASSERT_EQ(a.parser_log.hits.size(), 1u);
  EXPECT_EQ(a.parser_log.hits[0].missing_nodes, std::vector<std::string>{"not_a_node_here"});
  EXPECT_EQ(a.partition.stage1_nodes, a.verdicts.size());
  const auto report = parser_log_report(a.parser_log);
  EXPECT_NE(report.find("not recognised"), std::string::npos) << report;
  EXPECT_NE(report.find("not a node of this model"), std::string::npos) << report;
}

// The signatures that name no node (nodes_from: none) are recognised and reported, never mapped
// and never "unknown": one line each, in the forms of research/hailo_ops.md §2 (the error-string
// table; sources there). Every such signature of both files has its line here.
TEST(ParserLog, ReportedSignaturesAreRecognisedNotMapped) {
  const std::map<std::string, std::string> lines = {
      {"errors-header", "Parsing failed. The errors found in the graph are:"},
      {"neg-feature-shuffle", "  File \"fuser.py\", line 1, in _handle_neg_feature_shuffle"},
      {"split-output-ambiguous", "UnsupportedModelError: successor name is missing, output shape is ambiguous"},
      {"axes-to-nhwc", "  File \"edge_nn_translator.py\", line 1, in _convert_axes_to_nhwc"},
      {"stop-iteration-reshape", "  File \"onnx_graph.py\", line 1, in _is_spatial_flatten_with_features_to_heads_reshape"},
      {"rank1-input", "  File \"hailo_nn.py\", line 1, in get_input_layer_shapes"},
      {"invalid-hn-end-node", "InvalidHNError: node name /model.23/Reshape in end_node_names is missing in the HN"},
      {"misspelled-node", "MisspellNodeError: /model.23/conv is not a node"},
      {"not-in-list", "ValueError: 'onnx::Sub_640' is not in list"},
      {"large-model", "[warning] Large model detected. The graph may contain either a large number of operators"},
      {"splitter-one-output", "AllocatorError: feature_splitter one output isn't supported"},
  };
  for (const auto& t : targets()) {
    for (const auto& sig : load_rules(t).parser_log) {
      if (sig.nodes_from != "none") continue;
      SCOPED_TRACE(t + " " + sig.id);
      auto it = lines.find(sig.id);
      ASSERT_NE(it, lines.end()) << "a reported-only signature without a test line";
      LogModel lm({"head"});
      const auto a = analyze_with_log(lm.m, it->second + "\n", t);
      bool hit = false;
      for (const auto& h : a.parser_log.hits) hit |= h.signature == sig.id;
      EXPECT_TRUE(hit) << parser_log_report(a.parser_log);
      EXPECT_EQ(a.parser_log.findings_added, 0);
      EXPECT_TRUE(a.parser_log.unknown.empty()) << parser_log_report(a.parser_log);
      EXPECT_EQ(a.partition.stage1_nodes, a.verdicts.size()) << "a reported line does not move the cut";
    }
  }
}

TEST(ParserLog, MissingLogFileIsAnError) {
  LogModel lm({"head"});
  AnalyzeOptions o;
  o.parser_log = "/nonexistent/parser.log";
  EXPECT_THROW(analyze_proto(lm.m, "x", o), Error);
}

// Every signature's regex compiles and matches its own documented example class name, and the
// two files agree on the ids (one vocabulary of log classes).
TEST(ParserLog, SignaturesAreValidAndShared) {
  std::set<std::string> ids8, ids10;
  for (const auto& s : load_rules("hailo8").parser_log) {
    EXPECT_NO_THROW(std::regex(s.match)) << s.id;
    EXPECT_FALSE(s.reason.empty() || s.source.empty()) << s.id;
    ids8.insert(s.id);
  }
  for (const auto& s : load_rules("hailo10h").parser_log) ids10.insert(s.id);
  EXPECT_EQ(ids8, ids10);
  EXPECT_GE(ids8.size(), 25u);
}

}  // namespace
}  // namespace npusplit
