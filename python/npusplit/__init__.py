"""npusplit for Python: check, fix, split and verify DETR-family ONNX models for Hailo NPUs,
and run the two-stage pipeline on NumPy arrays.

The same C++ library as the ``npusplit`` command line: every result is built from the CLI's own
JSON document (``check --json``, the split manifest, ``fix --json``, ``verify --json``), kept
whole in ``.document``. Bad input raises :class:`npusplit.Error` whose message is the line the
CLI prints after ``npusplit: error:``.

    import npusplit
    report = npusplit.check("deimv2_n.onnx")            # verdicts, reasons, findings
    parts = npusplit.split("deimv2_n.onnx", "out/", verify=True)
    parts.stage1, parts.start_nodes, parts.end_nodes     # for ClientRunner.translate_onnx_model
    pipe = npusplit.Pipeline(parts.stage1, parts.stage2)
    outputs = pipe.run(image_nchw_float32)               # dict name -> numpy.ndarray
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _npusplit as _core

__all__ = [
    "Error", "Model", "Finding", "NodeVerdict", "CheckResult", "FixResult", "SplitResult",
    "VerifyResult", "Pipeline", "load", "check", "fix", "split", "verify", "info",
    "known_targets", "onnxruntime_version", "__version__",
]

Error = _core.Error
__version__ = _core.__version__
PathLike = Union[str, "os.PathLike[str]"]
Shapes = Optional[Mapping[str, Sequence[int]]]


def onnxruntime_version() -> str:
    """The ONNX Runtime library the module runs on."""
    return _core.onnxruntime_version()


def known_targets() -> List[str]:
    """Targets with built-in rules (hailo8, hailo8l, hailo10h, ...)."""
    return list(_core.known_targets())


def _shapes(shapes: Shapes) -> Dict[str, List[int]]:
    return {str(k): [int(d) for d in v] for k, v in (shapes or {}).items()}


def _path(p: PathLike) -> str:
    return os.fspath(p)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """Why the parser is predicted to reject a node (one rule of rules/<target>.yaml)."""
    rule: str
    severity: str            # "error" or "suspect"
    reason: str
    detail: str = ""
    fix: str = ""
    evidence: str = ""
    source: str = ""

    @classmethod
    def _of(cls, d: Mapping[str, Any]) -> "Finding":
        return cls(rule=d.get("rule", ""), severity=d.get("severity", "error"), reason=d.get("reason", ""),
                   detail=d.get("detail", ""), fix=d.get("fix", ""), evidence=d.get("evidence", ""),
                   source=d.get("source", ""))


@dataclass(frozen=True)
class NodeVerdict:
    """One node of the judged (folded) graph."""
    name: str
    op: str
    verdict: str             # "supported", "unsupported" or "suspect"
    supported: bool
    stage1: bool             # in the automatic cut's stage1
    flops: int
    findings: List[Finding]

    @property
    def reasons(self) -> List[str]:
        return [f.reason for f in self.findings]

    @classmethod
    def _of(cls, d: Mapping[str, Any]) -> "NodeVerdict":
        return cls(name=d["name"], op=d["op"], verdict=d.get("verdict", ""), supported=bool(d.get("supported")),
                   stage1=bool(d.get("stage1")), flops=int(d.get("flops", 0)),
                   findings=[Finding._of(f) for f in d.get("findings", [])])


@dataclass(frozen=True)
class CheckResult:
    """``npusplit check``: per node what the parser will reject, why, and what to do."""
    document: Dict[str, Any]  # the `check --json` document (schema npusplit.check/1)
    verdicts: List[NodeVerdict]

    @property
    def exit_code(self) -> int:
        """What the CLI would exit with: 0 every node supported, 1 findings."""
        return int(self.document["exit_code"])

    @property
    def summary(self) -> Dict[str, Any]:
        return self.document["summary"]

    @property
    def unsupported(self) -> List[NodeVerdict]:
        return [v for v in self.verdicts if v.verdict == "unsupported"]

    @property
    def suspect(self) -> List[NodeVerdict]:
        return [v for v in self.verdicts if v.verdict == "suspect"]

    @property
    def findings(self) -> List[Finding]:
        return [f for v in self.verdicts for f in v.findings]

    @property
    def crossing(self) -> List[str]:
        """Tensors crossing the automatic cut (stage1 -> host)."""
        return list(self.summary.get("stage1", {}).get("crossing", []))


@dataclass(frozen=True)
class VerifyResult:
    """original vs stage1 -> stage2 (or original vs rewritten) in ONNX Runtime, NaN-aware."""
    document: Dict[str, Any]  # `verify --json` (schema npusplit.verify/1)

    @property
    def ok(self) -> bool:
        return bool(self.document["ok"])

    @property
    def max_abs_diff(self) -> float:
        return max((float(o["max_abs_diff"]) for o in self.document.get("outputs", [])), default=0.0)

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class FixResult:
    """``npusplit fix``: the rewritten model and what the passes changed."""
    path: str
    document: Dict[str, Any]  # `fix --json` (schema npusplit.fix/1)

    @property
    def verify(self) -> Optional[VerifyResult]:
        v = self.document.get("verify")
        return VerifyResult(v) if v else None


@dataclass(frozen=True)
class SplitResult:
    """``npusplit split``: the two stages, the manifest, and the cut for the Hailo parser."""
    stage1: str
    stage2: str
    manifest_path: str
    manifest: Dict[str, Any]  # the manifest as written (schema npusplit.split/1)
    start_nodes: List[str]    # --start-node-names / start_node_names of the DFC
    end_nodes: List[str]      # --end-node-names / end_node_names of the DFC
    stage2_fused: Optional[str] = None
    verify: Optional[VerifyResult] = None
    text: str = field(default="", repr=False)  # what the CLI prints

    @property
    def crossing(self) -> List[str]:
        """The original model's tensors that cross the cut, in the manifest's order."""
        return [c["original_tensor"] for c in self.manifest["crossing"]]

    @property
    def hailo_parser_command(self) -> str:
        return self.manifest["stage1"]["hailo_parser_command"]


# ----------------------------------------------------------------------------- commands


class Model:
    """An ONNX model, read and validated once (the same checks as the CLI)."""

    def __init__(self, path: PathLike):
        self._m = _core.load(_path(path))

    @property
    def path(self) -> str:
        return self._m.path

    def info(self, input_shapes: Shapes = None) -> Dict[str, Any]:
        """``npusplit info --json``."""
        return json.loads(_core.info_json(self._m, _shapes(input_shapes)))

    def check(self, target: str = "hailo8", dfc: str = "", parser_log: Optional[PathLike] = None,
              input_shapes: Shapes = None) -> CheckResult:
        doc = json.loads(_core.check_json(self._m, target, dfc, _path(parser_log) if parser_log else "",
                                          _shapes(input_shapes)))
        return CheckResult(document=doc, verdicts=[NodeVerdict._of(n) for n in doc["nodes"]])

    def __repr__(self) -> str:
        return f"npusplit.Model({self.path!r})"


def load(path: PathLike) -> Model:
    """Reads and validates an ONNX model (raises npusplit.Error as the CLI would fail)."""
    return Model(path)


def _model(model: Union[Model, PathLike]) -> Model:
    return model if isinstance(model, Model) else Model(model)


def info(model: Union[Model, PathLike], input_shapes: Shapes = None) -> Dict[str, Any]:
    return _model(model).info(input_shapes)


def check(model: Union[Model, PathLike], target: str = "hailo8", dfc: str = "",
          parser_log: Optional[PathLike] = None, input_shapes: Shapes = None) -> CheckResult:
    """``npusplit check``: which nodes the Hailo parser will reject, why, what to do."""
    return _model(model).check(target=target, dfc=dfc, parser_log=parser_log, input_shapes=input_shapes)


def _file(model: Union[Model, PathLike]) -> str:
    return model.path if isinstance(model, Model) else _path(model)


def fix(model: Union[Model, PathLike], out: PathLike, passes: Sequence[str] = (), target: str = "hailo8",
        input_shapes: Shapes = None, verify: bool = False, random: int = 2, images: Sequence[PathLike] = (),
        tolerance: Optional[float] = None) -> FixResult:
    """``npusplit fix``: applies the rewrite passes (default: every exact one) and writes OUT."""
    doc = json.loads(_core.fix_json(_file(model), _path(out), target, list(passes), _shapes(input_shapes), verify,
                                    int(random), [_path(i) for i in images], tolerance))
    return FixResult(path=_path(out), document=doc)


def split(model: Union[Model, PathLike], out_dir: PathLike, target: str = "hailo8", dfc: str = "",
          cut: Sequence[str] = (), pack: bool = False, fix: bool = True, passes: Sequence[str] = (),
          input_shapes: Shapes = None, verify: bool = False, random: int = 1, images: Sequence[PathLike] = (),
          tolerance: float = 0.0, stem: str = "", allow_suspect: bool = False,
          fused_host: bool = False) -> SplitResult:
    """``npusplit split``: writes <stem>_stage1.onnx, <stem>_stage2.onnx and <stem>_split.json.

    cut: tensor or node names (empty: the automatic cut). fix=False is ``--no-fix``."""
    j = json.loads(_core.split_json(_file(model), _path(out_dir), target, dfc, list(cut), pack, fix, list(passes),
                                    _shapes(input_shapes), verify, int(random), [_path(i) for i in images],
                                    float(tolerance), stem, allow_suspect, fused_host))
    return SplitResult(stage1=j["stage1"], stage2=j["stage2"], manifest_path=j["manifest_path"],
                       manifest=j["manifest"], start_nodes=j["start_nodes"], end_nodes=j["end_nodes"],
                       stage2_fused=j["stage2_fused"], verify=VerifyResult(j["verify"]) if j["verify"] else None,
                       text=j["text"])


def verify(original: PathLike, stage1: PathLike, stage2: PathLike, random: int = 2,
           images: Sequence[PathLike] = (), tolerance: float = 0.0, input_shapes: Shapes = None) -> VerifyResult:
    """``npusplit verify``: ORIGINAL vs STAGE1 -> STAGE2 on seeded random inputs and images."""
    return VerifyResult(json.loads(_core.verify_json(_path(original), _path(stage1), _path(stage2), int(random),
                                                     [_path(i) for i in images], float(tolerance),
                                                     _shapes(input_shapes))))


class Pipeline:
    """The two-stage pipeline (stage1 -> stage2, both in ONNX Runtime on the CPU).

    ``run`` reads the input arrays in place (they must have the model's dtype and shape and be
    C-contiguous: anything else raises npusplit.Error rather than copying) and returns the
    outputs as NumPy arrays that own the pipeline's output buffers (no copy either)."""

    def __init__(self, stage1: PathLike, stage2: PathLike, input_shapes: Shapes = None, threads: int = 0,
                 fused_host: bool = False):
        self._p = _core.Pipeline(_path(stage1), _path(stage2), _shapes(input_shapes), int(threads), fused_host)

    @property
    def inputs(self) -> List[Dict[str, Any]]:
        return list(self._p.inputs)

    @property
    def outputs(self) -> List[Dict[str, Any]]:
        return list(self._p.outputs)

    @property
    def cut(self) -> List[Dict[str, Any]]:
        """The tensors stage1 hands to stage2."""
        return list(self._p.cut)

    @property
    def timing(self) -> Dict[str, float]:
        """Of the last run: stage1_ms, stage2_ms, total_ms."""
        return dict(self._p.timing)

    def run(self, inputs: Any) -> Dict[str, Any]:
        """INPUTS: one array (a model with one input) or a dict name -> array."""
        if not isinstance(inputs, Mapping):
            names = [s["name"] for s in self._p.inputs]
            if len(names) != 1:
                raise Error(f"the pipeline takes {len(names)} inputs ({', '.join(names)}): pass a dict")
            inputs = {names[0]: inputs}
        return self._p.run(dict(inputs))
