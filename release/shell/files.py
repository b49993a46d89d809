"""Atomic file writes (a temporary file in the same directory, then a rename) and reading the
changelog with its bytes intact (CRLF and BOM kept)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from release.errors import ChangelogError, UsageError


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never half."""
    payload = data.encode() if isinstance(data, str) else data
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_HINT = "set [tool.release] changelog in pyproject.toml"


def read_changelog(path: Path, *, hint: str = _HINT) -> str:
    """The changelog's text exactly as stored (no newline translation), or a `ChangelogError`
    that names the path and says how to point at another file (`hint`)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ChangelogError(f"changelog {path} does not exist: create it, or {hint}") from None
    except IsADirectoryError:
        raise ChangelogError(f"changelog {path} is a directory: {hint}") from None
    except OSError as exc:
        raise ChangelogError(
            f"cannot read changelog {path} ({exc.strerror}): fix it, or {hint}"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChangelogError(
            f"changelog {path} is not UTF-8 (byte {exc.start}): save it as UTF-8"
        ) from None


def read_text(path: Path, *, what: str, limit: int) -> str:
    """A user-named input file as UTF-8 text, read up to `limit` bytes: a `UsageError` (one
    line, naming `what`) when it is missing, a directory, unreadable, too large or not UTF-8.
    Pipes (`--notes-file <(make-notes)`) and devices are read like files."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
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
