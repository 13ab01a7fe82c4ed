// libFuzzer target: a model file from a stranger, through everything npusplit does with one
// before it writes files: parse -> validate (+ external data from a sandbox folder) -> ONNX
// checker -> shape resolution and folding -> rules -> partition -> stage building -> checker
// of both stages. Anything but a clean return or an npusplit::Error is a finding: a sanitizer
// report, a crash, a hang, or another exception type escaping (the CLI would still print one
// line for those, but npusplit's own code should have said what was wrong).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "model_mutator.h"
#include "npusplit/app/analyze.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/split/splitter.h"

namespace {
// External data may only come from this folder (the fuzzer writes one data file into it).
std::filesystem::path sandbox() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("npusplit-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::string data(4096, '\x3c');
    FILE* f = std::fopen((d / "weights.bin").c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sandbox();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto m = npusplit::parse_model_bytes(bytes, "fuzz.onnx", sandbox());
    npusplit::AnalyzeOptions o;
    o.keep_original = false;
    auto a = npusplit::analyze_proto(std::move(m), "fuzz.onnx", o);
    if (a.partition.stage1_nodes > 0) {
      auto stages = npusplit::build_stages(a.model.proto(), a.model.shapes(), a.partition, npusplit::SplitNames{});
      npusplit::check_model(stages.stage1, "stage1");
      npusplit::check_model(stages.stage2, "stage2");
    }
  } catch (const npusplit::Error&) {
    // the expected outcome for bad input: one clear line
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return npusplit::fuzz::mutate_model(data, size, max_size, seed);
}
