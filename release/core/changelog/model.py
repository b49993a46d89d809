"""The changelog's values: sections, link definitions, heading styles."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import mistletoe.core_tokens

from release.core.version import Version, try_parse
from release.errors import ChangelogError


def normalize_label(label: str) -> str:
    """A link label as CommonMark compares them (case and inner whitespace folded)."""
    return str(mistletoe.core_tokens.normalize_label(label))  # type: ignore[no-untyped-call]


UNRELEASED = re.compile(r"^\[?\s*unreleased\s*\]?(?:\([^)]*\))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class HeadingStyle:
    """How a version heading is written, so a new one can be written the same way."""

    prefix: str = ""  # "Version " in `## Version 1.2.3`
    v: bool = False  # `v1.2.3`
    label: str = "ref"  # "ref": `[1.2.3]`, "inline": `[1.2.3](url)`, "plain": `1.2.3`
    sep: str | None = " - "  # between version and date; None when there is no date
    close: str = ""  # ")" for `1.2.3 (2025-12-02)`

    def render(self, version: Version, date: str, url: str | None) -> str:
        text = f"{'v' if self.v else ''}{version}"
        if self.label == "ref":
            text = f"[{text}]"
        elif self.label == "inline" and url:
            text = f"[{text}]({url})"
        dated = f"{self.sep}{date}{self.close}" if self.sep is not None else ""
        return f"## {self.prefix}{text}{dated}"

    def same_shape(self, other: HeadingStyle) -> bool:
        mine = (self.prefix.lower(), self.v, self.label)
        if mine != (other.prefix.lower(), other.v, other.label):
            return False
        if self.sep is None or other.sep is None:
            return True  # an undated section says nothing about the date separator
        return (self.sep, self.close) == (other.sep, other.close)


@dataclass(frozen=True)
class Section:
    """One `## ` version (or `[Unreleased]`) section. Offsets index `Changelog.text`."""

    version: Version | None  # None for [Unreleased]
    date: str | None
    title: str  # heading text without the leading '## '
    body: str  # exact text as written, no heading, no surrounding blank lines
    url: str | None  # link in the heading, if any
    line: int = 0  # 1-based line of the heading
    start: int = 0  # offset of the heading line
    heading_end: int = 0  # offset just after the heading line (and its line ending)
    body_start: int = 0
    body_end: int = 0
    end: int = 0  # where the section's region ends (next heading, trailing definitions, EOF)
    style: HeadingStyle | None = None  # None for [Unreleased]
    label: str | None = None  # the `[...]` text of a reference-style heading, for link lookups

    @property
    def name(self) -> str:
        return "Unreleased" if self.version is None else str(self.version)


@dataclass(frozen=True)
class LinkRef:
    """A link reference definition, `[label]: dest "title"`."""

    label: str  # as written
    dest: str
    title: str = ""
    line: int | None = None  # 1-based; None for one nested inside a list or quote
    start: int = -1  # offsets of its source text in `Changelog.text` (top-level ones only)
    end: int = -1  # just after its last line ending

    @functools.cached_property
    def key(self) -> str:
        return normalize_label(self.label)


@dataclass(frozen=True)
class Changelog:
    text: str
    sections: tuple[Section, ...]
    link_refs: tuple[LinkRef, ...]
    eol: str = "\n"
    _refs: dict[str, LinkRef] = field(default_factory=dict, repr=False, compare=False)
    _others: tuple[tuple[int, str], ...] = field(default=(), repr=False, compare=False)

    @property
    def unreleased(self) -> Section | None:
        return next((s for s in self.sections if s.version is None), None)

    @property
    def releases(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.version is not None)

    def ref(self, label: str) -> LinkRef | None:
        """The definition for `label` (case- and whitespace-insensitive, first one wins)."""
        return self._refs.get(normalize_label(label))

    def find(self, query: str) -> Section:
        """The section for `v1.2.3`, `1.2.3`, `refs/tags/v1.2.3`, `Unreleased` or `latest`."""
        wanted = query.strip().removeprefix("refs/tags/")
        if wanted.lower() == "latest":
            if not self.releases:
                raise ChangelogError(
                    f"the changelog has no released version yet ({self._known()}): "
                    "ask for Unreleased, or release first"
                )
            return self.releases[0]
        if UNRELEASED.match(wanted):
            found = [s for s in self.sections if s.version is None]
            name = "[Unreleased]"
        else:
            version = try_parse(wanted)
            if version is None:
                raise ChangelogError(
                    f"{query!r} is not a version: ask for vX.Y.Z, X.Y.Z, refs/tags/vX.Y.Z, "
                    "Unreleased or latest"
                )
            found = [s for s in self.sections if s.version == version]
            name = str(version)
        if not found:
            raise ChangelogError(f"no section for {name}; {self._known()}")
        if len(found) > 1:
            lines = ", ".join(str(s.line) for s in found)
            raise ChangelogError(
                f"the changelog has {len(found)} sections for {name} (lines {lines}): "
                "merge them into one"
            )
        return found[0]

    def _known(self, limit: int = 10) -> str:
        names = [s.name for s in self.sections]
        if not names:
            return "it has no version sections (`## [X.Y.Z] - YYYY-MM-DD`) at all"
        shown = ", ".join(names[:limit])
        more = f", ... ({len(names)} sections in all)" if len(names) > limit else ""
        return f"sections that exist: {shown}{more}"


@dataclass(frozen=True)
class Extracted:
    version: str | None
    date: str | None
    title: str
    body: str  # notes(): the body plus the link definitions it uses
    url: str | None


@dataclass(frozen=True)
class Rolled:
    text: str
    warnings: tuple[str, ...]

