"""The changelog model: find, extract, check and roll forward version sections. Pure: text in,
values and text out.

mistletoe decides what is Markdown structure (ATX headings, fenced code, HTML blocks, lists, link
reference definitions); this module only decides which regions mistletoe must look at. A column-0
`#`/`##` heading closes every open block except a top-level fenced code block or HTML block, so a
region holding none of the lines that could open one (or a definition, or a setext underline)
needs no parse: its next heading is a heading. Everything else is parsed by mistletoe's block
tokenizer (span parsing only for the few headings and bodies that need it). That keeps a 5 MB
changelog well under a second without writing a Markdown parser.

Bodies are slices of the original text: line endings (CRLF), a BOM, trailing whitespace, bullets
and wrapping stay exactly as written.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mistletoe.block_token
import mistletoe.block_tokenizer
import mistletoe.core_tokens
import mistletoe.span_token
import mistletoe.token

from release.core.tagformat import TagFormat, version_in
from release.core.version import Version, try_parse
from release.errors import ChangelogError

__all__ = [
    "Changelog",
    "ChangelogError",
    "Extracted",
    "HeadingStyle",
    "LinkRef",
    "Rolled",
    "Section",
    "check",
    "extract",
    "notes",
    "parse",
    "roll_forward",
]

# mistletoe's functions carry no annotations; it is used through these names only.
block_token: Any = mistletoe.block_token
block_tokenizer: Any = mistletoe.block_tokenizer
span_token: Any = mistletoe.span_token
token: Any = mistletoe.token


def normalize_label(label: str) -> str:
    """A link label as CommonMark compares them (case and inner whitespace folded)."""
    return str(mistletoe.core_tokens.normalize_label(label))  # type: ignore[no-untyped-call]


# `candidate`: a line that may be a level-1/2 ATX heading (mistletoe confirms each one).
# `suspicious`: a line after which a later heading may not be one, or which holds something we
# need (a definition, even in a list item; a setext underline): the region holding one is
# parsed by mistletoe.
# Matched after a "\n" rather than at `^`: a literal first character lets `re` skip ahead fast.
_LINES_OF_NOTE = re.compile(
    r"\n(?:(?P<candidate> {0,3}#{1,2}(?=[ \t\n]))"
    r"|(?P<suspicious>[ \t>]*(?:```|~~~|<|\[|(?:[-*+]|\d{1,9}[.)])[ \t]+\[[^\]\n]*\]:)"
    r"| {0,3}(?:=+|-+)[ \t]*(?=\n)))"
)

_UNRELEASED = re.compile(r"^\[?\s*unreleased\s*\]?(?:\([^)]*\))?\s*$", re.IGNORECASE)
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
_OTHER_BREAKS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOOKS_LIKE_VERSION = re.compile(r"^(?:(?:version|release)\s+)?\[?v?\d+\.\d+", re.IGNORECASE)
_REPO_BASE = re.compile(r"^(?P<base>.+?)/(?:compare|releases/tag|tree|commits?|tags?)/")
_COMPARE_HEAD = re.compile(r"/compare/(?P<from>[^/]+?)\.\.\.HEAD$")
_COMPARE_INLINE = re.compile(r"(\]\([^)\s]*/compare/)[^)\s]*?\.\.\.HEAD")
_CODE = (
    mistletoe.block_token.CodeFence, mistletoe.block_token.BlockCode,
    mistletoe.span_token.InlineCode, mistletoe.block_token.HtmlBlock, mistletoe.span_token.HtmlSpan,
)
_FULL_REF = re.compile(r"\[(?P<text>[^\[\]]+)\]\[(?P<label>[^\[\]]+)\]")


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

    def find(self, query: str, *, include_prereleases: bool = False) -> Section:
        """The section for `v1.2.3`, `1.2.3`, `refs/tags/v1.2.3` (any spelling of a PEP 440
        version, in any tag format: `2.0.0-dev.5`, `pkg-v2.0.0.dev5`), `Unreleased` or `latest`
        (the newest final release, or the newest of all with `include_prereleases`)."""
        wanted = query.strip().removeprefix("refs/tags/")
        if wanted.lower() == "latest":
            if not self.releases:
                raise ChangelogError(
                    f"the changelog has no released version yet ({self._known()}): "
                    "ask for Unreleased, or release first"
                )
            final = [s for s in self.releases if s.version and not s.version.is_prerelease]
            if include_prereleases or final:
                return self.releases[0] if include_prereleases else final[0]
            raise ChangelogError(
                f"the changelog has no final release yet, only pre-releases ({self._known()}): "
                "ask for one by version, or pass --include-prereleases"
            )
        if _UNRELEASED.match(wanted):
            found = [s for s in self.sections if s.version is None]
            name = "[Unreleased]"
        else:
            version = try_parse(wanted) or version_in(wanted)
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


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lines:
    text: str
    offsets: list[int]  # offsets[i]: where line i starts in `text`; offsets[-1] == len(text)
    plines: list[str]  # what mistletoe reads: no BOM, LF endings, every line ends with "\n"
    ptext: str  # "".join(plines)
    poffsets: list[int]
    eol: str

    @classmethod
    def split(cls, text: str) -> _Lines:
        body = text.removeprefix("\ufeff")
        bom = len(text) - len(body)
        crlf = body.count("\r\n")
        normal = body.replace("\r\n", "\n") if crlf else body
        ptext = normal if normal.endswith("\n") or not normal else normal + "\n"
        if any(char in ptext for char in _OTHER_BREAKS):  # str.splitlines splits at these too
            plines = [p + "\n" for p in ptext.split("\n")[:-1]]
        else:
            plines = ptext.splitlines(keepends=True)
        poffsets = list(itertools.accumulate(map(len, plines), initial=0))
        if crlf:
            parts = text.split("\n")
            if parts[-1] == "":
                parts.pop()
            offsets = list(itertools.accumulate((len(p) + 1 for p in parts), initial=0))
        elif bom:
            offsets = [0, *(p + bom for p in poffsets[1:])]
        else:
            offsets = poffsets[:]
        offsets[-1] = len(text)
        eol = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
        return cls(text, offsets, plines, ptext, poffsets, eol)

    def __len__(self) -> int:
        return len(self.plines)

    def line_of(self, poffset: int) -> int:
        return bisect.bisect_right(self.poffsets, poffset) - 1

    def content_end(self, index: int) -> int:
        """Offset in `text` of the end of line `index`, before its line ending."""
        end = self.offsets[index + 1]
        line = self.text[self.offsets[index] : end]
        return end - (len(line) - len(line.rstrip("\r\n")))


class _Root:
    """What mistletoe expects as `token._root_node`: a holder of link definitions."""

    def __init__(self, footnotes: dict[str, tuple[str, str]] | None = None) -> None:
        self.footnotes: dict[str, tuple[str, str]] = dict(footnotes or {})


_CHUNK = 16  # lines of link definitions handed to mistletoe at a time


class _Definitions(block_token.Footnote):  # type: ignore[misc]
    """mistletoe's link reference definitions, read at most `_CHUNK` lines at a time.

    mistletoe matches a run of definitions with `string[offset:]` per definition, which is
    quadratic: the 7,000 definitions at the bottom of a big changelog took seconds. Definitions
    are line-based, so reading the run in windows finds the same ones (a window that ends inside
    a definition backtracks to it, and the next window starts there).
    """

    @classmethod
    def read(cls, lines: Any) -> Any:
        start = lines.get_pos()
        window = block_tokenizer.FileWrapper(lines.lines[start + 1 : start + 1 + _CHUNK])
        result = super().read(window)
        lines.set_pos(start + window.get_pos() + 1)
        return _Matches(result, window.get_pos() + 1) if result else result


class _Matches(list[Any]):
    """The definitions one read found, and how many lines it took."""

    def __init__(self, matches: list[Any], lines: int) -> None:
        super().__init__(matches)
        self.lines = lines


@contextmanager
def _mistletoe(root: _Root) -> Iterator[None]:
    # HTML blocks (and comments) are off in mistletoe's default token set; a `## ` line inside
    # `<!-- -->` must not become a heading. Restore mistletoe's global state afterwards.
    blocks, spans = list(block_token._token_types), list(span_token._token_types)
    for module, cls in ((block_token, block_token.HtmlBlock), (span_token, span_token.HtmlSpan)):
        if cls not in module._token_types:
            module.add_token(cls)
    if block_token.Footnote in block_token._token_types:
        at = block_token._token_types.index(block_token.Footnote)
        block_token._token_types[at] = _Definitions
    saved = token._root_node
    token._root_node = root
    try:
        yield
    finally:
        token._root_node = saved
        block_token._token_types[:] = blocks
        span_token._token_types[:] = spans


@dataclass(frozen=True)
class _Heading:
    index: int  # 0-based line of the heading (the underline's text line for setext)
    level: int
    content: str
    lines: int = 1  # how many lines the heading takes


_Buffer = Sequence[tuple[Any, Any, int]]  # mistletoe's parse buffer: (type, read result, line)


@dataclass
class _Scan:
    headings: list[_Heading] = field(default_factory=list)
    refs: list[tuple[int, int, Any]] = field(default_factory=list)  # (first, last+1, match)
    comments: list[tuple[int, int]] = field(default_factory=list)  # top-level HTML comments

    @functools.cached_property
    def trailing(self) -> dict[int, int]:
        """Line after a definition -> its first line."""
        return {last: first for first, last, _ in self.refs}

    @functools.cached_property
    def comment_ends(self) -> dict[int, int]:
        return {end: start for start, end in self.comments}


def _collect(buffer: _Buffer, lines: _Lines, scan: _Scan, upto: int) -> None:
    """Record headings, definitions and HTML comments from a block parse buffer."""
    for token_type, result, line_number in buffer:
        index = line_number - 1
        if index >= upto:
            continue
        if token_type is block_token.Heading:
            level, content, _closing = result
            if level <= 2:
                scan.headings.append(_Heading(index, level, content))
        elif token_type is block_token.Paragraph and isinstance(result, block_token.SetextHeading):
            if result.level <= 2:
                # The underline is the first line (after the first) that reads as one.
                count = 2
                underline = block_token.Paragraph.is_setext_heading
                while not underline(lines.plines[index + count - 1]):
                    count += 1
                content = " ".join(ln.strip() for ln in lines.plines[index : index + count - 1])
                scan.headings.append(_Heading(index, result.level, content, count))
        elif token_type is _Definitions:
            _spans(index, result, lines, scan)
        elif token_type is block_token.HtmlBlock and lines.plines[index].lstrip()[:4] == "<!--":
            scan.comments.append((index, index + len(result)))


def _spans(index: int, matches: Sequence[Any], lines: _Lines, scan: _Scan) -> None:
    if getattr(matches, "lines", None) == len(matches):  # one line each, the usual case
        scan.refs.extend((index + n, index + n + 1, match) for n, match in enumerate(matches))
        return
    # mistletoe reports the definitions of a block, not where each one is: re-run its matcher
    # over the block's lines to get each definition's line range.
    end = index
    while end < min(len(lines), index + _CHUNK) and lines.plines[end].strip():
        end += 1
    string = "".join(lines.plines[index:end])
    offset, first = 0, index
    for match in matches:
        found = block_token.Footnote.match_reference(string, offset)
        if found is None:
            break
        new_offset = found[0]
        last = first + string.count("\n", offset, new_offset)
        scan.refs.append((first, last, match))
        offset, first = new_offset, last


def _parse_block(lines: _Lines, lo: int, hi: int) -> list[tuple[Any, Any, int]]:
    buffer: list[tuple[Any, Any, int]] = block_tokenizer.tokenize_block(
        lines.plines[lo:hi], block_token._token_types, start_line=lo + 1
    )
    return buffer


def _read_one(lines: _Lines, index: int) -> int:
    """Read the one top-level block starting at `index` (all of the input available); return
    the index of the line after it."""
    wrapper = block_tokenizer.FileWrapper(lines.plines)
    wrapper.set_pos(index - 1)
    line = lines.plines[index]
    for token_type in block_token._token_types:
        if token_type.start(line):
            pos = wrapper.get_pos()
            if token_type.read(wrapper) is not None:
                break
            wrapper.set_pos(pos)
    else:
        next(wrapper)
    return max(int(wrapper.get_pos()) + 1, index + 1)


def _restart(lines: _Lines, fresh: int, upto: int) -> int:
    """The last line in [fresh, upto] where mistletoe can start reading as if at the top.

    `fresh` is one, and so is a column-0 line after a blank line, when nothing in between can
    open a fence or an HTML block (the caller knows): the blank line closed every paragraph, and
    a column-0 line closes any list item or quote, or starts a new item that parses the same.
    """
    plines = lines.plines
    for index in range(upto, fresh, -1):
        if plines[index][0] not in " \t\n" and not plines[index - 1].strip():
            return index
    return fresh


def _scan(lines: _Lines) -> _Scan:
    scan = _Scan()
    candidates: list[int] = []
    suspicious: list[int] = []
    for match in _LINES_OF_NOTE.finditer("\n" + lines.ptext):  # match.start(): a line's offset
        found = candidates if match.lastgroup == "candidate" else suspicious
        found.append(lines.line_of(match.start()))
    fresh = 0  # a line where no block is open
    i = 0
    while i < len(candidates):
        cand = candidates[i]
        if cand < fresh:
            i += 1
            continue
        line = lines.plines[cand]
        clean = bisect.bisect_left(suspicious, fresh) == bisect.bisect_left(suspicious, cand)
        if line[0] == "#" and clean and block_token.Heading.start(line):
            # Nothing in [fresh, cand) can hold a column-0 line open: it is a heading.
            heading = block_token.Heading
            scan.headings.append(_Heading(cand, heading.level, heading.content))
            fresh = cand + 1
            i += 1
            continue
        first = suspicious[bisect.bisect_left(suspicious, fresh)] if not clean else cand
        buffer = _parse_block(lines, _restart(lines, fresh, min(first, cand)), cand + 1)
        last = buffer[-1] if buffer else None
        if last is not None and last[0] is block_token.Heading and last[2] == cand + 1:
            _collect(buffer, lines, scan, len(lines))
            fresh = cand + 1
            i += 1
            continue
        # The candidate sits inside the last block (a fence, an HTML block, a list item):
        # read that block again with the whole input to see where it really ends.
        opened = last[2] - 1 if last is not None else fresh
        _collect(buffer, lines, scan, opened)
        fresh = _read_one(lines, opened)
    rest = bisect.bisect_left(suspicious, fresh)
    if fresh < len(lines) and rest < len(suspicious):
        start = _restart(lines, fresh, suspicious[rest])
        _collect(_parse_block(lines, start, len(lines)), lines, scan, len(lines))
    scan.headings.sort(key=lambda h: h.index)
    return scan


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
    lines = _Lines.split(text)
    root = _Root()
    with _mistletoe(root):
        scan = _scan(lines)
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


def _link_refs(lines: _Lines, scan: _Scan, root: _Root) -> list[LinkRef]:
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


def _region_end(lines: _Lines, scan: _Scan, top: int, stop: int) -> int:
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
    lines: _Lines, scan: _Scan, refs: dict[str, LinkRef]
) -> tuple[list[Section], list[tuple[int, str]]]:
    sections: list[Section] = []
    others: list[tuple[int, str]] = []  # level-2 headings that name no version
    heads = scan.headings
    for i, head in enumerate(heads):
        if head.level != 2:
            continue
        title = head.content
        if _UNRELEASED.match(title):
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


# --- notes ---------------------------------------------------------------------------------


def _walk(tokens: Sequence[Any]) -> Iterator[Any]:
    for item in tokens:
        yield item
        children = getattr(item, "children", None)
        if children:
            yield from _walk(list(children))


def _plain(item: Any) -> str:
    content = getattr(item, "content", None)
    if isinstance(content, str) and not getattr(item, "children", None):
        return content
    return "".join(_plain(child) for child in getattr(item, "children", None) or ())


def _tokenize(body: str, changelog: Changelog) -> list[Any]:
    """`body` parsed by mistletoe, its references resolved against the whole file."""
    root = _Root({key: (ref.dest, ref.title) for key, ref in changelog._refs.items()})
    lines = body.replace("\r\n", "\n").splitlines(keepends=True)
    with _mistletoe(root):
        tokens: list[Any] = block_token.tokenize(
            [ln if ln.endswith("\n") else ln + "\n" for ln in lines]
        )
    return tokens


def _prose(tokens: Sequence[Any]) -> Iterator[str]:
    """The plain text of `tokens`, code and raw HTML left out."""
    for item in tokens:
        if isinstance(item, _CODE):
            continue
        if isinstance(item, span_token.RawText):
            yield str(item.content)
        children = getattr(item, "children", None)
        if children:
            yield from _prose(list(children))


def _used(body: str, changelog: Changelog) -> list[str]:
    """Keys of the definitions that reference links in `body` resolve to."""
    tokens = _tokenize(body, changelog)
    keys: list[str] = []
    by_target: dict[tuple[str, str], list[str]] = {}
    for key, ref in changelog._refs.items():
        by_target.setdefault((ref.dest, ref.title), []).append(key)
    for item in _walk(tokens):
        kind = getattr(item, "dest_type", None)
        if not isinstance(item, span_token.Link | span_token.Image) or kind not in (
            "full", "collapsed", "shortcut"
        ):
            continue
        label = item.label if kind == "full" else _plain(item)
        key = normalize_label(label) if label else ""
        if key in changelog._refs:
            keys.append(key)
        else:  # link text with markup: fall back to the definition it resolved to
            target = str(getattr(item, "target", None) or getattr(item, "src", ""))
            keys.extend(by_target.get((target, str(item.title)), []))
    return keys


def notes(changelog: Changelog, section: Section) -> str:
    """The section's body plus the link definitions it uses that live elsewhere in the file,
    so it renders the same on its own (a GitHub Release page)."""
    body = section.body
    if not body or "[" not in body:
        return body
    wanted = set(_used(body, changelog))
    extra: list[str] = []
    for ref in changelog.link_refs:
        if ref.key not in wanted or changelog._refs.get(ref.key) is not ref:
            continue
        if ref.line is not None and section.body_start <= ref.start < section.body_end:
            continue  # defined in the body itself
        if ref.line is not None:
            extra.append(changelog.text[ref.start : ref.end].rstrip("\r\n"))
        else:
            title = f' "{ref.title}"' if ref.title else ""
            extra.append(f"[{ref.label}]: {ref.dest}{title}")
    if not extra:
        return body
    eol = changelog.eol
    return body + eol + eol + eol.join(extra)


def extract(
    text: str, query: str, *, allow_empty: bool = False, include_prereleases: bool = False
) -> Extracted:
    """The section `query` names (see `Changelog.find`), with its notes as the body."""
    changelog = parse(text)
    section = changelog.find(query, include_prereleases=include_prereleases)
    if not section.body.strip() and not allow_empty:
        raise ChangelogError(
            f"the changelog section for {section.name} (line {section.line}) is empty: "
            "write its notes under the heading (or allow an empty section: --allow-empty)"
        )
    return Extracted(
        version=None if section.version is None else str(section.version),
        date=section.date,
        title=section.title,
        body=notes(changelog, section),
        url=section.url,
    )


# --- checks --------------------------------------------------------------------------------


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
        f"heading {title!r} (line {line}) names no PEP 440 version: write it as X.Y.Z "
        "(or 1.3.0rc1, 2026.8.17)"
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
        for text in _prose(_tokenize(section.body, changelog)):
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


# --- rolling forward -----------------------------------------------------------------------


def _repo_base(changelog: Changelog, repo_url: str | None) -> str | None:
    if repo_url:
        return repo_url.strip().removesuffix("/").removesuffix(".git")
    dests = [ref.dest for ref in (changelog.ref("unreleased"), *changelog.link_refs) if ref]
    dests += [s.url for s in changelog.sections if s.url]
    for dest in dests:
        found = _REPO_BASE.match(dest)
        if found:
            return found["base"]
    return None


def _tag_prefix(changelog: Changelog, previous: Version | None) -> str:
    # Tags are `vX.Y.Z` unless the file's own compare link says `X.Y.Z...HEAD`.
    ref = changelog.ref("unreleased")
    found = _COMPARE_HEAD.search(ref.dest) if ref is not None else None
    if found and previous is not None and found["from"] == str(previous):
        return ""
    return "v"


def _clean_notes(notes: str, eol: str) -> str:
    lines = notes.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    body = eol.join(lines)
    if any(h.level <= 2 for h in _scan_text(body).headings):
        raise ChangelogError(
            "the notes contain a `#` or `##` heading, which would split the changelog section: "
            "use `###` headings in notes"
        )
    return body


def _scan_text(text: str) -> _Scan:
    with _mistletoe(_Root()):
        return _scan(_Lines.split(text))


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def roll_forward(
    text: str,
    version: Version,
    date: str,
    *,
    notes: str | None = None,
    repo_url: str | None = None,
    previous: Version | None = None,
    tag_format: str | None = None,
    previous_tag: str | None = None,
) -> Rolled:
    """`text` with `[Unreleased]` (or `notes`) moved into a new section for `version`, written in
    the heading style the file already uses, a fresh empty `[Unreleased]` on top, and the compare
    links at the bottom updated when the file has them. Refuses a version that has a section.

    Compare links name tags in `tag_format` (`previous_tag` as it is spelled in git); without
    it, `v`-prefixed unless the file's own links use plain versions."""
    changelog = parse(text)
    eol = changelog.eol
    found = [s for s in changelog.sections if s.version is None]
    if not found:
        raise ChangelogError(
            "the changelog has no [Unreleased] section: add `## [Unreleased]` above the newest "
            "version, with the notes for this release under it"
        )
    if len(found) > 1:
        lines = ", ".join(str(s.line) for s in found)
        raise ChangelogError(
            f"the changelog has {len(found)} [Unreleased] sections (lines {lines}): keep one"
        )
    unreleased = found[0]
    releases = changelog.releases
    same = [s for s in releases if s.version == version]
    if same:
        raise ChangelogError(
            f"the changelog already has a section for {version} (line {same[0].line}): "
            "that version was released; bump to a new one (or remove the section)"
        )
    body = unreleased.body if notes is None else _clean_notes(notes, eol)
    if not body.strip():
        raise ChangelogError(
            f"nothing to release: [Unreleased] (line {unreleased.line}) is empty and no notes "
            "were given: write the notes under it"
        )

    warnings: list[str] = []
    style = HeadingStyle()  # Keep a Changelog, for a file with no release yet
    newest = releases[0] if releases else None
    odd: list[Section] = []
    if newest is not None and newest.style is not None:
        style = newest.style
        odd = [s for s in releases[1:] if s.style is not None and not s.style.same_shape(style)]
    if previous is None and releases:
        previous = max(s.version for s in releases if s.version is not None)
    base = _repo_base(changelog, repo_url)
    fmt = TagFormat(tag_format or _tag_prefix(changelog, previous) + "{version}")
    tag = fmt.render(version)
    if previous_tag is None and previous is not None:
        previous_tag = fmt.render(previous)
    compare = (
        None if base is None
        else f"{base}/compare/{previous_tag}...{tag}" if previous_tag is not None
        else f"{base}/releases/tag/{tag}"
    )
    heading = style.render(version, date, compare)
    if newest is not None and odd:
        warnings.append(
            f"the changelog mixes heading styles (`## {newest.title}` on line {newest.line}, "
            f"`## {odd[0].title}` on line {odd[0].line}): writing `{heading}` in the newest "
            "one's style"
        )
    if style.label == "inline" and compare is None:
        warnings.append(f"`{heading}` has no link: the repository URL is not known")

    heading_line = text[unreleased.start : unreleased.heading_end]
    if base is not None:  # `## [Unreleased](.../compare/vA...HEAD)` moves on too
        heading_line = _COMPARE_INLINE.sub(rf"\g<1>{tag}...HEAD", heading_line)
    section = heading + eol + eol + body + eol
    rest = text[unreleased.end :]
    middle = _with_eol(heading_line, eol) + eol + section + (eol if rest else "")
    edits = [_Edit(unreleased.start, unreleased.end, middle)]
    edits += _link_edits(
        changelog, unreleased=unreleased, version=version, tag=tag, previous_tag=previous_tag,
        style=style, base=base, warnings=warnings,
    )
    out = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: edit.start] + edit.text + out[edit.end :]
    return Rolled(out, tuple(warnings))


def _with_eol(text: str, eol: str) -> str:
    return text if text.endswith(("\n", "\r")) else text + eol


def _link_edits(
    old: Changelog,
    *,
    unreleased: Section,
    version: Version,
    tag: str,
    previous_tag: str | None,
    style: HeadingStyle,
    base: str | None,
    warnings: list[str],
) -> list[_Edit]:
    """Edits of the old text that keep the compare links at the bottom current."""
    placed = [
        r for r in old.link_refs
        if r.line is not None and old._refs.get(r.key) is r
        and not unreleased.heading_end <= r.start < unreleased.end
    ]
    ours = next((r for r in placed if r.key == "unreleased"), None)
    versions = [r for r in placed if try_parse(r.label) is not None]
    if ours is None and not versions:
        return []
    if base is None:
        warnings.append(
            "compare links not updated: the repository URL is not in the changelog; "
            "pass the remote's URL"
        )
        return []
    eol = old.eol
    target = (
        f"{base}/compare/{previous_tag}...{tag}" if previous_tag is not None
        else f"{base}/releases/tag/{tag}"
    )
    label = f"{'v' if style.v else ''}{version}"
    new_ref = f"[{label}]: {target}" if style.label == "ref" else None
    edits: list[_Edit] = []
    stale = next((r for r in placed if r.key == normalize_label(label)), None)
    if new_ref and stale is not None:
        warnings.append(f"replaced the link definition [{stale.label}] on line {stale.line}")
    if ours is not None:
        source = old.text[ours.start : ours.end]
        line_end = source[len(source.rstrip("\r\n")) :]
        replacement = f"[{ours.label}]: {base}/compare/{tag}...HEAD" + (line_end or eol)
        if new_ref:
            replacement += new_ref + (line_end or "")
            if stale is not None:
                edits.append(_Edit(stale.start, stale.end, ""))
        edits.append(_Edit(ours.start, ours.end, replacement))
    elif new_ref and stale is not None:
        edits.append(_Edit(stale.start, stale.end, new_ref + eol))
    elif new_ref:
        edits.append(_Edit(versions[0].start, versions[0].start, new_ref + eol))
    return edits
