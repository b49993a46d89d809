"""What a changelog is written in, when Markdown finds no release heading where the text has
releases. Pure: text in, a diagnosis out.

Files named `CHANGES`, `HISTORY`, `NEWS` or `CHANGELOG.txt` can hold anything. Markdown reads a
release only from a heading (`## 1.2.0`, or a line underlined with `===`/`---`); the files that
are not Markdown write their releases in other ways, which this recognises as families:

- reStructuredText: section titles underlined (or over- and underlined) with `~ ^ * + # " '`
  and the like, or whole lines of directives and targets (`.. _v1.2:`, `.. include::`);
- plain text: a release on a line of its own (`6.0.1 (2023-07-18)`, `Version 1.2 - date`,
  `1.2.3:`), as the head of a list item (`- 0.9.0: Drop ...`), or GNU ChangeLog's dated entries
  (`2024-01-31  Jane Doe  <jane@example.org>`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_VERSION = r"v?\d+(?:\.\d+)+[\w.+-]*"
# A release written as a line of its own, or as the head of a list item.
_RELEASE_LINE = re.compile(
    rf"^(?P<item>[ \t]*[-*+][ \t]+)?(?:(?:version|release|changes in(?: version)?)[ \t]+)?"
    rf"(?P<version>{_VERSION})(?P<rest>[ \t]*(?:[:(\[\-\u2013\u2014,]|$).*)$",
    re.I,
)
_GNU_ENTRY = re.compile(r"^\d{4}-\d{2}-\d{2}[ \t]+\S.*<[^>@\s]+@[^>\s]+>\s*$")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_MD_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([!\"#$%&'()*+,./:;<=>?@\[\\\]^_`{|}~-])\1{2,}[ \t]*$")
_RST_DIRECTIVE = re.compile(r"^\.\.[ \t]+(?:_[^:]+:|[\w-]+::|\|[^|]+\|)")


class Markup(NamedTuple):
    """A changelog written in a markup that is not Markdown, and where it shows."""

    kind: str  # "reStructuredText" or "plain text"
    line: int  # 1-based: the first line that shows it
    example: str  # that line, as written

    def explain(self, name: str, point: str = "[tool.release] changelog") -> str:
        """Why `name`'s releases are not found, and what to do (`point`: how the app is
        pointed at another file)."""
        seen = f"line {self.line}: `{self.example.strip()[:60]}`"
        if self.kind == "reStructuredText":
            return (
                f"{name} is reStructuredText, not Markdown: its releases are section titles "
                f"({seen}); reStructuredText changelogs are read by their .rst name: rename it "
                f"to {name.rsplit('.', 1)[0]}.rst, or point at another one with {point}"
            )
        return (
            f"{name} is plain text, not Markdown: its releases are plain-text lines ({seen}), "
            f"not headings; keep the changelog as Markdown (`## {_heading_text(self.example)}`), "
            f"or point at a Markdown one with {point}"
        )


def _heading_text(line: str) -> str:
    found = _RELEASE_LINE.match(line.strip())
    if found is None:
        return "1.2.3"
    return (found["version"] + found["rest"].rstrip().rstrip(":")).strip()[:40]


def not_markdown(text: str) -> Markup | None:
    """The markup that writes this changelog's releases, when it is not Markdown; None when
    its releases are Markdown headings (or it shows no releases at all)."""
    lines = text.splitlines()
    if any(_ATX.match(line) and re.search(_VERSION, line) for line in lines):
        return None  # Markdown release headings: what is missing is not about the markup
    fallback: Markup | None = None  # a directive or a GNU entry: weaker than a release line
    for n, line in enumerate(lines):
        if not line.strip() or _ATX.match(line):
            continue
        after = lines[n + 1] if n + 1 < len(lines) else ""
        before = lines[n - 1] if n else ""
        release = _RELEASE_LINE.match(line)
        if release is None:
            if fallback is None and _RST_DIRECTIVE.match(line):
                fallback = Markup("reStructuredText", n + 1, line)
            elif fallback is None and _GNU_ENTRY.match(line):
                fallback = Markup("plain text", n + 1, line)
            continue
        if _RST_ADORNMENT.match(after) and not _MD_UNDERLINE.match(after):
            return Markup("reStructuredText", n + 1, line)
        if _RST_ADORNMENT.match(before) and _RST_ADORNMENT.match(after):
            return Markup("reStructuredText", n + 1, line)  # over- and underlined
        if _MD_UNDERLINE.match(after):
            return None  # a Markdown setext heading: the file is Markdown
        if release["item"] is not None or not before.strip():
            return Markup("plain text", n + 1, line)
    return fallback
