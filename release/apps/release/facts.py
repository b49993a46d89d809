"""What pre-flight found, as values grouped by what they describe: where the release goes
(`Where`), what it releases (`Release`), the files it rewrites (`Files`) and where its notes
may come from (`NotesInput`). `preflight.gather` builds them; the plan reads them.

Named tuples, not dataclasses: nothing subclasses or mutates them, and a frozen
dataclass costs every `release` run about a millisecond to make at import (its methods are
written and compiled then); these seven were 32 M instructions of its start-up."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from release.config import Project
from release.core.changelog import Changelog
from release.core.lockfile import Lock
from release.core.pyproject import VersionSource
from release.core.tagformat import TagFormat
from release.core.version import Bump, Pre, Version
from release.core.versionfile import VersionFile
from release.shell.git import Tag


class Options(NamedTuple):
    """The release command line, read."""

    bump: Bump | None
    pre: Pre | None = None  # --pre a|b|rc
    version: str | None = None  # --version X
    dry_run: bool = False
    fetch: bool = True
    resume: bool = False
    notes_file: Path | None = None
    notes_llm: str | None = None  # "codex" or "gemini", asked for on the command line
    llm_timeout: float = 120.0
    init_changelog: bool = False  # --init-changelog: create CHANGELOG.md when there is none
    next_dev: bool | None = None  # a back-to-development commit; None: when it was on one

    @property
    def asks_for_a_version(self) -> bool:
        """The command line says which version to release (not only `--resume`)."""
        return self.bump is not None or self.pre is not None or self.version is not None


class News(NamedTuple):
    """What towncrier writes for this release (`[tool.towncrier]` projects)."""

    # (path, text as committed or None when new, new text or None when removed)
    files: tuple[tuple[str, str | None, str | None], ...]
    fragments: int  # the news fragments it consumed

    def text(self, path: str) -> str | None:
        """`path` as towncrier leaves it (None when it does not write it)."""
        return next((new for p, _, new in self.files if p == path), None)


class Where(NamedTuple):
    """The repository, and where the release goes."""

    root: Path
    project: str  # the project's name
    remote: str
    branch: str
    remote_url: str | None
    head: str
    ahead: int  # commits on the branch not yet on the remote
    sign_commit: bool
    sign_tag: bool


class Release(NamedTuple):
    """What is released: the versions, the tags and the date."""

    previous: Tag | None
    commits: int  # non-merge commits since the previous release
    current: Version | None  # None: a VCS-versioned project's first release
    new: Version
    why: str  # how `new` was chosen, for the dry run: "patch bump of 1.2.3"
    tag: str  # the new tag's name, in the project's tag format
    tag_format: TagFormat
    source: VersionSource
    version_file: tuple[VersionFile, str] | None  # a FILE source's file and its committed text
    date: str  # the release date, ISO 8601
    follow: tuple[Version, str] | None = None  # the back-to-development version, as written


class Files(NamedTuple):
    """The files the release rewrites, as committed in HEAD (and as the work tree has them)."""

    pyproject: Project  # parsed once
    changelog_path: str  # relative to the root, POSIX
    changelog: str | None  # as committed; None: there is none (or --init-changelog makes it)
    parsed: Changelog | None  # `changelog`, parsed once; None: none kept, the tag has the notes
    version_files: tuple[tuple[str, str], ...]  # (path, text as committed)
    # (lock, text as committed): lock files that record the project's own version (uv.lock)
    locks: tuple[tuple[Lock, str], ...]
    news: News | None  # towncrier's build of the section, for a [tool.towncrier] project
    written: Mapping[str, str | None]  # release files changed in the work tree, as they are


class NotesInput(NamedTuple):
    """Where the notes may come from besides the changelog."""

    notes_file: str | None  # the --notes-file's text
    notes_command: str | None  # [tool.release] notes-command


class Facts(NamedTuple):
    """What pre-flight found: the repository, the release, its files and notes."""

    where: Where
    release: Release
    files: Files
    notes: NotesInput
