#!/usr/bin/env bash
# Usage: scripts/install_deps.sh [ONNXRUNTIME_DEST]
#
# Installs the Debian 12 build dependencies, then builds the pinned onnx C++ library
# (scripts/fetch_onnx.sh) and fetches the pinned ONNX Runtime (scripts/fetch_onnxruntime.sh;
# optional argument = its DEST). Idempotent: apt is skipped entirely when every package is
# already installed and both are cached, so a second run is instant.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler
  libopencv-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev xz-utils unzip python3-pip
)
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

"$here/fetch_onnx.sh"
exec "$here/fetch_onnxruntime.sh" "$@"
