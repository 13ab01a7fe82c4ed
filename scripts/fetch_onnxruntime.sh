#!/usr/bin/env bash
# Usage: scripts/fetch_onnxruntime.sh [DEST]
#
# Puts a pinned ONNX Runtime into DEST (default ${NPUSPLIT_CACHE:-<repo>/.cache}/onnxruntime),
# laid out like the official release tarball, so cmake/FindOnnxRuntime.cmake (or
# -DONNXRUNTIME_ROOT=DEST) can use it:
#   DEST/include/onnxruntime_{c,cxx}_api.h ...   DEST/lib/libonnxruntime.so{,.1,.1.23.2}
#   DEST/VERSION_NUMBER
#
# Why this way: Debian 12 has no ONNX Runtime package and only package registries are
# reachable (no direct downloads). So:
#  - library: the official build of libonnxruntime.so shipped inside the PyPI wheel;
#  - headers: Debian 13 "trixie" libonnxruntime-dev (1.21), downloaded -- never
#    installed -- by apt-get with a private config/sources/state/cache, then unpacked.
# Older headers + newer library is fine: the ORT C API is backward compatible.
# Both downloads are checked against pinned sha256 values. A stamp file makes later
# runs exit at once without network. Needs: apt-get, dpkg-deb, python3 -m pip, unzip.
set -euo pipefail

ORT_VERSION=1.23.2
WHEEL=onnxruntime-1.23.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
WHEEL_SHA256=da44b99206e77734c5819aa2142c69e64f3b46edc3bd314f6a45a932defc0b3e
HDR_SUITE=trixie
HDR_PKG=libonnxruntime-dev
HDR_VERSION=1.21.0+dfsg-1
DEB=libonnxruntime-dev_1.21.0+dfsg-1_amd64.deb
DEB_SHA256=14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

me=${0##*/}
die() { echo "$me: error: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }
trap 'die "unexpected failure (line $LINENO)"' ERR   # never fail silently
repo=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-${NPUSPLIT_CACHE:-$repo/.cache}/onnxruntime}
DEST=$(realpath -m "$DEST")
STAMP="onnxruntime $ORT_VERSION wheel-sha256=$WHEEL_SHA256 headers=$HDR_PKG=$HDR_VERSION deb-sha256=$DEB_SHA256"

# Cached: these exact pins already unpacked -> done, no network.
if [[ -f $DEST/.fetch-stamp && $(<"$DEST/.fetch-stamp") == "$STAMP" &&
      -f $DEST/lib/libonnxruntime.so.$ORT_VERSION && -f $DEST/include/onnxruntime_cxx_api.h ]]; then
  exit 0
fi

# Prerequisites (clear message instead of a failure halfway).
hint="or unpack an official ONNX Runtime release and configure with -DONNXRUNTIME_ROOT=DIR"
[[ $(uname -s)-$(uname -m) == Linux-x86_64 ]] || die "pinned binaries are for Linux x86_64 only; $hint"
for c in apt-get dpkg-deb unzip sha256sum python3; do
  command -v "$c" >/dev/null || die "'$c' not found (run scripts/install_deps.sh, $hint)"
done
python3 -m pip --version >/dev/null 2>&1 || die "'python3 -m pip' not available (apt-get install python3-pip, $hint)"
[[ -r $KEYRING ]] || die "$KEYRING missing (apt-get install debian-archive-keyring, $hint)"

# The Debian mirror: the system's own (first 'deb' source of a plain suite such as
# 'bookworm'), so no host name is written here; only the suite changes to trixie.
# DEBIAN_MIRROR=URI overrides it (e.g. a dated snapshot archive of Debian).
system_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do   # deb822 format
    [[ -r $f ]] || continue
    awk 'function flush() {
           if (!done && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
             n = split(suites, s, /[ \t]+/)
             for (i = 1; i <= n; i++) if (s[i] ~ /^[a-z]+$/) { split(uris, u, /[ \t]+/); print u[1]; done = 1; break }
           }
           types = uris = suites = enabled = ""
         }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
           gsub(/^[ \t]+|[ \t]+$/, "", v)
           if (k == "types") types = v; else if (k == "uris") uris = v
           else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v) }
         END { flush() }' "$f"
  done
  # one-line format: deb [opts] URI SUITE COMPONENTS...
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                       if ($(i + 1) ~ /^[a-z]+$/) print $i }'
}
mirror=${DEBIAN_MIRROR:-$(system_mirror | head -n 1 || true)}
[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources} (set DEBIAN_MIRROR=URI, $hint)"

# Build in a private temp dir next to DEST; removed on any exit.
mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
work=$tmp/.work
mkdir -p "$tmp/include" "$tmp/lib" "$work/lists/partial" "$work/cache/archives/partial" "$work/dl" "$work/x"
log=$work/log
run() {  # run a tool quietly; on failure show its last lines, then one error line
  local what=$1; shift
  "$@" >>"$log" 2>&1 || { tail -n 5 "$log" >&2; die "$what failed"; }
}
check_sha() {
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ $got == "$2" ]] || die "sha256 mismatch for ${1##*/} from $3: got $got, pinned $2 (registry serves a different file; check and update the pins in $me)"
}

# 1) Library from the PyPI wheel (fixed python/platform tags -> always the same file).
note "downloading $WHEEL (PyPI)"
run "pip download of onnxruntime==$ORT_VERSION" \
  python3 -m pip download -q --no-deps --only-binary :all: \
    --implementation cp --python-version 3.11 --abi cp311 --platform manylinux_2_27_x86_64 \
    -d "$work/dl" "onnxruntime==$ORT_VERSION"
[[ -f $work/dl/$WHEEL ]] || die "pip did not produce $WHEEL (got: $(ls "$work/dl"))"
check_sha "$work/dl/$WHEEL" "$WHEEL_SHA256" PyPI
run "unzip of $WHEEL" unzip -q -j "$work/dl/$WHEEL" \
  "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" onnxruntime/capi/libonnxruntime_providers_shared.so \
  onnxruntime/LICENSE onnxruntime/ThirdPartyNotices.txt -d "$work/x"
mv "$work/x/libonnxruntime.so.$ORT_VERSION" "$work/x/libonnxruntime_providers_shared.so" "$tmp/lib/"
mv "$work/x/LICENSE" "$work/x/ThirdPartyNotices.txt" "$tmp/"
ln -s "libonnxruntime.so.$ORT_VERSION" "$tmp/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$tmp/lib/libonnxruntime.so"

# 2) Headers from Debian trixie. Everything apt touches is private (-c file read last):
# no system sources, lists, cache or dpkg status; the system's update hooks are cleared.
note "downloading $DEB ($mirror $HDR_SUITE)"
echo "deb [signed-by=$KEYRING] $mirror $HDR_SUITE main" >"$work/sources.list"
cat >"$work/apt.conf" <<EOF
Dir::Etc::sourcelist "$work/sources.list";
Dir::Etc::sourceparts "-";
Dir::State::Lists "$work/lists";
Dir::State::status "/dev/null";
Dir::Cache "$work/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::Check-Valid-Until "false";
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Post-Invoke;
EOF
[[ $EUID -ne 0 ]] || echo 'APT::Sandbox::User "root";' >>"$work/apt.conf"  # private dirs are not _apt's
run "apt-get update of $HDR_SUITE" apt-get -q -c "$work/apt.conf" update
cd "$work/dl"   # apt-get download writes to the current directory
run "apt-get download of $HDR_PKG=$HDR_VERSION (no longer in $HDR_SUITE at $mirror?)" \
  apt-get -q -c "$work/apt.conf" download "$HDR_PKG=$HDR_VERSION"
cd /
[[ -f $work/dl/$DEB ]] || die "apt-get did not produce $DEB"
check_sha "$work/dl/$DEB" "$DEB_SHA256" "$mirror"
run "dpkg-deb -x $DEB" dpkg-deb -x "$work/dl/$DEB" "$work/deb"
cp -R "$work/deb/usr/include/onnxruntime/." "$tmp/include/"
cp "$work/deb/usr/share/doc/$HDR_PKG/copyright" "$tmp/HEADERS-COPYRIGHT"
[[ -f $tmp/include/onnxruntime_cxx_api.h ]] || die "$DEB has no usr/include/onnxruntime/onnxruntime_cxx_api.h"

# 3) Finish and swap in (the stamp goes last, so a half-built tree never looks valid).
echo "$ORT_VERSION" >"$tmp/VERSION_NUMBER"
rm -rf "$work"
echo "$STAMP" >"$tmp/.fetch-stamp"
done_already() { [[ -f $DEST/.fetch-stamp && $(<"$DEST/.fetch-stamp") == "$STAMP" ]]; }
if ! done_already; then   # (a concurrent run may have finished first: keep its copy)
  if [[ -e $DEST ]]; then mv -T "$DEST" "$DEST.old.$$" && rm -rf "$DEST.old.$$"; fi
  mv -T "$tmp" "$DEST" 2>/dev/null || done_already || die "could not move $tmp to $DEST"
fi
note "ONNX Runtime $ORT_VERSION (headers $HDR_VERSION) ready in $DEST"
