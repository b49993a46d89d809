"""Unified diffs that stay fast on big files with few edits (a 2 MB changelog rolled forward).

difflib's matcher searches the whole file for its longest matching block, again and again:
about a second on a 2 MB changelog. Here the equal stretches are found first, by trimming
common ends and anchoring on lines that occur once on each side (the patience-diff idea); only
the small regions between anchors go through difflib. The output is difflib's unified format.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Iterator, Sequence

_SMALL = 400_000  # a region this size (len(a) * len(b)) goes to difflib directly
_BIG_FILE = 2_000  # lines; smaller files get difflib's own matcher, hunk for hunk


Region = tuple[int, int, int, int]  # a[alo:ahi] against b[blo:bhi]


def _unique_pairs(a: Sequence[str], b: Sequence[str], region: Region) -> list[tuple[int, int]]:
    """(i, j) for lines that occur exactly once in a[alo:ahi] and once in b[blo:bhi],
    reduced to the longest run increasing in both (patience sorting)."""
    alo, ahi, blo, bhi = region
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    # Longest increasing subsequence on j (pairs are already ordered by i).
    tails: list[int] = []
    tail_index: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[pos] = j
            tail_index[pos] = k
        back[k] = tail_index[pos - 1] if pos else -1
    chain: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    return chain[::-1]


def _blocks(
    a: Sequence[str], b: Sequence[str], region: Region, out: list[tuple[int, int, int]]
) -> None:
    """Append the matching blocks (i, j, n) of `region` to `out`, in any order."""
    alo, ahi, blo, bhi = region
    start_a, start_b = alo, blo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    if alo > start_a:
        out.append((start_a, start_b, alo - start_a))
    end_a = ahi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    tail = (ahi, bhi, end_a - ahi) if ahi < end_a else None
    if alo < ahi and blo < bhi:
        anchors = (
            [] if (ahi - alo) * (bhi - blo) <= _SMALL else _unique_pairs(a, b, (alo, ahi, blo, bhi))
        )
        if anchors:
            prev_a, prev_b = alo, blo
            for i, j in anchors:
                _blocks(a, b, (prev_a, i, prev_b, j), out)
                out.append((i, j, 1))
                prev_a, prev_b = i + 1, j + 1
            _blocks(a, b, (prev_a, ahi, prev_b, bhi), out)
        else:
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi])
            for i, j, n in matcher.get_matching_blocks():
                if n:
                    out.append((alo + i, blo + j, n))
    if tail:
        out.append(tail)


class _Matcher(difflib.SequenceMatcher[str]):
    """difflib's matcher, with the matching blocks found as above."""

    def __init__(self, a: Sequence[str], b: Sequence[str]) -> None:
        self._lines = (a, b)
        self._found: list[difflib.Match] | None = None
        super().__init__(None, a, b, autojunk=False)

    def get_matching_blocks(self) -> list[difflib.Match]:
        if self._found is None:
            a, b = self._lines
            found: list[tuple[int, int, int]] = []
            _blocks(a, b, (0, len(a), 0, len(b)), found)
            merged: list[list[int]] = []
            for i, j, n in sorted(found):
                last = merged[-1] if merged else None
                if last and last[0] + last[2] == i and last[1] + last[2] == j:
                    last[2] += n
                else:
                    merged.append([i, j, n])
            self._found = [difflib.Match(i, j, n) for i, j, n in merged]
            self._found.append(difflib.Match(len(a), len(b), 0))
        return self._found


def _range(start: int, length: int) -> str:
    beginning = start + 1  # unified ranges are 1-based; an empty range names the line before
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def unified_diff(old: str, new: str, fromfile: str, tofile: str, n: int = 3) -> Iterator[str]:
    """Lines of the unified diff from `old` to `new` (difflib's format, with 'No newline')."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    started = False
    big = len(a) + len(b) > _BIG_FILE
    matcher = _Matcher(a, b) if big else difflib.SequenceMatcher(None, a, b)
    for group in matcher.get_grouped_opcodes(n):
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        old_range = _range(first[1], last[2] - first[1])
        yield f"@@ -{old_range} +{_range(first[3], last[4] - first[3])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            lines = (
                [(" ", line) for line in a[i1:i2]]
                if tag == "equal"
                else [("-", line) for line in a[i1:i2]] + [("+", line) for line in b[j1:j2]]
            )
            for sign, line in lines:
                yield (
                    sign + line
                    if line.endswith("\n")
                    else f"{sign}{line}\n\\ No newline at end of file\n"
                )
