"""A parsed changelog's link definitions, each made a `LinkRef` only when it is asked for."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar, overload

from release.core.changelog.lines import Lines
from release.core.changelog.model import Lazy, LinkRef
from release.core.changelog.scan import Root, Scan, span_token

_T = TypeVar("_T")


class Refs(Mapping[str, LinkRef]):
    """The file's link definitions by label (the first one wins), each made a `LinkRef` when
    asked for: a section's notes use a handful of the thousands at the bottom of the file.
    `link_refs` has them all, in file order (then those inside list items and quotes)."""

    def __init__(self, lines: Lines, scan: Scan, root: Root) -> None:
        self._lines = lines
        self.scan = scan  # kept for the read-back of an edit of the file (`rescan`)
        self._placed = sorted(scan.refs, key=operator.itemgetter(0))  # by first line
        self.root = root  # mistletoe's state for reading the file's links
        self._footnotes = root.footnotes  # mistletoe's, the nested definitions among them

    @functools.cached_property
    def link_refs(self) -> Lazy[LinkRef]:
        return Lazy(self._build, len(self._placed) + len(self._index[1]))

    @functools.cached_property
    def _index(self) -> tuple[dict[str, int], list[str]]:
        """Label -> position in `link_refs` of its first definition; the labels of the
        definitions inside list items and quotes (after the others in `link_refs`)."""
        return _first_definitions(self._placed, self._footnotes)

    @functools.cached_property
    def _keys(self) -> dict[str, int]:
        return self._index[0]

    @property
    def lines(self) -> Lines:
        return self._lines

    @property
    def placed(self) -> list[tuple[int, int, Any, str]]:
        """The top-level definitions as the scan found them, by first line."""
        return self._placed

    @property
    def labels(self) -> tuple[dict[str, int], list[str]]:
        """Label -> position in `placed` of its first definition; the labels defined inside
        list items and quotes only."""
        return self._index

    def _build(self, n: int) -> LinkRef:
        if n >= len(self._placed):  # defined inside a list item or a quote
            key = self._index[1][n - len(self._placed)]
            dest, title = self._footnotes[key]
            return LinkRef(key, dest, title)
        first, last, match, _key = self._placed[n]
        return _top_level(self._lines, first, last, match)

    def position(self, key: str) -> int | None:
        """Where in `link_refs` the definition `self[key]` is."""
        return self._keys.get(key)

    def definitions(self) -> dict[str, tuple[str, str]]:
        """Label -> (destination, title), as mistletoe resolves references (`footnotes.get`),
        each read when mistletoe asks for it."""
        return _Lookup(self)

    def _target(self, key: str) -> tuple[str, str] | None:
        ref = self.get(key)
        return None if ref is None else (ref.dest, ref.title)

    @overload
    def get(self, key: str, /) -> LinkRef | None: ...

    @overload
    def get(self, key: str, default: LinkRef | _T, /) -> LinkRef | _T: ...

    def get(self, key: str, default: object = None, /) -> object:
        n = self._keys.get(key)  # without Mapping.get's KeyError: asked once per section
        return default if n is None else self.link_refs[n]

    def __getitem__(self, key: str) -> LinkRef:
        return self.link_refs[self._keys[key]]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _Lookup(dict[str, tuple[str, str]]):
    """A changelog's link definitions as mistletoe looks them up while it reads a section:
    `footnotes.get(label)`, `label in footnotes`; what mistletoe adds (a definition in the
    section itself that the file lacks) is kept as in a dict."""

    def __init__(self, refs: Refs) -> None:
        super().__init__()
        self._refs = refs

    def get(self, key: str, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        found = self._refs._target(key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._refs


def _first_definitions(
    placed: list[tuple[int, int, Any, str]], footnotes: dict[str, tuple[str, str]]
) -> tuple[dict[str, int], list[str]]:
    """Label -> position of its first definition: in `placed` (the top-level ones, by line),
    or after them for the labels mistletoe's `footnotes` define inside list items and quotes
    only (the second list)."""
    labels = list(map(operator.itemgetter(3), placed))  # normalized by the scan
    keys = dict(zip(labels, range(len(labels)), strict=True))
    if len(keys) < len(labels):  # a label defined twice: its first definition wins
        keys = {}
        for n, key in enumerate(labels):
            keys.setdefault(key, n)
    # A label defined inside a list item or a quote above its first top-level definition:
    # mistletoe keeps the earlier one, and so does the label's lookup.
    shadowed = {
        key for key, n in keys.items()
        if (first := footnotes.get(key)) is not None
        and (first[0] != (match := placed[n][2])[1] or first[1] != match[2])
        and first != (_unescape(match[1].strip()), _unescape(match[2]))
    }
    # mistletoe's definitions, less those placed (every placed one is among them)
    same = not shadowed and footnotes.keys() == keys.keys()  # none nested: the usual case
    nested = [] if same else [k for k in footnotes if k not in keys or k in shadowed]
    for n, key in enumerate(nested, len(placed)):
        keys[key] = n
    return keys, nested


def _top_level(lines: Lines, first: int, last: int, match: Any) -> LinkRef:
    """The top-level definition on lines [first, last) that mistletoe read as `match`."""
    label, dest, title = match[0], match[1], match[2]
    start, end = lines.offset(first), lines.offset(min(last, len(lines)))
    return LinkRef(label, _unescape(dest.strip()), _unescape(title), first + 1, start, end)


def _unescape(text: str) -> str:
    # What mistletoe does to a destination or title; skipped when there is nothing to do.
    if "\\" in text or "&" in text:
        return str(span_token.EscapeSequence.strip(text))
    return text
