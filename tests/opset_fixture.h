#pragma once
// Opset-18+ copies of the shared models for the acceptance tests, made with onnx's version
// converter into the build tree (build/models/opset/<stem>_opset<N>.onnx). The ctest fixture
// `opset_models` (tests/tools/make_opset_models.cpp) makes them once; a test run without it
// makes the ones it needs on first use.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace npusplit::test {

// Which shared models the acceptance tests take at which newer opsets: every model at least
// once, the HGNetv2 variants at every opset a current exporter writes by default (18-21;
// their official exports at two), the DINOv3 ones (3-10x slower to split and verify) at one
// each, spread over 18-21, to keep a CI run short.
inline const std::vector<std::pair<std::string, std::vector<int>>>& opset_models() {
  static const std::vector<std::pair<std::string, std::vector<int>>> v = {
      {"deimv2_atto.onnx", {18, 19, 20, 21}}, {"deimv2_atto_official.onnx", {19, 21}},
      {"deimv2_femto.onnx", {18, 19, 20, 21}}, {"deimv2_femto_official.onnx", {18, 20}},
      {"deimv2_pico.onnx", {18, 19, 20, 21}}, {"deimv2_pico_official.onnx", {19, 21}},
      {"deimv2_n.onnx", {18, 19, 20, 21}},    {"deimv2_n_official.onnx", {18, 20}},
      {"deimv2_s.onnx", {21}},                {"deimv2_s_official.onnx", {19}},
      {"deimv2_m.onnx", {18}},                {"deimv2_m_official.onnx", {20}},
      {"deimv2_l.onnx", {21}},                {"deimv2_x.onnx", {19}}};
  return v;
}

// SOURCE converted to OPSET at DEST (skipped when DEST is newer than SOURCE). Reduce* axes the
// converter writes as Constant nodes become raw_data initializers, as exporters write them.
void make_opset_copy(const std::filesystem::path& source, int opset, const std::filesystem::path& dest);

std::filesystem::path opset_copy_path(const std::filesystem::path& binary_dir, const std::string& model_file,
                                      int opset);

}  // namespace npusplit::test
