#pragma once
// A structure-aware mutator for ONNX models: byte-level mutation of a protobuf mostly yields
// files that fail to parse, which tests one line of npusplit. This one parses the input,
// changes one thing a hostile or broken exporter could write (a dim, a data type, raw data
// length, an external-data field, a node's op or inputs, an attribute, the opset), and
// serializes it again; a quarter of the time, or when the input does not parse, it falls back
// to libFuzzer's byte mutations.
#include <cstddef>
#include <cstdint>

namespace npusplit::fuzz {

size_t mutate_model(uint8_t* data, size_t size, size_t max_size, unsigned int seed);

}  // namespace npusplit::fuzz
