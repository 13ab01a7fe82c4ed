#!/usr/bin/env bash
# Usage: scripts/test_arm64.sh [--all]
#
# Runs the arm64 cross build (scripts/build.sh --arch arm64 -> build-arm64) under QEMU user
# mode (qemu-aarch64 -L <sysroot>; no binfmt registration needed):
#  1. the model-light unit tests: the GoogleTest suite with the shared models hidden (the tests
#     that need them skip themselves); --all runs them with the models too (20-100x slower
#     under QEMU than native: hours, not for CI);
#  2. `npusplit check` of deimv2_atto: the same --json document and exit code as this machine's
#     native build (build/npusplit), when there is one;
#  3. `npusplit split --verify` of deimv2_atto: bit-exact (max diff 0), and the same stage files
#     (sha256 in the manifest) as the native build's split.
# Prints the time of each part.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
me=${0##*/}
die() { echo "$me: error: $*" >&2; exit 1; }
all=0
[[ ${1:-} == --all ]] && all=1
build=${NPUSPLIT_BUILD_DIR:-$root/build-arm64}
native=${NPUSPLIT_NATIVE_BUILD_DIR:-$root/build}
sysroot=$(realpath -m "${NPUSPLIT_CACHE:-$root/.cache}/aarch64/sysroot")
shared=${NPUSPLIT_SHARED:-$root/../shared}
[[ -x $build/npusplit ]] || die "no cross build in $build (run scripts/build.sh --arch arm64)"
[[ -d $sysroot/usr/lib ]] || die "no arm64 sysroot in $sysroot (run scripts/build.sh --arch arm64)"
command -v qemu-aarch64 >/dev/null || die "qemu-aarch64 not found (apt-get install qemu-user)"
emu=(qemu-aarch64 -L "$sysroot")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/npusplit-arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

t0=$SECONDS
# One process for the whole suite (ctest would start QEMU and load ONNX Runtime once per test
# case: ~3 s each).
tests=$build/tests/npusplit_tests
[[ -x $tests ]] || die "no $tests in the cross build"
if ((all)); then
  echo "== unit tests under qemu-aarch64 (all, with the shared models)"
  (cd "$build" && "${emu[@]}" "$tests" --gtest_brief=1) || fails=$((fails + 1))
else
  echo "== model-light unit tests under qemu-aarch64 (shared models hidden: those tests skip)"
  mkdir -p "$tmp/no-shared"
  (cd "$build" && NPUSPLIT_SHARED=$tmp/no-shared "${emu[@]}" "$tests" --gtest_brief=1) || fails=$((fails + 1))
fi
t_unit=$((SECONDS - t0))

model=$shared/models/deimv2_atto.onnx
if [[ -f $model ]]; then
  echo "== npusplit check deimv2_atto under qemu-aarch64"
  t1=$SECONDS
  set +e
  "${emu[@]}" "$build/npusplit" check "$model" --json >"$tmp/arm64.json" 2>"$tmp/arm64.err"; rc=$?
  set -e
  t_check=$((SECONDS - t1))
  if [[ -s $tmp/arm64.err ]]; then echo "stderr (expected none):"; cat "$tmp/arm64.err"; fails=$((fails + 1)); fi
  if [[ -x $native/npusplit ]]; then
    set +e; "$native/npusplit" check "$model" --json >"$tmp/native.json"; rc_native=$?; set -e
    if [[ $rc == "$rc_native" ]] && cmp -s "$tmp/arm64.json" "$tmp/native.json"; then
      echo "check: exit $rc, --json identical to the native build's ($(wc -c <"$tmp/arm64.json") bytes)"
    else
      echo "check: FAILED: exit $rc (native $rc_native), documents $(cmp -s "$tmp/arm64.json" "$tmp/native.json" && echo equal || echo differ)"
      fails=$((fails + 1))
    fi
  else
    echo "check: exit $rc (no native build in $native to compare with)"
    [[ $rc == 1 ]] || fails=$((fails + 1))
  fi

  echo "== npusplit split --verify deimv2_atto under qemu-aarch64"
  t1=$SECONDS
  if "${emu[@]}" "$build/npusplit" split "$model" -o "$tmp/split-arm64" --verify >"$tmp/split.txt" 2>&1; then
    grep -i "verify" "$tmp/split.txt" | head -n 3
  else
    cat "$tmp/split.txt"; echo "split --verify: FAILED"; fails=$((fails + 1))
  fi
  t_split=$((SECONDS - t1))
  if [[ -x $native/npusplit && -f $tmp/split-arm64/deimv2_atto_split.json ]]; then
    "$native/npusplit" split "$model" -o "$tmp/split-native" >/dev/null
    sums() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["stage1"]["sha256"], m["stage2"]["sha256"])' "$1"; }
    if [[ $(sums "$tmp/split-arm64/deimv2_atto_split.json") == $(sums "$tmp/split-native/deimv2_atto_split.json") ]]; then
      echo "split: stage1 and stage2 byte-identical to the native build's"
    else
      echo "split: FAILED: the stages differ from the native build's"; fails=$((fails + 1))
    fi
  fi
  echo "times: unit tests ${t_unit} s, check ${t_check} s, split --verify ${t_split} s (qemu-aarch64)"
else
  echo "shared model $model absent (NPUSPLIT_SHARED): check/split under qemu skipped"
  echo "times: unit tests ${t_unit} s (qemu-aarch64)"
fi
((fails == 0)) || die "$fails part(s) failed"
echo "arm64 under qemu: OK"
