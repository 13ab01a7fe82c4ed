// Test fixture: the shared models converted to newer opsets, into the build tree.
// usage: make_opset_models BINARY_DIR   (the list: opset_models() in opset_fixture.h; models
// are found like the tests find them: BINARY_DIR/models first, then $NPUSPLIT_SHARED/models)
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "npusplit/error.h"
#include "opset_fixture.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_opset_models BINARY_DIR\n";
    return 2;
  }
  const fs::path bin = argv[1];
  const char* env = std::getenv("NPUSPLIT_SHARED");
  const fs::path shared = env && *env ? fs::path(env) : fs::path(NPUSPLIT_SOURCE_DIR) / ".." / "shared";
  int made = 0;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    for (const auto& [file, opsets] : npusplit::test::opset_models()) {
      fs::path src = bin / "models" / file;
      if (!fs::exists(src)) src = shared / "models" / file;
      if (!fs::exists(src)) {
        std::cout << file << ": not found (shared models absent): skipped\n";
        continue;
      }
      for (int k : opsets) {
        npusplit::test::make_opset_copy(src, k, npusplit::test::opset_copy_path(bin, file, k));
        ++made;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "make_opset_models: error: " << e.what() << "\n";
    return 1;
  }
  std::cout << made << " opset copies ready in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  return 0;
}
