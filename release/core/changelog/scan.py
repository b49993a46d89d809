"""The fast scan: the headings and link definitions of a changelog, read by mistletoe only where
needed.

mistletoe decides what is Markdown structure (ATX headings, fenced code, HTML blocks, lists, link
reference definitions); this module only decides which regions mistletoe must look at. A column-0
ATX heading closes every open block except a top-level fenced code block or HTML block, so a
region holding none of the lines that could open one (or a definition, or a setext underline)
needs no parse: its next heading is a heading. Everything else is parsed by mistletoe's block
tokenizer (span parsing only for the few headings and bodies that need it). That keeps a 5 MB
changelog well under a second without writing a Markdown parser.

Bodies are slices of the original text: line endings (CRLF), a BOM, trailing whitespace, bullets
and wrapping stay exactly as written.
"""

from __future__ import annotations

import bisect
import functools
import gc
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, ParamSpec, TypeVar

from release.core import markdown
from release.core.changelog.definitions import (
    CHUNK,
    Definitions,
    Matches,
    Run,
    plain_run,
    record,
)
from release.core.changelog.lines import Lines, LineSequence
from release.core.changelog.model import normalize_label

# mistletoe's functions carry no annotations; it is used through these names only.
block_token: Any = markdown.block_token
block_tokenizer: Any = markdown.block_tokenizer
span_token: Any = markdown.span_token
token: Any = markdown.token


_P = ParamSpec("_P")
_R = TypeVar("_R")


def without_gc(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, run with the cyclic garbage collector paused. Reading a changelog makes
    hundreds of thousands of small objects that hold no cycles (lines, offsets, headings,
    sections), and the collections they set off were a third of a 5 MB `--check`; what cycles
    are made meanwhile are collected afterwards.

    When it made many (a big changelog's scan), they are moved to the oldest generation as
    they are (`gc.freeze` then `gc.unfreeze`), where only a full collection looks at them: left
    young, the first collection after the pause walked all of them, a thirtieth of a 5 MB
    `extract-notes`, to find them alive."""

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if gc.get_count()[0] > _MANY:
                gc.freeze()  # every tracked object to the permanent generation, unwalked,
                gc.unfreeze()  # and back, into the oldest one
            gc.enable()

    return paused


_MANY = 10_000  # objects made during a pause that are moved, not left young


# `candidate`: a line that may be an ATX heading (mistletoe confirms each one).
# `suspicious`: a line after which a later heading may not be one, or which holds something we
# need (a definition, even in a list item; a setext underline): the region holding one is
# parsed by mistletoe. `run`: two or more lines in a row that start with `[` (the link definitions
# at the bottom of a changelog, by the thousand), each of them suspicious: matched at once.
# Matched after a "\n" rather than at `^`: a literal first character lets `re` skip ahead fast.
# Possessive quantifiers: nothing after them could match what they gave back (a quarter faster).
# The lookaheads first turn away, in one step each, the lines that can be neither: those that
# start with no character a branch starts with (prose, blank lines), and the plain bullet items
# (`- text`, `  * text`) that fill a changelog, which every branch would try and fail.
_LINES_OF_NOTE = re.compile(
    r"\n(?=[ \t>`~<\[*+\-=#\d])(?![ \t]*+[-*+][ \t]++[^\[\s])"
    r"(?:(?P<candidate> {0,3}+#{1,6}+(?=[ \t\n])[^\n]*+)"
    r"|(?P<run>\[[^\n]*+(?:\n\[[^\n]*+)++)"
    r"|(?P<suspicious>[ \t>]*+(?:```|~~~|<|\[|(?:[-*+]|\d{1,9}+[.)])[ \t]++\[[^\]\n]*+\]:)"
    r"| {0,3}+(?:=++|-++)[ \t]*+(?=\n)))"
)


class Root:
    """What mistletoe expects as `token._root_node`: a holder of link definitions."""

    def __init__(self, footnotes: dict[str, tuple[str, str]] | None = None) -> None:
        self.footnotes: dict[str, tuple[str, str]] = dict(footnotes or {})


@contextmanager
def using_mistletoe(root: Root) -> Iterator[None]:
    # HTML blocks (and comments) are off in mistletoe's default token set; a `## ` line inside
    # `<!-- -->` must not become a heading. Restore mistletoe's global state afterwards.
    blocks, spans = list(block_token._token_types), list(span_token._token_types)
    for module, cls in ((block_token, block_token.HtmlBlock), (span_token, span_token.HtmlSpan)):
        if cls not in module._token_types:
            module.add_token(cls)
    if block_token.Footnote in block_token._token_types:
        at = block_token._token_types.index(block_token.Footnote)
        block_token._token_types[at] = Definitions
    saved = token._root_node
    token._root_node = root
    try:
        yield
    finally:
        token._root_node = saved
        block_token._token_types[:] = blocks
        span_token._token_types[:] = spans


class HeadingLine(NamedTuple):  # a tuple: a 5 MB changelog has 12,000 headings
    index: int  # type: ignore[assignment]  # 0-based line (the text line of a setext one)
    level: int
    content: str
    lines: int = 1  # how many lines the heading takes

    @property
    def setext(self) -> bool:
        return self.lines > 1


_Buffer = Sequence[tuple[Any, Any, int]]  # mistletoe's parse buffer: (type, read result, line)


_FIRST, _LAST = operator.itemgetter(0), operator.itemgetter(1)


class Scan:
    """What the scan found: headings, definitions, comments, a block that never closes. (A
    plain class: a dataclass costs every run a millisecond to make at import.)"""

    def __init__(
        self,
        headings: list[HeadingLine] | None = None,
        refs: list[tuple[int, int, Any, str]] | None = None,
        comments: list[tuple[int, int]] | None = None,
        unclosed: int | None = None,
        runs: list[Run] | None = None,
    ) -> None:
        self.headings = headings if headings is not None else []
        # (first line, last line + 1, mistletoe's match, the normalized label), in file order
        self.refs = refs if refs is not None else []
        self.comments = comments if comments is not None else []  # top-level HTML comments
        self.unclosed = unclosed  # a fence or HTML block that runs to the end, hiding headings
        # blocks of plain definitions left unread (a lazy scan's), in file order
        self.runs = runs if runs is not None else []

    @functools.cached_property
    def trailing(self) -> dict[int, int]:
        """Line after a definition -> its first line."""
        refs = self.refs
        return dict(zip(map(_LAST, refs), map(_FIRST, refs), strict=True))

    @functools.cached_property
    def comment_ends(self) -> dict[int, int]:
        return {end: start for start, end in self.comments}

    def run_before(self, line: int) -> int | None:
        """The first line of the unread block of definitions (`runs`) that holds line
        `line - 1`, if one does."""
        runs = self.runs
        at = bisect.bisect_left(runs, line, key=_RUN_FIRST) - 1  # the last one starting before
        if at >= 0 and line <= runs[at].first + runs[at].count:
            return runs[at].first
        return None


_RUN_FIRST: Callable[[Run], int] = operator.attrgetter("first")


def _collect(buffer: _Buffer, lines: Lines, scan: Scan, upto: int) -> None:
    """Record headings, definitions and HTML comments from a block parse buffer."""
    for token_type, result, line_number in buffer:
        index = line_number - 1
        if index >= upto:
            continue
        if token_type is block_token.Heading:
            level, content, _closing = result
            scan.headings.append(HeadingLine(index, level, content))
        elif token_type is block_token.Paragraph and isinstance(result, block_token.SetextHeading):
            if result.level <= 2:
                # The underline is the first line (after the first) that reads as one.
                count = 2
                underline = block_token.Paragraph.is_setext_heading
                while not underline(lines.line(index + count - 1)):
                    count += 1
                content = " ".join(ln.strip() for ln in lines.chunk(index, index + count - 1))
                scan.headings.append(HeadingLine(index, result.level, content, count))
        elif token_type is Definitions:
            if isinstance(result, Run):
                scan.runs.append(result)
            else:
                _spans(index, result, lines, scan)
        elif token_type is block_token.HtmlBlock and lines.line(index).lstrip()[:4] == "<!--":
            scan.comments.append((index, index + len(result)))


def _spans(index: int, matches: Sequence[Any], lines: Lines, scan: Scan) -> None:
    keys = getattr(matches, "keys", None)
    if keys is None:
        keys = [normalize_label(match[0]) for match in matches]
    if getattr(matches, "lines", None) == len(matches):  # one line each, the usual case
        count = len(matches)
        firsts, lasts = range(index, index + count), range(index + 1, index + count + 1)
        scan.refs.extend(zip(firsts, lasts, matches, keys, strict=True))
        return
    # mistletoe reports the definitions of a block, not where each one is: re-run its matcher
    # over the block's lines to get each definition's line range.
    end = index
    while end < min(len(lines), index + CHUNK) and lines.line(end).strip():
        end += 1
    string = lines.ptext[lines.poffset(index) : lines.poffset(end)]
    offset, first = 0, index
    for match, key in zip(matches, keys, strict=True):
        found = block_token.Footnote.match_reference(string, offset)
        if found is None:
            break
        new_offset = found[0]
        last = first + string.count("\n", offset, new_offset)
        scan.refs.append((first, last, match, key))
        offset, first = new_offset, last


def _parse_block(lines: Lines, lo: int, hi: int, lazy: bool) -> list[tuple[Any, Any, int]]:
    """mistletoe's parse buffer of lines [lo, hi), read as a document of their own."""
    buffer: list[tuple[Any, Any, int]] = []
    lo = _plain_runs(lines, lo, hi, lazy, buffer)
    if lo < hi:
        buffer += block_tokenizer.tokenize_block(
            lines.chunk(lo, hi), block_token._token_types, start_line=lo + 1
        )
    return buffer


def _plain_runs(
    lines: Lines, lo: int, hi: int, lazy: bool, buffer: list[tuple[Any, Any, int]]
) -> int:
    """Add to `buffer` the blocks of plain definitions at `lo` (before `hi`), as mistletoe
    would read them (or, `lazy`, as `Run`s left unread and undefined to mistletoe); return the
    line after them."""
    while lo < hi and (run := plain_run(lines, lo, hi, lazy=lazy)) is not None:
        if isinstance(run, Matches):
            record(run, token._root_node.footnotes)
        buffer.append((Definitions, run, lo + 1))
        lo += len(run)
        while lo < hi and not lines.line(lo).strip():
            lo += 1
    return lo


def _read_to(
    lines: Lines, lo: int, cand: int, lazy: bool
) -> tuple[list[tuple[Any, Any, int]], int]:
    """mistletoe's parse buffer of the top-level blocks from line `lo` on, read with all of the
    input available, up to the block that holds line `cand`; and the line after that block.

    The buffer ends with a Heading at `cand` when `cand` is one. Otherwise its last block is
    the one `cand` sits in (a fence, an HTML block, a list item), read whole: each block is
    read once, as a parse of the whole file would read it."""
    buffer: list[tuple[Any, Any, int]] = []
    lo = _plain_runs(lines, lo, cand + 1, lazy, buffer)
    wrapper = block_tokenizer.FileWrapper([])
    wrapper.lines = LineSequence(lines)  # not split: mistletoe indexes it, one line at a time
    wrapper.set_pos(lo - 1)
    types, append = block_token._token_types, buffer.append
    while (index := wrapper.get_pos() + 1) <= cand:
        line = wrapper.peek()
        for token_type in types:  # what mistletoe's tokenize_block does for each block
            if token_type.start(line):
                result = token_type.read(wrapper)
                if result is not None:
                    append((token_type, result, index + 1))
                    break
        else:  # a blank line
            next(wrapper)
    return buffer, max(int(wrapper.get_pos()) + 1, cand + 1)


def _restart(lines: Lines, fresh: int, upto: int) -> int:
    """The last line in [fresh, upto] where mistletoe can start reading as if at the top.

    `fresh` is one, and so is a column-0 line after a blank line, when nothing in between can
    open a fence or an HTML block (the caller knows): the blank line closed every paragraph, and
    a column-0 line closes any list item or quote, or starts a new item that parses the same.
    """
    line = lines.line
    for index in range(upto, fresh, -1):
        if line(index)[0] not in " \t\n" and not line(index - 1).strip():
            return index
    return fresh


def _atx(line: str) -> tuple[int, str] | None:
    """The level and text of the ATX heading `line` is, by mistletoe's `Heading.start`."""
    found = _HEADING.match(line)
    if found is None:
        return None
    content = (found[2] or "").strip()
    return len(found[1]), "" if content and not content.strip("#") else content


_HEADING = block_token.Heading.pattern


def _lines_of_note(lines: Lines) -> tuple[list[int], list[str], list[int], list[int]]:
    """The candidate lines and their text (without the "\n"), and the runs of suspicious ones
    (`_LINES_OF_NOTE`): where each starts and where it ends (its last line), both ending with a
    sentinel (the line count)."""
    candidates: list[int] = []
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    candidate, start_run, end_run = candidates.append, starts.append, ends.append
    text = texts.append
    known, known_at = ([], []) if lines._known_lines else (lines._known_lines, lines._known_at)
    place, place_at = known.append, known_at.append  # where each line of note starts
    ptext, line, at = lines.ptext, 0, 0
    count = ptext.count
    # The first line has no "\n" before it: read on its own (a run there is one line long).
    first = _LINES_OF_NOTE.match("\n" + ptext[: ptext.find("\n") + 1]) if ptext else None
    if first is not None:
        place(0)
        place_at(0)
        if first.lastindex == 1:
            candidate(0)
            text(first[1])
        else:
            start_run(0)
            end_run(0)
    for match in _LINES_OF_NOTE.finditer(ptext):  # every other line, after its "\n"
        start = match.start() + 1  # where the line starts
        line += count("\n", at, start)
        at = start
        place(line)
        place_at(start)
        kind = match.lastindex  # 1 candidate, 2 run, 3 suspicious
        if kind == 1:
            candidate(line)
            text(match[1])
            continue
        start_run(line)
        end_run(line + count("\n", start, match.end()) if kind == 2 else line)  # its last line
    if lines._count is None:  # the lines counted so far, and those after the last of note
        lines._count = line + count("\n", at)
    starts.append(len(lines))  # a sentinel: no line of note from here on
    ends.append(len(lines))
    return candidates, texts, starts, ends


def _plain_headings(
    candidates: list[int], i: int, upto: int, texts: list[str], headings: list[HeadingLine]
) -> int:
    """Add the headings at `candidates[i:]` before line `upto`, up to the first candidate that
    needs more than this; return the position of that one.

    Nothing between them and `upto` (the next suspicious line) can hold a column-0 line open:
    every column-0 ATX heading there is a heading (what `_atx` reads, inline: this runs for
    every heading of the file)."""
    heading, new, atx_match = HeadingLine, tuple.__new__, _HEADING.match
    count = len(candidates)
    while i < count and (cand := candidates[i]) < upto:
        text = texts[i]  # the line without its "\n"
        if text[0] != "#":
            break
        rest = text.lstrip("#")
        if "#" in rest:  # a closing sequence may end it: mistletoe's pattern reads it
            if (found := atx_match(text + "\n")) is None:
                break
            level, content = len(found[1]), (found[2] or "").strip()
            if content and not content.strip("#"):
                content = ""
        else:  # no `#` to close it: what the pattern reads is the rest of the line
            level, content = len(text) - len(rest), rest.strip()
        # tuple.__new__: HeadingLine's own __new__ is a Python call (its default)
        headings.append(new(heading, (cand, level, content, 1)))
        i += 1
    return i


def scan_lines(lines: Lines, *, lazy: bool = False) -> Scan:
    """What the scan finds in `lines` (mistletoe's state: `using_mistletoe`). `lazy`: the
    blocks of plain link definitions are left unread, as `Scan.runs` (for one section)."""
    scan = Scan()
    candidates, texts, starts, ends = _lines_of_note(lines)
    fresh = 0  # a line where no block is open
    doubt = 0  # runs[doubt]: the first run of suspicious lines that ends at or after `fresh`
    headings = scan.headings
    i, count = 0, len(candidates)
    while i < count:
        cand = candidates[i]
        if cand < fresh:
            i += 1
            continue
        while ends[doubt] < fresh:
            doubt += 1
        upto = max(starts[doubt], fresh)  # the first suspicious line at or after `fresh`
        clean = upto >= cand
        start, i = i, _plain_headings(candidates, i, upto, texts, headings)
        if i > start:
            fresh = candidates[i - 1] + 1
            continue
        first = cand if clean else upto
        buffer, fresh = _read_to(lines, _restart(lines, fresh, first), cand, lazy)
        last = buffer[-1] if buffer else None
        if last is not None and last[0] is block_token.Heading and last[2] == cand + 1:
            _collect(buffer, lines, scan, len(lines))
            i += 1
            continue
        # The candidate sits inside the last block (a fence, an HTML block, a list item),
        # which ends before `fresh`.
        opened = last[2] - 1 if last is not None else fresh
        _collect(buffer, lines, scan, opened)
        if fresh >= len(lines) and lines.line(opened).lstrip()[:1] in ("`", "~", "<"):
            scan.unclosed = opened
    while ends[doubt] < fresh:
        doubt += 1
    upto = max(starts[doubt], fresh)
    if fresh < len(lines) and upto < len(lines):
        start = _restart(lines, fresh, upto)
        _collect(_parse_block(lines, start, len(lines), lazy), lines, scan, len(lines))
    headings.sort(key=operator.itemgetter(0))  # by index
    return scan


def scan_text(text: str) -> Scan:
    with using_mistletoe(Root()):
        return scan_lines(Lines.split(text))
