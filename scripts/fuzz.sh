#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [MINUTES] [extra libFuzzer flags...]
#
# Builds the libFuzzer target (clang, ASan + UBSan, the whole core library instrumented) into
# build-fuzz/, writes the seed corpus (small models built in code + the smallest shared
# DEIMv2 export), and fuzzes load -> validate -> resolve -> check -> split for MINUTES
# (default 10) on one core. Crashes, hangs (> 20 s) and sanitizer reports land in
# build-fuzz/artifacts/; turn each into a regression test under tests/data/fuzz/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
shift || true
bash "$root/scripts/install_deps.sh"
if ! command -v clang++ >/dev/null || ! [ -d /usr/lib/llvm-14/lib/clang ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
build=${NPUSPLIT_FUZZ_DIR:-$root/build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DNPUSPLIT_FUZZ=ON -DNPUSPLIT_BUILD_TESTS=OFF -DNPUSPLIT_BUILD_BENCH=OFF
fi
cmake --build "$build" --target npusplit_fuzz_model npusplit_fuzz_seeds --parallel "$(nproc)"
corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
"$build/fuzz/npusplit_fuzz_seeds" "$build/seeds"
shared=${NPUSPLIT_SHARED:-$root/../shared}
[ -f "$shared/models/deimv2_atto.onnx" ] && cp -f "$shared/models/deimv2_atto.onnx" "$build/seeds/"
# ONNX Runtime's and protobuf's own allocations at exit are not npusplit's leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build"
exec "$build/fuzz/npusplit_fuzz_model" "$corpus" "$build/seeds" \
  -dict="$root/fuzz/onnx.dict" -max_total_time=$((minutes * 60)) -timeout=20 -rss_limit_mb=6144 \
  -max_len=2000000 -artifact_prefix="$build/artifacts/" -print_final_stats=1 -reload=0 "$@"
