"""ruff and mypy --strict over the whole tree, in the test suite (CI and `nix flake check`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_reports_nothing() -> None:
    require_tool("ruff")
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_reports_nothing() -> None:
    require_tool("mypy")
    done = _run(sys.executable, "-m", "mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr
