"""`--check`: the problems in a changelog, each worded with its fix.

Errors are what makes a release or its notes wrong: two sections for one version, a section that
cannot be reached (hidden by a code fence that never closes), a heading link that points nowhere,
a release heading that `extract-notes` would cut in the wrong place. Warnings are conventions:
dates not in ISO 8601, no [Unreleased] section, versions out of order within one release line.
Every check is one pass over the sections, so a check is linear in the size of the file.
"""

from __future__ import annotations

import bisect
import collections
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from release.core.changelog import versions
from release.core.changelog.extract import definitions, prose, tokenize
from release.core.changelog.heading import UNRELEASED_ONLY, read_title
from release.core.changelog.model import Changelog, Section
from release.core.changelog.scan import without_gc

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FULL_REF = re.compile(r"\[(?P<text>[^\[\]]+)\]\[(?P<label>[^\[\]]+)\]")
_WORD = re.compile(r"[^\W\d_]{3,}")
_MARKERS = {"yanked", "unreleased", "released", "version", "release"}


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding of the changelog check."""

    severity: Severity
    line: int | None  # 1-based, where to look
    message: str  # what is wrong and what to do

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{self.severity.value}: {where}{self.message}"


@without_gc
def check(changelog: Changelog) -> list[Problem]:
    """Every problem in the changelog, errors and warnings, in the order of the file."""
    if changelog.syntax == "rst":
        from release.core.changelog.rst import check as rst_check  # noqa: PLC0415
        from release.core.changelog.rst.model import RstChangelog  # noqa: PLC0415

        assert isinstance(changelog, RstChangelog)
        return rst_check.check(changelog)
    problems = [
        *_duplicates(changelog),
        *_unreachable(changelog),
        *_miscut(changelog),
        *_links(changelog),
        *_unreleased(changelog),
        *_dates(changelog),
        *_order(changelog),
    ]
    return sorted(problems, key=lambda p: (p.line or 0, p.severity.value))


def missing_sections(changelog: Changelog, released: Iterable[str]) -> list[str]:
    """The versions in `released` (tags such as `v1.2.3` or versions) that have no section
    `extract-notes` can reach, in the order given."""
    return [version for version in released if not changelog.reaches(version)]


def _error(line: int | None, message: str) -> Problem:
    return Problem(Severity.ERROR, line, message)


def _warning(line: int | None, message: str) -> Problem:
    return Problem(Severity.WARNING, line, message)


def _duplicates(changelog: Changelog) -> list[Problem]:
    problems = []
    # By spelling: `4.3` above its patches and `4.3.0` are two sections each found as written.
    by_key: dict[str | None, list[Section]] = collections.defaultdict(list)
    for section in changelog.releases:
        if not section.nested:
            by_key[section.version.lower() if section.version else None].append(section)
    by_key[None] = changelog.unreleased_sections
    for key, found in by_key.items():
        if len(found) < 2:
            continue
        where = ", ".join(f"`{s.title}` on line {s.line}" for s in found)
        name = "[Unreleased]" if key is None else f"version {found[0].name}"
        problems.append(_error(
            found[1].line, f"{name} has {len(found)} sections ({where}): merge them into one"
        ))
    return problems


def _unreachable(changelog: Changelog) -> list[Problem]:
    if changelog._unclosed is None:
        return []
    opened, hidden = changelog._unclosed
    shown = ", ".join(map(str, hidden[:5])) + (", ..." if len(hidden) > 5 else "")
    return [_error(
        opened,
        f"the block opened on line {opened} never closes, so it hides the release headings "
        f"on lines {shown}: close it (a fence needs its closing ``` or ~~~, a comment its -->)",
    )]


def _bare(title: str) -> bool:
    """A heading that is only a version (and a date or a link), like a release heading."""
    found = read_title(title)
    if found is None or found.version is None:
        return False
    rest = found.template.replace("{version}", "").replace("{date}", "").replace("{url}", "")
    return not any(w.lower() not in _MARKERS for w in _WORD.findall(rest))


def _miscut(changelog: Changelog) -> list[Problem]:
    problems = []
    starts = [s.line for s in changelog.sections]
    for line, level, title in changelog._others:
        if level > 3 and _bare(title):
            at = bisect.bisect_left(starts, line)
            where = f"inside {changelog.sections[at - 1].name}'s section" if at else "unread"
            problems.append(_error(
                line,
                f"`{'#' * level} {title}` is a level-{level} heading: extract-notes reads "
                f"release headings at levels 1 to 3, so its notes stay {where}; write it with "
                "### or fewer",
            ))
    return problems


def _links(changelog: Changelog) -> list[Problem]:
    problems = []
    linked = any(changelog.ref(s.label) for s in changelog.sections if s.label)
    for section in changelog.sections:
        if linked and section.label and changelog.ref(section.label) is None:
            problems.append(_error(
                section.line,
                f"heading `{section.title}` links [{section.label}], which is not defined: add "
                f"`[{section.label}]: <url>` at the bottom",
            ))
    defined = definitions(changelog)
    for section in changelog.sections:
        if "][" not in section.body or all(  # the usual case: every label is defined
            changelog.ref(found["label"]) for found in _FULL_REF.finditer(section.body)
        ):
            continue
        for text in prose(tokenize(section.body, defined)):
            for found in _FULL_REF.finditer(text):  # left as text: the label is not defined
                problems.append(_error(
                    section.line,
                    f"link [{found['text']}][{found['label']}] in {section.name} points nowhere: "
                    f"define [{found['label']}]: <url>",
                ))
    return problems


def _unreleased(changelog: Changelog) -> list[Problem]:
    sections = changelog.sections
    unreleased = changelog.unreleased
    if unreleased is None:
        line = sections[0].line if sections else None
        return [_warning(
            line, "no [Unreleased] section: add `[Unreleased]` above the newest version, at the "
            "releases' heading level, to collect the notes of the next release"
        )]
    if sections[0] is not unreleased and UNRELEASED_ONLY.match(unreleased.title):
        return [_warning(
            unreleased.line, "[Unreleased] is not the first section: move it to the top"
        )]
    return []


def _dates(changelog: Changelog) -> list[Problem]:
    odd = [s for s in changelog.releases if s.date and not _ISO_DATE.match(s.date)]
    if not odd:
        return []
    first = odd[0]
    return [_warning(
        first.line,
        f"{len(odd)} release date{'s are' if len(odd) > 1 else ' is'} not ISO 8601 "
        f"(`{first.date}` in {first.name}): write dates as YYYY-MM-DD",
    )]


def _line_of(version: str) -> tuple[int, ...]:
    numbers = versions.release_numbers(version)
    return numbers[:1] if numbers[:1] != (0,) else numbers[:2]


def _order(changelog: Changelog) -> list[Problem]:
    """Newest first within a release line (1.x, or 0.4.x): a backport 1.4.1 below 2.0.0 is in
    order."""
    last: dict[tuple[int, ...], Section] = {}
    problems = []
    flagged: set[tuple[int, ...]] = set()
    for section in changelog.releases:
        if section.nested or section.version is None:
            continue
        mine = versions.pep440(section.version)
        if mine is None:
            continue
        line = _line_of(section.version)
        above = last.get(line)
        last[line] = section
        if above is None or line in flagged:
            continue
        theirs = versions.pep440(above.version or "")
        group = versions.release_numbers(above.version or "")
        numbers = versions.release_numbers(section.version)
        if len(group) < len(numbers) and group == numbers[: len(group)]:
            continue  # `## 4.3` heading its patches `## 4.3.2`, `## 4.3.1`
        if theirs is not None and theirs < mine:
            flagged.add(line)
            problems.append(_warning(
                section.line,
                f"{section.name} (line {section.line}) is below {above.name} (line "
                f"{above.line}) in the same release line: keep newest first",
            ))
    return problems
