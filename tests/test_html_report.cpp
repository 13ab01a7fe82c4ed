// The HTML report (check/split --html): escaping of hostile names, the frontier plot, and the
// page itself in a real headless browser (Debian's chromium): no console errors, one drawn
// element per node or module, a screenshot that is not blank.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "npusplit/app/analyze.h"
#include "npusplit/ir/builder.h"
#include "npusplit/report/graph_layout.h"
#include "npusplit/report/html_report.h"
#include "test_support.h"

namespace npusplit {
namespace {

namespace fs = std::filesystem;

const char* kHostile = "/enc/<script>document.title='PWNED';window.__pwned=1</script>/Relu";

Analysis small_analysis() {
  ModelBuilder b;
  auto x = b.input("images", {1, 3, 16, 16});
  auto w = b.random_weight("w", {8, 3, 3, 3});
  auto c = b.node("Conv", "/enc/stem/Conv", {x, w}, {Attr::of("pads", std::vector<int64_t>{1, 1, 1, 1})});
  auto r = b.node("Relu", kHostile, {c});
  auto g = b.random_weight("grid", {1, 16, 16, 2}, 1.0f);
  auto s = b.node("GridSample", "/dec/sample/GridSample", {r, g});
  auto m = b.node("Mul", "/dec/Mul", {s, s});
  b.output(m);
  AnalyzeOptions o;
  return analyze_proto(b.build(), "small.onnx", o);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::set<std::string> ids(const std::string& dom, const std::string& prefix) {
  std::set<std::string> out;
  const std::regex re("id=\"(" + prefix + "[0-9]+)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

struct Browser {
  std::string dom, log;
  cv::Mat shot;
};

// Loads FILE in headless chromium twice: --dump-dom (JS runs within the virtual time budget)
// and --screenshot.
Browser open_in_chromium(const fs::path& html, const fs::path& dir) {
  const std::string common = "chromium --headless --disable-gpu --no-sandbox --no-first-run --disable-extensions "
                             "--user-data-dir='" + (dir / "profile").string() + "' --virtual-time-budget=5000 ";
  const fs::path dom = dir / "dom.html", log = dir / "chromium.log", png = dir / "shot.png";
  const std::string url = "file://" + fs::absolute(html).string();
  EXPECT_EQ(std::system((common + "--enable-logging=stderr --v=0 --dump-dom '" + url + "' >'" + dom.string() + "' 2>'" +
                         log.string() + "'").c_str()), 0);
  EXPECT_EQ(std::system((common + "--window-size=1280,900 --screenshot='" + png.string() + "' '" + url + "' >/dev/null 2>&1")
                            .c_str()), 0);
  return {slurp(dom), slurp(log), cv::imread(png.string(), cv::IMREAD_COLOR)};
}

void expect_page_ok(const Browser& b, int nodes, int modules) {
  ASSERT_FALSE(b.dom.empty()) << b.log;
  EXPECT_NE(b.dom.find("id=\"selftest\""), std::string::npos);
  EXPECT_NE(b.dom.find("data-state=\"ready\""), std::string::npos) << "the page script did not finish";
  EXPECT_NE(b.dom.find("data-errors=\"0\""), std::string::npos) << "page errors:\n" << b.log;
  // chromium's own console lines (uncaught exceptions, CSP violations) must not appear.
  EXPECT_EQ(b.log.find("Uncaught"), std::string::npos) << b.log;
  EXPECT_EQ(b.log.find("Content Security Policy"), std::string::npos) << b.log;
  // One drawn element per node (in the drawing of its module) and per module (in its parent's).
  EXPECT_EQ(int(ids(b.dom, "n").size()), nodes);
  EXPECT_EQ(int(ids(b.dom, "s").size()), modules);
  ASSERT_FALSE(b.shot.empty());
  cv::Scalar mean, sd;
  cv::meanStdDev(b.shot, mean, sd);
  EXPECT_GT(sd[0] + sd[1] + sd[2], 30.0) << "the screenshot is (nearly) blank";
}

TEST(HtmlReport, EscapesHostileNames) {
  if (!graphviz_available()) GTEST_SKIP() << "built without Graphviz";
  const auto a = small_analysis();
  const std::string html = check_html(a);
  EXPECT_EQ(html.find("<script>document.title"), std::string::npos);
  EXPECT_EQ(html.find("</script>/Relu"), std::string::npos);
  EXPECT_NE(html.find("\\u003cscript\\u003edocument.title"), std::string::npos) << "the name is in the data, escaped";
  EXPECT_EQ(dot_label_text("a\\nb&lt;<c>\"", 40), "a/nb+lt;(c)'");
}

TEST(HtmlReport, ModulesOfScopedNames) {
  GraphSketch g;
  for (const char* n : {"/model/backbone/a/Conv", "/model/backbone/a/Relu", "/model/backbone/b/Conv", "/model/decoder/Add", "Top"})
    g.nodes.push_back({n, "Relu", {}, {}});
  // The root holds "Top" itself, so /model is a module of its own (not merged into the root).
  const auto f = html_layout_figures(g);
  EXPECT_EQ(f.nodes, 5);
  EXPECT_EQ(f.modules, 5);  // model, model/backbone, backbone/a, backbone/b, model/decoder
  GraphSketch flat;
  for (int i = 0; i < 400; ++i) flat.nodes.push_back({"n" + std::to_string(i), "Relu", {}, {}});
  EXPECT_EQ(html_layout_figures(flat).modules, 4) << "400 unscoped nodes are drawn in 4 parts of 100";
}

TEST(HtmlReport, FrontierPlot) {
  EXPECT_NE(frontier_svg(Frontier{}).find("No --platform given"), std::string::npos);
  Frontier f;
  f.platform = "rpi5-hailo8l";
  f.objective = "fps";
  for (int i = 0; i < 4; ++i) {
    CutCandidate c;
    c.label = i == 2 ? "<b>scope</b>" : "cut " + std::to_string(i);
    c.stage1_flops = 100 - 10 * i;
    c.total_flops = 100;
    c.crossing_bytes_wire = (4 - i) * 1024 * 1024;
    c.estimate.fps = 20 + 5 * i;
    c.estimate.latency_ms = 1000.0 / c.estimate.fps;
    f.candidates.push_back(c);
  }
  f.chosen = 2;
  f.baseline = 0;
  const std::string s = frontier_svg(f);
  int circles = 0;
  for (size_t at = 0; (at = s.find("<g class=\"cand", at)) != std::string::npos; ++at) ++circles;
  EXPECT_EQ(circles, 4);
  EXPECT_NE(s.find("class=\"cand chosen\""), std::string::npos);
  EXPECT_NE(s.find("chosen: 30.0 fps"), std::string::npos);
  EXPECT_NE(s.find("today's cut: 20.0 fps"), std::string::npos);
  EXPECT_EQ(s.find("<b>scope"), std::string::npos);
  EXPECT_NE(s.find("&lt;b&gt;scope"), std::string::npos);
}

// check --platform P --html: the same frontier plot as split's; without a platform, a note.
TEST(HtmlReport, CheckDrawsTheFrontierWhenGivenOne) {
  if (!graphviz_available()) GTEST_SKIP() << "built without Graphviz";
  const auto a = small_analysis();
  EXPECT_EQ(check_html(a).find("<svg id=\"frontier\""), std::string::npos);
  EXPECT_NE(check_html(a).find("No --platform given: check --platform P"), std::string::npos);
  Frontier f;
  f.platform = "rpi5-hailo8l";
  f.objective = "fps";
  for (int i = 0; i < 3; ++i) {
    CutCandidate c;
    c.label = "cut " + std::to_string(i);
    c.stage1_flops = 100 - 10 * i;
    c.total_flops = 100;
    c.crossing_bytes_wire = (4 - i) * 1024;
    c.estimate.fps = 20 + 5 * i;
    c.estimate.latency_ms = 1000.0 / c.estimate.fps;
    f.candidates.push_back(c);
  }
  f.chosen = 0;
  f.baseline = 0;
  const std::string html = check_html(a, &f);
  EXPECT_NE(html.find("<svg id=\"frontier\""), std::string::npos);
  EXPECT_NE(html.find("platform rpi5-hailo8l, objective fps"), std::string::npos);
  EXPECT_EQ(html.find("No --platform given"), std::string::npos);
}

TEST(HtmlReport, SmallModelInChromium) {
  if (!graphviz_available()) GTEST_SKIP() << "built without Graphviz";
  if (!have_chromium()) GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const auto dir = test::temp_dir("html_small");
  const auto a = small_analysis();
  write_html_report(dir / "small.html", check_html(a));
  const auto b = open_in_chromium(dir / "small.html", dir);
  const auto fig = html_layout_figures(sketch_graph(a.model.graph()));
  expect_page_ok(b, a.model.graph().node_count(), fig.modules);
  // The hostile name ran nothing: the title is the report's.
  EXPECT_EQ(b.dom.find("PWNED</title>"), std::string::npos);
  EXPECT_NE(b.dom.find("<title>npusplit check: small.onnx</title>"), std::string::npos);
}

TEST(HtmlReport, SharedModelCheckAndSplitInChromium) {
  if (!graphviz_available()) GTEST_SKIP() << "built without Graphviz";
  if (!have_chromium()) GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  NPUSPLIT_REQUIRE_MODEL(model, "deimv2_atto.onnx");
  const auto dir = test::temp_dir("html_atto");
  const auto r = test::run_cli("split '" + model.string() + "' -o '" + dir.string() + "' --html '" +
                                   (dir / "split.html").string() + "'",
                               "html_split");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  AnalyzeOptions o;
  o.keep_original = false;
  const auto a = analyze(model, o);
  // check --platform draws the frontier too (native: the host's own times, nothing assumed).
  const auto c = test::run_cli("check '" + model.string() + "' --platform native --html '" + (dir / "check.html").string() + "'",
                               "html_check");
  ASSERT_LE(c.exit_code, 1) << c.err;
  EXPECT_NE(slurp(dir / "check.html").find("<svg id=\"frontier\""), std::string::npos) << "check --platform --html plots the frontier";
  const auto fig = html_layout_figures(sketch_graph(a.model.graph()));
  EXPECT_GT(fig.modules, 5) << "DEIMv2 names are scoped: the page has modules";
  const auto b = open_in_chromium(dir / "check.html", dir);
  expect_page_ok(b, a.model.graph().node_count(), fig.modules);
  const std::string split_page = slurp(dir / "split.html");
  EXPECT_NE(split_page.find("No --platform given"), std::string::npos);
  EXPECT_NE(split_page.find("<h2>Verify</h2>"), std::string::npos);
  EXPECT_NE(split_page.find("class=\"edge cross\""), std::string::npos) << "the crossing tensors are drawn";
}

// --html names what is wrong in one line: without Graphviz, that it was built without it (before
// any work); with it, the missing model, and no page is written.
TEST(HtmlReport, CliSaysWhenBuiltWithoutGraphvizOrTheModelIsMissing) {
  const auto d = test::temp_dir("html_nogv");
  const auto page = d / "out.html";
  const auto r = test::run_cli("check '" + (d / "x.onnx").string() + "' --html '" + page.string() + "'", "html_nogv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  if (graphviz_available()) {
    EXPECT_NE(r.err.find("x.onnx"), std::string::npos) << r.err;
  } else {
    EXPECT_NE(r.err.find("without Graphviz"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(page));
}

}  // namespace
}  // namespace npusplit
