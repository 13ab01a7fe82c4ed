#!/bin/sh
# `calib` of 1024 frames and `quant` on DEIMv2-N: wall time and peak RSS (GNU time), for the README.
# usage: bench/quant_bench.sh BUILD_DIR SHARED_DIR OUT_DIR [QUANT_FRAMES]
set -eu
B=$1; S=$2; O=$3; QF=${4:-32}
mkdir -p "$O"
"$B/npusplit_make_video" "$O/frames.avi" 1024 "$S"/images/*.png "$S"/images/*.jpg
"$B/npusplit" split "$S/models/deimv2_n.onnx" -o "$O/n" >/dev/null
/usr/bin/time -f "calib 1024 frames: %e s wall, %M KB peak RSS" \
  "$B/npusplit" calib "$O/frames.avi" --manifest "$O/n/deimv2_n_split.json" -o "$O/n/calib1024.npy" --count 1024
/usr/bin/time -f "quant $QF frames: %e s wall, %M KB peak RSS" \
  "$B/npusplit" quant "$O/n/deimv2_n_split.json" --calib "$O/n/calib1024.npy" --frames "$QF" | tail -3
