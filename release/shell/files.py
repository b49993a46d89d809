"""Every file the apps write goes through `safe_write` (or `append_text`); the changelog is read
with its bytes intact (CRLF and BOM kept).

`safe_write` decides by what the path is, so no caller can replace `/dev/null`, a FIFO, the file
a symlink points at with a copy beside it, or the very file it read from.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from release.core.pattern import LazyPattern
from release.errors import ChangelogError, DojoError, UsageError

# Paths that name this process's own streams: written to, never replaced or resolved (compiled
# when first written: `extract-notes` to stdout writes no file).
_STREAM = LazyPattern(
    r"^/(?:dev/(?:(?P<out>stdout)|(?P<err>stderr)|fd/(?P<dev_fd>\d+))|proc/self/fd/(?P<fd>\d+))$"
)


class WriteRefused(UsageError):
    """The path is a directory, or the file being read: writing there would lose data."""


def _umask_mode() -> int:
    # What `open()` would give a new file (0o666 minus the umask), read without changing it.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _same_file(a: os.stat_result, path: Path) -> bool:
    try:
        b = path.stat()
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def safe_write(
    path: Path, data: str | bytes, *, label: str = "output", inputs: Iterable[Path] = ()
) -> None:
    """Write `data` to `path` without losing anything, whatever `path` is.

    A regular file (or a new one) is replaced atomically: readers see the old file or the new
    one, never half, and its mode is kept. A symlink is followed: the file it points at is
    replaced, the link stays. A character device, FIFO, socket or `/dev/stdout` is written to
    directly (not replaced). A directory, or one of `inputs` (the files this run reads), is
    refused with `WriteRefused`. Any other failure is a `DojoError` naming `label` and `path`.
    """
    payload = data.encode() if isinstance(data, str) else data
    shown = f"{label} {path}"
    try:
        st: os.stat_result | None = path.stat()  # follows symlinks
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise DojoError(f"cannot write {shown} ({exc.strerror}): pass a writable path") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise WriteRefused(f"{shown} is a directory: pass a file path")
    for source in inputs:
        if st is not None and _same_file(st, source):
            raise WriteRefused(
                f"{shown} is {source}, which this run reads: writing it would destroy it; "
                "pass another path"
            )
    try:
        stream = _STREAM.match(str(path))
        if stream is not None:
            # Our own stdout (or another open fd): written, never reopened, so a `>> notes.md`
            # redirection is appended to, not truncated.
            number = stream["dev_fd"] or stream["fd"]
            _write_fd(1 if stream["out"] else 2 if stream["err"] else int(number), payload)
            return
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(path, "wb") as handle:  # a device, FIFO or socket
                handle.write(payload)
            return
        _replace(Path(os.path.realpath(path)), payload, st)
    except OSError as exc:
        hint = "its directory does not exist" if isinstance(exc, FileNotFoundError) else "fix it"
        raise DojoError(f"cannot write {shown} ({exc.strerror}): {hint}") from None


def _write_fd(fd: int, payload: bytes) -> None:
    if fd == 1:
        sys.stdout.flush()  # what was printed before comes first
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view):]


def _replace(target: Path, payload: bytes, st: os.stat_result | None) -> None:
    import tempfile  # noqa: PLC0415 (shutil, random: only a run that writes needs them)

    mode = stat.S_IMODE(st.st_mode) if st is not None else _umask_mode()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_text(path: Path, text: str, *, label: str) -> None:
    """Append `text` to `path` (GitHub's GITHUB_OUTPUT and step summary files are appended
    to, as GitHub documents); a `DojoError` naming `label` when it cannot be written."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise DojoError(f"cannot write {label} {path} ({exc.strerror})") from None


_HINT = "set [tool.release] changelog in pyproject.toml"
MAX_CHANGELOG_BYTES = 256 << 20  # 50 years of weekly releases take about 5 MB


def read_changelog(path: Path, *, hint: str = _HINT) -> str:
    """The changelog's text exactly as stored (no newline translation), or a `ChangelogError`
    that names the path and says how to point at another file (`hint`)."""
    try:
        with path.open("rb") as handle:  # bounded: a link to /dev/zero must not fill memory
            data = _read_bounded(handle, MAX_CHANGELOG_BYTES)
    except FileNotFoundError:
        raise ChangelogError(f"changelog {path} does not exist: create it, or {hint}") from None
    except IsADirectoryError:
        raise ChangelogError(f"changelog {path} is a directory: {hint}") from None
    except OSError as exc:
        raise ChangelogError(
            f"cannot read changelog {path} ({exc.strerror}): fix it, or {hint}"
        ) from None
    if len(data) > MAX_CHANGELOG_BYTES:
        raise ChangelogError(
            f"changelog {path} is larger than {MAX_CHANGELOG_BYTES >> 20} MiB: that is not a "
            f"changelog (a device, or the wrong file?); {hint}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChangelogError(
            f"changelog {path} is not UTF-8 (byte {exc.start}): save it as UTF-8"
        ) from None


def _read_bounded(handle: BinaryIO, limit: int) -> bytes:
    """At most `limit` + 1 bytes of `handle` (more than `limit`: the caller refuses the file).
    A regular file is read at the size it says it has, then on if it has more (it grew, or is
    a /proc file that says 0): asking for `limit` bytes at once allocates them, 256 MiB for a
    5 MB changelog, which a machine that does not overcommit memory refuses."""
    try:
        info = os.fstat(handle.fileno())
        want = min(info.st_size, limit) if stat.S_ISREG(info.st_mode) else limit
    except OSError:
        want = limit
    data = handle.read(want + 1)
    if len(data) == want + 1 and want < limit:
        data += handle.read(limit - want)
    return data


def read_text(path: Path, *, what: str, limit: int) -> str:
    """A user-named input file as UTF-8 text, read up to `limit` bytes: a `UsageError` (one
    line, naming `what`) when it is missing, a directory, unreadable, too large or not UTF-8.
    Pipes (`--notes-file <(make-notes)`) and devices are read like files."""
    try:
        with path.open("rb") as handle:
            data = _read_bounded(handle, limit)
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file: pass an existing file") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a directory: pass a file") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit // 1024} KiB: pass shorter notes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{what} {path} is not UTF-8 (byte {exc.start}): save it as UTF-8"
        ) from None
