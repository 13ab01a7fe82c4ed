#!/usr/bin/env bash
# README command 2: set up, build and run every test. The large test models are unpacked into
# the build tree by the test fixture; shared data is found through NPUSPLIT_SHARED (default
# ../shared beside the project).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
cd "${NPUSPLIT_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 1200 -j "$(nproc)"
