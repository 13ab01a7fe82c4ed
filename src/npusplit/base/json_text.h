#pragma once
// The one way npusplit turns a JSON document into text (stdout or a file): two-space indent,
// a trailing newline, and names from the model that are not valid UTF-8 escaped as \xNN
// (JSON must be UTF-8; a hostile node name must not abort `--json`).
#include <nlohmann/json.hpp>

#include <string>

namespace npusplit {

std::string dump_json(const nlohmann::json& j);

}  // namespace npusplit
