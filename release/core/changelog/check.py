"""`--check`: every problem in a changelog, one sentence each."""

from __future__ import annotations

import datetime
import itertools
import re

from release.core.changelog.extract import prose, tokenize
from release.core.changelog.model import Changelog, normalize_label
from release.core.version import Version, try_parse

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOOKS_LIKE_VERSION = re.compile(r"^(?:(?:version|release)\s+)?\[?v?\d+\.\d+", re.IGNORECASE)
_FULL_REF = re.compile(r"\[(?P<text>[^\[\]]+)\]\[(?P<label>[^\[\]]+)\]")


def _iso(date: str) -> bool:
    if not _ISO_DATE.match(date):
        return False
    try:
        datetime.date.fromisoformat(date)
    except ValueError:
        return False
    return True


def check(changelog: Changelog) -> list[str]:
    """Every problem in the changelog, one sentence each (empty when it is fine)."""
    problems: list[str] = []
    unreleased = [s for s in changelog.sections if s.version is None]
    if not unreleased:
        problems.append(
            "no [Unreleased] section: add `## [Unreleased]` above the newest version"
        )
    elif len(unreleased) > 1:
        lines = ", ".join(str(s.line) for s in unreleased)
        problems.append(f"{len(unreleased)} [Unreleased] sections (lines {lines}): keep one")
    elif changelog.sections[0].version is not None:
        problems.append(
            f"[Unreleased] (line {unreleased[0].line}) is not the first section: move it to the top"
        )
    releases = changelog.releases
    seen: dict[Version, list[int]] = {}
    for section in releases:
        assert section.version is not None
        seen.setdefault(section.version, []).append(section.line)
    for version, places in seen.items():
        if len(places) > 1:
            where = ", ".join(map(str, places))
            problems.append(
                f"version {version} has {len(places)} sections (lines {where}): merge them"
            )
    for newer, older in itertools.pairwise(releases):
        if newer.version is None or older.version is None:
            continue
        if newer.version < older.version:
            problems.append(
                f"{newer.version} (line {newer.line}) is above {older.version} "
                f"(line {older.line}): keep versions in descending order, newest first"
            )
    for section in releases:
        if section.date is not None and not _iso(section.date):
            problems.append(
                f"{section.version} (line {section.line}): date {section.date!r} is not "
                "ISO 8601: write it as YYYY-MM-DD"
            )
    problems.extend(_heading_problems(changelog))
    problems.extend(_link_problems(changelog))
    return problems


def _heading_problems(changelog: Changelog) -> list[str]:
    return [
        f"heading {title!r} (line {line}) names no SemVer version: write it as X.Y.Z"
        for line, title in changelog._others
        if _LOOKS_LIKE_VERSION.match(title)
    ]


def _link_problems(changelog: Changelog) -> list[str]:
    problems = []
    linked = any(changelog.ref(s.label) for s in changelog.sections if s.label)
    for section in changelog.sections:
        if linked and section.label and changelog.ref(section.label) is None:
            problems.append(
                f"heading [{section.label}] (line {section.line}) has no link definition: "
                f"add `[{section.label}]: <url>` at the bottom"
            )
        if "][" not in section.body:
            continue
        for text in prose(tokenize(section.body, changelog)):
            for found in _FULL_REF.finditer(text):  # left as text: the label is not defined
                problems.append(
                    f"link [{found['text']}][{found['label']}] in {section.name} points nowhere: "
                    f"define [{found['label']}]: <url>"
                )
    names = {normalize_label(s.label) for s in changelog.sections if s.label}
    names |= {normalize_label(s.name) for s in changelog.sections}
    names |= {normalize_label(f"v{s.version}") for s in changelog.releases}
    for ref in changelog.link_refs:
        looks = ref.key == "unreleased" or try_parse(ref.label) is not None
        if looks and ref.key not in names:
            problems.append(
                f"link definition [{ref.label}] (line {ref.line}) points at no section: "
                "remove it or add the section"
            )
        if not ref.dest.strip():
            problems.append(f"link definition [{ref.label}] has an empty destination: add the URL")
    return problems
