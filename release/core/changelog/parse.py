"""Reading a changelog: its version sections and link definitions, in file order."""

from __future__ import annotations

import re

from release.core.changelog.model import (
    UNRELEASED,
    Changelog,
    HeadingStyle,
    LinkRef,
    Section,
    normalize_label,
)
from release.core.changelog.scan import Lines, Root, Scan, scan_lines, span_token, using_mistletoe
from release.core.version import Version, try_parse

_VERSION_TITLE = re.compile(
    r"""^(?P<prefix>(?:version|release)\s+)?
    (?:\[(?P<bracketed>v?\d[^\]\s]*)\](?P<inline>\([^)]*\))?
      |(?P<plain>v?\d+\.\d+[^\s(\[,:]*))
    (?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_DATE_PART = re.compile(
    r"^(?P<sep>\s*(?:[-\u2013\u2014:/,|]\s*)?)(?P<open>\(\s*)?(?P<date>[^()\[\]]*?)"
    r"(?P<close>\s*\))?(?P<tail>\s*(?:\[.*)?)$"
)


def _style_and_version(title: str) -> tuple[Version | None, str | None, HeadingStyle | None]:
    """(version, date, style) from a heading's text; all None when it names no version."""
    match = _VERSION_TITLE.match(title)
    if match is None:
        return None, None, None
    raw = match["bracketed"] or match["plain"]
    version = try_parse(raw)
    if version is None:
        return None, None, None
    label = "plain" if match["plain"] else ("inline" if match["inline"] else "ref")
    rest = match["rest"]
    date: str | None = None
    sep: str | None = None
    close = ""
    if rest.strip():
        part = _DATE_PART.match(rest)
        if part is not None and part["date"].strip():
            date = part["date"].strip()
            sep = part["sep"] + (part["open"] or "")
            close = (part["close"] or "").strip()
        else:
            date = rest.strip()
            sep = rest[: len(rest) - len(rest.lstrip())] or " "
    style = HeadingStyle(match["prefix"] or "", raw[:1] in "vV", label, sep, close)
    return version, date, style


def _bracket_label(title: str) -> str | None:
    """`1.2.3` for `[1.2.3] - ...`: a heading that is a reference to a link definition."""
    found = re.match(r"^(?:(?:version|release)\s+)?\[([^\]]+)\](?!\()", title, re.IGNORECASE)
    return found[1] if found else None


def _heading_url(content: str, refs: dict[str, LinkRef], label: str | None) -> str | None:
    if "](" in content or "][" in content:
        for child in span_token.tokenize_inner(content):
            if isinstance(child, span_token.Link):
                return str(child.target)
    if label:
        found = refs.get(normalize_label(label))
        if found is not None:
            return found.dest
    return None


def parse(text: str) -> Changelog:
    """The changelog's version sections and link definitions, in file order."""
    lines = Lines.split(text)
    root = Root()
    with using_mistletoe(root):
        scan = scan_lines(lines)
        refs = _link_refs(lines, scan, root)
        by_key: dict[str, LinkRef] = {}
        for ref in refs:
            by_key.setdefault(ref.key, ref)
        sections, others = _sections(lines, scan, by_key)
    return Changelog(text, tuple(sections), tuple(refs), lines.eol, by_key, tuple(others))


def _unescape(text: str) -> str:
    # What mistletoe does to a destination or title; skipped when there is nothing to do.
    if "\\" in text or "&" in text:
        return str(span_token.EscapeSequence.strip(text))
    return text


def _link_refs(lines: Lines, scan: Scan, root: Root) -> list[LinkRef]:
    refs: list[LinkRef] = []
    placed: set[str] = set()
    for first, last, match in sorted(scan.refs, key=lambda r: r[0]):
        label, dest, title = match[0], match[1], match[2]
        start = lines.offsets[first]
        end = lines.offsets[min(last, len(lines))]
        dest, title = _unescape(dest.strip()), _unescape(title)
        refs.append(LinkRef(label, dest, title, first + 1, start, end))
        placed.add(normalize_label(label))
    for key, (dest, title) in root.footnotes.items():
        if key not in placed:  # defined inside a list item or a quote
            refs.append(LinkRef(key, dest, title))
    return refs


def _region_end(lines: Lines, scan: Scan, top: int, stop: int) -> int:
    """Where a section's own text ends: before the link definitions (and the HTML comments
    among them, `<!-- links -->`) that trail it, as they do at the bottom of the file."""
    trailing, comments = scan.trailing, scan.comment_ends
    end = cut = stop
    while end > top:
        while end > top and not lines.plines[end - 1].strip():
            end -= 1
        if end in trailing:
            end = cut = trailing[end]
        elif end in comments and cut != stop:
            end = cut = comments[end]
        else:
            break
    return cut


def _sections(
    lines: Lines, scan: Scan, refs: dict[str, LinkRef]
) -> tuple[list[Section], list[tuple[int, str]]]:
    sections: list[Section] = []
    others: list[tuple[int, str]] = []  # level-2 headings that name no version
    heads = scan.headings
    for i, head in enumerate(heads):
        if head.level != 2:
            continue
        title = head.content
        if UNRELEASED.match(title):
            version, date, style = None, None, None
        else:
            version, date, style = _style_and_version(title)
            if version is None:
                others.append((head.index + 1, title))
                continue
        stop = heads[i + 1].index if i + 1 < len(heads) else len(lines)
        top = min(head.index + head.lines, stop)
        cut = _region_end(lines, scan, top, stop)
        first = top
        while first < cut and not lines.plines[first].strip():
            first += 1
        last = cut
        while last > first and not lines.plines[last - 1].strip():
            last -= 1
        body_start = lines.offsets[first]
        body_end = lines.content_end(last - 1) if last > first else body_start
        label = _bracket_label(title)
        sections.append(
            Section(
                version=version,
                date=date,
                title=title,
                body=lines.text[body_start:body_end],
                url=_heading_url(title, refs, label),
                line=head.index + 1,
                start=lines.offsets[head.index],
                heading_end=lines.offsets[top],
                body_start=body_start,
                body_end=body_end,
                end=lines.offsets[cut],
                style=style,
                label=label,
            )
        )
    return sections, others
