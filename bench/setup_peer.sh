#!/bin/sh
# Installs the benchmark's peer (onnx-graphsurgeon, with onnx and numpy) into a private venv
# under .cache/bench-peer, once. Nothing is installed system-wide.
#   usage: bench/setup_peer.sh        (prints the venv's python)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/bench-peer"
if ! "$venv/bin/python" -c "import onnx_graphsurgeon" >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet onnx-graphsurgeon onnx numpy
fi
"$venv/bin/python" -c "import onnx_graphsurgeon" >/dev/null
echo "$venv/bin/python"
