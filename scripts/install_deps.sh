#!/usr/bin/env bash
# Usage: scripts/install_deps.sh [ONNXRUNTIME_DEST]
#        scripts/install_deps.sh --arch arm64      (what the cross build needs)
#
# Installs the Debian 12 build dependencies, then builds the pinned onnx C++ library
# (scripts/fetch_onnx.sh) and fetches the pinned ONNX Runtime (scripts/fetch_onnxruntime.sh;
# optional argument = its DEST). Idempotent: apt is skipped entirely when every package is
# already installed and both are cached, so a second run is instant.
# --arch arm64: the build host's tools plus Debian's arm64 cross compiler and QEMU user mode;
# the arm64 libraries go into a private sysroot (scripts/make_sysroot_arm64.sh), then the
# aarch64 ONNX Runtime and a cross-built onnx, all under .cache/aarch64/.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler
  libopencv-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev xz-utils unzip python3-pip python3-venv python3-dev
  libgraphviz-dev   # lays out the graph of check/split --html
  libmimalloc-dev   # the CLI's allocator (apps/CMakeLists.txt: a third off split's CPU time)
  chromium          # the HTML report's browser test (headless)
)
cross=
if [[ ${1:-} == --arch ]]; then
  [[ ${2:-} == arm64 || ${2:-} == aarch64 ]] || { echo "${0##*/}: error: --arch takes arm64" >&2; exit 2; }
  cross=arm64
  shift 2
  # Only tools on the build host: the arm64 libraries come from the sysroot.
  PACKAGES=(build-essential cmake ninja-build pkg-config protobuf-compiler xz-utils unzip python3-pip
            crossbuild-essential-arm64 qemu-user debian-archive-keyring)
fi
me=${0##*/}
die() { echo "$me: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

command -v dpkg-query >/dev/null || die "dpkg-query not found: this script is for Debian/Ubuntu; install the packages listed in it by hand"

# Which packages are missing? (dpkg-query fails for unknown ones: count them as missing.)
missing=()
for p in "${PACKAGES[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "$me: installing: ${missing[*]}" >&2
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: as root run: apt-get install ${missing[*]}"
    sudo=(sudo env DEBIAN_FRONTEND=noninteractive)
  fi
  "${sudo[@]}" apt-get update -q || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
fi

if [[ -n $cross ]]; then
  cache=$(realpath -m "${NPUSPLIT_CACHE:-$here/../.cache}/aarch64")
  "$here/make_sysroot_arm64.sh" "$cache/sysroot"
  "$here/fetch_onnxruntime.sh" --arch aarch64 "$cache/onnxruntime"
  exec "$here/fetch_onnx.sh" --arch aarch64 --sysroot "$cache/sysroot" "$cache/onnx"
fi
"$here/fetch_onnx.sh"
exec "$here/fetch_onnxruntime.sh" "$@"
