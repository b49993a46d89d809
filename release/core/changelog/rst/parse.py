"""Reading a reStructuredText changelog (`CHANGES.rst`, towncrier's `NEWS.rst`): docutils
decides what is a section and at which level (from the order in which the file uses its
adornment styles); the release headings are read from the titles as for Markdown; every body
is an exact slice of the file.

The package: doctree (docutils, set up for others' files), model (the values), parse,
markdown (a section as GitHub-flavoured Markdown), roll (a release in the file's style) and
check (`--check`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docutils import nodes
from docutils.utils import column_width

from release.core.changelog import versions
from release.core.changelog.heading import DATE, Title, product_prefix, read_title
from release.core.changelog.lines import Lines
from release.core.changelog.model import HeadingStyle
from release.core.changelog.rst.doctree import doctree
from release.core.changelog.rst.model import Adornment, RstChangelog, RstSection, Status

_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1*\s*$")  # one of reST's punctuation characters
_LABEL = re.compile(r"^\.\. _[^:`]+:\s*$|^\.\. _`[^`]+`:\s*$")  # an internal target, no URL
# The line under a title that says whether the release is out.
_UNRELEASED = re.compile(
    r"^[*_]*\(?(?:un-?released|not\s+(?:yet\s+)?released|in\s+development|release\s+date:?\s*"
    r"(?:tb[ad]|unreleased))\)?[*_]*\.?$",
    re.IGNORECASE,
)
_RELEASED = re.compile(
    r"^[*_]*(?:(?:released|release\s+date)\s*:?\s*(?:on\s+)?|:release-date:\s*)?(?=\S)",
    re.IGNORECASE,
)
# kombu's and celery's `:release-date: 2023-06-06 2:00 P.M GMT+2` field under the title
_RELEASE_DATE = re.compile(r":release-date:[ \t]*(?P<date>\d{4}-\d{2}-\d{2})")
_IN_TITLE_UNRELEASED = re.compile(r"\bun-?released\b|\bnot\s+(?:yet\s+)?released\b", re.I)


@dataclass(frozen=True)
class _Title:
    """A section title's lines in a reStructuredText changelog."""

    level: int
    line: int  # 0-based index of the title text's line
    first: int  # 0-based index of its first line (the overline, if any)
    under: int  # 0-based index of the underline
    text: str
    adornment: Adornment
    node: nodes.section


def parse(text: str) -> RstChangelog:
    """The changelog's sections (releases and Unreleased), in file order."""
    lines = Lines.split(text)
    document, messages = doctree(lines.ptext)
    titles = _titles(document, lines)
    product = product_prefix(t.text for t in titles)
    sections: list[RstSection] = []
    open_release: _Title | None = None
    open_version: str | None = None
    for n, title in enumerate(titles):
        if open_release is not None and title.level <= open_release.level:
            open_release = open_version = None
        read = _read(title, product)
        if read is None:
            continue
        nested = False
        if open_release is not None:
            mine = versions.release_numbers(read.version or "")
            theirs = versions.release_numbers(open_version or "")
            if not read.version or not theirs or read.version == open_version:
                continue
            if mine[: len(theirs)] != theirs or len(mine) <= len(theirs):
                continue
            nested = True
        else:
            open_release, open_version = title, read.version
        stop = _region_stop(titles, n, lines)
        sections.append(_section(lines, title, read, stop, nested))
    return RstChangelog(
        text, tuple(sections), (), lines.eol, messages=tuple(messages),
        titles=tuple((t.line + 1, t.level, t.text, t.adornment) for t in titles),
    )


def _read(title: _Title, product: str | None) -> Title | None:
    """The release a title names. Its text as written first; then as docutils shows it, for
    a title with markup (`` `v0.12.0`_ - date ``, ``**1.2.3**``), the template keeping the
    markup around the version."""
    read = read_title(title.text, product)
    if read is not None:
        return read
    shown = title.node[0].astext() if title.node.children else ""
    read = read_title(shown, product) if shown != title.text else None
    if read is None or read.version is None or read.version not in title.text:
        return read
    template = title.text.replace("{", "{{").replace("}", "}}").replace(
        read.version, "{version}", 1)
    if read.date is not None and read.date in template:
        template = template.replace(read.date, "{date}", 1)
    return Title(read.version, read.date, None, None, template)


def _titles(document: nodes.document, lines: Lines) -> list[_Title]:
    """Every section title docutils found, with its level and where its lines are."""
    found: list[_Title] = []
    for section in document.findall(nodes.section):
        level = 0
        parent: nodes.Node | None = section
        while parent is not None:
            level += isinstance(parent, nodes.section)
            parent = parent.parent
        title = section.children[0] if section.children else None
        if not isinstance(title, nodes.title) or section.line is None:
            continue
        place = _place(lines, section.line - 1, title.rawsource)
        if place is None:
            continue
        first, at, under = place
        written = lines.plines[at].rstrip("\n")
        text = written.strip()
        char = lines.plines[under].strip()[0]
        over = first != at
        inset = len(written) - len(written.lstrip()) if over else 0
        width = len(lines.plines[under].strip())
        extra = max(0, width - column_width(text) - 2 * inset)
        found.append(_Title(level, at, first, under, text,
                            Adornment(char, over, extra, inset), section))
    return found


def _place(lines: Lines, under: int, raw: str) -> tuple[int, int, int] | None:
    """(first line, title line, underline) of the title whose underline docutils reports at
    `under`, checked against the file."""
    plines = lines.plines
    if not 0 < under < len(plines) or not _ADORNMENT.match(plines[under]):
        return None
    at = under - 1
    if plines[at].strip() != raw.strip() and raw.strip():
        # A title docutils reports elsewhere (it tells the line of the title's end)
        candidates = [i for i in range(max(0, under - 3), under) if plines[i].strip() == raw]
        if not candidates:
            return None
        at = candidates[-1]
    first = at
    if at > 0 and _ADORNMENT.match(plines[at - 1]) and plines[at - 1].strip() == \
            plines[under].strip():
        first = at - 1
    return first, at, under


def _region_stop(titles: list[_Title], n: int, lines: Lines) -> int:
    """Index of the line where section `n` ends: where the next title at its level or above
    (and the labels right before it) starts; the end of the file for the last one."""
    level = titles[n].level
    for later in titles[n + 1 :]:
        if later.level <= level:
            return _labels_start(lines, later.first)
    return len(lines)


def _labels_start(lines: Lines, first: int) -> int:
    """The first line of the `.. _v1-2-3:` labels right before a title (blank lines between
    them allowed): they belong to the section they name, not to the body above."""
    start = at = first
    while at > 0:
        previous = lines.plines[at - 1]
        if not previous.strip():
            at -= 1
        elif _LABEL.match(previous):
            at -= 1
            start = at
        else:
            break
    return start


def _status(lines: Lines, at: int) -> tuple[Status | None, int]:
    """The status line at line `at` (a paragraph of its own), and the line after it."""
    plines = lines.plines
    if at >= len(plines) or (at + 1 < len(plines) and plines[at + 1].strip()):
        return None, at
    text = plines[at].strip()
    start = lines.offsets[at] + (len(plines[at]) - len(plines[at].lstrip()))
    end = start + len(text)
    if _UNRELEASED.match(text):
        return Status(text, start, end, None, released=False), at + 1
    lead = _RELEASED.match(text)
    date = DATE.search(text)
    if lead is not None and date is not None and (lead.end() > 0 or date.start() == 0 or
                                                  text[: date.start()].strip("*_ ") == ""):
        if lead.end() == 0 and text.strip("*_ ") != date[0]:
            return None, at  # a sentence that happens to hold a date
        return Status(text, start, end, date[0], released=True), at + 1
    return None, at


def _section(lines: Lines, title: _Title, read: Title, stop: int, nested: bool) -> RstSection:
    plines = lines.plines
    labels_at = _labels_start(lines, title.first)
    labels = tuple(plines[i].rstrip("\n") for i in range(labels_at, title.first)
                   if plines[i].strip())
    first = title.under + 1
    while first < stop and not plines[first].strip():
        first += 1
    status, after = _status(lines, first) if first < stop else (None, first)
    heading_end_line = after if status is not None else title.under + 1
    if status is not None:
        first = after
        while first < stop and not plines[first].strip():
            first += 1
    last = stop
    while last > first and not plines[last - 1].strip():
        last -= 1
    body_start = lines.offsets[first]
    body_end = lines.content_end(last - 1) if last > first else body_start
    pending = None
    version = read.version
    if version is not None and (
        (status is not None and not status.released) or _IN_TITLE_UNRELEASED.search(title.text)
    ):
        pending, version = version, None
    date = read.date or (status.date if status is not None else None)
    if date is None and (field := _RELEASE_DATE.match(lines.text, body_start, body_end)):
        date = field["date"]
    return RstSection(
        version=version,
        date=date,
        title=title.text,
        body=lines.text[body_start:body_end],
        url=None,
        line=title.line + 1,
        start=lines.offsets[labels_at],
        heading_end=lines.offsets[heading_end_line],
        body_start=body_start,
        body_end=body_end,
        end=lines.offsets[stop],
        style=HeadingStyle(title.level, read.template, plines[title.under].strip()),
        label=None,
        level=title.level,
        setext=True,
        nested=nested,
        adornment=title.adornment,
        title_start=lines.offsets[title.first],
        labels=labels,
        status=status,
        pending=pending,
        template=read.template,
        node=title.node,
    )
