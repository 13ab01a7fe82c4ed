#pragma once
// Platform profiles (platforms/*.yaml, issue 14) and the frame-time model of one cut on one
// platform. The model is closed-form arithmetic over typed facts: no measuring here (see
// host_time.h), no graph (see candidates.h).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "npusplit/results/frontier.h"

namespace npusplit {

// One number of a profile with where it comes from (as every fact of a rules file).
struct PlatformFact {
  double value = 0;
  std::string evidence, source, note;
};

struct PlatformProfile {
  std::string name, description, chip, host_cpu;
  bool native = false;          // --platform native: measured host time alone (no NPU, no link)
  PlatformFact tops;            // the chip's peak, TOPS
  PlatformFact efficiency;      // sustained / peak, derived from Model Zoo tables
  PlatformFact bandwidth_mb_s;  // effective link payload rate, MB/s (10^6 bytes)
  PlatformFact transfer_overhead_us;  // per tensor and frame
  PlatformFact host_factor;     // host ms on the target = measured here x factor
  double npu_ops_per_s() const { return tops.value * 1e12 * efficiency.value; }
};

// Embedded profile names and "native", sorted.
std::vector<std::string> known_platforms();
// NAME (embedded) or a path to a .yaml file. Unknown name or bad file: one-line npusplit::Error
// naming the known profiles.
PlatformProfile load_platform(const std::string& name_or_file);
PlatformProfile parse_platform(const std::string& yaml_text, const std::string& origin);

// What the frame-time model needs of a cut.
struct CutCost {
  int64_t stage1_flops = 0;
  int64_t wire_bytes = 0;       // crossing tensors at the precision that crosses
  int transfers = 0;            // DMA transfers per frame: stage1 outputs + stage1 inputs
  int64_t input_bytes = 0;      // stage1's inputs over the link (the image as uint8 HxWx3)
  double host_measured_ms = 0;  // stage2 on this machine
};

// npu = flops / (TOPS x efficiency); transfer = (input + wire) / bandwidth + transfers x overhead;
// host = measured x factor; fps = 1000 / max(npu, transfer, host); latency = npu + transfer + host.
// native: npu = transfer = 0, host = measured.
FrameEstimate estimate_frame(const PlatformProfile& p, const CutCost& c);

// Bits per element that cross for TENSOR: from BITS (a quantization plan's a16 choices) or 8.
int wire_bits(const std::map<std::string, int>& bits, const std::string& tensor);

}  // namespace npusplit
