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
# wall seconds, peak RSS (KiB) and CPU seconds (user + system, children included) of one
# command: on a shared machine the CPU time is the fairer comparison, so both are printed.
# Each command starts with no dirty pages of the one before it (sync, untimed): otherwise the
# disk is still writing the previous command's 140 MB while the next one writes (and npusplit,
# which fsyncs its outputs before the rename, waits for that; the peer's onnx.save does not fsync).
timed() {
  sync
  /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$work/t"
}

: >"$work/split"; : >"$work/nofix"; : >"$work/check"; : >"$work/peer"
stem=$(basename "$model" .onnx)
for i in $(seq "$runs"); do
  rm -rf "$work/out" "$work/raw"; mkdir -p "$work/out" "$work/raw"
  timed "$cli" split "$model" -o "$work/out" >>"$work/split"
  # The peer cuts the file as it is: its cut tensors are those of `split --no-fix` (the passes
  # rename some tensors of the default cut).
  timed "$cli" split "$model" -o "$work/raw" --no-fix >>"$work/nofix"
  # check exits 1 when it has findings (it has, on every DEIMv2): that is a result, not a failure
  timed sh -c '"$0" check "$1"; [ $? -le 1 ]' "$cli" "$model" >>"$work/check"
  timed "$py" "$here/peer_graphsurgeon.py" "$model" "$work/raw/${stem}_split.json" "$work/raw" >>"$work/peer"
done
split_s=$(cut -d' ' -f1 "$work/split" | median)
split_c=$(cut -d' ' -f3 "$work/split" | median)
nofix_c=$(cut -d' ' -f3 "$work/nofix" | median)
check_c=$(cut -d' ' -f3 "$work/check" | median)
peer_c=$(cut -d' ' -f3 "$work/peer" | median)
split_rss=$(cut -d' ' -f2 "$work/split" | median)
nofix_s=$(cut -d' ' -f1 "$work/nofix" | median)
nofix_rss=$(cut -d' ' -f2 "$work/nofix" | median)
check_s=$(cut -d' ' -f1 "$work/check" | median)
peer_s=$(cut -d' ' -f1 "$work/peer" | median)
peer_rss=$(cut -d' ' -f2 "$work/peer" | median)
size=$(stat -c %s "$model")
awk -v sc="$split_c" -v nc="$nofix_c" -v cc="$check_c" -v pc="$peer_c" -v ns="$nofix_s" -v nr="$nofix_rss" -v s="$split_s" -v sr="$split_rss" -v c="$check_s" -v p="$peer_s" -v pr="$peer_rss" -v z="$size" -v n="$runs" -v m="$(basename "$model")" 'BEGIN {
  printf "%s (%.0f MB), median of %d runs, same machine, same run\n", m, z / 1e6, n
  printf "| | wall s | CPU s | peak RSS MB | RSS / model file |\n| --- | --- | --- | --- | --- |\n"
  printf "| npusplit split (both stages + manifest, no verify) | %.2f | %.2f | %.0f | %.2fx |\n", s, sc, sr / 1024, sr * 1024 / z
  printf "| npusplit split --no-fix (the cut the peer writes) | %.2f | %.2f | %.0f | %.2fx |\n", ns, nc, nr / 1024, nr * 1024 / z
  printf "| onnx-graphsurgeon, same two stages at the same cut | %.2f | %.2f | %.0f | %.2fx |\n", p, pc, pr / 1024, pr * 1024 / z
  printf "| npusplit check | %.2f | %.2f | | |\n", c, cc
  printf "split: %.2fx the peer speed by wall time, %.2fx by CPU time (--no-fix: %.2fx, %.2fx; target >= 4x)\n", p / s, pc / sc, p / ns, pc / nc
  printf "check: %.2f of the peer time by wall, %.2f by CPU (target <= 0.2)\n", c / p, cc / pc
}'
