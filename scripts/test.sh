#!/usr/bin/env bash
# README command 2: set up, build and run every test (GoogleTest, the install test and the
# Python module's pytest suite, all through ctest). The large test models are unpacked into the
# build tree by the test fixture; shared data is found through NPUSPLIT_SHARED (default
# ../shared beside the project).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install_deps.sh"
py=$(bash "$root/scripts/python_env.sh")
bash "$root/scripts/build.sh" -DNPUSPLIT_BUILD_PYTHON=ON -DPython_EXECUTABLE="$py"
cd "${NPUSPLIT_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 1200 -j "$(nproc)"
