#pragma once
// Parsing a large ONNX file on several threads. Nearly all of a model file is its graph's
// initializers, each a length-delimited TensorProto: one pass over the wire format finds where
// each one is (skipping their bytes), the rest of the model (nodes, inputs, opsets: a few MB)
// is parsed as usual, and the initializers are parsed into their places on THREADS threads,
// each reading its own part of the file with pread. The result is the message a single
// ParseFromCodedStream gives for the same bytes (the initializers keep their order; every other
// field keeps its bytes and their order).
#include <onnx/onnx_pb.h>

#include <cstdint>

namespace npusplit {

// Parses the model in FD (a regular file of SIZE bytes; its offset is not used) into OUT.
// Returns false, with OUT cleared, when the file does not have that layout or this parser is
// not sure of it (no graph field or more than one, fewer than two initializers, a tag or length
// longer than protobuf's parser takes, a truncated or malformed field, an initializer that does
// not parse at its nesting depth, no memory): the caller then parses it in one piece, which
// gives the verdict on a bad file. Tags and lengths are read with the one-piece parser's limits,
// so a file it refuses is never taken here.
bool parse_model_parallel(int fd, int64_t size, onnx::ModelProto& out, int threads);

}  // namespace npusplit
