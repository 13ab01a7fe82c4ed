// The image/video plugin (io/media_codecs.h): check/split never load OpenCV's codecs; run and
// calib find the plugin beside the binary; a missing or broken plugin is one line, exit 2.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "npusplit/app/demo_model.h"
#include "npusplit/detect/preprocess.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/io/media_codecs.h"
#include "npusplit/io/model_io.h"
#include "test_support.h"

namespace npusplit {
namespace {

using namespace npusplit::test;

TEST(MediaPlugin, SearchPathStartsWithTheEnvironmentThenTheBinary) {
  ::setenv("NPUSPLIT_PLUGIN_DIR", "/nowhere/plugins", 1);
  const auto dirs = media_codecs_search_path();
  ::unsetenv("NPUSPLIT_PLUGIN_DIR");
  ASSERT_GE(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], "/nowhere/plugins");
  // The tests binary lives in build/tests: the plugin is found one folder up, beside the CLI.
  EXPECT_EQ(fs::path(media_codecs_location()).filename(), kMediaCodecsFile);
  EXPECT_EQ(fs::path(media_codecs_location()).parent_path(), fs::weakly_canonical(fs::path(NPUSPLIT_CLI).parent_path()));
}

TEST(MediaPlugin, DecodesThroughThePluginAsOpenCvDoes) {
  const auto d = temp_dir("media_plugin_decode");
  const cv::Mat pic = draw_demo_picture(96);
  ASSERT_TRUE(cv::imwrite((d / "pic.png").string(), pic));
  const cv::Mat back = read_image((d / "pic.png").string());
  ASSERT_EQ(back.size(), pic.size());
  EXPECT_EQ(cv::norm(back, pic, cv::NORM_INF), 0.0);
  std::vector<uchar> buf;
  EXPECT_TRUE(media_codecs().encode_image(".png", pic, buf));
  EXPECT_EQ(cv::norm(cv::imdecode(buf, cv::IMREAD_COLOR), pic, cv::NORM_INF), 0.0);
  EXPECT_TRUE(media_codecs().have_image_reader((d / "pic.png").string()));
}

TEST(MediaPlugin, AMissingOrBrokenPluginIsOneLine) {
  const auto d = temp_dir("media_plugin_missing");
  const std::string none = error_of([&] { load_media_codecs({(d / "empty").string()}); });
  EXPECT_NE(std::string(none).find("was not found"), std::string::npos) << none;
  EXPECT_NE(std::string(none).find("NPUSPLIT_PLUGIN_DIR"), std::string::npos) << none;
  std::ofstream(d / kMediaCodecsFile) << "not a shared library";
  const std::string broken = error_of([&] { load_media_codecs({d.string()}); });
  EXPECT_NE(std::string(broken).find("cannot be loaded"), std::string::npos) << broken;
  EXPECT_EQ(broken.find('\n'), std::string::npos);
}

// check and split never load imgcodecs/videoio (the start-up cost the plugin removes).
TEST(MediaPlugin, TheCliDoesNotLinkTheCodecs) {
  auto r = run_cli("--version", "plugin_version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(std::string(r.out).find(std::string("image/video plugin: ") + media_codecs_location()), std::string::npos) << r.out;
  // The CLI's own dependencies: ldd lists what the loader maps at start.
  const fs::path d = temp_dir("media_plugin_ldd");
  const std::string cmd = std::string("ldd '") + NPUSPLIT_CLI + "' > '" + (d / "ldd.txt").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string libs = read_file(d / "ldd.txt");
  EXPECT_EQ(libs.find("libopencv_imgcodecs"), std::string::npos) << libs;
  EXPECT_EQ(libs.find("libopencv_videoio"), std::string::npos);
  EXPECT_EQ(libs.find("libgdal"), std::string::npos);
}

// A CLI without its plugin (a copy elsewhere) says so in one line and exits 2 when it needs a picture.
TEST(MediaPlugin, ACliWithoutItsPluginFailsInOneLine) {
  const auto d = temp_dir("media_plugin_alone");
  fs::copy_file(NPUSPLIT_CLI, d / "npusplit", fs::copy_options::overwrite_existing);
  save_model(build_demo_detector(), d / "det.onnx");
  ASSERT_TRUE(cv::imwrite((d / "pic.png").string(), draw_demo_picture(64)));
  const std::string cmd = "env -u NPUSPLIT_PLUGIN_DIR '" + (d / "npusplit").string() + "' run --model '" +
                          (d / "det.onnx").string() + "' '" + (d / "pic.png").string() + "' -o '" +
                          (d / "out").string() + "' > '" + (d / "out.txt").string() + "' 2> '" +
                          (d / "err.txt").string() + "'";
  const int rc = std::system(cmd.c_str());
  const std::string err = read_file(d / "err.txt");
  EXPECT_EQ(WEXITSTATUS(rc), 2) << err;
  EXPECT_NE(std::string(err).find("image/video plugin"), std::string::npos) << err;
  EXPECT_NE(std::string(err).find("was not found"), std::string::npos) << err;
  for (char c : err.substr(0, err.size() - 1)) EXPECT_NE(c, '\n') << err;
}

}  // namespace
}  // namespace npusplit
