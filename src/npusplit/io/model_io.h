#pragma once
// Loading and saving ONNX files, with the checks that turn bad input into one-line errors.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>

namespace npusplit {

// The newest ONNX IR version and default-domain opset this build can check and infer shapes
// for (opsets 7-24 with onnx >= 1.22).
int max_supported_ir_version();
int max_supported_opset();

// Loads MODEL, pulls external data into the proto, and validates what npusplit relies on.
// Throws npusplit::Error with one line for: missing/empty/unparsable file, missing external
// data, IR or opset newer than supported, no graph.
onnx::ModelProto load_model(const std::filesystem::path& path);
onnx::ModelProto parse_model_bytes(const std::string& bytes, const std::string& what);
int64_t default_opset(const onnx::ModelProto& m);

// Writes to a temporary file beside PATH and renames it into place, so readers never see a
// half-written model. Creates the parent folder.
void save_model(const onnx::ModelProto& m, const std::filesystem::path& path);
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);
std::string read_file(const std::filesystem::path& path);

// Runs the ONNX checker; throws npusplit::Error with the checker's message.
void check_model(const onnx::ModelProto& m, const std::string& what);

}  // namespace npusplit
