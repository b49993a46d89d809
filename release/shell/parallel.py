"""Small reads (a round trip each) sent together instead of one after another."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")
AT_ONCE = 8  # requests in flight at once


def at_once(read: Callable[[_T], _R], items: Sequence[_T], name: str) -> list[_R]:
    """`[read(item) for item in items]`, the reads in flight together (one needs no thread);
    the first exception is raised, as the loop would."""
    if len(items) <= 1:
        return [read(item) for item in items]
    with ThreadPoolExecutor(min(len(items), AT_ONCE), thread_name_prefix=name) as pool:
        return list(pool.map(read, items))
