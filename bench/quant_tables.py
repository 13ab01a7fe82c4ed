#!/usr/bin/env python3
"""README tables of `npusplit quant`: split --calib every model on the shared photos (the real-weight
PicoDet on its two pages and the photos), then quant --json; prints markdown.

usage: python3 bench/quant_tables.py BUILD_DIR SHARED_DIR OUT_DIR [MODEL_DIR_FOR_UNPACKED]
"""
import json
import os
import subprocess
import sys
import time

build, shared, out = sys.argv[1:4]
extra = sys.argv[4] if len(sys.argv) > 4 else os.path.join(build, "models")
npusplit = os.path.join(build, "npusplit")
photos = os.path.join(shared, "images")
real = os.path.join(shared, "models", "real")
variants = ["atto", "femto", "pico", "n", "s", "m", "l", "x"]
models = []
for v in variants:
    for suffix in ("", "_official"):
        name = "deimv2_%s%s.onnx" % (v, suffix)
        for d in (os.path.join(shared, "models"), extra):
            if os.path.exists(os.path.join(d, name)):
                models.append((os.path.join(d, name), [photos], []))
                break
models.append((os.path.join(real, "picodet_layout_cdla.onnx"),
               [os.path.join(real, "document_page1.png"), os.path.join(real, "document_page2.png"), photos],
               ["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]))


def db(v):
    return "exact" if v is None else "%.1f" % v


rows, drift_rows = [], []
for model, calib, pre in models:
    stem = os.path.basename(model)[:-5]
    d = os.path.join(out, stem)
    t0 = time.time()
    r = subprocess.run([npusplit, "split", model, "-o", d, "--calib", *calib, *pre], capture_output=True, text=True)
    if r.returncode != 0:
        rows.append("| %s | split --calib failed: %s | | | | | |" % (stem, r.stderr.strip().splitlines()[-1]))
        continue
    split_s = time.time() - t0
    q = subprocess.run([npusplit, "quant", os.path.join(d, stem + "_split.json"), "--calib",
                        os.path.join(d, stem + "_calib.npy"), "--json"], capture_output=True, text=True)
    if q.returncode != 0:
        rows.append("| %s | quant failed: %s | | | | | |" % (stem, q.stderr.strip()))
        continue
    j = json.loads(q.stdout)
    for c in j["crossing"]:
        mixed = ("%.0fx at %s" % (c["mixed_range"]["ratio"] or float("inf"), c["mixed_range"]["node"])
                 if "mixed_range" in c else "")
        rows.append("| %s | %s %s | [%.3g, %.3g] | %s | %s | %d | %s | %s |" % (
            stem, c["name"], "x".join(str(x) for x in c["shape"]), c["min"], c["max"], db(c["sqnr8_db"]),
            db(c["sqnr16_db"]), c["levels8"], "a16" if c["a16"] else "", mixed))
    outs = ", ".join("%s %s" % (o["output"], db(o["sqnr_db"])) for o in j["outputs"])
    dd = j.get("detection_drift")
    drift_rows.append("| %s | %d | %s | %s | %s | %s | %d | %.0f s + %.0f s |" % (
        stem, j["frames"], outs,
        "%.1f%%" % (100 * dd["kept_share"]) if dd else "-", "%.3f" % dd["mean_iou"] if dd else "-",
        "%.4f" % dd["mean_abs_score_change"] if dd else "-", dd["class_flips"] if dd else 0,
        split_s, j["timing_s"]["ranges"] + j["timing_s"]["emulation"]))
    sys.stderr.write("%s done\n" % stem)

print("| model | crossing tensor | range | 8-bit SQNR dB | 16-bit SQNR dB | 8-bit levels | .alls | mixed ranges |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
print()
print("| model | frames | whole stage1 emulated: output SQNR dB | top-100 kept | mean IoU | mean abs score change | class flips | split --calib + quant |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(drift_rows))
