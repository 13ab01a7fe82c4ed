#!/usr/bin/env python3
"""Dev tooling: regenerates the README's result tables from real runs of the CLI.

Usage: bench/readme_tables.py BUILD_DIR SHARED_DIR OUT_DIR > tables.md
Runs, per shared model: check (--json), split --verify, split --fix --verify, and for the
user-layout models a stage2 bench (ONNX Runtime, 2 threads). Standard library only.
"""
import json, os, subprocess, sys, time

build, shared, out = sys.argv[1], sys.argv[2], sys.argv[3]
cli = os.path.join(build, "npusplit")
models = []
for d in (os.path.join(shared, "models"), os.path.join(build, "models")):
    if os.path.isdir(d):
        models += [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".onnx")]
order = ["atto", "femto", "pico", "n", "s", "m", "l", "x"]
def key(p):
    b = os.path.basename(p)[len("deimv2_"):-len(".onnx")]
    v = b.replace("_official", "")
    return (order.index(v) if v in order else 99, b)
models.sort(key=key)
image = os.path.join(shared, "images", "chelsea.png")

def run(args):
    t = time.time()
    p = subprocess.run([cli] + args, capture_output=True, text=True)
    return p, time.time() - t

print("| model | nodes (after folding) | supported | unsupported | suspect | shapes: ONNX / folded / ORT | largest stage1: FLOPs on NPU | check time |")
print("|---|---|---|---|---|---|---|---|")
for m in models:
    p, dt = run(["check", m, "--json"])
    j = json.loads(p.stdout)
    s, sh = j["summary"], j["shapes"]
    print(f"| {os.path.basename(m)} | {s['nodes']} | {s['supported']} | {s['unsupported']} | {s['suspect']} | "
          f"{sh['known_by_onnx']}/{sh['tensors']} / {sh['folded_nodes']} folded / {sh['known_by_ort']} | "
          f"{100*s['stage1']['flops_share']:.1f}% | {dt:.2f} s |")
print()
print("| model | split: NPU FLOPs | cut tensors | per frame | stage1 check | verify max diff (NaN equal) | split --fix: NPU FLOPs | cut tensors | per frame | stage1 check | verify max diff | stage2 p50 (ORT, 2 threads), split / split --fix |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for m in models:
    b = os.path.basename(m)[:-5]
    row = [os.path.basename(m)]
    s2 = []
    for fix in ([], ["--fix"]):
        d = os.path.join(out, b + ("_fix" if fix else ""))
        p, dt = run(["split", m, "-o", d, "--verify", "--random", "1", "--image", image, "--json"] + fix)
        if p.returncode not in (0, 1):
            row += ["error: " + p.stderr.strip()[:60]] + [""] * 4
            continue
        j = json.loads(p.stdout)
        v = j["verify"]
        worst = max(o["max_abs_diff"] for o in v["outputs"])
        nan = sum(o["nonfinite_equal"] for o in v["outputs"])
        row += [f"{100*j['stage1']['npu_flops_share']:.1f}%", str(len(j["crossing"])),
                f"{j['crossing_bytes_per_frame']/1024:.0f} KiB", j["stage1"]["check"]["verdict"],
                f"{worst:g}" + (f" ({nan})" if nan else "") + ("" if v["ok"] else " FAIL")]
        if "_official" not in b:
            s1 = os.path.join(d, b + "_stage1.onnx"); st2 = os.path.join(d, b + "_stage2.onnx")
            p, _ = run(["bench", "--stage1", s1, "--stage2", st2, "--frames", "20", "--warmup", "3",
                        "--threads", "2", "--sequential", "--json"])
            try:
                bj = json.loads(p.stdout)
                mode = [x for x in bj["modes"] if x["mode"] == "sequential"][0]
                s2.append(f"{mode['stage2_ms']['p50']:.1f} ms")
            except Exception as e:  # noqa: the table says so rather than failing
                s2.append("n/a")
    row.append(" / ".join(s2) if s2 else "-")
    print("| " + " | ".join(row) + " |")
