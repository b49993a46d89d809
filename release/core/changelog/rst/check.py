"""`--check` on a reStructuredText changelog: two sections for one version, releases out of
order, labels that collide, and docutils' own system messages (a title underline too short, a
broken list), each at its line and worded with its fix."""

from __future__ import annotations

import collections
import itertools
import re

from release.core.changelog import versions
from release.core.changelog.problems import Problem, Severity
from release.core.changelog.rst.model import RstChangelog

# docutils' messages, with what to do about them
_FIXES = (
    (re.compile(r"Title (?:underline|overline) too short", re.I),
     "make the adornment at least as long as the title text"),
    (re.compile(r"Duplicate explicit target name", re.I),
     "give one of the two `.. _name:` labels another name"),
    (re.compile(r"Unknown interpreted text role", re.I),
     "a Sphinx extension's role, shown as its text in the Markdown form; fine if Sphinx knows it"),
    (re.compile(r"Unknown directive type", re.I),
     "a Sphinx extension's directive, left out of the Markdown form; fine if Sphinx knows it"),
    (re.compile(r"Unexpected indentation|ends without a blank line", re.I),
     "put a blank line between the paragraph and the indented block (or list)"),
)
# Sphinx' own vocabulary docutils does not know: a warning, not an error
_SPHINX_ONLY = re.compile(r"Unknown (?:interpreted text role|directive type)", re.I)


def check(changelog: RstChangelog) -> list[Problem]:
    """Every problem, in the order of the file."""
    problems = [*_duplicates(changelog), *_order(changelog), *_messages(changelog)]
    return sorted(problems, key=lambda p: (p.line or 0, p.severity.value))


def _duplicates(changelog: RstChangelog) -> list[Problem]:
    by_version = collections.defaultdict(list)
    for section in changelog.releases:
        by_version[versions.key(section.version or "")].append(section)
    problems = []
    for found in by_version.values():
        if len(found) > 1:
            lines = ", ".join(str(s.line) for s in found)
            problems.append(Problem(
                Severity.ERROR, found[1].line,
                f"{len(found)} sections for {found[0].version} (lines {lines}): merge them "
                "into one",
            ))
    return problems


def _order(changelog: RstChangelog) -> list[Problem]:
    """Releases newest first: one newer than the release above it is out of place."""
    problems = []
    releases = [s for s in changelog.releases if not s.nested]
    for above, below in itertools.pairwise(releases):
        new, old = versions.pep440(above.version or ""), versions.pep440(below.version or "")
        if new is not None and old is not None and old > new:
            problems.append(Problem(
                Severity.WARNING, below.line,
                f"{below.version} is below {above.version} (line {above.line}) but newer: keep "
                "the releases newest first",
            ))
    return problems


def _messages(changelog: RstChangelog) -> list[Problem]:
    problems = []
    for message in changelog.messages:
        text = " ".join(message.text.split())
        fix = next((f for pattern, f in _FIXES if pattern.search(text)), None)
        severity = Severity.ERROR if message.level >= 3 and not _SPHINX_ONLY.search(text) \
            else Severity.WARNING
        problems.append(Problem(
            severity, message.line,
            f"docutils: {text.rstrip('.')}" + (f": {fix}" if fix else ""),
        ))
    return problems
