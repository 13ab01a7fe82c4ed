#include "npusplit/bundle/split_calib.h"

#include <fmt/format.h>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"

namespace npusplit {

namespace fs = std::filesystem;

SplitCalibResult calib_quant_bundle(const SplitCalibOptions& o) {
  SplitCalibResult r;
  const auto man = load_split_manifest(o.manifest);
  const fs::path dir = o.manifest.parent_path();
  const std::string stage1_file = man["stage1"]["file"].get<std::string>();
  std::string stem = o.manifest.filename().string();
  stem = stem.substr(0, stem.size() - std::string("_split.json").size());
  const auto stage1 = load_model(dir / stage1_file);
  PreprocessRecord pre = manifest_preprocess(man, o.manifest);
  if (pre.width <= 0) pre = detect_preprocess(stage1, {});

  BundleInputs bi;
  bi.stem = stem;
  bi.hw_arch = man.contains("target") ? man["target"].value("hw_arch", std::string("hailo8")) : "hailo8";
  bi.stage1_file = stage1_file;
  bi.preprocess = pre;
  bi.stage1 = &stage1;
  if (!o.images.empty()) {
    CalibOptions co;
    co.inputs = o.images;
    co.preprocess = pre;
    co.count = o.count;
    co.seed = o.seed;
    co.raw_pixels = true;
    r.calib_path = dir / (stem + "_calib.npy");
    co.out = r.calib_path;
    r.calib = write_calibration_set(co);
    QuantOptions qo;
    qo.manifest = o.manifest;
    qo.calib = r.calib_path;
    qo.weights = o.weights;
    r.quant = run_quant(qo);
    bi.calib_file = r.calib_path.filename().string();
    bi.calib_frames = r.calib->shape[0];
    bi.quant = &*r.quant;
  } else {
    bi.calib_file = stem + "_calib.npy";
  }
  r.bundle = make_dfc_bundle(bi);
  r.bundle_files = write_dfc_bundle(dir, stem, r.bundle);
  return r;
}

std::string split_calib_text(const SplitCalibResult& r) {
  std::string s;
  if (r.calib) s += calib_text(*r.calib, r.calib_path, true);
  if (r.quant) s += quant_text(*r.quant);
  s += "DFC bundle (npusplit did not run the DFC):";
  for (const auto& f : r.bundle_files) s += " " + f.string();
  s += "\n";
  if (!r.bundle.a16.empty()) {
    s += "  16-bit outputs:";
    for (const auto& t : r.bundle.a16) s += " " + t;
    s += "\n";
  }
  for (const auto& c : r.bundle.commands) s += "  " + c + "\n";
  return s;
}

}  // namespace npusplit
