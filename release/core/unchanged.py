"""The long run of identical lines two versions of a text share, and a diff of the two made
without it.

A rolled changelog differs from the one it came from near its ends only (a section at the top,
a link definition at the bottom); the 2 MB between is the same. libgit2 hashes every line of
both texts before comparing them (20 ms for a 2 MB changelog), so `Middle` finds the shared run
around the middle of the old text and `stand_in` replaces it, in both texts, by one line: the
diff is then of a few dozen lines. `renumber` puts the diff's hunk headers back on the whole
texts' lines. The stand-in is the run's last line git would show as a hunk's function context
(by its default rule: a line that starts with a letter, `_` or `$`), or a blank line when the
run has none, so each hunk header reads as in the diff of the whole texts.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LARGE = 1 << 17  # below this, a diff of the whole texts is cheap enough
_PROBE = 512  # characters of the old text's middle looked for in the new one
_CHUNK = 1 << 16  # characters compared at a time while the run is extended
_KEEP = 8  # lines of the run left on each side of the stand-in (a hunk shows 3 of context)
_CONTEXT_LINE = re.compile(r"\n(?=[A-Za-z_$])")  # the line break before one
_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)? \+)(\d+)", re.MULTILINE)


class Middle(NamedTuple):
    """Lines `old[start:end]` are `new[start + shift:end + shift]`; `lines` of them."""

    start: int
    end: int
    shift: int
    lines: int

    @classmethod
    def find(cls, old: str, new: str, *, large: int = _LARGE) -> Middle | None:
        """The run of whole lines both texts hold around the old one's middle, if the texts
        are large and the run is long; None otherwise. A probe of the old text's middle is
        looked for in the new one; where it occurs more than once (a generated changelog's
        repeated sections) its n-th occurrence in the old text is taken for its n-th in the
        new one, which the edits near the ends do not reorder."""
        if min(len(old), len(new)) < large:
            return None
        at = old.find("\n", len(old) // 2) + 1
        probe = old[at : at + _PROBE]
        if not at or len(probe) < _PROBE:
            return None
        olds, news = _occurrences(old, probe), _occurrences(new, probe)
        if olds is None or news is None or len(olds) != len(news):
            return None
        there = news[olds.index(at)]
        if there == 0 or new[there - 1] != "\n":
            return None
        after = at + _shared(old, at, new, there, ahead=True)
        before = at - _shared(old, at, new, there, ahead=False)
        # Whole lines only: from the first line break inside the run to the last one.
        start, end = old.find("\n", before, at) + 1, old.rfind("\n", at, after) + 1
        if not start or not end or end <= start:
            return None
        return cls(start, end, there - at, old.count("\n", start, end))


def _occurrences(text: str, probe: str, most: int = 64) -> list[int] | None:
    """Where `probe` occurs in `text` (overlaps too); None past `most` of them."""
    found: list[int] = []
    at = text.find(probe)
    while at >= 0:
        if len(found) == most:
            return None
        found.append(at)
        at = text.find(probe, at + 1)
    return found


def _shared(a: str, i: int, b: str, j: int, *, ahead: bool) -> int:
    """How many characters `a` and `b` share from `i` and `j` on (`ahead`), or up to them:
    compared a chunk at a time, the first chunk that differs halved until the difference."""

    def same(done: int, size: int) -> bool:
        if ahead:
            return a[i + done : i + done + size] == b[j + done : j + done + size]
        return a[i - done - size : i - done] == b[j - done - size : j - done]

    done, limit = 0, min(len(a) - i, len(b) - j) if ahead else min(i, j)
    while done < limit:
        step = min(_CHUNK, limit - done)
        if same(done, step):
            done += step
            continue
        low, high = 0, step  # `low` characters more are shared, `high` are not
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if same(done, mid) else (low, mid)
        return done + low
    return done


class StoodIn(NamedTuple):
    """Both texts with most of their shared run replaced by one line, and where it was."""

    old: str
    new: str
    old_line: int  # 1-based line of the stand-in in `old`
    new_line: int
    removed: int  # lines the stand-in takes the place of, less one

    def renumber(self, diff: str) -> str:
        """`diff` (of `old` and `new`) with its hunks after the stand-in numbered as in the
        whole texts."""

        def shifted(found: re.Match[str]) -> str:
            old_at, middle, new_at = int(found[1]), found[2], int(found[3])
            old_at += self.removed if old_at > self.old_line else 0
            new_at += self.removed if new_at > self.new_line else 0
            return f"@@ -{old_at}{middle}{new_at}"

        return _HUNK.sub(shifted, diff)


def stand_in(old: str, new: str, middle: Middle) -> StoodIn | None:
    """`old` and `new` with the lines of `middle` but `_KEEP` at each end replaced by one
    line; None when the run is too short to be worth it."""
    if middle.lines <= 4 * _KEEP:
        return None
    start = middle.start
    for _ in range(_KEEP):
        start = old.index("\n", start) + 1
    end = middle.end
    for _ in range(_KEEP):
        end = old.rindex("\n", start, end - 1) + 1
    line = _context_line(old, start, end)
    lines = old.count("\n", start, end)
    shift = middle.shift
    return StoodIn(
        old[:start] + line + old[end:],
        new[: start + shift] + line + new[end + shift :],
        old.count("\n", 0, start) + 1,
        new.count("\n", 0, start + shift) + 1,
        lines - 1,
    )


def _context_line(text: str, start: int, end: int) -> str:
    """The last line in `text[start:end]` git would take as a hunk's function context, else
    a blank line (which it passes over, as it would the lines it stands in for). `start` is
    a line's start after a line break."""
    stop = end
    while stop > start:  # from the end, a chunk at a time
        low = max(start, stop - _CHUNK)
        found = None
        for found in _CONTEXT_LINE.finditer(text, low - 1, stop):  # noqa: B007 (the last one)
            pass
        if found is not None:
            return text[found.end() : text.index("\n", found.end()) + 1]
        stop = low
    return "\n"
