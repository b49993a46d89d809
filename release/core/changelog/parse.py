"""Reading a changelog: its version sections and link definitions, in file order."""

from __future__ import annotations

import collections
import re
from typing import NamedTuple

from release.core.changelog import versions
from release.core.changelog.heading import (
    BRACKETED,
    PLAIN_VERSION,
    UNRELEASED,
    Title,
    TitleStyle,
    learn_style,
    read_title,
    read_version,
)
from release.core.changelog.lazy_refs import LazyRefs
from release.core.changelog.lines import Lines
from release.core.changelog.model import (
    VERSION_QUERY,
    Changelog,
    HeadingStyle,
    Section,
    Sections,
    normalize_label,
)
from release.core.changelog.refs import Refs
from release.core.changelog.scan import (
    HeadingLine,
    Root,
    Scan,
    scan_lines,
    span_token,
    using_mistletoe,
    without_gc,
)
from release.core.pattern import LazyPattern
from release.errors import ChangelogError


def _heading_url(content: str, refs: Refs, label: str | None) -> str | None:
    if "](" in content or "][" in content:
        with using_mistletoe(refs.root):  # a section may be built after the parse: its own state
            children = list(span_token.tokenize_inner(content))
        for child in children:
            if isinstance(child, span_token.Link):
                return str(child.target)
    if label:
        found = refs.get(normalize_label(label))
        if found is not None:
            return found.dest
    return None


_NOT_MARKDOWN = {
    ".txt": "plain text", ".adoc": "AsciiDoc", ".asciidoc": "AsciiDoc",
    ".org": "Org", ".textile": "Textile", ".rdoc": "RDoc", ".html": "HTML",
}


def require_markdown(
    name: str, point: str = "--changelog PATH ([tool.release] changelog)"
) -> None:
    """Refuse a changelog file that is neither Markdown nor reStructuredText (`CHANGES.txt`),
    by its name; `point` says how the app is pointed at another file."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    kind = _NOT_MARKDOWN.get(suffix)
    if kind is not None:
        raise ChangelogError(
            f"{name} is {kind}, not Markdown or reStructuredText: keep the changelog as "
            f"CHANGELOG.md or CHANGES.rst, or point at one with {point}"
        )


@without_gc
def parse(text: str, like: Changelog | None = None) -> Changelog:
    """The changelog's version sections and link definitions, in file order. `like`: the
    changelog `text` was edited from (`release` reads its roll back), whose scan of what the
    two share is taken over (`rescan`) where it reads the same."""
    reused = _rescanned(like, text) if like is not None else None
    if reused is not None:
        lines, scan, root = reused
    else:
        lines = Lines.split(text)
        root = Root()
        with using_mistletoe(root):
            scan = scan_lines(lines)
    refs = Refs(lines, scan, root)
    skeleton = _skeleton(lines, scan)
    order = list(skeleton.found)

    @without_gc
    def build(position: int) -> Section:
        return _section(skeleton, order[position], lines, scan, refs)

    def shape(position: int) -> tuple[int, bool, str]:
        release = skeleton.found[order[position]]  # what `build` would make its Section say
        return release.head.level, release.nested, release.title.template

    heads = [(r.version, r.also, r.head.index + 1) for r in skeleton.found.values()]
    return Changelog(
        text, Sections(build, heads, shape), refs.link_refs, lines.eol, refs,
        tuple(skeleton.others),
        _unclosed(lines, scan.unclosed),
    )


def _rescanned(like: Changelog, text: str) -> tuple[Lines, Scan, Root] | None:
    if not isinstance(like._refs, Refs):
        return None
    from release.core.changelog.rescan import rescan  # noqa: PLC0415 (release's read-back only)

    return rescan(like._refs, text)


@without_gc
def parse_one(
    text: str, query: str, *, include_prereleases: bool = False
) -> tuple[Changelog, Section] | None:
    """The section `parse(text).find(query, ...)` gives, and a changelog holding only it (and
    every link definition), for its notes; None when it takes the whole model to tell (no
    section or more than one has the version as asked, `Unreleased`, a query that is no
    version), and `parse` and `find` should answer.

    Every heading is still read (which are releases, and at which level most are, decides where
    a section ends) but only the version of its title, and only the one section is built."""
    lines = Lines.split(text)
    root = Root()
    with using_mistletoe(root):
        scan = scan_lines(lines, lazy=True)  # the blocks of definitions: looked up, not read
        skeleton = _skeleton(lines, scan)
        n = _wanted(skeleton, query, include_prereleases)
        if n is None:
            return None

    def whole() -> Refs:  # what needs every definition: the file read without a lazy block
        again = Root()
        with using_mistletoe(again):
            return Refs(lines, scan_lines(lines), again)

    refs = LazyRefs(lines, scan, root, whole) if scan.runs else Refs(lines, scan, root)
    section = _section(skeleton, n, lines, scan, refs)
    changelog = Changelog(text, (section,), refs.link_refs, lines.eol, refs)
    return changelog, section


def _wanted(skeleton: _Skeleton, query: str, include_prereleases: bool) -> int | None:
    """The release `Changelog.find` picks for `query` when it is the one release with the
    version as asked (or the topmost for `latest`); None when `find` must decide."""
    releases = [(n, r) for n, r in skeleton.found.items() if r.version is not None]
    wanted = query.strip().removeprefix("refs/tags/")
    if wanted.lower() == "latest":
        return next(
            (n for n, r in releases
             if include_prereleases or not versions.is_prerelease(r.version or "")),
            None,
        )
    written = wanted[1:] if wanted[:1] in "vV" else wanted
    # Dotted numbers (`v1.2.3`) are a version and no spelling of Unreleased: told at once.
    plain = PLAIN_VERSION.fullmatch(written) is not None
    if not plain and (UNRELEASED.match(wanted) or not VERSION_QUERY.fullmatch(written)):
        return None  # or a tag prefix
    key = written.lower()
    found: list[int] = []
    for n, r in releases:  # every release: kept tight
        if (r.version or "").lower() == key or (r.also and key in map(str.lower, r.also)):
            found.append(n)
    return found[0] if len(found) == 1 else None


_ATX = LazyPattern(r"^ {0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = LazyPattern(r"^ {0,3}(?P<fence>`{3,}|~{3,})")


def _unclosed(lines: Lines, opened: int | None) -> tuple[int, tuple[int, ...]] | None:
    """A fence or HTML comment that runs to the end of the file, with the lines that would be
    release headings if it were closed."""
    if opened is None:
        return None
    first = lines.plines[opened]
    fence = _FENCE.match(first)
    rest = lines.plines[opened + 1 :]
    if fence is not None:
        mark = fence["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
        if any(closing.match(line) for line in rest):
            return None
    elif first.lstrip().startswith("<!--"):
        if "-->" in first[first.index("<!--") + 4 :] or any("-->" in line for line in rest):
            return None
    else:
        return None
    hidden = tuple(
        opened + 2 + n for n, line in enumerate(rest)
        if (atx := _ATX.match(line)) and read_title(atx["text"]) is not None
    )
    return (opened + 1, hidden) if hidden else None


def _region_end(lines: Lines, scan: Scan, top: int, stop: int) -> int:
    """Where a section's own text ends: before the link definitions (and the HTML comments
    among them, `<!-- links -->`) that trail it, as they do at the bottom of the file."""
    trailing, comments = scan.trailing, scan.comment_ends
    end = cut = stop
    while end > top:
        while end > top and not lines.line(end - 1).strip():
            end -= 1
        if end in trailing:
            end = cut = trailing[end]
        elif scan.runs and (first := scan.run_before(end)) is not None:
            end = cut = max(first, top)  # a block of one-line definitions, stepped over whole
        elif end in comments and cut != stop:
            end = cut = comments[end]
        else:
            break
    return cut


class _Release(NamedTuple):  # a tuple: a big changelog has thousands, made in one loop
    """A heading that names a version (or is [Unreleased]), and where its section stops."""

    head: HeadingLine
    version: str | None  # read_title's, without the cost of the rest of the title
    also: tuple[str, ...]
    style: TitleStyle
    nested: bool = False
    under: bool = False  # inside a release (or [Unreleased]) heading of a lower level

    @property
    def title(self) -> Title:
        """The whole title, read when a section is built (extract-notes builds one)."""
        title = read_title(self.head.content, self.style.product)  # a str: a cheap cache key
        assert title is not None  # read_version said it names a version
        return title  # read_title keeps it: asked again, it is a cache hit


_UNREAD = ("", ())  # no title reads as this: `known`'s "not read yet"


def _releases(
    heads: list[HeadingLine], style: TitleStyle
) -> tuple[dict[int, _Release], list[tuple[int, int, str]]]:
    """The release headings by position in `heads`, and the headings that name no version.

    A version heading under a lower-level version heading whose version it extends (`### 5.0.1`
    under `## 5.0`) is nested: a part of its parent's section that can still be asked for. One
    that repeats its parent's version (`### 1.9.0 Changes` under `## 1.9.0`) is no release.
    """
    found: dict[int, _Release] = {}
    others: list[tuple[int, int, str]] = []
    above: list[tuple[int, int]] = []  # (level, position) of the open headings, lowest first
    product = style.product
    bracketed = BRACKETED.match  # read_version_fast, inline: this runs for every heading
    new = tuple.__new__
    read: tuple[str | None, tuple[str, ...]] | None
    known: dict[str, tuple[str | None, tuple[str, ...]] | None] = {}  # `Added`: read once
    for n, head in enumerate(heads):  # every heading of the file: kept tight
        index, level, content, _lines = head
        while above and above[-1][0] >= level:
            above.pop()
        if level > 3:
            read = None
        elif (read := known.get(content, _UNREAD)) is _UNREAD:
            if (fast := bracketed(content)) is not None and not (
                product and content.startswith(product, 1)
            ):
                read = fast[1], ()
            else:
                read = read_version(content, product)
            known[content] = read
        if read is None:
            above.append((level, n))
            others.append((index + 1, level, content))
            continue
        parent = found.get(above[-1][1]) if above else None
        above.append((level, n))
        version, also = read
        nested = False
        if version is not None and parent is not None and parent.version:
            if version.lower() == parent.version.lower():
                continue
            mine = versions.release_numbers(version)
            theirs = versions.release_numbers(parent.version)
            nested = mine[: len(theirs)] == theirs
        # tuple.__new__: the NamedTuple's own __new__ is a Python call
        found[n] = new(_Release, (head, version, also, style, nested, parent is not None))
    return found, others


_WORDS_AFTER = LazyPattern(r"[^\W\d_]{2,}")
_NOT_WORDS = {"unreleased", "yanked", "released", "url", "date", "version"}


def _subheadings(
    found: dict[int, _Release], usual: int, others: list[tuple[int, int, str]]
) -> None:
    """Drop from `found` the version-led headings below the usual release level that are
    subheadings of a release (`### 2.0 upgrade guide` under `## [Unreleased]`): words, not a
    date, follow the version. They stay in their section's body."""
    moved = False
    for n, release in list(found.items()):
        if release.head.level <= usual or release.nested or not release.under:
            continue
        title = release.title
        if title.date:
            continue
        after = title.template.partition("{version}")[2]
        if any(w.lower() not in _NOT_WORDS for w in _WORDS_AFTER.findall(after)):
            del found[n]
            others.append((release.head.index + 1, release.head.level, release.head.content))
            moved = True
    if moved:
        others.sort()


def _second_titles(
    heads: list[HeadingLine], found: dict[int, _Release], lines: Lines, style: TitleStyle
) -> dict[int, int]:
    """Release n -> n + 1 when the heading right after it titles the same release again
    (towncrier under a hand-written title: `## [1.2.0](url) - date`, then `## kite 1.2.0
    (date)`); that heading is taken out of `found`: part of the release's heading, not its body."""
    seconds: dict[int, int] = {}
    for n in sorted(found):
        release = found.get(n)
        if release is None or release.version is None or n + 1 >= len(heads):
            continue
        after = heads[n + 1]
        first = release.head.index + release.head.lines
        if after.level != release.head.level or any(
            lines.line(i).strip() for i in range(first, after.index)
        ):
            continue
        read = (
            (found[n + 1].version,) if n + 1 in found
            else read_version(after.content, style.product)
        )
        if read is not None and (read[0] or "").lower() == release.version.lower():
            seconds[n] = n + 1
            found.pop(n + 1, None)
    return seconds


# A release's first line saying it is not out yet: Pallets' `Unreleased` under `## Version 8.5.0`
# (the release writes `Released 2026-12-02` there).
PENDING_LINE = LazyPattern(
    r"^[ \t]*[*_]*(?:unreleased|not\s+(?:yet\s+)?released|to\s+be\s+released|in\s+development)"
    r"[*_]*\.?[ \t]*$",
    re.IGNORECASE,
)


def _stop(
    heads: list[HeadingLine], found: dict[int, _Release], n: int, usual: int, titled: int
) -> int:
    """Position in `heads` of the heading that ends release `n` (len(heads): the end), looking
    from `titled` on (its last title: `n`, or a second title after it).

    A nested release ends at the next heading of its level or above. Any other ends at the next
    release heading, or at a heading above the usual release level (a title, `## Older
    releases` above `###` releases). A heading at the release's own (usual) level that names no
    version is part of the release (`## Fixed` typed for `### Fixed`) when a release follows;
    with none after it, it is a trailer (`## Links`) and ends the last release.
    """
    release = found[n]
    level = release.head.level
    if release.nested:
        return next(
            (m for m in range(titled + 1, len(heads)) if heads[m].level <= level), len(heads)
        )
    limit = min(level, usual)
    pending: int | None = None  # a same-level heading that ends it unless a release follows
    for m in range(titled + 1, len(heads)):
        other = found.get(m)
        if other is not None and not other.nested:
            return m
        if other is not None:
            continue
        if heads[m].level < limit or (heads[m].level == limit and level != usual):
            return pending if pending is not None else m
        if heads[m].level == limit and pending is None:
            pending = m
    return pending if pending is not None else len(heads)


class _Skeleton(NamedTuple):
    """The file's release headings, before any section is built from them."""

    heads: list[HeadingLine]
    found: dict[int, _Release]  # position in `heads` -> its release, in file order
    others: list[tuple[int, int, str]]  # (line, level, text) of the headings that are none
    usual: int  # the level most releases are at
    seconds: dict[int, int]  # release -> the heading right after it that titles it again


def _skeleton(lines: Lines, scan: Scan) -> _Skeleton:
    heads = scan.headings
    style = learn_style([h[2] for h in heads if h[1] <= 3])  # content, level: by index, fast
    found, others = _releases(heads, style)
    levels = collections.Counter(
        r.head.level for r in found.values() if not r.nested and r.version is not None
    )
    usual = min((lv for lv, c in levels.items() if c == max(levels.values())), default=2)
    _subheadings(found, usual, others)
    seconds = _second_titles(heads, found, lines, style)
    return _Skeleton(heads, found, others, usual, seconds)


def _section(skeleton: _Skeleton, n: int, lines: Lines, scan: Scan, refs: Refs) -> Section:
    heads, found, usual = skeleton.heads, skeleton.found, skeleton.usual
    release = found[n]
    head, title = release.head, release.title
    titled = skeleton.seconds.get(n, n)
    m = _stop(heads, found, n, usual, titled)
    stop = heads[m].index if m < len(heads) else len(lines)
    top = min(heads[titled].index + heads[titled].lines, stop)
    cut = _region_end(lines, scan, top, stop)
    first = top
    while first < cut and not lines.line(first).strip():
        first += 1
    pending, marker = title.pending, title.marker
    if title.version is not None and not (title.date or pending) and first < cut and (
        PENDING_LINE.match(lines.line(first))
    ):  # the marker line is no part of the notes
        pending, marker = True, lines.line(first).strip()
        first += 1
        while first < cut and not lines.line(first).strip():
            first += 1
    last = cut
    while last > first and not lines.line(last - 1).strip():
        last -= 1
    body_start = lines.offset(first)
    body_end = lines.content_end(last - 1) if last > first else body_start
    underline = lines.line(head.index + head.lines - 1).strip() if head.setext else ""
    return Section(
        version=title.version,
        date=title.date,
        title=head.content,
        body=lines.text[body_start:body_end],
        url=title.url or _heading_url(head.content, refs, title.label),
        line=head.index + 1,
        start=lines.offset(head.index),
        heading_end=lines.offset(top),
        body_start=body_start,
        body_end=body_end,
        end=lines.offset(cut),
        style=HeadingStyle(head.level, title.template, underline),
        label=title.label,
        level=head.level,
        setext=head.setext,
        nested=release.nested,
        also=title.also,
        marked_unreleased=pending,
        marker=marker,
    )
