#!/usr/bin/env bash
# Usage: scripts/build.sh [--arch arm64] [CMAKE_ARGS...]
#
# Installs what npusplit needs (Debian packages + the pinned onnx and ONNX Runtime, cached) and
# builds it into ./build. Used by scripts/demo.sh and scripts/test.sh; safe to run again (instant
# when nothing changed). Extra arguments go to CMake (e.g. -DONNXRUNTIME_ROOT=/opt/ort).
#
# --arch arm64 on an x86_64 machine: the cross build for a Raspberry Pi 5 (Debian 12 arm64) into
# ./build-arm64, with Debian's cross compiler and a private arm64 sysroot made from Debian's
# .debs (scripts/make_sysroot_arm64.sh; never Debian multiarch), the aarch64 ONNX Runtime and a
# cross-built onnx, all cached in .cache/aarch64/. scripts/test_arm64.sh runs its tests under
# qemu-aarch64 (benchmarks are not built: -DNPUSPLIT_BUILD_BENCH=ON to have them). On an arm64
# machine --arch arm64 is the native build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=native
if [[ ${1:-} == --arch ]]; then
  case ${2:-} in
    arm64|aarch64) arch=arm64 ;;
    x86_64|amd64|native) arch=native ;;
    *) echo "build.sh: error: --arch takes arm64 (or x86_64)" >&2; exit 2 ;;
  esac
  shift 2
fi
[[ $arch == arm64 && $(uname -m) == aarch64 ]] && arch=native

if [[ $arch == native ]]; then
  bash scripts/install_deps.sh
  build=${NPUSPLIT_BUILD_DIR:-$root/build}
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  elif [ $# -gt 0 ]; then
    cmake "$build" "$@"
  fi
  cmake --build "$build" --parallel "$(nproc)"
  exit 0
fi

# Cross build for arm64.
bash scripts/install_deps.sh --arch arm64
cache=${NPUSPLIT_CACHE:-$root/.cache}
deps=$(realpath -m "$cache/aarch64")
build=${NPUSPLIT_BUILD_DIR:-$root/build-arm64}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64.cmake" \
    -DNPUSPLIT_SYSROOT="$deps/sysroot" -DNPUSPLIT_CROSS_DEPS="$deps" \
    -DONNX_ROOT="$deps/onnx" -DONNXRUNTIME_ROOT="$deps/onnxruntime" -DNPUSPLIT_BUILD_BENCH=OFF "$@"
elif [ $# -gt 0 ]; then
  cmake "$build" "$@"
fi
nice -n 10 cmake --build "$build" --parallel "$(nproc)"
