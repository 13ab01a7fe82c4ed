#pragma once
// The quantization-aware cut (issue 11): the parts of every merge (Concat) the automatic cut puts
// in stage1 are measured (analysis/ranges.h: ReduceMin/ReduceMax in the graph, one frame at a
// time) on the calibration images (split --calib) or on one seeded synthetic image; a merge
// whose parts differ more than the packing threshold never ends stage1 (it moves to the host),
// and every such merge left inside stage1 gets a `quant-mixed-range` finding.
#include "npusplit/results/analysis.h"

namespace npusplit {

// After judge's first auto_partition(IN): measures, marks IN.no_end, cuts again into A.partition,
// flags. Fills A.ranges. Never throws for what it cannot measure: A.ranges.skipped says why.
void quant_aware_cut(Analysis& a, PartitionInput& in);
// (Re)writes the quant-mixed-range findings for the mixed merges inside A.partition's stage1
// (split calls it again after a manual --cut).
void flag_npu_merges(Analysis& a);

// The synthetic frame: a seeded uniform random 8-bit BGR image of the model's input size.
cv::Mat synthetic_image(int width, int height, uint32_t seed);

}  // namespace npusplit
