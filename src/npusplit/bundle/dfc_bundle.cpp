#include "npusplit/bundle/dfc_bundle.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "npusplit/calib/calib_set.h"
#include "npusplit/error.h"
#include "npusplit/io/atomic_output.h"
#include "npusplit/version.h"

namespace npusplit {

namespace {

// A Python string literal (repr-like, always single-quoted, escapes what needs it).
std::string py_str(const std::string& s) {
  std::string o = "'";
  for (unsigned char c : s) {
    if (c == '\\' || c == '\'') o += '\\', o += char(c);
    else if (c == '\n') o += "\\n";
    else if (c < 0x20 || c == 0x7f) o += fmt::format("\\x{:02x}", c);
    else o += char(c);
  }
  return o + "'";
}

std::string py_list(const std::vector<std::string>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + py_str(v[i]);
  return o + "]";
}

std::string num(double v) {
  std::string s = fmt::format("{:.6g}", v);
  if (s.find('.') == std::string::npos && s.find('e') == std::string::npos) s += ".0";
  return s;
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

std::pair<std::array<double, 3>, std::array<double, 3>> normalization_on_pixels(const PreprocessOptions& o) {
  std::array<double, 3> mean{}, stdv{};
  for (size_t c = 0; c < 3; ++c) {
    mean[c] = double(o.scale) * (o.mean ? double((*o.mean)[c]) : 0.0);
    stdv[c] = double(o.scale) * (o.std ? double((*o.std)[c]) : 1.0);
  }
  return {mean, stdv};
}

DfcBundle make_dfc_bundle(const BundleInputs& in) {
  if (!in.stage1) fail("internal: bundle without stage1");
  DfcBundle b;
  const auto& g = in.stage1->graph();
  std::unordered_set<std::string> inits, inputs;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  std::vector<std::string> input_names;
  for (const auto& vi : g.input())
    if (!inits.count(vi.name())) inputs.insert(vi.name()), input_names.push_back(vi.name());
  // The same start/end nodes as the manifest's parser command: stage1 nodes reading an input,
  // and the producers of its outputs.
  std::unordered_map<std::string, std::string> producer;
  std::vector<std::string> start;
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) producer[o] = n.name();
    for (const auto& i : n.input())
      if (inputs.count(i) && std::find(start.begin(), start.end(), n.name()) == start.end()) start.push_back(n.name());
  }
  std::vector<std::string> end;
  for (const auto& o : g.output()) {
    const std::string p = producer.count(o.name()) ? producer[o.name()] : "";
    if (!p.empty() && std::find(end.begin(), end.end(), p) == end.end()) end.push_back(p);
  }
  std::string shapes_py = "{";
  for (size_t i = 0; i < input_names.size(); ++i) {
    std::vector<std::string> d;
    for (const auto& vi : g.input())
      if (vi.name() == input_names[i])
        for (const auto& x : vi.type().tensor_type().shape().dim()) d.push_back(std::to_string(x.dim_value()));
    std::string dims;
    for (size_t k = 0; k < d.size(); ++k) dims += (k ? ", " : "") + d[k];
    shapes_py += fmt::format("{}{}: [{}]", i ? ", " : "", py_str(input_names[i]), dims);
  }
  shapes_py += "}";

  const auto [mean, stdv] = normalization_on_pixels(in.preprocess.options);
  const auto& po = in.preprocess.options;
  std::string& a = b.alls;
  a += fmt::format("# Model script for {} ({}), written by npusplit {}.\n", in.stage1_file, in.hw_arch, kVersion);
  a += "# npusplit did not run the Dataflow Compiler: check this file against your DFC version.\n";
  a += "# Syntax as in the Hailo Model Zoo's model scripts (hailo_model_zoo/cfg/alls/generic/*.alls).\n";
  a += fmt::format("#\n# Input: {}x{} uint8 pixels, {} (HailoRT's input stream is NHWC);\n", in.preprocess.width,
                   in.preprocess.height, po.bgr ? "BGR" : "RGB");
  a += fmt::format("# the model takes (pixel / {:g} - mean) / std{}, so the chip normalizes with\n", po.scale,
                   po.mean || po.std ? "" : " with mean 0, std 1");
  a += "# mean = scale * mean, std = scale * std on 0-255 pixels (the calibration set holds 0-255 pixels too).\n";
  a += fmt::format("normalization1 = normalization([{}, {}, {}], [{}, {}, {}])\n", num(mean[0]), num(mean[1]),
                   num(mean[2]), num(stdv[0]), num(stdv[1]), num(stdv[2]));
  a += fmt::format("# {} calibration frame(s) in {}{}\n", in.calib_frames, in.calib_file,
                   in.calib_frames < kDfcCalibrationSize ? fmt::format(" (the DFC asks for {})", kDfcCalibrationSize) : "");
  a += fmt::format("model_optimization_config(calibration, batch_size={}, calibset_size={})\n",
                   std::min<int64_t>(8, std::max<int64_t>(1, in.calib_frames)), std::max<int64_t>(1, in.calib_frames));

  std::string a16_py = "{";
  if (in.quant) {
    a += fmt::format("#\n# 16-bit outputs: crossing tensors whose 8-bit SQNR falls below {:g} dB in npusplit's\n",
                     in.quant->a16_threshold_db);
    a += "# min/max emulation (`npusplit quant`; pessimistic next to the DFC's own optimization).\n";
    a += "# The DFC names its layers itself, so the lines naming them are added by the _dfc.py script\n";
    a += "# after translation (it maps each ONNX end node to its output layer):\n";
    size_t k = 0;
    for (const auto& c : in.quant->crossing) {
      const std::string node = producer.count(c.name) ? producer[c.name] : "";
      const std::string sq8 = std::isfinite(c.sqnr8_db) ? fmt::format("{:.1f} dB", c.sqnr8_db) : "exact";
      const std::string sq16 = std::isfinite(c.sqnr16_db) ? fmt::format("{:.1f} dB", c.sqnr16_db) : "exact";
      a += fmt::format("#   {} (end node {}): range [{:.4g}, {:.4g}], 8-bit SQNR {}, 16-bit {}{}{}\n", c.name, node,
                       c.min, c.max, sq8, sq16, c.a16 ? " -> a16_w16" : "",
                       c.mixed ? fmt::format("; concatenates parts of {:.0f}x different ranges at {}", c.mixed->ratio,
                                             c.mixed->node)
                               : "");
      if (c.a16) {
        b.a16.push_back(c.name);
        a16_py += fmt::format("{}{}: ({}, {})", k++ ? ",\n       " : "", py_str(node), py_str(c.name),
                              std::isfinite(c.sqnr8_db) ? num(c.sqnr8_db) : "None");
      }
    }
    if (b.a16.empty()) a += "#   (none below the threshold)\n";
  } else {
    a += "# (no 16-bit choices: run `npusplit quant` or `split --calib` for them)\n";
  }
  a16_py += "}";

  const std::string net = in.stem + "_stage1";
  const std::string har = net + ".har", qhar = net + "_quantized.har";
  std::string start_args, end_args;
  for (const auto& s : start) start_args.append(" ").append(shell_quote(s));
  for (const auto& e : end) end_args.append(" ").append(shell_quote(e));
  b.commands = {
      fmt::format("hailo parser onnx {} --hw-arch {} --start-node-names{} --end-node-names{} --har-path {}",
                  shell_quote(in.stage1_file), in.hw_arch, start_args, end_args, har),
      fmt::format("hailo optimize {} --hw-arch {} --calib-set-path {} --model-script {} --output-har-path {}", har,
                  in.hw_arch, shell_quote(in.calib_file), shell_quote(in.stem + ".alls"), qhar),
      fmt::format("hailo compiler {} --hw-arch {}", qhar, in.hw_arch)};
  a += "#\n# The CLI path (add the 16-bit lines by hand with the layer names `hailo parser` gave), or run\n";
  a += fmt::format("# python3 {}_dfc.py, which does all of it:\n", in.stem);
  for (const auto& c : b.commands) a += "#   " + c + "\n";

  std::string& p = b.script;
  p += "#!/usr/bin/env python3\n";
  p += fmt::format("\"\"\"Dataflow Compiler flow for {}, written by npusplit {}.\n\n", in.stage1_file, kVersion);
  p += "Translate stage1 (its start and end nodes), load the model script, add 16-bit precision for the\n"
       "outputs npusplit's emulation flagged (naming the layers the translation produced), optimize with\n"
       "the calibration set, compile; the HAR is saved after each step, then the HEF.\n"
       "npusplit did not run this script: it needs Hailo's Dataflow Compiler (hailo_sdk_client).\n\"\"\"\n";
  p += "import os\nimport sys\n\n";
  p += "HERE = os.path.dirname(os.path.abspath(__file__))\n";
  p += fmt::format("ONNX = os.path.join(HERE, {})\n", py_str(in.stage1_file));
  p += fmt::format("NET = {}\n", py_str(net));
  p += fmt::format("HW_ARCH = {}\n", py_str(in.hw_arch));
  p += fmt::format("START_NODES = {}\n", py_list(start));
  p += fmt::format("END_NODES = {}\n", py_list(end));
  p += fmt::format("INPUT_SHAPES = {}\n", shapes_py);
  p += fmt::format("CALIB = os.path.join(HERE, {})\n", py_str(in.calib_file));
  p += fmt::format("ALLS = os.path.join(HERE, {})\n", py_str(in.stem + ".alls"));
  p += "# ONNX end node -> (crossing tensor, its 8-bit SQNR in dB) for the outputs given 16 bits\n";
  p += fmt::format("A16_END_NODES = {}\n\n", a16_py);
  p += R"PY(

def out(name):
    return os.path.join(HERE, name)


def translate():
    from hailo_sdk_client import ClientRunner

    runner = ClientRunner(hw_arch=HW_ARCH)
    try:
        runner.translate_onnx_model(ONNX, NET, start_node_names=START_NODES, end_node_names=END_NODES,
                                    net_input_shapes=INPUT_SHAPES)
    except Exception as e:  # the parser's own exception types differ between DFC versions
        print("translation failed: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        recommended = getattr(e, "recommended_end_node_names", None) or getattr(e, "recommendations", None)
        if recommended:
            print("the parser recommends these end nodes: %s" % (recommended,), file=sys.stderr)
            print("(npusplit: split --cut with them, or `npusplit check --parser-log` on this output)", file=sys.stderr)
        sys.exit(1)
    runner.save_har(out(NET + ".har"))
    return runner


def output_layers_of_end_nodes(runner):
    """ONNX end node -> the translated model's output layer(s) behind it, from the HN's record of the
    ONNX nodes each layer was translated from (no layer name is guessed)."""
    layers = runner.get_hn_dict()["layers"]
    found = {}
    for name, layer in layers.items():
        if layer.get("type") != "output_layer":
            continue
        for source in layer.get("input", []):
            src = layers.get(source) or layers.get(source.split("/")[-1]) or {}
            for onnx_node in src.get("original_names", []):
                if onnx_node in A16_END_NODES:
                    found.setdefault(onnx_node, []).append((source, name))
    return found


def model_script(runner):
    with open(ALLS) as f:
        script = f.read()
    mapping = output_layers_of_end_nodes(runner)
    lines = []
    for node, (tensor, sqnr) in A16_END_NODES.items():
        if node not in mapping:
            print("warning: no output layer was translated from end node %r (%s): its 16-bit line is left out"
                  % (node, tensor), file=sys.stderr)
            continue
        for source, output_layer in mapping[node]:
            lines.append("# %s: 8-bit SQNR %s dB in npusplit's emulation" % (tensor, sqnr))
            lines.append("quantization_param([%s, %s], precision_mode=a16_w16)" % (source, output_layer))
    return script + ("\n" + "\n".join(lines) + "\n" if lines else "")


def main():
    import numpy as np

    runner = translate()
    script = model_script(runner)
    with open(out(NET + "_model_script_used.alls"), "w") as f:
        f.write(script)
    runner.load_model_script(script)
    calib = np.load(CALIB)
    print("calibration set %s: %s %s" % (CALIB, calib.shape, calib.dtype))
    runner.optimize(calib)
    runner.save_har(out(NET + "_quantized.har"))
    hef = runner.compile()
    with open(out(NET + ".hef"), "wb") as f:
        f.write(hef)
    runner.save_har(out(NET + "_compiled.har"))
    print("wrote %s" % out(NET + ".hef"))


if __name__ == "__main__":
    main()
)PY";
  return b;
}


}  // namespace npusplit
