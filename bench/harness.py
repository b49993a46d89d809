"""What the git-repository benchmarks share: an isolated environment and a timed run."""

from __future__ import annotations

import atexit
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ("-c", "import sys; from release.apps.release.cli import main; sys.exit(main())")


def cache_bytecode() -> None:
    """Let every Python the benchmarks start keep its bytecode, as an installed package does (pip
    and Nix compile it at install). With PYTHONDONTWRITEBYTECODE each run of ours compiled its
    modules again while the peers' installs ship theirs. A private prefix keeps the checkout
    clean and treats every tool alike: each compiles once, in its untimed warm-up run."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if "PYTHONPYCACHEPREFIX" not in os.environ:
        prefix = tempfile.mkdtemp(prefix="bench-pycache.")
        atexit.register(shutil.rmtree, prefix, True)
        os.environ["PYTHONPYCACHEPREFIX"] = prefix


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


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, its children included) of one run; a
    failing run stops the benchmark with its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one run; a failing run stops the benchmark with its stderr."""
    return measure(argv, cwd, env)[0]
