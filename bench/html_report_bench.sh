#!/bin/bash
# The HTML report (check --html) of shared models: its size, how long npusplit takes to write it,
# and how long headless chromium takes to open it (wall time of a whole `chromium --headless
# --dump-dom`, browser start included, and the page's own time to interactive from
# performance.now()). For the README's figure; not a test.
# usage: bench/html_report_bench.sh BUILD_DIR SHARED_DIR OUT_DIR [MODEL...]   (default: deimv2_x)
set -euo pipefail
B=$1; S=$2; O=$3; shift 3
models=("$@"); ((${#models[@]})) || models=(deimv2_x)
command -v chromium >/dev/null || { echo "html_report_bench: error: chromium not installed" >&2; exit 2; }
mkdir -p "$O"
now() { date +%s.%N; }
printf '%-12s %7s %8s %10s %12s %14s %14s\n' model nodes modules html check_s html_write_s chromium_open_s
for m in "${models[@]}"; do
  f=$S/models/$m.onnx
  [[ -f $f ]] || f=$B/models/$m.onnx
  [[ -f $f ]] || { [[ -f $S/models/$m.onnx.xz ]] && xz -dc "$S/models/$m.onnx.xz" >"$O/$m.onnx" && f=$O/$m.onnx; }
  t0=$(now); "$B/npusplit" check "$f" >/dev/null || true; t1=$(now)
  "$B/npusplit" check "$f" --html "$O/$m.html" >/dev/null || true; t2=$(now)
  # Open it three times, keep the best (the first start of chromium warms the disk cache).
  best=999
  for i in 1 2 3; do
    a=$(now)
    chromium --headless --disable-gpu --no-sandbox --no-first-run --user-data-dir="$O/profile" \
      --dump-dom "file://$(realpath "$O/$m.html")" >"$O/$m.dom.html" 2>/dev/null
    b=$(now)
    best=$(echo "$best $a $b" | awk '{d=$3-$2; print (d<$1)?d:$1}')
  done
  ready=$(grep -o 'data-ready-ms="[0-9]*"' "$O/$m.dom.html" | grep -o '[0-9]*' || echo '?')
  nodes=$(grep -o 'data-nodes="[0-9]*"' "$O/$m.dom.html" | grep -o '[0-9]*' | head -1)
  mods=$(grep -o 'data-modules="[0-9]*"' "$O/$m.dom.html" | grep -o '[0-9]*' | head -1)
  printf '%-12s %7s %8s %9sK %12.2f %14.2f %10.2f (page %s ms)\n' "$m" "$nodes" "$mods" \
    "$(( $(stat -c %s "$O/$m.html") / 1024 ))" "$(echo "$t1 - $t0" | bc)" "$(echo "($t2 - $t1) - ($t1 - $t0)" | bc)" "$best" "$ready"
done
