#!/bin/sh
# npusplit's split and check of a model side by side with the peer (onnx-graphsurgeon writing
# the same two stages at the same cut tensors), in one run; prints a table.
#   usage: bench/split_vs_peer.sh NPUSPLIT MODEL [RUNS]     (RUNS: default 3, the median counts)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=$1
model=$2
runs=${3:-3}
py=$("$here/setup_peer.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall seconds and peak RSS (KiB) of one command
timed() { /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; cat "$work/t"; }

: >"$work/split"; : >"$work/check"; : >"$work/peer"
for i in $(seq "$runs"); do
  rm -rf "$work/out"; mkdir -p "$work/out"
  timed "$cli" split "$model" -o "$work/out" >>"$work/split"
  timed "$cli" check "$model" >>"$work/check" || true
  "$py" "$here/peer_graphsurgeon.py" "$model" "$work/out/$(basename "$model" .onnx)_split.json" "$work/out" >/dev/null
  timed "$py" "$here/peer_graphsurgeon.py" "$model" "$work/out/$(basename "$model" .onnx)_split.json" "$work/out" >>"$work/peer"
done
split_s=$(cut -d' ' -f1 "$work/split" | median)
split_rss=$(cut -d' ' -f2 "$work/split" | median)
check_s=$(cut -d' ' -f1 "$work/check" | median)
peer_s=$(cut -d' ' -f1 "$work/peer" | median)
peer_rss=$(cut -d' ' -f2 "$work/peer" | median)
size=$(stat -c %s "$model")
awk -v s="$split_s" -v sr="$split_rss" -v c="$check_s" -v p="$peer_s" -v pr="$peer_rss" -v z="$size" -v n="$runs" -v m="$(basename "$model")" 'BEGIN {
  printf "%s (%.0f MB), median of %d runs, same machine, same run\n", m, z / 1e6, n
  printf "| | wall s | peak RSS MB | RSS / model file |\n| --- | --- | --- | --- |\n"
  printf "| npusplit split (both stages + manifest, no verify) | %.2f | %.0f | %.2fx |\n", s, sr / 1024, sr * 1024 / z
  printf "| onnx-graphsurgeon, same two stages at the same cut | %.2f | %.0f | %.2fx |\n", p, pr / 1024, pr * 1024 / z
  printf "| npusplit check | %.2f | | |\n", c
  printf "split is %.1fx faster than the peer (target >= 4x); check takes %.2f of the peer time (target <= 0.2)\n", p / s, c / p
}'
