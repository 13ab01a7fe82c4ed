#include "npusplit/bundle/split_calib.h"

#include "npusplit/bundle/dfc_bundle.h"
#include "npusplit/calib/calib_set.h"
#include "npusplit/quant/emulate.h"

namespace npusplit {

namespace fs = std::filesystem;

CalibBundle add_calib_bundle(const CalibBundleInputs& in, OutputSet& files) {
  CalibBundle b;
  b.inputs = in.images;
  b.count = in.count;
  b.seed = in.seed;
  CalibOptions co;
  co.inputs = in.images;
  co.preprocess = in.preprocess;
  co.count = in.count;
  co.count_option = "--calib-count";
  co.seed = in.seed;
  co.raw_pixels = true;  // the .alls's normalization layer does the rest
  b.calib_path = in.dir / (in.stem + "_calib.npy");
  co.out = b.calib_path;
  b.calib = add_calibration_set(co, files);

  // The emulation reads the set from its temporary file: nothing is in place before the commit.
  QuantStages qs{in.stage1, in.stage2, in.preprocess, in.original_of, files.pending_path(b.calib_path),
                 in.manifest, in.dir / in.stage1_file, in.dir / in.stage2_file, b.calib_path};
  QuantOptions qo;
  qo.weights = in.weights;
  b.quant = emulate_quant(qs, qo);

  BundleInputs bi;
  bi.stem = in.stem;
  bi.hw_arch = in.hw_arch.empty() ? "hailo8" : in.hw_arch;
  bi.stage1_file = in.stage1_file;
  bi.preprocess = in.preprocess;
  bi.stage1 = &in.stage1;
  bi.calib_file = b.calib_path.filename().string();
  bi.calib_frames = b.calib.shape.empty() ? 0 : b.calib.shape[0];
  bi.quant = &b.quant;
  b.bundle = make_dfc_bundle(bi);
  b.alls_path = in.dir / (in.stem + ".alls");
  b.script_path = in.dir / (in.stem + "_dfc.py");
  b.alls_sha256 = files.add_bytes(b.alls_path, b.bundle.alls);
  b.script_sha256 = files.add_bytes(b.script_path, b.bundle.script);
  return b;
}

}  // namespace npusplit
