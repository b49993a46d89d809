"""The changelog pre-flight reads: the file as committed in HEAD, parsed once and checked.

A project that keeps no changelog file (its notes live in GitHub Releases, and nothing names a
file) is released all the same: the notes, from the commits, go in the annotated tag, which
`extract-notes` and `publish` read back. Nothing is created in the repository unless
`--init-changelog` asks: then CHANGELOG.md, Keep a Changelog style, starts with this release.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from release import log
from release.config import Settings, decode
from release.core import changelog
from release.core.changelog import Changelog
from release.core.changelog.markup import not_markdown
from release.core.changelog_discovery import CHANGELOG_NAMES, lookalikes
from release.core.version import Version
from release.errors import ChangelogError, ConfigError
from release.shell.git import Repository

# Where a changelog under a name release does not look for would be.
_FOLDERS = ("", "docs", "doc")
# What --init-changelog starts from: this release's section goes under [Unreleased].
SKELETON = (
    "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n\n"
    "## [Unreleased]\n"
)


@dataclass(frozen=True)
class ChangelogRead:
    text: str | None  # as committed; None: there is no file (none kept, or --init-changelog)
    parsed: Changelog | None  # None: no changelog is kept, the notes are the tag's only


def committed_text(repo: Repository, sha: str, path: str) -> str | None:
    """`path` as committed in `sha`, decoded strictly (a `ConfigError` names a non-UTF-8 file)."""
    data = repo.read_blob(sha, path)
    return None if data is None else decode(data, path)


def read_changelog(
    repo: Repository, settings: Settings, head: str, name: str, new: Version | None,
    *, init: bool, problems: list[str],
) -> ChangelogRead | None:
    """The changelog `name` as committed in `head`, parsed and checked; a `ChangelogRead` of
    nothing when the project keeps none; None when a problem was recorded."""
    towncrier_writes = settings.towncrier
    try:
        changelog.require_markdown(name, "[tool.release] changelog in pyproject.toml")
    except ChangelogError as exc:
        problems.append(
            f"{name} ([tool.towncrier] filename) is not Markdown: release reads Markdown "
            "changelogs only; set filename to a .md file (towncrier then writes Markdown)"
            if towncrier_writes else str(exc)
        )
        return None
    try:
        text = committed_text(repo, head, name)
    except ConfigError as exc:
        problems.append(str(exc))
        return None
    if text is not None and init:
        problems.append(f"--init-changelog: {name} exists already: drop --init-changelog")
        return None
    if text is None and Path(name).is_absolute():
        problems.append(
            f"{os.path.relpath(name, repo.root)} links outside the repository (to "
            f"{Path(name).resolve()}): name a changelog inside it"
        )
        return None
    if text is None and settings.changelog_given:
        problems.append(
            f"no {name} committed: create it with a `## [Unreleased]` section and commit it"
        )
        return None
    others = lookalikes(
        name for folder in _FOLDERS for name in repo.file_names(head, folder)
    ) if text is None else []
    if others and not init:
        problems.append(
            f"no changelog release reads, but {', '.join(others[:3])} looks like one: name it in "
            "[tool.release] changelog (a Markdown file), or rename it to CHANGELOG.md"
        )
        return None
    if text is None and not init:
        log.step(
            "preflight", changelog="none", status="ok",
            detail=f"no changelog file (looked for {', '.join(CHANGELOG_NAMES[:4])}, ...): the "
            "notes go in the annotated tag only (--init-changelog creates CHANGELOG.md)",
        )
        return ChangelogRead(None, None)
    try:
        parsed = changelog.parse(SKELETON if text is None else text)
    except ChangelogError as exc:
        problems.append(f"{name}: {exc}")
        return None
    if parsed.unreleased is None and not towncrier_writes and text is not None:
        # Many projects write the notes at release time: the section then goes above the
        # newest release, and the notes come from --notes-file, the LLM or the commits.
        log.step(
            "preflight", status="warning",
            warning=f"{name} has no [Unreleased] section: the notes come from --notes-file, "
            "the LLM or the commits, and the new section goes above the newest release",
        )
    if new is not None and not changelog.missing_sections(parsed, [str(new)]):
        problems.append(
            f"{name} already has a section for {new}: remove it or choose another --bump"
        )
    return ChangelogRead(text, parsed)


def check_released_section(
    read: ChangelogRead, version: Version, name: str, problems: list[str]
) -> None:
    """The previous release must have a section: when its version is written in the file but
    no section is found, something (an unclosed code fence?) hides it, and rolling forward
    would ship the hidden history as this release's notes."""
    text, parsed = read.text, read.parsed
    if text is None or parsed is None or not changelog.missing_sections(parsed, [str(version)]):
        return
    if str(version) in text:
        markup = not_markdown(text)
        problems.append(
            markup.explain(name) if markup is not None
            else f"{name} mentions {version} but has no section for it that a reader can find: "
            "look above it for an unclosed code fence or a mistyped heading"
        )
    else:
        log.step("preflight", status="warning", warning=f"{name} has no section for {version}")
