#!/usr/bin/env bash
# Usage: scripts/make_sysroot_arm64.sh [DEST]
#
# Assembles a private arm64 (aarch64) Debian 12 sysroot for the cross build into DEST
# (default ${NPUSPLIT_CACHE:-<repo>/.cache}/aarch64/sysroot): npusplit's build dependencies
# from Debian's own arm64 .debs, downloaded with a private apt configuration (own sources,
# lists, cache and an empty dpkg status, so every dependency is fetched) and unpacked with
# dpkg-deb -x. Nothing is installed on the build host: Debian multiarch (dpkg
# --add-architecture arm64) would make apt remove amd64 packages (libopencv-dev:arm64 and the
# GDAL stack are not co-installable), so it is never used.
# Fix-ups: absolute symlinks made relative to the sysroot, the BLAS/LAPACK alternatives links
# dpkg would have made, and a Raspberry-Pi-5-like proc/cpuinfo (Cortex-A76) so ONNX Runtime
# under qemu-aarch64 -L DEST finds a CPU it knows instead of warning on stderr.
# A stamp (suite + package list) makes later runs exit at once, without network.
set -euo pipefail

SUITE=bookworm
PACKAGES=(
  libc6-dev libstdc++-12-dev
  libprotobuf-dev libopencv-dev libyaml-cpp-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
)

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/fetch_common.sh"
repo=$(cd "$here/.." && pwd)
DEST=$(realpath -m "${1:-${NPUSPLIT_CACHE:-$repo/.cache}/aarch64/sysroot}")
STAMP="sysroot arm64 $SUITE: ${PACKAGES[*]}"

if stamp_ok "$DEST" .sysroot-stamp "$STAMP"; then exit 0; fi
require_tools "" apt-get dpkg-deb find

t0=$SECONDS
mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
work=$tmp/.work
FETCH_LOG=$(dirname "$DEST")/sysroot.log
: >"$FETCH_LOG"
mkdir -p "$work"

private_apt "$work/apt" arm64 "$SUITE" "$SUITE-updates"
note "downloading ${#PACKAGES[@]} packages and their dependencies (arm64, once: ~240 MB)"
run "apt-get --download-only of the arm64 packages" \
  apt-get -q -y -c "$work/apt/apt.conf" install --download-only "${PACKAGES[@]}"
debs=("$work/apt/cache/archives/"*.deb)
((${#debs[@]} > 50)) || die "apt-get fetched only ${#debs[@]} .debs (see $FETCH_LOG)"
note "unpacking ${#debs[@]} .debs"
for d in "${debs[@]}"; do run "dpkg-deb -x ${d##*/}" dpkg-deb -x "$d" "$tmp"; done
# the versions that went in, for the record (and for the onnx cross build's stamp)
for d in "${debs[@]}"; do dpkg-deb -f "$d" Package Version | paste -sd' '; done | sort >"$tmp/.packages"

# Absolute symlinks point into the build host's /: make them relative inside the sysroot.
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  [[ $target == /* ]] || continue
  rel=$(realpath -m --relative-to="$(dirname "$link")" "$tmp$target")
  ln -sfn "$rel" "$link"
done < <(find "$tmp" -path "$work" -prune -o -type l -print0)
# What update-alternatives would have linked.
for lib in blas lapack; do
  d=$tmp/usr/lib/aarch64-linux-gnu
  if [[ -e $d/$lib/lib$lib.so.3 && ! -e $d/lib$lib.so.3 ]]; then ln -s "$lib/lib$lib.so.3" "$d/lib$lib.so.3"; fi
done
# ONNX Runtime's cpuinfo reads /proc/cpuinfo; qemu -L serves this one (Raspberry Pi 5: 4x A76).
mkdir -p "$tmp/proc"
for i in 0 1 2 3; do
  printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n' "$i"
done >"$tmp/proc/cpuinfo"

rm -rf "$work"
swap_in "$tmp" "$DEST" .sysroot-stamp "$STAMP"
note "arm64 sysroot ready in $DEST ($(du -sh "$DEST" | cut -f1), $((SECONDS - t0)) s)"
