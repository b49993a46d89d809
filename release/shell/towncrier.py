"""towncrier: a project that keeps its changelog as news fragments (`[tool.towncrier]` in
pyproject.toml) has towncrier write the release's section.

`build` runs `towncrier build --version X --date D --yes` in a throwaway clone of the release
commit (sparse: checking out a big tree costs seconds), never in the user's work tree, and
reports what towncrier wrote and removed there. The plan then holds those exact contents: the
dry run shows their diff, a real run writes them and commits the fragments' removal with the
rest, and a failing run restores them like any other release file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from release import log
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
    # Our own import path, so `python -m towncrier` finds the towncrier we were installed with:
    # Nix's wrapped programs extend sys.path inside the process, not through the environment.
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


# `[tool.towncrier]` as pyproject.toml holds it (`Project.tool("towncrier")`).
Setup = Mapping[str, Any]


def fragment_type(setup: Setup) -> str:
    """A fragment type the project uses, for the hint: its first `[[tool.towncrier.type]]`,
    else towncrier's `feature`."""
    types = setup.get("type")
    first = types[0] if isinstance(types, list) and types else {}
    kind = first.get("directory") if isinstance(first, dict) else None
    return kind if isinstance(kind, str) and kind else "feature"


def folders(setup: Setup) -> list[str] | None:
    """The folders towncrier reads besides the files at the top (the fragments, the changelog's
    folder, a template's, the package it may import for the project's name), for a sparse
    checkout; None when one lies outside the repository (check everything out)."""
    def value(key: str) -> str:
        found = setup.get(key, "")
        return found if isinstance(found, str) else ""

    wanted = [str(PurePosixPath(value("filename") or "NEWS.rst").parent), value("directory")]
    if value("package"):  # imported for the project's name: from its top-level package
        wanted.append(f"{value('package_dir') or '.'}/{value('package').split('.')[0]}")
    if value("template") and ":" not in value("template"):  # `pkg:resource` is towncrier's own
        wanted.append(str(PurePosixPath(value("template")).parent))
    paths = {PurePosixPath(os.path.normpath(w)) for w in wanted if w}
    if any(p.is_absolute() or p.parts[:1] == ("..",) for p in paths):
        return None
    return sorted(str(p) for p in paths if str(p) != ".")


def build(root: Path, sha: str, version: str, date: str, setup: Setup) -> Built:
    """Run towncrier on commit `sha` of the repository at `root` for `version` released on
    `date`, in a throwaway clone (the repository and its work tree are only read) that checks
    out only what towncrier reads (everything, if that is not enough). A towncrier failure is
    a `DojoError` with its own last words."""
    sparse = folders(setup)
    try:
        return _build(root, sha, version, date, sparse)
    except DojoError as exc:
        if sparse is None:
            raise
        # towncrier may read more than its set-up names (a package's own imports)
        log.step("towncrier", status="retry", checkout="full", reason=str(exc))
        return _build(root, sha, version, date, None)


def _build(root: Path, sha: str, version: str, date: str, sparse: list[str] | None) -> Built:
    env = _env()
    with tempfile.TemporaryDirectory(prefix="dojo-towncrier-") as scratch:
        work = Path(scratch) / "tree"
        git = ("git", "-C", str(work))
        # --shared: the clone borrows the objects (nothing copied, nothing written in `root`)
        # core.symlinks=false: a link is checked out as a file holding its target, so towncrier
        # cannot write through one to a file outside the clone
        run(["git", "-c", "core.symlinks=false", "clone", "--quiet", "--shared", "--no-checkout",
             "--config", "core.symlinks=false", str(root), str(work)], env=env, quiet=True)
        if sparse is not None:  # the files at the top, and these folders
            run([*git, "sparse-checkout", "set", "--cone", *sparse], env=env, quiet=True)
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
