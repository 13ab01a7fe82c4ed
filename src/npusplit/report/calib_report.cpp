#include "npusplit/report/calib_report.h"

#include <fmt/format.h>

namespace npusplit {

namespace fs = std::filesystem;

std::string calib_text(const CalibResult& r, const fs::path& out, bool raw_pixels) {
  std::string s = fmt::format("calib: wrote {} float32 [{},{},{},{}] NHWC ({} image(s), {} video frame(s) of {} available) in {:.1f} s\n",
                              out.string(), r.shape[0], r.shape[1], r.shape[2], r.shape[3], r.images, r.video_frames,
                              r.available, r.seconds);
  s += fmt::format("  values {:g} .. {:g}: {}\n", r.min, r.max,
                   raw_pixels ? "0-255 pixels, for a model script with the normalization layer (the .alls npusplit writes)"
                              : "the model's own input values (--range model)");
  return s;
}

}  // namespace npusplit
