#!/usr/bin/env bash
# Usage: scripts/fetch_onnx.sh [DEST]
#
# Builds the pinned onnx C++ library (protobuf types, checker, shape inference, version
# converter) into DEST (default ${NPUSPLIT_CACHE:-<repo>/.cache}/onnx):
#   DEST/include/onnx/...   DEST/lib/libonnx.a libonnx_proto.a   DEST/lib/cmake/ONNX/
# CMakeLists.txt finds it there (or -DONNX_ROOT=DIR for a preinstalled onnx >= 1.22).
#
# Why: Debian 12's libonnx-dev is onnx 1.12 (schemas up to opset 17). 1.20/1.21 convert
# Reduce* axes stored as raw_data to "all axes", so 1.22+ is needed. onnx builds from its
# PyPI source distribution (sha256-pinned) against Debian's protobuf and protoc, static.
# It needs CMake >= 3.26 (Debian 12: 3.25): the PyPI `cmake` wheel (sha256-pinned) is
# unpacked with pip --target next to it, no venv. The build runs niced with -j2.
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
die() { echo "$me: error: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }
trap 'die "unexpected failure (line $LINENO)"' ERR   # never fail silently
repo=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${NPUSPLIT_CACHE:-$repo/.cache}
DEST=$(realpath -m "${1:-$CACHE/onnx}")
CXX_BIN=${CXX:-c++}

hint="or build onnx >= 1.22 yourself and configure with -DONNX_ROOT=DIR"
command -v protoc >/dev/null || die "'protoc' not found (apt-get install protobuf-compiler, $hint)"
command -v "$CXX_BIN" >/dev/null || die "C++ compiler '$CXX_BIN' not found ($hint)"
# The generated onnx*.pb.h must match the protobuf headers they are compiled against, and
# the static library the compiler's ABI: both are part of the stamp.
protobuf_version=$(dpkg-query -W -f='${Version}' libprotobuf-dev 2>/dev/null || true)
protobuf_version="${protobuf_version:-unknown} $(protoc --version)"
compiler_version=$("$CXX_BIN" --version | head -n 1)
STAMP="onnx $ONNX_VERSION sdist-sha256=$SDIST_SHA256 protobuf=$protobuf_version cxx=$compiler_version"

if [[ -f $DEST/.build-stamp && $(<"$DEST/.build-stamp") == "$STAMP" &&
      -f $DEST/lib/libonnx.a && -f $DEST/lib/cmake/ONNX/ONNXConfig.cmake ]]; then
  exit 0
fi

for c in python3 sha256sum ninja tar; do
  command -v "$c" >/dev/null || die "'$c' not found (run scripts/install_deps.sh, $hint)"
done
python3 -m pip --version >/dev/null 2>&1 || die "'python3 -m pip' not available (apt-get install python3-pip, $hint)"

mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
work=$tmp/.work
mkdir -p "$work/dl"
log=$(dirname "$DEST")/onnx-build.log   # kept after a failure
: >"$log"
run() {  # run a tool quietly; on failure show its last lines, then one error line
  local what=$1; shift
  "$@" >>"$log" 2>&1 || { tail -n 15 "$log" >&2; die "$what failed (log: $log)"; }
}
check_sha() {
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ $got == "$2" ]] || die "sha256 mismatch for ${1##*/}: got $got, pinned $2 (the registry serves a different file; check and update the pins in $me)"
}

# 1) CMake >= 3.26: the system's if new enough, else the pinned wheel, cached on its own.
cmake_bin=
if command -v cmake >/dev/null; then
  v=$(cmake --version | sed -n '1s/.* \([0-9][0-9.]*\).*/\1/p')
  if [[ $(printf '%s\n' 3.26 "$v" | sort -V | head -n 1) == 3.26 ]]; then cmake_bin=$(command -v cmake); fi
fi
if [[ -z $cmake_bin ]]; then
  cmake_dir=$CACHE/cmake-$CMAKE_VERSION
  cmake_bin=$cmake_dir/cmake/data/bin/cmake
  if [[ ! -x $cmake_bin || ! -f $cmake_dir/.stamp || $(<"$cmake_dir/.stamp") != "$CMAKE_WHEEL_SHA256" ]]; then
    [[ $(uname -m) == x86_64 ]] || die "the pinned CMake wheel is for x86_64; install CMake >= 3.26 ($hint)"
    note "downloading $CMAKE_WHEEL (PyPI)"
    run "pip download of cmake==$CMAKE_VERSION" \
      python3 -m pip download -q --no-deps --only-binary :all: --platform manylinux2014_x86_64 \
        --implementation py --python-version 3.11 -d "$work/dl" "cmake==$CMAKE_VERSION"
    [[ -f $work/dl/$CMAKE_WHEEL ]] || die "pip did not produce $CMAKE_WHEEL (got: $(ls "$work/dl"))"
    check_sha "$work/dl/$CMAKE_WHEEL" "$CMAKE_WHEEL_SHA256"
    rm -rf "$cmake_dir.tmp.$$"
    run "pip install --target of $CMAKE_WHEEL" \
      python3 -m pip install -q --no-deps --no-index --target "$cmake_dir.tmp.$$" "$work/dl/$CMAKE_WHEEL"
    echo "$CMAKE_WHEEL_SHA256" >"$cmake_dir.tmp.$$/.stamp"
    rm -rf "$cmake_dir" && mv -T "$cmake_dir.tmp.$$" "$cmake_dir"
  fi
  "$cmake_bin" --version >/dev/null 2>&1 || die "$cmake_bin does not run ($hint)"
fi

# 2) The onnx sdist (--no-binary onnx, not :all:, or pip builds cmake/protobuf from source
# just to read the metadata).
note "downloading $SDIST (PyPI)"
run "pip download of onnx==$ONNX_VERSION" \
  python3 -m pip download -q --no-deps --no-binary onnx -d "$work/dl" "onnx==$ONNX_VERSION"
[[ -f $work/dl/$SDIST ]] || die "pip did not produce $SDIST (got: $(ls "$work/dl"))"
check_sha "$work/dl/$SDIST" "$SDIST_SHA256"
run "unpacking $SDIST" tar -xzf "$work/dl/$SDIST" -C "$work"
src=$work/onnx-$ONNX_VERSION
[[ -f $src/CMakeLists.txt ]] || die "$SDIST has no CMakeLists.txt"

# 3) Configure against Debian's protobuf (shared, found by protoc; with OFF onnx wants a
# protobuf CMake config Debian 12 does not ship), static onnx, no Python, no tests.
note "building onnx $ONNX_VERSION (a few minutes, once; log: $log)"
t0=$SECONDS
run "configure of onnx $ONNX_VERSION" \
  "$cmake_bin" -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_INSTALL_PREFIX="$tmp" -DCMAKE_INSTALL_LIBDIR=lib \
    -DONNX_BUILD_PYTHON=OFF -DONNX_BUILD_TESTS=OFF -DONNX_ML=ON \
    -DONNX_USE_PROTOBUF_SHARED_LIBS=ON -DBUILD_SHARED_LIBS=OFF \
    -DProtobuf_PROTOC_EXECUTABLE="$(command -v protoc)"
grep -q "Protobuf compiler *: $(command -v protoc)" "$log" ||
  die "onnx's configure did not pick $(command -v protoc) (it would download protobuf); see $log"
run "build of onnx $ONNX_VERSION" nice -n 5 "$cmake_bin" --build "$work/build" -j 2
run "install of onnx $ONNX_VERSION" "$cmake_bin" --install "$work/build"
cp "$src/LICENSE" "$tmp/LICENSE"
[[ -f $tmp/lib/libonnx.a && -f $tmp/lib/cmake/ONNX/ONNXConfig.cmake ]] ||
  die "onnx's install has no lib/libonnx.a + lib/cmake/ONNX/ONNXConfig.cmake"

# 4) Finish and swap in (the stamp goes last, so a half-built tree never looks valid).
rm -rf "$work"
echo "$STAMP" >"$tmp/.build-stamp"
done_already() { [[ -f $DEST/.build-stamp && $(<"$DEST/.build-stamp") == "$STAMP" ]]; }
if ! done_already; then   # (a concurrent run may have finished first: keep its copy)
  if [[ -e $DEST ]]; then mv -T "$DEST" "$DEST.old.$$" && rm -rf "$DEST.old.$$"; fi
  mv -T "$tmp" "$DEST" 2>/dev/null || done_already || die "could not move $tmp to $DEST"
fi
note "onnx $ONNX_VERSION ready in $DEST ($((SECONDS - t0)) s to build)"
