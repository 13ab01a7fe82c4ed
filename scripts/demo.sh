#!/usr/bin/env bash
# README command 1: set up, build and run the demo (no user files needed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
exec "${NPUSPLIT_BUILD_DIR:-$root/build}/npusplit" demo --out "${1:-$root/demo_out}"
