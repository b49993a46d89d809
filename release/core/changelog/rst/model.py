"""The values of a reStructuredText changelog: its sections as the Markdown model holds them,
plus how each title is adorned, the labels before it and its release-status line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from docutils import nodes

from release.core.changelog import versions
from release.core.changelog.model import Changelog, Section
from release.core.changelog.rst.doctree import Message
from release.errors import ChangelogError


@dataclass(frozen=True)
class Adornment:
    """How a title is adorned: `-----` under it, or `=====` over and under it."""

    char: str
    overline: bool
    extra: int = 0  # how much longer than the title the underline is written
    inset: int = 0  # the spaces before an overlined title's text

    def render(self, title: str, eol: str, width: int) -> str:
        """`title` adorned so: the line(s) of the title, without a final line ending."""
        line = self.char * (width + self.extra + 2 * self.inset)
        text = " " * self.inset + title
        return eol.join([line, text, line] if self.overline else [text, line])


@dataclass(frozen=True)
class Status:
    """The line under a title that says whether it is out: `Released 2024-11-08`,
    `Unreleased`, `:release-date: 2024-01-02`."""

    text: str  # as written
    start: int  # offsets of its text in the file (no line ending)
    end: int
    date: str | None
    released: bool


@dataclass(frozen=True)
class RstSection(Section):
    """A reStructuredText changelog's section: a Section, with its title's adornment."""

    adornment: Adornment | None = None
    title_start: int = 0  # offset of the title's first line (its overline, if any)
    labels: tuple[str, ...] = ()  # `.. _v1-2-3:` lines right before the title, as written
    status: Status | None = None
    pending: str | None = None  # the version an unreleased section is named for, if any
    template: str = ""  # the title with `{version}` and `{date}` in place (heading.Title)
    node: nodes.section | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RstChangelog(Changelog):
    """A reStructuredText changelog: a Changelog, with docutils' messages and every title."""

    syntax: ClassVar[str] = "rst"
    messages: tuple[Message, ...] = ()
    # Every section's title: (line, level, text, adornment), file order, releases or not
    titles: tuple[tuple[int, int, str, Adornment], ...] = ()

    @property
    def rst_sections(self) -> tuple[RstSection, ...]:
        return tuple(s for s in self.sections if isinstance(s, RstSection))

    def find_any(self, query: str, *, include_prereleases: bool = False) -> Section:
        """`find`, and the version an unreleased section is named for finds it too
        (`Version 3.1.0` / `Unreleased`): what extract-notes shows. (For `find`, as for
        release's checks, that version has no section yet.)"""
        try:
            return self.find(query, include_prereleases=include_prereleases)
        except ChangelogError as exc:
            wanted = query.strip().removeprefix("refs/tags/").removeprefix("v")
            if versions.pep440(wanted) is None:
                raise
            key = versions.key(wanted)
            pending = [s for s in self.rst_sections
                       if s.pending and versions.key(s.pending) == key]
            if len(pending) != 1:
                raise exc from None
            return pending[0]
