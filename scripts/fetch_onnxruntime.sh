#!/usr/bin/env bash
# Usage: scripts/fetch_onnxruntime.sh [--arch x86_64|aarch64] [DEST]
#
# Puts a pinned ONNX Runtime into DEST, laid out like the official release tarball, so
# cmake/FindOnnxRuntime.cmake (or -DONNXRUNTIME_ROOT=DEST) can use it:
#   DEST/include/onnxruntime_{c,cxx}_api.h ...   DEST/lib/libonnxruntime.so{,.1,.1.23.2}
#   DEST/VERSION_NUMBER
# --arch defaults to this machine's; DEST defaults to ${NPUSPLIT_CACHE:-<repo>/.cache}/onnxruntime
# for this machine's architecture and .../<arch>/onnxruntime for another (a cross build).
#
# Why this way: Debian 12 has no ONNX Runtime package and only package registries are
# reachable (no direct downloads). So:
#  - library: the official build of libonnxruntime.so shipped inside the PyPI wheel
#    (manylinux x86_64 or aarch64: the same version, both sha256-pinned);
#  - headers: Debian 13 "trixie" libonnxruntime-dev (1.21), downloaded -- never
#    installed -- by apt-get with a private config/sources/state/cache, then unpacked.
#    Headers do not depend on the architecture: the amd64 package serves both.
# Older headers + newer library is fine: the ORT C API is backward compatible.
# A stamp file makes later runs exit at once without network. Needs: apt-get, dpkg-deb,
# python3 -m pip, unzip.
set -euo pipefail

ORT_VERSION=1.23.2
HDR_SUITE=trixie
HDR_PKG=libonnxruntime-dev
HDR_VERSION=1.21.0+dfsg-1
DEB=libonnxruntime-dev_1.21.0+dfsg-1_amd64.deb
DEB_SHA256=14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/fetch_common.sh"
repo=$(cd "$here/.." && pwd)

arch=$(uname -m)
if [[ ${1:-} == --arch ]]; then arch=${2:?--arch needs x86_64 or aarch64}; shift 2; fi
case $arch in
  x86_64|amd64) arch=x86_64
    PLATFORM=manylinux_2_27_x86_64
    WHEEL=onnxruntime-1.23.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
    WHEEL_SHA256=da44b99206e77734c5819aa2142c69e64f3b46edc3bd314f6a45a932defc0b3e ;;
  aarch64|arm64) arch=aarch64
    PLATFORM=manylinux_2_28_aarch64
    WHEEL=onnxruntime-1.23.2-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl
    WHEEL_SHA256=bbfd2fca76c855317568c1b36a885ddea2272c13cb0e395002c402f2360429a6 ;;
  *) die "no pinned ONNX Runtime for '$arch' (x86_64, aarch64); unpack an official release and configure with -DONNXRUNTIME_ROOT=DIR" ;;
esac
cache=${NPUSPLIT_CACHE:-$repo/.cache}
if [[ $arch == "$(uname -m)" ]]; then default_dest=$cache/onnxruntime; else default_dest=$cache/$arch/onnxruntime; fi
DEST=$(realpath -m "${1:-$default_dest}")
STAMP="onnxruntime $ORT_VERSION wheel-sha256=$WHEEL_SHA256 headers=$HDR_PKG=$HDR_VERSION deb-sha256=$DEB_SHA256"

# Cached: these exact pins already unpacked -> done, no network.
if stamp_ok "$DEST" .fetch-stamp "$STAMP" &&
   [[ -f $DEST/lib/libonnxruntime.so.$ORT_VERSION && -f $DEST/include/onnxruntime_cxx_api.h ]]; then
  exit 0
fi

hint="or unpack an official ONNX Runtime release and configure with -DONNXRUNTIME_ROOT=DIR"
require_tools "$hint" apt-get dpkg-deb unzip sha256sum python3

# Build in a private temp dir next to DEST; removed on any exit.
mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
work=$tmp/.work
FETCH_LOG=$work/log
mkdir -p "$tmp/include" "$tmp/lib" "$work/dl" "$work/x"

# 1) Library from the PyPI wheel (fixed python/platform tags -> always the same file).
pip_fetch "$work/dl" "$WHEEL" "$WHEEL_SHA256" --only-binary :all: \
  --implementation cp --python-version 3.11 --abi cp311 --platform "$PLATFORM" "onnxruntime==$ORT_VERSION"
run "unzip of $WHEEL" unzip -q -j "$work/dl/$WHEEL" \
  "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" onnxruntime/capi/libonnxruntime_providers_shared.so \
  onnxruntime/LICENSE onnxruntime/ThirdPartyNotices.txt -d "$work/x"
mv "$work/x/libonnxruntime.so.$ORT_VERSION" "$work/x/libonnxruntime_providers_shared.so" "$tmp/lib/"
mv "$work/x/LICENSE" "$work/x/ThirdPartyNotices.txt" "$tmp/"
ln -s "libonnxruntime.so.$ORT_VERSION" "$tmp/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$tmp/lib/libonnxruntime.so"

# 2) Headers from Debian trixie, through a private apt configuration.
private_apt "$work/apt" amd64 "$HDR_SUITE"
note "downloading $DEB ($HDR_SUITE)"
(cd "$work/dl" && run "apt-get download of $HDR_PKG=$HDR_VERSION (no longer in $HDR_SUITE on the mirror?)" \
  apt-get -q -c "$work/apt/apt.conf" download "$HDR_PKG=$HDR_VERSION")
[[ -f $work/dl/$DEB ]] || die "apt-get did not produce $DEB"
check_sha "$work/dl/$DEB" "$DEB_SHA256" Debian
run "dpkg-deb -x $DEB" dpkg-deb -x "$work/dl/$DEB" "$work/deb"
cp -R "$work/deb/usr/include/onnxruntime/." "$tmp/include/"
cp "$work/deb/usr/share/doc/$HDR_PKG/copyright" "$tmp/HEADERS-COPYRIGHT"
[[ -f $tmp/include/onnxruntime_cxx_api.h ]] || die "$DEB has no usr/include/onnxruntime/onnxruntime_cxx_api.h"

# 3) Finish and swap in (the stamp goes last, so a half-built tree never looks valid).
echo "$ORT_VERSION" >"$tmp/VERSION_NUMBER"
rm -rf "$work"
FETCH_LOG=/dev/null
swap_in "$tmp" "$DEST" .fetch-stamp "$STAMP"
note "ONNX Runtime $ORT_VERSION $arch (headers $HDR_VERSION) ready in $DEST"
