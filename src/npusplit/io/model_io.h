#pragma once
// Loading and saving ONNX files, with the checks that turn bad input into one-line errors.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <optional>
#include <string>

#include "npusplit/io/atomic_output.h"

namespace npusplit {

// The newest ONNX IR version and default-domain opset this build can check and infer shapes
// for (opsets 7-24 with onnx >= 1.22).
int max_supported_ir_version();
int max_supported_opset();

// Loads MODEL, pulls external data into the proto, and validates what npusplit relies on.
// Throws npusplit::Error with one line for: missing/empty/unparsable file, missing external
// data, IR or opset newer than supported, no graph.
// Every model npusplit reads goes through here (io/validate.h says what is checked), so
// nothing downstream sees an unvalidated model. External data is read only from regular
// files inside the model's folder.
onnx::ModelProto load_model(const std::filesystem::path& path);
// The same for a model in memory; MODEL_DIR is where its external data may live (none: a
// model with external data is refused).
onnx::ModelProto parse_model_bytes(const std::string& bytes, const std::string& what,
                                   const std::optional<std::filesystem::path>& model_dir = std::nullopt);
int64_t default_opset(const onnx::ModelProto& m);

// Reads a regular file (a FIFO, device or folder is an error, never a hang).
std::string read_file(const std::filesystem::path& path);

// Runs the ONNX checker; throws npusplit::Error with the checker's message.
void check_model(const onnx::ModelProto& m, const std::string& what);

}  // namespace npusplit
