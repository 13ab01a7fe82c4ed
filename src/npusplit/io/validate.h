#pragma once
// What a model file must satisfy before anything else (shape inference, ONNX Runtime, the
// rules) reads it. A model file is input from strangers: every size, name and reference in it
// is checked here, in one place, and every violation is one npusplit::Error line naming the
// tensor or node. onnx's own checker runs after these checks (it assumes well-formed sizes).
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace npusplit {

// IR version, opset range and the presence of a graph.
void validate_header(const onnx::ModelProto& m, const std::string& what);

// Names (non-empty, each tensor produced once, every read tensor defined, graph outputs
// produced), declared dims (no negative dims, no zero dims on graph inputs, no tensor above
// kMaxTensorBytes), initializers (known element type, no strings, stored data matching the
// declared shape), and the attribute structure of control-flow nodes. Recurses into subgraphs.
void validate_graph(const onnx::ModelProto& m, const std::string& what);

// Bytes a tensor of DTYPE and NUMEL elements occupies in raw_data; nullopt for element types
// npusplit does not accept (undefined, string, unknown) or on overflow.
std::optional<int64_t> raw_byte_size(int32_t dtype, int64_t numel);

// Resolves an external-data LOCATION against the model's folder. Refused (npusplit::Error):
// empty, absolute, containing "..", resolving (through symlinks) outside MODEL_DIR, missing,
// or not a regular file. Returns the canonical path.
std::filesystem::path resolve_external_location(const std::filesystem::path& model_dir,
                                                const std::string& location, const std::string& tensor,
                                                const std::string& what);

// Replaces the external data of T by its bytes, read from a regular file inside MODEL_DIR;
// offset/length parsed strictly, bounds-checked, the length equal to what the shape needs.
// BUDGET (bytes) is decreased by what was read; exceeding it is an error (the whole model must
// stay below protobuf's 2 GiB).
void inline_external_tensor(onnx::TensorProto& t, const std::filesystem::path& model_dir,
                            const std::string& what, int64_t& budget);

}  // namespace npusplit
