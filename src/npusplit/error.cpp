#include "npusplit/error.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/exceptions.h>

#include <filesystem>
#include <new>
#include <regex>

#include "npusplit/base/text.h"

namespace npusplit {

std::string clean_library_message(std::string msg) {
  if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  // ONNX Runtime puts its source location and the C++ signature of the failing function in
  // the text ("/onnxruntime_src/.../conv.cc:44 onnxruntime::Status onnxruntime::Conv::
  // Compute(...) const X num_dims ..."): users need the last part only.
  static const std::regex location(R"((\S*/)?[\w.-]+\.(cc|cpp|h):\d+ )");
  static const std::regex signature(
      R"(\b(\w+ )?onnxruntime::[\w:<>,*&]*( onnxruntime::[\w:<>,*&]*)*\([^()]*\)( const)? )");
  static const std::regex prefix(R"(^\[ONNXRuntimeError\] : \d+ : \w+ : )");
  msg = std::regex_replace(msg, location, "");
  msg = std::regex_replace(msg, signature, "");
  msg = std::regex_replace(msg, prefix, "");
  return msg;
}

std::string describe_exception(const std::exception& e) {
  std::string text;
  if (dynamic_cast<const Error*>(&e)) {
    text = e.what();
  } else if (dynamic_cast<const std::bad_alloc*>(&e) || dynamic_cast<const std::length_error*>(&e)) {
    text = "out of memory: the input declares more data than this machine can hold";
  } else if (const auto* fe = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    text = fmt::format("{}: {}", fe->path1().string(), fe->code().message());
  } else if (dynamic_cast<const nlohmann::json::exception*>(&e)) {
    static const std::regex tag(R"(^\[json\.exception\.[\w.]+\] )");
    text = "JSON: " + std::regex_replace(std::string(e.what()), tag, "");
  } else if (const auto* ye = dynamic_cast<const YAML::Exception*>(&e)) {
    text = fmt::format("YAML (line {}): {}", ye->mark.line + 1, ye->msg);
  } else if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::out_of_range*>(&e)) {
    text = "a number in the input is not valid or out of range";
  } else {
    text = clean_library_message(e.what());
  }
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return printable(text, 2000);
}

}  // namespace npusplit
