"""towncrier: a project that keeps its changelog as news fragments (`[tool.towncrier]` in
pyproject.toml) has towncrier write the release's section.

`build` runs `towncrier build --version X --date D --yes` in a throwaway clone of the release
commit, never in the user's work tree, and reports what towncrier wrote and removed there. The
plan then holds those exact contents: the dry run shows their diff, a real run writes them and
commits the fragments' removal with the rest, and a failing run restores them like any other
release file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release.errors import CommandError, DojoError
from release.shell.proc import run

# Ours, pinned with the tool (a runtime dependency), whatever `towncrier` is on the PATH.
TOWNCRIER = (sys.executable, "-m", "towncrier")
TIMEOUT = 300.0  # seconds: a template that never finishes is a bug to report, not to wait on
# A git repository of the caller's (a hook's GIT_DIR) must not leak into the throwaway clone.
_GIT_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


@dataclass(frozen=True)
class Built:
    """What `towncrier build` did to the release commit's tree."""

    written: Mapping[str, bytes]  # path (POSIX, relative) -> new content: the changelog
    removed: tuple[str, ...]  # the news fragments it consumed


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def build(root: Path, sha: str, version: str, date: str) -> Built:
    """Run towncrier on commit `sha` of the repository at `root` for `version` released on
    `date`, in a throwaway clone (the repository and its work tree are only read). A towncrier
    failure is a `DojoError` with its own last words."""
    env = _env()
    with tempfile.TemporaryDirectory(prefix="dojo-towncrier-") as scratch:
        work = Path(scratch) / "tree"
        git = ("git", "-C", str(work))
        # --shared: the clone borrows the objects (nothing copied, nothing written in `root`)
        run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(root), str(work)],
            env=env, quiet=True)
        run([*git, "checkout", "--quiet", "--detach", sha], env=env, quiet=True)
        try:
            run([*TOWNCRIER, "build", "--version", version, "--date", date, "--yes"],
                cwd=work, env=env, timeout=TIMEOUT)
        except CommandError as exc:
            if "No module named towncrier" in exc.stderr:
                raise DojoError(
                    "towncrier is not installed next to release: `pip install towncrier` in "
                    "release's environment (or run release through `nix run`)"
                ) from None
            said = [line for line in exc.stderr.splitlines() if line.strip()]
            raise DojoError(
                f"towncrier build failed ({said[-1].strip() if said else exc}): fix the "
                "[tool.towncrier] set-up or the fragments (`towncrier build --draft` shows it)"
            ) from None
        run([*git, "add", "--all"], env=env, quiet=True)
        changed = run(
            [*git, "diff", "--cached", "--name-status", "--no-renames", "-z", "HEAD"],
            env=env, quiet=True,
        ).stdout.split("\0")
        written: dict[str, bytes] = {}
        removed: list[str] = []
        for status, path in zip(changed[0::2], changed[1::2], strict=False):
            if status == "D":
                removed.append(path)
            else:
                written[path] = (work / path).read_bytes()
        return Built(written, tuple(sorted(removed)))
