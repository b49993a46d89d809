"""Pre-flight's checks: pure judgements of what `preflight` gathered, each problem one line
that says what to do. Nothing here reads or writes; `preflight.gather` reads, then asks these."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from release.config import Settings
from release.core import changelog, notes
from release.core.changelog import Changelog
from release.core.changelog.markup import not_markdown
from release.core.changelog_discovery import CHANGELOG_NAMES
from release.core.pyproject import count_version
from release.core.version import Version
from release.errors import ChangelogError


def shorten(paths: list[str], limit: int = 5) -> str:
    more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


class Local(NamedTuple):
    """The clone's own state."""

    branch: str | None  # None: HEAD is detached
    identity: bool  # git knows user.name and user.email
    remote_url: str | None
    shallow: bool


def local(state: Local, settings: Settings) -> list[str]:
    """Branch, identity, remote and history: what needs no release file."""
    problems: list[str] = []
    if state.branch is None:
        problems.append(
            f"HEAD is detached: check out the release branch (`git switch {settings.branch}`)"
        )
    elif state.branch != settings.branch:
        problems.append(
            f"on branch {state.branch!r}, not the release branch {settings.branch!r}: "
            f"`git switch {settings.branch}`, or, to release from {state.branch}, set "
            f'[tool.release] branch = "{state.branch}"'
        )
    if not state.identity:
        problems.append(
            "git does not know who you are: set `git config --global user.name` and "
            "`user.email` (the release commit and tag carry your identity)"
        )
    if state.remote_url is None:
        problems.append(
            f"no remote {settings.remote!r}: add it (`git remote add {settings.remote} URL`) "
            "or set [tool.release] remote"
        )
    if state.shallow:
        problems.append(
            "this clone is shallow, so the previous release and the commits since cannot be "
            f"seen: run `git fetch --unshallow {settings.remote}` (and `git fetch --tags`)"
        )
    return problems


def clean(foreign: list[str]) -> list[str]:
    if not foreign:
        return []
    return [
        f"the working tree is not clean ({shorten(sorted(foreign))}): commit, stash or "
        "remove those changes (untracked files too, unless git ignores them)"
    ]


class Remote(NamedTuple):
    """The remote as it was read: `error` when it could not be, else its branch (None: the
    remote lacks it, the push creates it) and the new tag there."""

    error: str | None = None
    branch_sha: str | None = None
    tag_sha: str | None = None
    known: bool = True  # the branch's commit is in this clone
    ahead: int = 0
    behind: int = 0


def remote(state: Remote, settings: Settings, tag: str | None) -> list[str]:
    """The release branch against the remote's, and the new tag there."""
    name, branch = settings.remote, settings.branch
    if state.error is not None:
        return [
            f"cannot reach remote {name!r} ({state.error}): check your network and "
            "credentials, or pass --no-fetch to skip the remote checks"
        ]
    problems: list[str] = []
    if state.branch_sha is not None and not state.known:
        problems.append(
            f"{name}/{branch} has commits you do not have: run `git pull --ff-only {name} "
            f"{branch}`"
        )
    elif state.behind and state.ahead:
        problems.append(
            f"{branch} and {name}/{branch} have diverged ({state.ahead} local, {state.behind} "
            f"remote commits): reconcile them (`git pull --rebase {name} {branch}`) and retry"
        )
    elif state.behind:
        problems.append(
            f"{branch} is {state.behind} commit(s) behind {name}/{branch}: run "
            f"`git pull --ff-only {name} {branch}` and retry"
        )
    if tag is not None and state.tag_sha is not None:
        problems.append(
            f"tag {tag} already exists on {name}: choose another --bump, or delete the remote "
            f"tag (`git push {name} :refs/tags/{tag}`) if it is wrong"
        )
    return problems


def missing_changelog(name: str, root: Path, settings: Settings) -> str:
    """Why no changelog was read at `name`."""
    if Path(name).is_absolute():
        return (
            f"{os.path.relpath(name, root)} links outside the repository (to "
            f"{Path(name).resolve()}): name a changelog inside it"
        )
    if settings.changelog_given:
        return f"no {name} committed: create it with a `## [Unreleased]` section and commit it"
    return (
        f"no changelog committed (looked for {', '.join(CHANGELOG_NAMES[:6])}, "
        f"docs/changelog.md, ...): create {name} with a `## [Unreleased]` section and "
        "commit it, or name yours in [tool.release] changelog"
    )


def unread_changelog(lookalikes: list[str]) -> str:
    """A project with no changelog release reads, but files named like one."""
    return (
        f"no changelog release reads, but {', '.join(lookalikes[:3])} looks like one: name it "
        "in [tool.release] changelog (release reads Markdown and reStructuredText), or rename "
        "it to CHANGELOG.md"
    )


def markdown(name: str, settings: Settings) -> list[str]:
    try:
        changelog.require_markdown(name, "[tool.release] changelog in pyproject.toml")
    except ChangelogError as exc:
        return [
            f"{name} ([tool.towncrier] filename) is neither Markdown nor reStructuredText: "
            "set filename to a .md or .rst file"
            if settings.towncrier else str(exc)
        ]
    return []


def _found_in(parsed: Changelog, version: str, ids: set[int]) -> bool:
    try:
        return id(parsed.find(version)) in ids
    except ChangelogError:
        return False


def sections(
    name: str, text: str, parsed: Changelog, new: Version | None, previous: Version | None
) -> list[str]:
    """The new version must have no section yet; the previous release must have one that a
    reader finds (written in the file but not found: an unclosed code fence hides it, and
    rolling forward would ship the hidden history as this release's notes)."""
    problems: list[str] = []
    # Which markup writes the releases (a look at every line) is asked only where it can be the
    # answer: a file where no release was read, or a previous release with no section.
    rst = changelog.is_rst(name)
    unread = not parsed.release_versions and parsed.unreleased is None
    if unread and not rst and (markup := not_markdown(text)) is not None:
        # No Markdown heading at all, and release lines in another markup: rolling forward
        # would append a Markdown section and leave the file's own notes behind.
        return [markup.explain(name)]
    waiting = {id(s) for s in parsed.marked_unreleased}  # `1.2.3 (unreleased)`: its notes
    if new is not None and not changelog.missing_sections(parsed, [str(new)]) and not (
        _found_in(parsed, str(new), waiting)
    ):
        problems.append(
            f"{name} already has a section for {new}: remove it or choose another --bump"
        )
    if (
        previous is not None
        and changelog.missing_sections(parsed, [str(previous)])
        and str(previous) in text
    ):
        markup = None if rst else not_markdown(text)
        problems.append(
            markup.explain(name) if markup is not None
            else f"{name} mentions {previous} but has no section for it that a reader can find: "
            "look above it for an unclosed code fence or a mistyped heading"
        )
    return problems


def version_files(
    found: list[tuple[str, str | None]], current: Version | None
) -> list[str]:
    """Each `[tool.release] version-files` entry is committed and holds the current version."""
    problems: list[str] = []
    for name, text in found:
        if text is None:
            problems.append(f"[tool.release] version-files: {name} is not committed: fix the list")
        elif current is not None and count_version(text, current) == 0:
            problems.append(
                f"[tool.release] version-files: {name} does not contain {current}: "
                "put the current version in it or drop it from the list"
            )
    return problems


def notes_file_keeps_unreleased(name: str, parsed: Changelog, notes_file: str | None) -> list[str]:
    """--notes-file writes the new section: what [Unreleased] holds would be dropped from the
    committed changelog, so it must be empty (as for towncrier's fragments)."""
    section = parsed.unreleased
    if notes_file is None or section is None or not notes.finish(changelog.notes(parsed, section)):
        return []
    return [
        f"[Unreleased] in {name} holds notes, which --notes-file would drop from the changelog: "
        "move them into the notes file and empty [Unreleased] (commit that), or drop "
        "--notes-file to release them"
    ]
