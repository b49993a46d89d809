"""The plan checks its own result before anything is written: every file it rewrites is read
back the way `extract-notes`, `publish` and the next `release` will read it.

- The changelog: it parses again; the new version's section extracts to exactly the notes;
  every version released before keeps a section; the new heading names neither the previous
  version nor its date (a roll that copied the model heading's text).
- The version source reads back as the new version; each `version-files` entry no longer
  holds the old version and holds the new one as often as it held the old.

A failure is a pre-flight line: the plan is wrong, and nothing was written. Pure: texts in,
problems out; the roll and the edits are not trusted, whatever their shape.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import tomlkit

from release.apps.release.edits import FileChange
from release.apps.release.facts import Facts
from release.config import PYPROJECT
from release.core import changelog, notes, pyproject, versionfile
from release.core.pyproject import SourceKind, VersionSource
from release.core.version import Version, VersionError
from release.core.versionfile import VersionFile
from release.errors import ChangelogError, ConfigError

_BUG = "a bug in release: nothing was written; report it with the file"


class Previous(NamedTuple):
    """The release before this one, as the changelog wrote its heading."""

    version: str  # as the heading writes it (`2026.08.17`)
    date: str | None


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in notes.finish(text.replace("\r\n", "\n")).split("\n"))


def _holds_exactly(body: str, notes_text: str, date: str) -> bool:
    """The section's body is the notes; a Pallets-style release line (`Released 2026-03-04`)
    above them is the heading's, not the notes'."""
    if body == notes_text:
        return True
    marker, _, rest = body.partition("\n\n")
    return rest == notes_text and "\n" not in marker and date in marker


def _moved(
    before: changelog.Changelog, after: changelog.Changelog, version: str, notes_text: str,
    date: str,
) -> bool:
    """The notes are [Unreleased]'s and the new section holds [Unreleased]'s text as written:
    the link definitions the notes carry may be ones the roll rewrote (a bare `[Unreleased]`
    reference in the notes, its definition now comparing from the new tag)."""
    unreleased = before.unreleased
    if unreleased is None or _lines(changelog.notes(before, unreleased)) != _lines(notes_text):
        return False
    new = after.find(version, include_prereleases=True)
    return _holds_exactly(_lines(new.body), _lines(unreleased.body), date)


def _whole(word: str) -> re.Pattern[str]:
    # As a version or a date on its own: 1.1.1 is not inside 1.1.10 nor 11.1.1.
    return re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\w)")


def changelog_problems(
    name: str, old: str, new: str, *, version: Version, notes_text: str, date: str,
    previous: Previous | None, before: changelog.Changelog | None = None,
) -> list[str]:
    """What is wrong with the rolled changelog `new` (from `old`, read as `before` when the
    caller has read it already) for `version`."""
    try:
        before = changelog.read(old, name) if before is None else before
        after = changelog.read(new, name, like=before)
        section = changelog.extract_read(after, str(version), allow_empty=True,
                                         include_prereleases=True)
    except ChangelogError as exc:
        return [f"the rolled {name} does not read back ({exc}): {_BUG}"]
    problems: list[str] = []
    if not _holds_exactly(_lines(section.body), _lines(notes_text), date) and not _moved(
        before, after, str(version), notes_text, date
    ):
        problems.append(
            f"the rolled {name}'s section for {version} does not hold exactly the notes: {_BUG}"
        )
    released = [v for v in before.release_versions if v]
    gone = changelog.missing_sections(after, released)  # before is asked only if any is gone
    lost = sorted(set(gone) - set(changelog.missing_sections(before, released))) if gone else []
    if lost:
        problems.append(
            f"the rolled {name} loses the section of {', '.join(lost)}: {_BUG}"
        )
    if previous is not None:
        title = section.title
        if previous.version != str(version) and _whole(previous.version).search(title):
            problems.append(
                f"the rolled {name}'s new heading {title!r} names the previous version "
                f"{previous.version}: {_BUG}"
            )
        elif previous.date and previous.date != date and _whole(previous.date).search(title):
            problems.append(
                f"the rolled {name}'s new heading {title!r} carries the previous release's "
                f"date {previous.date}: {_BUG}"
            )
    return problems


def previous_heading(
    parsed: changelog.Changelog | None, version: Version | None
) -> Previous | None:
    """The heading of the release `version` in the changelog before the roll."""
    if parsed is None or version is None:
        return None
    try:
        section = parsed.find(str(version), include_prereleases=True)
    except ChangelogError:
        return None
    return Previous(section.version, section.date) if section.version else None


def version_source_problems(
    source: VersionSource, spec: VersionFile | None, texts: dict[str, str | None],
    version: Version,
) -> list[str]:
    """The version source, as the plan leaves it (`texts`: path -> new text), must read back
    as `version`."""
    kind = source.kind
    path = PYPROJECT if kind in (SourceKind.PROJECT, SourceKind.POETRY) else (
        spec.path if spec is not None else None
    )
    if path is None or kind is SourceKind.VCS:
        return []
    text = texts.get(path)
    if text is None:
        return []  # not rewritten: it already says so (the first release of its version)
    try:
        if kind is SourceKind.FILE:
            assert spec is not None
            found = versionfile.read(spec, text)
        else:
            document = tomlkit.parse(text)
            found = (pyproject.read_version(document) if kind is SourceKind.PROJECT
                     else pyproject.read_poetry_version(document))
    except (ConfigError, VersionError, tomlkit.exceptions.ParseError) as exc:
        return [f"the plan's {path} does not read back ({exc}): {_BUG}"]
    if found != version:
        return [f"the plan's {path} reads back as {found}, not {version}: {_BUG}"]
    return []


def version_file_problems(
    path: str, old: str, new: str, *, current: Version, version: Version
) -> list[str]:
    """A `version-files` entry: no trace of the old version, the new one as often."""
    if current == version:
        return []
    held = pyproject.count_version(old, current)
    if pyproject.count_version(new, current) or pyproject.count_version(new, version) < held:
        return [f"the plan's {path} does not hold {version} where it held {current}: {_BUG}"]
    return []


def plan_problems(facts: Facts, notes_text: str, files: tuple[FileChange, ...]) -> list[str]:
    """Every check above, on the release commit's files as the plan writes them."""
    release, kept = facts.release, facts.files
    texts = {c.path: c.new for c in files}
    problems: list[str] = []
    new_changelog = texts.get(kept.changelog_path)
    if kept.parsed is not None and kept.changelog is not None and new_changelog is not None:
        problems += changelog_problems(
            kept.changelog_path, kept.changelog, new_changelog, version=release.new,
            notes_text=notes_text, date=release.date,
            previous=previous_heading(
                kept.parsed, release.previous.version if release.previous else None
            ),
            before=kept.parsed,
        )
    spec = release.version_file[0] if release.version_file else None
    problems += version_source_problems(release.source, spec, texts, release.new)
    if release.current is not None:
        for path, old in kept.version_files:
            new = texts.get(path)
            if new is not None:
                problems += version_file_problems(
                    path, old, new, current=release.current, version=release.new
                )
    return problems
