"""The scan of an edited changelog, made from the scan of the text it was edited from.

`release` reads its rolled changelog back to check the roll, and the rolled text is the old one
but near its ends (`release.core.unchanged.Middle`: a section at the top, a definition at the
bottom). The scan of the shared middle is the old one, moved by the lines added above it, when
the middle is cut at two column-0 ATX headings: such a heading ends every open block (it is no
heading inside a fence or an HTML block, and a column-0 line is in no list item or quote), so
what lies between two of them reads the same whatever comes before or after. The part before
the first one and the part after the last one are scanned as documents of their own; the first
is checked to end with that heading in the new text too. The middle's link definitions join
mistletoe's (first one wins) in file order; a file with definitions inside list items or quotes,
which the scan records without their lines, is scanned whole.
"""

from __future__ import annotations

import bisect
import operator

from release.core import unchanged
from release.core.changelog.lines import Lines
from release.core.changelog.refs import Refs
from release.core.changelog.scan import (
    HeadingLine,
    Root,
    Scan,
    scan_lines,
    using_mistletoe,
)

_INDEX = operator.itemgetter(0)


def rescan(refs: Refs, text: str) -> tuple[Lines, Scan, Root] | None:
    """The lines and scan of `text` (and mistletoe's definitions), from those of the old text
    it was edited from (its `Refs` hold them); None when the edit leaves no two such headings
    in a shared middle (the caller scans `text` whole)."""
    old, scan, root = refs.lines, refs.scan, refs.root
    middle = unchanged.Middle.find(old.text, text)
    if middle is None:
        return None
    first, last = _anchors(old, scan, middle)
    if first is None or last is None or first >= last:
        return None
    lines = Lines.split(text)
    moved = bisect.bisect_left(lines.offsets, old.offsets[first] + middle.shift)
    if lines.offsets[moved] != old.offsets[first] + middle.shift:
        return None
    shift = moved - first
    keys = _first_definitions(refs)
    if keys is None:
        return None
    new_root = Root()
    with using_mistletoe(new_root):
        top = scan_lines(Lines.split(text[: lines.offsets[moved + 1]]))
        heading = scan.headings[bisect.bisect_left(scan.headings, first, key=_INDEX)]
        if top.unclosed is not None or not top.headings or top.headings[-1] != (
            moved, heading.level, heading.content, 1
        ):
            return None  # the new text's first part leaves a block open over the heading
        placed = refs.placed
        low = bisect.bisect_right(placed, first, key=_INDEX)
        high = bisect.bisect_left(placed, last, key=_INDEX)
        shared = placed[low:high]
        for n in range(low, high):
            key = keys.get(n)
            if key is not None:
                new_root.footnotes.setdefault(key, root.footnotes[key])
            elif refs.labels[0][placed[n][3]] < low:
                return None  # defined again here, first above: what this one says is not kept
        after = lines.offsets[last + shift + 1]
        rest = text[after:]
        if rest.startswith("\ufeff"):  # would be read as a byte order mark
            return None
        bottom = scan_lines(Lines.split(rest))
    base = last + shift + 1
    low, high = (bisect.bisect_right(scan.headings, n, key=_INDEX) for n in (first, last))
    new = Scan(
        [
            *top.headings,
            *_moved(scan.headings[low:high], shift),
            *_moved(bottom.headings, base),
        ],
        [
            *top.refs,
            *[(a + shift, b + shift, *more) for a, b, *more in shared],
            *[(a + base, b + base, *more) for a, b, *more in bottom.refs],
        ],
        [
            *top.comments,
            *[(a + shift, b + shift) for a, b in scan.comments if first < a and b <= last],
            *[(a + base, b + base) for a, b in bottom.comments],
        ],
        None if bottom.unclosed is None else bottom.unclosed + base,
    )
    return lines, new, new_root


def _anchors(old: Lines, scan: Scan, middle: unchanged.Middle) -> tuple[int | None, int | None]:
    """The first and last column-0 ATX headings whose lines lie in the shared middle."""
    start = bisect.bisect_left(old.offsets, middle.start)
    end = bisect.bisect_left(old.offsets, middle.end)
    if old.offsets[start] != middle.start or old.offsets[end] != middle.end:
        return None, None
    heads, plines = scan.headings, old.plines

    def atx(head: HeadingLine) -> bool:
        return head.lines == 1 and plines[head.index][:1] == "#"

    low = bisect.bisect_left(heads, start, key=_INDEX)
    high = bisect.bisect_left(heads, end, key=_INDEX)
    first = next((heads[n].index for n in range(low, high) if atx(heads[n])), None)
    last = next((heads[n].index for n in range(high - 1, low - 1, -1) if atx(heads[n])), None)
    return first, last


def _first_definitions(refs: Refs) -> dict[int, str] | None:
    """Label by position in `refs.placed` of each definition that is its label's first; None
    when mistletoe also knows definitions inside list items or quotes (the scan records them
    without their lines)."""
    firsts, nested = refs.labels
    return None if nested else {n: key for key, n in firsts.items()}


def _moved(heads: list[HeadingLine], by: int) -> list[HeadingLine]:
    new = tuple.__new__  # HeadingLine's own __new__ is a Python call: 13,000 of them
    return [new(HeadingLine, (h[0] + by, h[1], h[2], h[3])) for h in heads]
