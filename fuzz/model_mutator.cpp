#include "model_mutator.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace npusplit::fuzz {

namespace {

using Rng = std::mt19937_64;

const std::vector<int64_t> kInterestingInts = {
    -1, 0, 1, 2, 3, 4, 7, 64, 255, 256, 65535, 65536, (int64_t{1} << 31) - 1, int64_t{1} << 31,
    int64_t{1} << 32, int64_t{1} << 40, int64_t{1} << 62, std::numeric_limits<int64_t>::max(),
    std::numeric_limits<int64_t>::min(), -2, -(int64_t{1} << 31)};

const std::vector<std::string> kOps = {
    "Resize", "Scan", "Loop", "If", "Reshape", "Slice", "Gather", "GatherElements", "Concat", "TopK",
    "GridSample", "Conv", "ConvTranspose", "MatMul", "Gemm", "Split", "Pad", "Expand", "Tile",
    "ConstantOfShape", "Range", "Shape", "Size", "Unsqueeze", "Squeeze", "ReduceMax", "ReduceMean", "Cast",
    "Transpose", "Einsum", "NonZero", "Where", "Mul", "Add", "Softmax", "LayerNormalization", "Flatten",
    "Constant", "Identity", "Sigmoid", "MaxPool", "AveragePool", "Upsample", "Mod", "ArgMax", "OneHot",
    "ScatterND", "CumSum", "Trilu", "DepthToSpace", "SpaceToDepth", "Col2Im", "STFT", "Unique"};

const std::vector<std::string> kAttrNames = {
    "axis", "axes", "perm", "keepdims", "k", "to", "mode", "num_scan_inputs", "split", "pads", "kernel_shape",
    "strides", "group", "dilations", "value", "starts", "ends", "blocksize", "largest", "sorted",
    "coordinate_transformation_mode", "align_corners", "padding_mode", "equation", "then_branch", "body",
    "num_outputs", "allowzero", "batch_dims", "exclusive", "reverse", "upper", "transA", "transB"};

const std::vector<std::string> kLocations = {
    "weights.bin", "../weights.bin", "/etc/passwd", ".", "", "weights.bin/x", "sub/../weights.bin",
    "./weights.bin", "..", "/dev/zero", "/proc/self/mem", "weights.bin\0x"};

const std::vector<std::string> kNumbers = {
    "0", "-1", "16", "4096", "4097", "abc", "", "9223372036854775807", "99999999999999999999", " 1", "1e3",
    "+5", "0x10", "18446744073709551615"};

template <typename T>
const T& pick(Rng& r, const std::vector<T>& v) {
  return v[r() % v.size()];
}

int64_t interesting(Rng& r) { return r() % 3 ? pick(r, kInterestingInts) : static_cast<int64_t>(r() % 1024); }

onnx::TensorShapeProto* shape_of(onnx::ValueInfoProto& v) {
  return v.mutable_type()->mutable_tensor_type()->mutable_shape();
}

// Every value_info-like entry of the graph, to pick one from.
std::vector<onnx::ValueInfoProto*> value_infos(onnx::GraphProto& g) {
  std::vector<onnx::ValueInfoProto*> v;
  for (auto& x : *g.mutable_input()) v.push_back(&x);
  for (auto& x : *g.mutable_output()) v.push_back(&x);
  for (auto& x : *g.mutable_value_info()) v.push_back(&x);
  return v;
}

std::vector<std::string> tensor_names(const onnx::GraphProto& g) {
  std::vector<std::string> n;
  for (const auto& x : g.input()) n.push_back(x.name());
  for (const auto& x : g.initializer()) n.push_back(x.name());
  for (const auto& node : g.node())
    for (const auto& o : node.output()) n.push_back(o);
  if (n.empty()) n.push_back("x");
  return n;
}

void mutate_dim(onnx::GraphProto& g, Rng& r) {
  auto vis = value_infos(g);
  if (!vis.empty() && r() % 2) {
    auto* s = shape_of(*vis[r() % vis.size()]);
    if (s->dim_size() == 0 || r() % 5 == 0) {
      s->add_dim()->set_dim_value(interesting(r));
    } else {
      auto* d = s->mutable_dim(static_cast<int>(r() % s->dim_size()));
      if (r() % 6 == 0) d->set_dim_param("N");
      else d->set_dim_value(interesting(r));
    }
    return;
  }
  if (g.initializer_size() == 0) return;
  auto* t = g.mutable_initializer(static_cast<int>(r() % g.initializer_size()));
  if (t->dims_size() == 0 || r() % 5 == 0) t->add_dims(interesting(r));
  else t->set_dims(static_cast<int>(r() % t->dims_size()), interesting(r));
}

void mutate_tensor_data(onnx::TensorProto& t, Rng& r) {
  switch (r() % 5) {
    case 0: t.set_data_type(static_cast<int32_t>(r() % 27)); break;
    case 1: if (!t.raw_data().empty()) t.mutable_raw_data()->resize(r() % (t.raw_data().size() + 8)); break;
    case 2: t.clear_raw_data(); for (int i = 0, n = int(r() % 5); i < n; ++i) t.add_float_data(1.5f); break;
    case 3: t.mutable_raw_data()->append(std::string(r() % 64, '\x7f')); break;
    default: {
      t.clear_raw_data();
      t.set_data_location(onnx::TensorProto::EXTERNAL);
      t.clear_external_data();
      auto* loc = t.add_external_data();
      loc->set_key("location");
      const std::string& l = pick(r, kLocations);
      loc->set_value(l == "weights.bin\0x" ? std::string("weights.bin\0x", 13) : l);
      for (const char* k : {"offset", "length"})
        if (r() % 2) {
          auto* e = t.add_external_data();
          e->set_key(k);
          e->set_value(pick(r, kNumbers));
        }
    }
  }
}

void mutate_node(onnx::GraphProto& g, Rng& r) {
  if (g.node_size() == 0) return;
  const int i = static_cast<int>(r() % g.node_size());
  auto* n = g.mutable_node(i);
  const auto names = tensor_names(g);
  switch (r() % 8) {
    case 0: n->set_op_type(pick(r, kOps)); break;
    case 1: if (n->input_size()) n->set_input(static_cast<int>(r() % n->input_size()), pick(r, names)); break;
    case 2: n->add_input(r() % 4 ? pick(r, names) : std::string()); break;
    case 3: if (n->input_size()) n->mutable_input()->RemoveLast(); break;
    case 4: n->add_output(r() % 2 ? pick(r, names) : n->name() + "_extra"); break;
    case 5: g.mutable_node()->SwapElements(i, static_cast<int>(r() % g.node_size())); break;
    case 6: g.mutable_node()->DeleteSubrange(i, 1); break;
    default: *g.add_node() = *n; break;
  }
}

void mutate_attribute(onnx::GraphProto& g, Rng& r) {
  if (g.node_size() == 0) return;
  auto* n = g.mutable_node(static_cast<int>(r() % g.node_size()));
  onnx::AttributeProto* a = nullptr;
  if (n->attribute_size() && r() % 3) {
    a = n->mutable_attribute(static_cast<int>(r() % n->attribute_size()));
  } else {
    a = n->add_attribute();
    a->set_name(pick(r, kAttrNames));
  }
  switch (r() % 6) {
    case 0: a->set_type(onnx::AttributeProto::INT); a->set_i(interesting(r)); break;
    case 1:
      a->set_type(onnx::AttributeProto::INTS);
      a->clear_ints();
      for (int k = 0, m = int(r() % 6); k < m; ++k) a->add_ints(interesting(r));
      break;
    case 2: a->set_type(onnx::AttributeProto::FLOAT); a->set_f(r() % 2 ? 1e30f : -0.5f); break;
    case 3: a->set_type(onnx::AttributeProto::STRING); a->set_s(r() % 2 ? "linear" : "nearest"); break;
    case 4: {
      a->set_type(onnx::AttributeProto::TENSOR);
      auto* t = a->mutable_t();
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->clear_dims();
      t->add_dims(interesting(r));
      if (r() % 2) t->add_float_data(0.f);
      break;
    }
    default: {
      a->set_type(onnx::AttributeProto::GRAPH);
      auto* sg = a->mutable_g();
      sg->set_name("sub");
      if (r() % 2) *sg->add_node() = g.node(static_cast<int>(r() % g.node_size()));
      if (g.input_size() && r() % 2) *sg->add_input() = g.input(0);
      if (g.output_size() && r() % 2) *sg->add_output() = g.output(0);
    }
  }
}

void mutate_model_proto(onnx::ModelProto& m, Rng& r) {
  auto& g = *m.mutable_graph();
  switch (r() % 10) {
    case 0: case 1: mutate_dim(g, r); break;
    case 2: case 3:
      if (g.initializer_size()) mutate_tensor_data(*g.mutable_initializer(static_cast<int>(r() % g.initializer_size())), r);
      break;
    case 4: case 5: mutate_node(g, r); break;
    case 6: mutate_attribute(g, r); break;
    case 7:
      if (m.opset_import_size()) m.mutable_opset_import(0)->set_version(static_cast<int64_t>(r() % 30));
      else m.set_ir_version(static_cast<int64_t>(r() % 12));
      break;
    case 8:
      if (r() % 2 && g.output_size()) *g.add_output() = g.output(static_cast<int>(r() % g.output_size()));
      else if (g.output_size()) g.mutable_output()->RemoveLast();
      break;
    default: {
      auto* v = g.add_value_info();
      v->set_name(pick(r, tensor_names(g)));
      v->mutable_type()->mutable_tensor_type()->set_elem_type(static_cast<int32_t>(r() % 17));
      for (int k = 0, n = int(r() % 5); k < n; ++k) shape_of(*v)->add_dim()->set_dim_value(interesting(r));
    }
  }
}

}  // namespace

size_t mutate_model(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  Rng r(seed);
  onnx::ModelProto m;
  if (r() % 4 == 0 || !m.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  for (int k = 0, n = 1 + int(r() % 3); k < n; ++k) mutate_model_proto(m, r);
  std::string out;
  if (!m.SerializeToString(&out) || out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace npusplit::fuzz
