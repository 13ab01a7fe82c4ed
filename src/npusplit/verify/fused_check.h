#pragma once
// The proof of a fused stage2 (host/fuse_msda.h): stage2 as exported and fused, on the same
// stage1 outputs, compared detection by detection. The fused kernel sums in another order, so
// scores move by ~1e-7; with random-weight exports hundreds of queries have scores that tie to
// that precision, and TopK may then order tied rows differently. So rows are matched: each row of
// the exported output to a row of the fused one equal within the tolerance (label, box, score),
// and the order must be the same wherever the scores differ by more than the tolerance.
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "npusplit/verify/verify.h"

namespace npusplit {

struct DetectionDiff {
  double max_abs_diff = 0;      // over matched rows (every output value: label, box, score)
  double raw_max_abs_diff = 0;  // position by position, before matching tied rows
  int64_t rows = 0;
  int64_t reordered_rows = 0;   // rows matched at another position (ties within the tolerance)
  int64_t unmatched_rows = 0;   // rows with no equal row within the tolerance
  int64_t order_violations = 0; // pairs ordered differently although their scores differ by more
  bool ok = false;
};

// A and B: a detector's outputs (label_xyxy_score [B,N,6], or labels/boxes/scores). Other
// outputs are compared position by position.
DetectionDiff compare_detections(const std::vector<HostTensor>& a, const std::vector<HostTensor>& b, double tol);

struct FusedCheck {
  double tolerance = 0;
  std::vector<std::pair<std::string, DetectionDiff>> cases;  // per verify case
  DetectionDiff worst;
  bool ok = false;
};

FusedCheck check_fused_stage2(const onnx::ModelProto& stage1, const onnx::ModelProto& stage2,
                              const onnx::ModelProto& fused, const std::vector<VerifyCase>& cases, double tol);

}  // namespace npusplit
