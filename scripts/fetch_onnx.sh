#!/usr/bin/env bash
# Usage: scripts/fetch_onnx.sh [--arch aarch64 --sysroot DIR] [DEST]
#
# Builds the pinned onnx C++ library (protobuf types, checker, shape inference, version
# converter) into DEST (default ${NPUSPLIT_CACHE:-<repo>/.cache}/onnx, or .../aarch64/onnx for
# the cross build):
#   DEST/include/onnx/...   DEST/lib/libonnx.a libonnx_proto.a   DEST/lib/cmake/ONNX/
# CMakeLists.txt finds it there (or -DONNX_ROOT=DIR for a preinstalled onnx >= 1.22).
#
# Why: Debian 12's libonnx-dev is onnx 1.12 (schemas up to opset 17). 1.20/1.21 convert
# Reduce* axes stored as raw_data to "all axes", so 1.22+ is needed. onnx builds from its
# PyPI source distribution (sha256-pinned) against Debian's protobuf and protoc, static.
# It needs CMake >= 3.26 (Debian 12: 3.25): the PyPI `cmake` wheel (sha256-pinned) is
# unpacked with pip --target next to it, no venv. The build runs niced with -j2.
# --arch aarch64 cross-builds it (scripts/build.sh --arch arm64): the host's protoc generates
# the code, the compiler is aarch64-linux-gnu-g++, protobuf's headers and library come from the
# arm64 sysroot (cmake/toolchain-aarch64.cmake).
# A stamp keyed on the onnx, protobuf and compiler versions makes later runs exit at once,
# without network. Needs: python3 -m pip, protoc + libprotobuf-dev, a C++ compiler, ninja.
set -euo pipefail

ONNX_VERSION=1.23.2
SDIST=onnx-$ONNX_VERSION.tar.gz
SDIST_SHA256=008cb0467b2bbee41448acc7da8b6f4e704624cb0d327a2d5adafc7ce19bc5b8
CMAKE_VERSION=3.31.10
CMAKE_WHEEL=cmake-3.31.10-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
CMAKE_WHEEL_SHA256=2f766bb46367e5e0559fa33184653754bce044583a06014dcaebf8e6dff8a1f1

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/fetch_common.sh"
repo=$(cd "$here/.." && pwd)
CACHE=${NPUSPLIT_CACHE:-$repo/.cache}

cross= sysroot=
while [[ ${1:-} == --* ]]; do
  case $1 in
    --arch) [[ ${2:-} == aarch64 || ${2:-} == arm64 ]] || die "--arch: only aarch64 (cross build) is supported"
            cross=aarch64; shift 2 ;;
    --sysroot) sysroot=$(realpath "${2:?--sysroot needs a folder}"); shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
if [[ -n $cross ]]; then
  [[ -n $sysroot && -f $sysroot/.packages ]] || die "--arch aarch64 needs --sysroot DIR (scripts/make_sysroot_arm64.sh)"
  DEST=$(realpath -m "${1:-$CACHE/aarch64/onnx}")
  CXX_BIN=aarch64-linux-gnu-g++
else
  DEST=$(realpath -m "${1:-$CACHE/onnx}")
  CXX_BIN=${CXX:-c++}
fi

hint="or build onnx >= 1.22 yourself and configure with -DONNX_ROOT=DIR"
command -v protoc >/dev/null || die "'protoc' not found (apt-get install protobuf-compiler, $hint)"
command -v "$CXX_BIN" >/dev/null || die "C++ compiler '$CXX_BIN' not found ($hint)"
# The generated onnx*.pb.h must match the protobuf headers they are compiled against, and
# the static library the compiler's ABI: both are part of the stamp.
if [[ -n $cross ]]; then
  protobuf_version=$(awk '$1 == "libprotobuf-dev" {print $2}' "$sysroot/.packages")
else
  protobuf_version=$(dpkg-query -W -f='${Version}' libprotobuf-dev 2>/dev/null || true)
fi
protobuf_version="${protobuf_version:-unknown} $(protoc --version)"
# (the compiler's own name is dropped: c++, g++ and CXX=/usr/bin/g++ are the same compiler)
compiler_version=$("$CXX_BIN" --version | head -n 1 | sed 's/^[^ ]* /c++ /')
[[ -z $cross ]] || compiler_version+=" target=$("$CXX_BIN" -dumpmachine)"
STAMP="onnx $ONNX_VERSION sdist-sha256=$SDIST_SHA256 protobuf=$protobuf_version cxx=$compiler_version"

if stamp_ok "$DEST" .build-stamp "$STAMP" && [[ -f $DEST/lib/libonnx.a && -f $DEST/lib/cmake/ONNX/ONNXConfig.cmake ]]; then
  exit 0
fi
require_tools "$hint" python3 sha256sum ninja tar

mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
work=$tmp/.work
mkdir -p "$work/dl"
FETCH_LOG=$(dirname "$DEST")/onnx-build.log   # kept after a failure
: >"$FETCH_LOG"

# 1) CMake >= 3.26: the system's if new enough, else the pinned wheel, cached on its own.
cmake_bin=
if command -v cmake >/dev/null; then
  v=$(cmake --version | sed -n '1s/.* \([0-9][0-9.]*\).*/\1/p')
  if [[ $(printf '%s\n' 3.26 "$v" | sort -V | head -n 1) == 3.26 ]]; then cmake_bin=$(command -v cmake); fi
fi
if [[ -z $cmake_bin ]]; then
  cmake_dir=$CACHE/cmake-$CMAKE_VERSION
  cmake_bin=$cmake_dir/cmake/data/bin/cmake
  if ! stamp_ok "$cmake_dir" .stamp "$CMAKE_WHEEL_SHA256" || [[ ! -x $cmake_bin ]]; then
    [[ $(uname -m) == x86_64 ]] || die "the pinned CMake wheel is for x86_64; install CMake >= 3.26 ($hint)"
    pip_fetch "$work/dl" "$CMAKE_WHEEL" "$CMAKE_WHEEL_SHA256" --only-binary :all: --platform manylinux2014_x86_64 \
      --implementation py --python-version 3.11 "cmake==$CMAKE_VERSION"
    rm -rf "$cmake_dir.tmp.$$"
    run "pip install --target of $CMAKE_WHEEL" \
      python3 -m pip install -q --no-deps --no-index --target "$cmake_dir.tmp.$$" "$work/dl/$CMAKE_WHEEL"
    swap_in "$cmake_dir.tmp.$$" "$cmake_dir" .stamp "$CMAKE_WHEEL_SHA256"
  fi
  "$cmake_bin" --version >/dev/null 2>&1 || die "$cmake_bin does not run ($hint)"
fi

# 2) The onnx sdist (--no-binary onnx, not :all:, or pip builds cmake/protobuf from source
# just to read the metadata).
pip_fetch "$work/dl" "$SDIST" "$SDIST_SHA256" --no-binary onnx "onnx==$ONNX_VERSION"
run "unpacking $SDIST" tar -xzf "$work/dl/$SDIST" -C "$work"
src=$work/onnx-$ONNX_VERSION
[[ -f $src/CMakeLists.txt ]] || die "$SDIST has no CMakeLists.txt"

# 3) Configure against Debian's protobuf (shared, found by protoc; with OFF onnx wants a
# protobuf CMake config Debian 12 does not ship), static onnx, no Python, no tests.
cross_args=()
if [[ -n $cross ]]; then
  cross_args=(-DCMAKE_TOOLCHAIN_FILE="$repo/cmake/toolchain-aarch64.cmake" -DNPUSPLIT_SYSROOT="$sysroot")
else
  cross_args=(-DCMAKE_CXX_COMPILER="$CXX_BIN")
fi
note "building onnx $ONNX_VERSION${cross:+ for $cross} (a few minutes, once; log: $FETCH_LOG)"
t0=$SECONDS
run "configure of onnx $ONNX_VERSION" \
  "$cmake_bin" -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${cross_args[@]}" \
    -DCMAKE_INSTALL_PREFIX="$tmp" -DCMAKE_INSTALL_LIBDIR=lib \
    -DONNX_BUILD_PYTHON=OFF -DONNX_BUILD_TESTS=OFF -DONNX_ML=ON \
    -DONNX_USE_PROTOBUF_SHARED_LIBS=ON -DBUILD_SHARED_LIBS=OFF \
    -DProtobuf_PROTOC_EXECUTABLE="$(command -v protoc)"
grep -q "Protobuf compiler *: $(command -v protoc)" "$FETCH_LOG" ||
  die "onnx's configure did not pick $(command -v protoc) (it would download protobuf); see $FETCH_LOG"
run "build of onnx $ONNX_VERSION" nice -n 5 "$cmake_bin" --build "$work/build" -j 2
run "install of onnx $ONNX_VERSION" "$cmake_bin" --install "$work/build"
cp "$src/LICENSE" "$tmp/LICENSE"
[[ -f $tmp/lib/libonnx.a && -f $tmp/lib/cmake/ONNX/ONNXConfig.cmake ]] ||
  die "onnx's install has no lib/libonnx.a + lib/cmake/ONNX/ONNXConfig.cmake"

# 4) Finish and swap in (the stamp goes last, so a half-built tree never looks valid).
rm -rf "$work"
swap_in "$tmp" "$DEST" .build-stamp "$STAMP"
note "onnx $ONNX_VERSION${cross:+ ($cross)} ready in $DEST ($((SECONDS - t0)) s to build)"
