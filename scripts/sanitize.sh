#!/usr/bin/env bash
# Usage: scripts/sanitize.sh [asan|tsan|all]   (default: all)
#
# asan: builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, every
#       npusplit target instrumented, UB fatal) into build-asan/ and runs the whole ctest suite
#       (but the install test, which builds an unsanitized consumer).
# tsan: builds with ThreadSanitizer into build-tsan/ and runs the pipeline tests and
#       `npusplit bench --pipelined` on a split of the demo model and of deimv2_atto.
# Suppressions (tests/sanitizers/*.supp) cover only third-party libraries, each explained.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
bash "$root/scripts/install_deps.sh"
export NPUSPLIT_SHARED=${NPUSPLIT_SHARED:-$root/../shared}
jobs=$(nproc)

configure() {  # DIR SANITIZERS
  if [ ! -f "$1/build.ninja" ]; then
    cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNPUSPLIT_SANITIZE="$2" \
      -DNPUSPLIT_BUILD_BENCH=OFF $(extra_cmake_args)
  fi
}
extra_cmake_args() { [ -n "${NPUSPLIT_CMAKE_ARGS:-}" ] && echo "$NPUSPLIT_CMAKE_ARGS" || true; }

if [ "$what" = asan ] || [ "$what" = all ]; then
  b=$root/build-asan
  configure "$b" address,undefined
  cmake --build "$b" --parallel "$jobs"
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:suppressions=$root/tests/sanitizers/asan.supp
  export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # install_consumer builds a separate project against the installed static library with the
  # consumer's own (unsanitized) flags: a sanitized archive cannot link there, and the install
  # path is the same code the release build's run of that test checks.
  (cd "$b" && ctest --output-on-failure --timeout 1800 -j "$jobs" -E '^install_consumer$')
fi

if [ "$what" = tsan ] || [ "$what" = all ]; then
  b=$root/build-tsan
  configure "$b" thread
  cmake --build "$b" --parallel "$jobs" --target npusplit npusplit_thread_tests
  export TSAN_OPTIONS="suppressions=$root/tests/sanitizers/tsan.supp halt_on_error=1 second_deadlock_stack=1"
  "$b/tests/npusplit_thread_tests" --gtest_filter='TwoStagePipeline.*:OrtStage.*:FusedAttention.*'
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$b/npusplit" demo --out "$tmp/demo" >/dev/null
  "$b/npusplit" bench --stage1 "$tmp/demo/demo_detr_stage1.onnx" --stage2 "$tmp/demo/demo_detr_stage2.onnx" \
    --frames 40 --pipelined
  if [ -f "$NPUSPLIT_SHARED/models/deimv2_atto.onnx" ]; then
    "$b/npusplit" split "$NPUSPLIT_SHARED/models/deimv2_atto.onnx" -o "$tmp/atto" >/dev/null
    "$b/npusplit" bench --stage1 "$tmp/atto/deimv2_atto_stage1.onnx" --stage2 "$tmp/atto/deimv2_atto_stage2.onnx" \
      --frames 20 --pipelined --threads 1
  fi
  echo "tsan: pipeline tests and bench --pipelined clean"
fi
