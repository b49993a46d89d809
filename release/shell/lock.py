"""One run at a time: an exclusive lock file, held with `flock` so that a killed run never
leaves a lock behind that blocks the next one."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from release.errors import DojoError


class Busy(DojoError):
    """Another run holds the lock."""


@contextlib.contextmanager
def exclusive(path: Path, what: str) -> Iterator[None]:
    """Hold `path` exclusively while the block runs; `Busy` naming the holder if another
    process has it. The file is removed afterwards, so a finished run leaves nothing behind."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise Busy(
                f"another {what} is running in this repository ({holder}; lock file {path}): "
                "wait for it to finish and run again"
            ) from None
        # The holder before us may have removed the file after we opened it: then our lock is
        # on a file nobody else can see; start again with the one at `path`.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        started = dt.datetime.now(tz=dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
