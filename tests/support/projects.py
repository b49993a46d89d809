"""Settings of a `pyproject.toml` text in tests, resolved as a run resolves them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from release.config import Project, parse_project, project_in_work_tree
from release.shell.git import Repository


def project_of(
    text: str, root: Path, *, files: Iterable[str] | Mapping[str, str] = (),
    default_branch: str | None = None,
) -> Project:
    """The project `text` declares, in a tree holding `files` (with their text, when a
    mapping), whose remote's default branch is `default_branch` (None: the remote does not
    tell)."""
    present = frozenset(files)
    texts = files if isinstance(files, Mapping) else {}
    return parse_project(
        text, root, exists=present.__contains__, default_branch=lambda _remote: default_branch,
        read=texts.get,
    )


def project_at(root: Path) -> Project:
    """The project in the work tree at `root`, as publish reads it."""
    repo = Repository.find(root)
    return project_in_work_tree(
        root, default_branch=repo.default_branch if repo is not None else lambda _remote: None
    )
