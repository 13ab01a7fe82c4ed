#pragma once
// Graph edits for the 8-bit emulation: which tensors are activations, exposing them as outputs
// (to measure their ranges), and QuantizeLinear/DequantizeLinear pairs inserted after every
// activation and on every Conv/ConvTranspose/Gemm/MatMul weight.
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "npusplit/analysis/ranges.h"
#include "npusplit/quant/quantize.h"
#include "npusplit/results/quant.h"

namespace npusplit {

// Float tensors computed from a graph input (graph inputs first, then node outputs in node
// order): what the NPU holds in its activation format. Weights, constants and whatever is
// computed from constants alone are not activations; nor are int tensors.
std::vector<std::string> activation_tensors(const onnx::ModelProto& m);

// A copy of M whose outputs are its own plus NAMES (float, shapes from M's value_info where known).
onnx::ModelProto expose_tensors(const onnx::ModelProto& m, const std::vector<std::string>& names);

// expose_ranges() and range_output_names(): analysis/ranges.h (check measures merges with them too).

// The activations the NPU stores at its own precision: each activation, except those whose
// only reader is an op the DFC fuses into the layer before it (BatchNormalization, an
// activation function, an elementwise op with a constant: bias, scale), so Conv -> BN -> Relu
// is quantized once, after the Relu. Graph outputs are always kept.
std::vector<std::string> layer_outputs(const onnx::ModelProto& m, const std::vector<std::string>& activations);

struct QdqPlan {
  std::map<std::string, QuantParams> activations;  // tensor -> its (u)int8/16 parameters
  int activation_bits = 8;                          // the Q/DQ element type (8: uint8, 16: uint16)
  bool quantize_weights = true;
  WeightGranularity weights = WeightGranularity::per_channel;
  int weight_bits = 8;
};

struct QdqResult {
  onnx::ModelProto model;
  int activation_pairs = 0;
  int weight_pairs = 0;
  std::vector<std::string> notes;
};

// M with a QuantizeLinear -> DequantizeLinear pair after each tensor in PLAN.activations (its
// consumers and, for graph outputs, the output itself then see the dequantized values) and on
// each Conv/ConvTranspose/Gemm/MatMul weight held in an initializer (Constant nodes are turned
// into initializers first). Needs opset >= 13 (per-axis quantization); 16-bit activations need
// opset 21 (uint16 Q/DQ): a one-line Error otherwise.
QdqResult insert_qdq(const onnx::ModelProto& m, const QdqPlan& plan);

}  // namespace npusplit
