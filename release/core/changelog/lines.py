"""A changelog's lines, as written and as mistletoe reads them, each found when asked for
(the scan, `scan.py`, places the lines of note it meets)."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Sequence
from typing import overload

_NEWLINE = re.compile("\n")


class Lines:
    """The text's lines, as written and as mistletoe reads them, each found when asked for.

    mistletoe reads `ptext`'s lines: no BOM, LF endings, each ending with "\n". A 5 MB
    changelog has 92,000 of them, and extract-notes reads a few hundred: splitting them all into
    strings (and freeing them at exit) was a tenth of its run. So one line (`line`), a run of
    them (`chunk`) or where one starts (`poffset`, `offset`) is found from the nearest line
    whose start is known: the scan's lines of note (`_lines_of_note` records them as it meets
    them) and the last line asked for. Code that reads every line asks for `plines`, split once."""

    def __init__(self, text: str, ptext: str, eol: str, *, bom: int, crlf: bool) -> None:
        self.text = text
        self.ptext = ptext  # what mistletoe reads
        self.eol = eol
        self._bom = bom
        self._crlf = crlf
        self._count: int | None = None  # every line of `ptext` ends with a "\n"
        self._known_lines: list[int] = []  # lines whose offset in `ptext` the scan found
        self._known_at: list[int] = []  # (`_lines_of_note`), in file order, and those offsets
        self._cursor = (0, 0)  # the last line found, and where it starts
        self._counted = 0  # lines stepped over to find lines

    @classmethod
    def split(cls, text: str) -> Lines:
        body = text.removeprefix("\ufeff")
        bom = len(text) - len(body)
        crlf = body.count("\r\n") if "\r" in body else 0  # a 2-character count is slow
        normal = body.replace("\r\n", "\n") if crlf else body
        ptext = normal if normal.endswith("\n") or not normal else normal + "\n"
        eol = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
        return cls(text, ptext, eol, bom=bom, crlf=bool(crlf))

    @functools.cached_property
    def plines(self) -> list[str]:
        """Every line of `ptext`, each with its "\n"."""
        return _split(self.ptext, len(self))

    @functools.cached_property
    def poffsets(self) -> list[int]:
        """poffsets[i]: where line i starts in `ptext`; poffsets[-1] == len(ptext)."""
        return list(itertools.accumulate(map(len, self.plines), initial=0))

    @functools.cached_property
    def offsets(self) -> list[int]:
        """offsets[i]: where line i starts in `text`; offsets[-1] == len(text)."""
        text = self.text
        if self._crlf:
            parts = text.split("\n")
            if parts[-1] == "":
                parts.pop()
            offsets = list(itertools.accumulate((len(p) + 1 for p in parts), initial=0))
        elif self._bom:
            offsets = [0, *(p + self._bom for p in self.poffsets[1:])]
        else:
            offsets = self.poffsets[:]
        offsets[-1] = len(text)
        return offsets

    def poffset(self, index: int) -> int:
        """`poffsets[index]`, stepped to from the nearest line whose start is known: the last
        one found, or the nearest the scan placed."""
        known = self.__dict__.get("poffsets")
        if known is not None:
            return int(known[index])
        count = self._count or len(self)
        if index >= count:
            return len(self.ptext)
        line, at = self._cursor
        if index != line:
            placed = self._known_lines
            near = bisect.bisect_right(placed, index)  # placed[near - 1] <= index < placed[near]
            if near and index - placed[near - 1] < abs(index - line):
                line, at = placed[near - 1], self._known_at[near - 1]
            if near < len(placed) and placed[near] - index < abs(index - line):
                line, at = placed[near], self._known_at[near]
            self._counted += abs(index - line)
            if self._counted > count:  # asked of enough lines: work out all at once
                return self.poffsets[index]
            if index - line > 8:  # far: the "\n"s between, matched (and skipped) in C
                ends = _NEWLINE.finditer(self.ptext, at)
                at = next(itertools.islice(ends, index - line - 1, None)).end()
            elif index > line:
                find = self.ptext.find
                for _ in range(index - line):
                    at = find("\n", at) + 1
            else:
                rfind = self.ptext.rfind
                for _ in range(line - index):
                    at = rfind("\n", 0, at - 1) + 1
        self._cursor = (index, at)
        return at

    def line(self, index: int) -> str:
        """`plines[index]`, without splitting every line."""
        known = self.__dict__.get("plines")
        if known is not None:
            return str(known[index])
        count = self._count or len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(index)
        at = self.poffset(index)
        end = self.ptext.find("\n", at) + 1
        self._cursor = (index + 1, end)  # a reader goes on to the next line
        return self.ptext[at:end]

    def chunk(self, lo: int, hi: int) -> list[str]:
        """`plines[lo:hi]`, without splitting every line."""
        known = self.__dict__.get("plines")
        if known is not None:
            return list(known[lo:hi])
        hi = min(hi, self._count or len(self))
        if lo >= hi:
            return []
        start = self.poffset(lo)
        return _split(self.ptext[start : self.poffset(hi)], hi - lo)

    def offset(self, index: int) -> int:
        """`offsets[index]`, without working out every line's."""
        known = self.__dict__.get("offsets")
        if known is not None:
            return int(known[index])
        if self._crlf:
            return self.offsets[index]
        if index >= (self._count or len(self)):
            return len(self.text)
        return self.poffset(index) + self._bom if index else 0

    def __len__(self) -> int:
        if self._count is None:  # the scan counts them as it goes (`_lines_of_note`)
            self._count = self.ptext.count("\n")
        return self._count

    def content_end(self, index: int) -> int:
        """Offset in `text` of the end of line `index`, before its line ending."""
        end = self.offset(index + 1)
        line = self.text[self.offset(index) : end]
        return end - (len(line) - len(line.rstrip("\r\n")))


def _split(ptext: str, count: int) -> list[str]:
    """The `count` lines of `ptext` (each ends with "\n"), split at "\n" alone, as mistletoe
    reads them (`str.splitlines` also splits at the other line breaks: then it makes more)."""
    lines = ptext.splitlines(keepends=True)
    return lines if len(lines) == count else [p + "\n" for p in ptext.split("\n")[:-1]]


class LineSequence(Sequence[str]):
    """The lines of `Lines` as a sequence mistletoe's reader can walk (`scan._read_to`), split a
    few at a time as it reads on (twice as many each time: most blocks are a few lines)."""

    def __init__(self, lines: Lines) -> None:
        self._lines = lines
        self._first = 0  # the lines split last: [_first, _first + len(_split))
        self._split: list[str] = []
        self._size = 4

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._lines))
            if step == 1:
                return self._lines.chunk(start, stop)
            return [self[n] for n in range(start, stop, step)]
        at = index - self._first
        if 0 <= at < len(self._split):
            return self._split[at]
        if index < 0:
            index += len(self._lines)
        if not 0 <= index < len(self._lines):
            raise IndexError(index)
        self._first, self._split = index, self._lines.chunk(index, index + self._size)
        self._size *= 2
        return self._split[0]
