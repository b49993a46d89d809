"""What the git-repository benchmarks share: an isolated environment and a timed run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ("-c", "import sys; from release.apps.release.cli import main; sys.exit(main())")


def isolated_env(base: Path) -> dict[str, str]:
    """The environment with git cut off from the user's configuration (HOME under `base`), a
    pinned identity and date, and this checkout importable."""
    home = base / "home"
    home.mkdir(exist_ok=True)
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "SOURCE_DATE_EPOCH": "1772600767",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
    }


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one run; a failing run stops the benchmark with its stderr."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed
