#pragma once
// Stage2 alone, several variants side by side in one run: npusplit's stage2 with and without the
// fused host operators, and a baseline split (e.g. the seed-style cut, decoder fed from the
// encoder's outputs). Each variant's inputs are its own stage1's outputs on the same synthetic
// image; the variants are timed round-robin (frame i of every variant, then frame i+1), so a
// shared, noisy machine slows them alike.
#include <filesystem>
#include <string>
#include <vector>

namespace npusplit {

struct Stage2Variant {
  std::string label;
  std::filesystem::path stage1, stage2;
  bool fused = false;  // load stage2 with StageOptions::fuse_host_ops
};

struct Stage2Timing {
  std::string label;
  int fused_ops = 0;
  double p50_ms = 0, p90_ms = 0, mean_ms = 0;
};

// THREADS: ONNX Runtime intra-op threads (0: one per core), the same for every variant.
std::vector<Stage2Timing> compare_stage2(const std::vector<Stage2Variant>& variants, int threads, int frames,
                                         int warmup);

}  // namespace npusplit
