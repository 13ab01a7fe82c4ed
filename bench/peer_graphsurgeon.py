#!/usr/bin/env python3
"""The split benchmark's peer: onnx-graphsurgeon writing the same two stages at the same cut
tensors as an npusplit manifest names (load, import, cut twice, cleanup, export, save).

usage: peer_graphsurgeon.py MODEL MANIFEST OUT_DIR   (prints the seconds it took)
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx_graphsurgeon as gs

DTYPES = {"float": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_}


def main() -> None:
    model, manifest_path, out = sys.argv[1:4]
    with open(manifest_path) as f:
        manifest = json.load(f)
    crossing = manifest["crossing"]
    original_of = {c["name"]: c["original_tensor"] for c in crossing}
    t0 = time.perf_counter()
    graph = gs.import_onnx(onnx.load(model))

    # stage1: the model inputs -> the cut tensors.
    g1 = graph.copy()
    t1 = g1.tensors()
    outs = []
    for c in crossing:
        t = t1[c["original_tensor"]]
        t.dtype, t.shape = DTYPES[c["dtype"]], c["shape"]
        outs.append(t)
    g1.outputs = outs
    g1.cleanup()
    onnx.save(gs.export_onnx(g1), os.path.join(out, "peer_stage1.onnx"))

    # stage2: the cut tensors (+ the original inputs stage2 reads) -> the model outputs.
    t2 = graph.tensors()
    ins = []
    for vi in manifest["stage2"]["inputs"]:
        name = original_of.get(vi["name"], vi["name"])
        t = t2[name]
        t.inputs.clear()  # detach it from its stage1 producer
        t.dtype, t.shape = DTYPES[vi["dtype"]], vi["shape"]
        ins.append(t)
    graph.inputs = ins
    graph.cleanup()
    onnx.save(gs.export_onnx(graph), os.path.join(out, "peer_stage2.onnx"))
    print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
