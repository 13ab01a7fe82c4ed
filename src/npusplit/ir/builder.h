#pragma once
// Builds ONNX models in code: used by the tests (small graphs for every rule and pass) and by
// `npusplit demo` (a small DETR-like detector), so neither needs files on disk.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace npusplit {

struct Attr {
  std::string name;
  enum Kind { Int, Float, Ints, Floats, String } kind;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
  static Attr of(std::string n, int64_t v) { return {std::move(n), Int, v, 0, {}, {}, {}}; }
  static Attr of(std::string n, int v) { return of(std::move(n), static_cast<int64_t>(v)); }
  static Attr of(std::string n, float v) { return {std::move(n), Float, 0, v, {}, {}, {}}; }
  static Attr of(std::string n, std::vector<int64_t> v) { return {std::move(n), Ints, 0, 0, std::move(v), {}, {}}; }
  static Attr of(std::string n, std::vector<float> v) { return {std::move(n), Floats, 0, 0, {}, std::move(v), {}}; }
  static Attr of(std::string n, const char* v) { return {std::move(n), String, 0, 0, {}, {}, v}; }
};

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 17, std::string graph_name = "g");

  // Returns the tensor name, so calls chain: b.node("Relu", {b.node("Conv", ...)}).
  std::string input(const std::string& name, std::vector<int64_t> dims, int32_t dtype = 1);
  void output(const std::string& name, std::vector<int64_t> dims = {}, int32_t dtype = 1);
  std::string weight(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& values);
  // Deterministic pseudo-random weights (uniform in [-scale, scale]).
  std::string random_weight(const std::string& name, std::vector<int64_t> dims, float scale = 0.1f, uint32_t seed = 1);
  std::string ints(const std::string& name, const std::vector<int64_t>& values, std::vector<int64_t> dims = {-1});
  std::string scalar(const std::string& name, float v);
  // Adds a node named NAME; outputs default to NAME + "_out" (or _out0.._outN).
  std::vector<std::string> node_n(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                                   int n_outputs, std::vector<Attr> attrs = {});
  std::string node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::vector<Attr> attrs = {});

  onnx::ModelProto build() const { return m_; }
  onnx::ModelProto& model() { return m_; }

 private:
  onnx::ModelProto m_;
};

}  // namespace npusplit
