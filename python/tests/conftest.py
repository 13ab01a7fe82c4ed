"""Where the tests find the CLI, the build tree and the shared models."""
import os
import pathlib

import pytest

SHARED = pathlib.Path(os.environ.get("NPUSPLIT_SHARED", pathlib.Path(__file__).resolve().parents[3] / "shared"))
CLI = os.environ.get("NPUSPLIT_CLI", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "npusplit"))


def shared_model(name: str) -> pathlib.Path:
    p = SHARED / "models" / name
    if not p.is_file():
        pytest.skip(f"shared model {p} absent (set NPUSPLIT_SHARED)")
    return p


@pytest.fixture
def cli() -> str:
    if not os.access(CLI, os.X_OK):
        pytest.skip(f"npusplit CLI {CLI} not built (set NPUSPLIT_CLI)")
    return CLI
