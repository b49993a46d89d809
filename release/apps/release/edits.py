"""File edits of a release: a `FileChange` per file, the version written where the project
keeps it (`version_edits`), and the back-to-development commit that may follow the tagged
release commit (`FollowUp`). Pure: texts in, texts out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import tomlkit

from release.config import PYPROJECT
from release.core import changelog, lockfile, versionfile
from release.core.changelog import Changelog
from release.core.lockfile import Lock
from release.core.pyproject import (
    SourceKind,
    VersionSource,
    bump_poetry,
    bump_pyproject,
    bump_text,
)
from release.core.version import Version
from release.core.versionfile import VersionFile
from release.errors import ChangelogError
from release.shell import diff


class FileChange(NamedTuple):
    """One file the release commit changes: its text before and after."""

    path: str  # relative to the work tree, POSIX
    old: str | None  # None: the file is new
    new: str | None  # None: the file is removed (a towncrier news fragment)

    def diff(self) -> str:
        """`git diff` of the change, computed in memory by libgit2 (fast on a 2 MB changelog)."""
        return diff.diff_texts(self.old, self.new, self.path)


# The subject of the commit that goes back to development after a release (zest.releaser's).
DEVELOPMENT_SUBJECT = "Back to development: "


class FollowUp(NamedTuple):
    """The back-to-development commit after the tagged release commit (pushed with it)."""

    version: Version
    spelled: str  # as written in the version source: `8.5.1.dev`, `3.3.7-dev0`
    files: tuple[FileChange, ...]
    message: str


def version_edits(
    source: VersionSource, spec: VersionFile | None, texts: Mapping[str, str], *,
    extra: tuple[str, ...], old: Version | None, new: Version | str,
    locks: tuple[Lock, ...] = (),
) -> list[FileChange]:
    """The edits that write `new` where the project keeps its version (nothing for a VCS
    source: the tag is the version), in the `version-files` `extra` (each holding `old`) and
    in the `locks` that record it, from the files' `texts`; only the version's characters
    change."""
    changes: list[FileChange] = []
    kind = source.kind
    if kind in (SourceKind.PROJECT, SourceKind.POETRY):
        text = texts[PYPROJECT]
        bump = bump_pyproject if kind is SourceKind.PROJECT else bump_poetry
        changes.append(FileChange(PYPROJECT, text, bump(tomlkit.parse(text), new)))
    elif kind is SourceKind.FILE:
        assert spec is not None
        text = texts[spec.path]
        changes.append(FileChange(spec.path, text, versionfile.write(spec, text, new)))
    if old is not None:
        changes += [FileChange(p, texts[p], bump_text(texts[p], old, new)) for p in extra]
    changes += [
        FileChange(lock.path, texts[lock.path], lockfile.bump(lock, texts[lock.path], new))
        for lock in locks
    ]
    return changes


def development_message(spelled: str) -> str:
    return f"{DEVELOPMENT_SUBJECT}{spelled}\n"


def reopen(path: str, rolled: str, like: Changelog | str, version: Version) -> str:
    """The rolled changelog `rolled` with the next version's unreleased section opened in the
    shape the file kept before the release (`like`), Markdown or reStructuredText; unchanged
    when the file keeps its own `[Unreleased]` or no such section."""
    before = like if isinstance(like, Changelog) else changelog.read(like, path)
    try:
        if changelog.is_rst(path):
            from release.core.changelog.rst.model import RstChangelog  # noqa: PLC0415
            from release.core.changelog.rst.parse import parse as parse_rst  # noqa: PLC0415
            from release.core.changelog.rst.roll import open_unreleased  # noqa: PLC0415

            shape = before if isinstance(before, RstChangelog) else None
            return open_unreleased(parse_rst(rolled), version.base, like=shape)
        return changelog.open_unreleased(rolled, version.base, like=before)
    except ChangelogError:
        return rolled
