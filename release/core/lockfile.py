"""Lock files that record the project's own version, kept in step with it.

`uv.lock` lists the project itself (`source = { editable = "." }`, or `virtual` for a project
that is not built), with its version; `Cargo.lock` lists the workspace's own crates (no
`source` line), which a maturin project's `Cargo.toml` versions. After a release that bumps
the version alone, `uv lock --locked` (or `cargo build --locked`) fails on the release commit.
Poetry's and PDM's locks list dependencies only, and are left alone.

Only the version's characters change; the entry is found by the lock's own format (both are
written by their tool, one key per line), and the version is written normalised, as the tool
writes it (`0.1.2.dev` is recorded as `0.1.2.dev0`). Pure: text in, text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from release.core.version import Version, try_parse

UV_LOCK = "uv.lock"
CARGO_LOCK = "Cargo.lock"

_BLOCK = re.compile(r"^\[\[package\]\][ \t]*\r?$", re.MULTILINE)
_KEY = r'^{key}[ \t]*=[ \t]*"(?P<value>[^"\r\n]*)"[ \t]*\r?$'
_UV_ROOT = re.compile(r'^source[ \t]*=[ \t]*\{[ \t]*(?:editable|virtual)[ \t]*=[ \t]*"\."[ \t]*\}',
                      re.MULTILINE)
_SOURCE = re.compile(r"^source[ \t]*=", re.MULTILINE)
_HEADER = re.compile(r"^\[", re.MULTILINE)


@dataclass(frozen=True)
class Lock:
    """A lock file and the entry of the project in it."""

    path: str  # relative to the project root, POSIX
    name: str | None  # Cargo: the crate's name ([package] name); uv: found by its source


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _blocks(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each `[[package]]` table's body: up to the next table header."""
    spans = []
    for match in _BLOCK.finditer(text):
        start = match.end()
        header = _HEADER.search(text, start)
        spans.append((start, header.start() if header else len(text)))
    return spans


def version_span(lock: Lock, text: str) -> tuple[int, int] | None:
    """Where the project's own version is written in `text`, or None when the lock does not
    record it (no entry, or an entry without a version: a dynamic version)."""
    found: list[tuple[int, int]] = []
    for start, end in _blocks(text):
        body = text[start:end]
        name = re.search(_KEY.format(key="name"), body, re.MULTILINE)
        if name is None:
            continue
        if lock.name is None:
            ours = _UV_ROOT.search(body) is not None
        else:
            ours = _normalised(name["value"]) == _normalised(lock.name) and not _SOURCE.search(body)
        version = re.search(_KEY.format(key="version"), body, re.MULTILINE)
        if ours and version is not None:
            found.append((start + version.start("value"), start + version.end("value")))
    return found[0] if len(found) == 1 else None


def recorded(lock: Lock, text: str) -> Version | None:
    """The project's version as the lock records it (None: not recorded, or not a version)."""
    span = version_span(lock, text)
    return None if span is None else try_parse(text[span[0] : span[1]])


def bump(lock: Lock, text: str, new: Version | str) -> str:
    """`text` with the project's own version set to `new` (normalised); unchanged when the
    lock does not record it."""
    span = version_span(lock, text)
    if span is None:
        return text
    written = try_parse(str(new))
    return text[: span[0]] + str(written if written is not None else new) + text[span[1] :]
