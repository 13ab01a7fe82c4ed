#!/usr/bin/env bash
# Usage: tests/install/run.sh BUILD_DIR [SHARED_DIR]   (ctest: install_consumer)
#
# Installs BUILD_DIR into a temporary prefix, moves the prefix elsewhere (so nothing can lean
# on the source tree, the build tree or their .cache/), then
#  1. checks the installed CLI's RUNPATH is only $ORIGIN/../lib and that it loads the
#     ONNX Runtime installed beside it;
#  2. builds tests/install/consumer with find_package(npusplit) against the moved prefix and
#     runs it;
#  3. runs the moved CLI's `check --json` on a shared model and compares it with the build
#     tree's CLI (same document, byte for byte).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
shared=${2:-${NPUSPLIT_SHARED:-}}
fail() { echo "install test: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/npusplit-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" 2>&1 || { tail -n 20 "$tmp/install.log"; fail "cmake --install"; }
mkdir -p "$tmp/elsewhere"
mv "$tmp/first" "$tmp/elsewhere/npusplit"
prefix=$tmp/elsewhere/npusplit
cli=$prefix/bin/npusplit

# 1. RUNPATH and the loaded ONNX Runtime
runpath=$(readelf -d "$cli" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[[ $runpath == '$ORIGIN/../lib' ]] || fail "RUNPATH of the installed CLI is '$runpath', expected \$ORIGIN/../lib"
ort=$(env -u LD_LIBRARY_PATH ldd "$cli" | awk '/libonnxruntime/ {print $3}')
ort=$(realpath "$ort")
[[ $ort == "$prefix/lib/"* ]] || fail "installed CLI loads ONNX Runtime from '$ort', not from $prefix/lib"
if grep -rIl -e "$build" "$prefix/lib/cmake" "$prefix/lib/npusplit" >/dev/null 2>&1; then
  fail "installed CMake files mention the build tree: $(grep -rIl -e "$build" "$prefix/lib/cmake" "$prefix/lib/npusplit" | head -n 3)"
fi
ls "$prefix/share/npusplit/rules/"*.yaml >/dev/null || fail "no rules installed in share/npusplit/rules"
"$cli" --version >"$tmp/version.txt" || fail "installed CLI --version"
ort_version=$(basename "$(realpath "$prefix/lib/libonnxruntime.so.1")"); ort_version=${ort_version#libonnxruntime.so.}
grep -qx "  onnxruntime $ort_version" "$tmp/version.txt" ||
  fail "installed CLI --version does not name the bundled ONNX Runtime $ort_version: $(cat "$tmp/version.txt")"
plugin_line="  image/video plugin: $(realpath "$prefix/lib/npusplit/libnpusplit_media_codecs.so")"
grep -qxF "$plugin_line" "$tmp/version.txt" ||
  fail "the installed CLI does not find its image/video plugin in lib/npusplit: $(grep plugin "$tmp/version.txt")"
echo "installed CLI: RUNPATH $runpath, ONNX Runtime ${ort#"$tmp"/}, plugin ${plugin_line##*: }"

# 2. a consumer project
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$here/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$tmp/consumer.log" 2>&1 ||
  { tail -n 30 "$tmp/consumer.log"; fail "configure of the consumer (find_package(npusplit))"; }
cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 || { tail -n 30 "$tmp/consumer.log"; fail "build of the consumer"; }
"$tmp/consumer/consumer" || fail "the consumer exited $?"

# 3. the moved CLI on a shared model, against the build tree's
model=$shared/models/deimv2_atto.onnx
if [[ -n $shared && -f $model ]]; then
  cd "$tmp"   # nowhere near the source tree
  set +e
  env -u LD_LIBRARY_PATH "$cli" check "$model" --json >"$tmp/installed.json"; rc_installed=$?
  "$build/npusplit" check "$model" --json >"$tmp/built.json"; rc_built=$?
  set -e
  [[ $rc_installed == "$rc_built" ]] || fail "check exit code: installed $rc_installed, build tree $rc_built"
  cmp -s "$tmp/installed.json" "$tmp/built.json" || fail "check --json of the installed CLI differs from the build tree's"
  echo "installed CLI check deimv2_atto: exit $rc_installed, same JSON as the build tree's ($(wc -c <"$tmp/installed.json") bytes)"
else
  echo "shared models absent (NPUSPLIT_SHARED): skipping the installed CLI's check of deimv2_atto"
fi
echo "install test: OK"
