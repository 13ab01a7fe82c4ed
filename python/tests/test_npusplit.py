"""The Python module against the CLI on the shared models: same documents, same cut, same errors."""
import json
import subprocess

import numpy as np
import pytest

import npusplit
from conftest import shared_model


def run_cli(cli, *args):
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("name", ["deimv2_atto.onnx", "deimv2_n.onnx"])
def test_check_is_the_cli_document(cli, name):
    model = shared_model(name)
    rc, out, _ = run_cli(cli, "check", model, "--json")
    r = npusplit.check(model)
    assert r.document == json.loads(out)
    assert r.exit_code == rc == 1
    # the objects carry the same facts as the document
    assert len(r.verdicts) == len(r.document["nodes"])
    assert len(r.unsupported) == r.summary["unsupported"]
    assert len(r.suspect) == r.summary["suspect"]
    assert r.crossing == r.summary["stage1"]["crossing"]


def test_check_findings_are_objects():
    r = npusplit.load(shared_model("deimv2_n.onnx")).check(target="hailo8")
    bad = r.unsupported[0]
    assert isinstance(bad, npusplit.NodeVerdict) and not bad.supported
    assert bad.findings and all(isinstance(f, npusplit.Finding) for f in bad.findings)
    assert bad.reasons == [f.reason for f in bad.findings] and all(bad.reasons)
    ops = {v.op for v in r.unsupported}
    assert "GridSample" in ops   # the op DEIMv2's decoder is built on, which the parser rejects
    assert all(f.severity in ("error", "suspect", "warning") and f.rule and f.source for f in r.findings)


def test_other_target_and_dfc_as_cli(cli):
    model = shared_model("deimv2_atto.onnx")
    _, out, _ = run_cli(cli, "check", model, "--json", "--target", "hailo10h", "--dfc", "5.3")
    assert npusplit.check(model, target="hailo10h", dfc="5.3").document == json.loads(out)


def _without_paths(manifest, out_dir):
    text = json.dumps(manifest, sort_keys=True).replace(str(out_dir), "OUT")
    return json.loads(text)


def test_split_as_cli_and_verify(cli, tmp_path):
    model = shared_model("deimv2_n.onnx")
    rc, _, err = run_cli(cli, "split", model, "-o", tmp_path / "cli", "--verify")
    assert rc == 0, err
    cli_manifest = json.loads((tmp_path / "cli" / "deimv2_n_split.json").read_text())

    s = npusplit.split(model, tmp_path / "py", verify=True)
    assert s.verify is not None and s.verify.ok and s.verify.max_abs_diff == 0.0
    assert _without_paths(s.manifest, tmp_path / "py") == _without_paths(cli_manifest, tmp_path / "cli")
    assert s.crossing == [c["original_tensor"] for c in cli_manifest["crossing"]]
    assert s.manifest["stage1"]["sha256"] == cli_manifest["stage1"]["sha256"]
    assert s.manifest["stage2"]["sha256"] == cli_manifest["stage2"]["sha256"]
    # the DFC's start/end nodes are the ones in the parser command
    cmd = s.hailo_parser_command
    assert s.start_nodes and s.end_nodes
    assert all(f"'{n}'" in cmd for n in s.start_nodes + s.end_nodes)

    v = npusplit.verify(model, s.stage1, s.stage2, random=1)
    rc, out, _ = run_cli(cli, "verify", model, s.stage1, s.stage2, "--random", "1", "--json")
    assert v.document == json.loads(out) and v.ok and rc == 0


@pytest.fixture(scope="module")
def atto_split(tmp_path_factory):
    out = tmp_path_factory.mktemp("atto")
    return npusplit.split(shared_model("deimv2_atto.onnx"), out)


def test_pipeline_on_numpy(atto_split):
    s = atto_split
    p = npusplit.Pipeline(s.stage1, s.stage2, threads=1)
    assert [c["name"] for c in p.cut] == [c["name"] for c in s.manifest["crossing"]]
    spec = p.inputs[0]
    rng = np.random.default_rng(1)
    x = rng.random(spec["shape"], dtype=np.float32)
    out = p.run(x)
    (name, y), = out.items()
    assert name == "label_xyxy_score" and y.dtype == np.float32 and list(y.shape) == [1, 300, 6]
    assert np.isfinite(y).all() and ((y[..., 5] >= 0) & (y[..., 5] <= 1)).all()
    # same input, same output; the returned arrays are not overwritten by the next run
    again = p.run({spec["name"]: x})[name]
    assert np.array_equal(y, again) and y.ctypes.data != again.ctypes.data
    other = p.run(rng.random(spec["shape"], dtype=np.float32))[name]
    assert not np.array_equal(y, other)
    assert p.timing["total_ms"] > 0


def test_pipeline_never_copies_silently(atto_split):
    p = npusplit.Pipeline(atto_split.stage1, atto_split.stage2, threads=1)
    shape = p.inputs[0]["shape"]
    with pytest.raises(npusplit.Error, match="np.ascontiguousarray"):
        p.run(np.zeros(shape, dtype=np.float64))
    with pytest.raises(npusplit.Error, match="not C-contiguous"):
        p.run(np.zeros(shape[:-1] + [shape[-1] * 2], dtype=np.float32)[..., ::2])
    with pytest.raises(npusplit.Error, match="no input 'nope'"):
        p.run({"nope": np.zeros(shape, dtype=np.float32)})


def test_fix_as_cli(cli, tmp_path):
    model = shared_model("deimv2_atto.onnx")
    rc, out, err = run_cli(cli, "fix", model, "-o", tmp_path / "cli.onnx", "--json")
    assert rc == 0, err
    r = npusplit.fix(model, tmp_path / "py.onnx")
    doc, cli_doc = dict(r.document), json.loads(out)
    for d in (doc, cli_doc):
        d.pop("out", None)
        d.pop("fix_ms", None)
    assert doc == cli_doc
    assert (tmp_path / "py.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes()


@pytest.mark.parametrize("content", [None, b"", b"not an onnx file"])
def test_errors_carry_the_cli_line(cli, tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    rc, _, err = run_cli(cli, "check", path)
    assert rc == 2 and err.startswith("npusplit: error: ")
    with pytest.raises(npusplit.Error) as e:
        npusplit.check(path)
    assert str(e.value) == err.strip()[len("npusplit: error: "):]
    assert isinstance(e.value, RuntimeError)


def test_unknown_target_is_the_cli_error(cli):
    model = shared_model("deimv2_atto.onnx")
    _, _, err = run_cli(cli, "check", model, "--target", "hailo99")
    with pytest.raises(npusplit.Error) as e:
        npusplit.check(model, target="hailo99")
    assert str(e.value) == err.strip()[len("npusplit: error: "):]


def test_versions():
    assert npusplit.__version__ == "0.1.0"
    assert npusplit.onnxruntime_version().count(".") == 2
    assert "hailo8" in npusplit.known_targets()
