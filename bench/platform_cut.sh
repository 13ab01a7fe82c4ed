#!/bin/sh
# The platform cut on every shared model and every profile (issue 14): writes
# bench/results/platform_cut.md (a markdown table; the README quotes it). Needs the build.
#   bench/platform_cut.sh [BUILD_DIR [HOST_FACTOR]]   (HOST_FACTOR: extra x86-hailo8 rows, default 0.2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shared=${NPUSPLIT_SHARED:-$here/../../shared}
models="$build/models"
"$shared/models/unpack.sh" "$models"
list=""
# The real-weight PicoDet too: every node supported, so NPU-bound -- where another cut can win.
for m in "$shared"/models/deimv2_*.onnx "$models"/deimv2_*.onnx "$shared"/models/real/picodet_layout_cdla.onnx; do
  [ -e "$m" ] || continue
  list="$list $m"
done
mkdir -p "$here/results"
out="$here/results/platform_cut.md"
{
  echo "# split --platform: chosen cut vs today's automatic cut (estimates; $(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  # shellcheck disable=SC2086
  "$build/npusplit_platform_table" --host-factor "${2:-0.2}" $list || echo "(some chosen cut is slower than the automatic one)"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
