#!/usr/bin/env bash
# Usage: scripts/python_env.sh    (prints the environment's python)
#
# The Python environment the module's build and tests use: a venv in
# ${NPUSPLIT_CACHE:-<repo>/.cache}/python-<version> with pinned nanobind, numpy, pytest and
# scikit-build-core (pip, from PyPI), made once; later runs only print its path (no network).
# A venv keeps this off the system's Python (Debian's is externally managed).
set -euo pipefail
PINS=(nanobind==3.1.0 numpy==2.4.6 pytest==9.2.0 scikit-build-core==1.1.2)

me=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/fetch_common.sh"
repo=$(cd "$here/.." && pwd)
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || die "'$PY' not found (apt-get install python3 python3-venv python3-dev)"
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
DEST=$(realpath -m "${NPUSPLIT_CACHE:-$repo/.cache}/python-$pyver")
STAMP="$("$PY" -c 'import sys; print(sys.version.split()[0], sys.executable)') ${PINS[*]}"

if stamp_ok "$DEST" .env-stamp "$STAMP" && "$DEST/bin/python" -c 'import nanobind, numpy, pytest' 2>/dev/null; then
  echo "$DEST/bin/python"
  exit 0
fi
mkdir -p "$(dirname "$DEST")"
tmp=$DEST.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
note "making the Python $pyver environment for the module's build and tests (${PINS[*]})"
# Built in place (a venv is not relocatable), so any old one goes first.
rm -rf "$DEST"
run "python -m venv" "$PY" -m venv "$DEST" ||
  die "python -m venv failed (apt-get install python3-venv)"
run "pip install ${PINS[*]}" "$DEST/bin/python" -m pip install -q "${PINS[@]}"
echo "$STAMP" >"$DEST/.env-stamp"
echo "$DEST/bin/python"
