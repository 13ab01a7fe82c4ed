#include "opset_fixture.h"

#include <cstring>
#include <map>

#include "npusplit/io/model_io.h"
#include "npusplit/split/opset_convert.h"

namespace npusplit::test {

namespace fs = std::filesystem;

namespace {

// The converter's Constant nodes (no name) -> initializers named after their reader, with the
// values as raw_data (the form onnx 1.20/1.21 misread when converting back down).
void constants_to_initializers(onnx::GraphProto& g) {
  std::map<std::string, std::string> reader;
  for (const auto& n : g.node())
    for (const auto& i : n.input()) reader.emplace(i, n.name());
  onnx::GraphProto kept;
  int k = 0;
  for (auto& n : *g.mutable_node()) {
    if (n.op_type() != "Constant" || !n.name().empty() || n.attribute_size() != 1 || !n.attribute(0).has_t()) {
      *kept.add_node() = std::move(n);
      continue;
    }
    onnx::TensorProto t = n.attribute(0).t();
    const std::string old_name = n.output(0);
    const std::string name = reader[old_name] + "/axes_" + std::to_string(k++);
    t.set_name(name);
    if (t.data_type() == onnx::TensorProto::INT64 && t.int64_data_size()) {
      std::string raw(t.int64_data_size() * sizeof(int64_t), '\0');
      std::memcpy(raw.data(), t.int64_data().data(), raw.size());
      t.clear_int64_data();
      t.set_raw_data(raw);
    }
    *g.add_initializer() = std::move(t);
    for (auto& m : *g.mutable_node())
      for (auto& i : *m.mutable_input())
        if (i == old_name) i = name;
    for (auto& m : *kept.mutable_node())
      for (auto& i : *m.mutable_input())
        if (i == old_name) i = name;
  }
  g.clear_node();
  for (auto& n : *kept.mutable_node()) *g.add_node() = std::move(n);
}

}  // namespace

fs::path opset_copy_path(const fs::path& binary_dir, const std::string& model_file, int opset) {
  return binary_dir / "models" / "opset" / (fs::path(model_file).stem().string() + "_opset" + std::to_string(opset) + ".onnx");
}

void make_opset_copy(const fs::path& source, int opset, const fs::path& dest) {
  std::error_code ec;
  if (fs::exists(dest, ec) && fs::last_write_time(dest, ec) >= fs::last_write_time(source, ec)) return;
  auto m = convert_opset(load_model(source), opset, source.string());
  constants_to_initializers(*m.mutable_graph());
  m.mutable_graph()->clear_value_info();  // as exported: shapes are npusplit's job
  m.set_ir_version(opset <= 18 ? 8 : opset <= 20 ? 9 : 10);  // what an exporter pairs with it
  check_model(m, dest.string());
  fs::create_directories(dest.parent_path());
  save_model(m, dest);
}

}  // namespace npusplit::test
