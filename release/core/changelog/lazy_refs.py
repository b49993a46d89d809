"""The link definitions of a scan that left its blocks of plain definitions unread
(`scan_lines(lazy=True)`: extract-notes reading one section), each label looked up in them
when it is asked for.

A big changelog's bottom holds thousands of one-line definitions (`[1.2.0]: https://...`), and a
section's notes use a handful. Reading them all (a label, a destination and a key each, indexed)
was a tenth of extract-notes on a 5 MB changelog, and a third of the objects it made.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

from release.core.changelog.definitions import Unfolded
from release.core.changelog.lines import Lines
from release.core.changelog.model import LinkRef, TupleLike
from release.core.changelog.refs import Refs, _first_definitions, _top_level
from release.core.changelog.scan import Root, Scan

_T = TypeVar("_T")


class LazyRefs(Refs):
    """`Refs` of a lazy scan: the first definition of a label is the first one among those the
    scan read and those in its unread blocks (`Scan.runs`), by line.

    That holds when mistletoe defined no label inside a list item or a quote (which may come
    first in its reading). When one did, and for what needs every definition (`link_refs`,
    iterating over the labels, a block whose labels lowercasing does not fold), the whole
    file is read again (`whole`): the answers are `parse`'s."""

    def __init__(self, lines: Lines, scan: Scan, root: Root, whole: Callable[[], Refs]) -> None:
        super().__init__(lines, scan, root)
        self._runs = scan.runs
        self._whole = whole
        self._read: Refs | None = None  # the whole file's, once something needed it
        self._found: dict[str, LinkRef | None] = {}
        self.root = Root()  # mistletoe, reading a heading's links, looks labels up here
        self.root.footnotes = self.definitions()

    def _all(self) -> Refs:
        if self._read is None:
            self._read = self._whole()
        return self._read

    @functools.cached_property
    def _own(self) -> dict[str, int] | None:
        """Label -> position in `placed` of its first definition the scan read; None when
        mistletoe defined a label inside a list item or a quote (the whole file answers)."""
        keys, nested = _first_definitions(self._placed, self._footnotes)
        return None if nested else keys

    @functools.cached_property
    def _lines_placed(self) -> list[int]:
        return [first for first, *_ in self._placed]

    def _lookup(self, key: str) -> LinkRef | None:
        if key in self._found:
            return self._found[key]
        own = self._own
        found: LinkRef | None
        if own is None or self._read is not None:
            found = self._all().get(key)
        else:
            try:
                found = self._first(key, own)
            except Unfolded:
                found = self._all().get(key)
        self._found[key] = found
        return found

    def _first(self, key: str, own: dict[str, int]) -> LinkRef | None:
        n = own.get(key)
        line = self._placed[n][0] if n is not None else None
        for run in self._runs:  # in file order
            if line is not None and run.first > line:
                break
            found = run.find(key)
            if found is not None:
                first, at = found
                return _top_level(self._lines, first, first + 1, run.match(at))
        return None if n is None else self._build(n)

    def position(self, key: str) -> int | None:
        found = self._lookup(key)
        if found is None:
            return None
        if found.line is None or self._read is not None:  # nested, or read whole already
            return self._all().position(key)
        line = found.line - 1  # the definitions above it: read ones, and unread ones
        above = sum(min(max(line - run.first, 0), run.count) for run in self._runs)
        return bisect.bisect_left(self._lines_placed, line) + above

    @overload
    def get(self, key: str, /) -> LinkRef | None: ...

    @overload
    def get(self, key: str, default: LinkRef | _T, /) -> LinkRef | _T: ...

    def get(self, key: str, default: object = None, /) -> object:
        found = self._lookup(key)
        return default if found is None else found

    def __getitem__(self, key: str) -> LinkRef:
        found = self._lookup(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    @functools.cached_property
    def link_refs(self) -> Sequence[LinkRef]:  # type: ignore[override]
        return _Deferred(self._all)

    @functools.cached_property
    def _index(self) -> tuple[dict[str, int], list[str]]:
        return self._all().labels

    @property
    def placed(self) -> list[tuple[int, int, Any, str]]:
        return self._all().placed


class _Deferred(TupleLike[LinkRef]):
    """The whole file's `link_refs`, read when first used."""

    def __init__(self, read: Callable[[], Refs]) -> None:
        self._read = read

    def _refs(self) -> Sequence[LinkRef]:
        return self._read().link_refs

    def __len__(self) -> int:
        return len(self._refs())

    @overload
    def __getitem__(self, index: int) -> LinkRef: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LinkRef]: ...

    def __getitem__(self, index: int | slice) -> LinkRef | Sequence[LinkRef]:
        return self._refs()[index]

    def __iter__(self) -> Iterator[LinkRef]:
        return iter(self._refs())
