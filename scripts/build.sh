#!/usr/bin/env bash
# Installs what npusplit needs (Debian packages + the pinned ONNX Runtime, cached) and builds
# it into ./build. Used by scripts/demo.sh and scripts/test.sh; safe to run again (instant
# when nothing changed). Extra arguments go to CMake (e.g. -DONNXRUNTIME_ROOT=/opt/ort).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install_deps.sh
build=${NPUSPLIT_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake "$build" "$@"
fi
cmake --build "$build" --parallel "$(nproc)"
