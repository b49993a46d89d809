"""The CLI boundary: known errors become one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from release import log
from release.errors import ChecksFailed, DojoError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2 through `UsageError`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class StdoutError(DojoError):
    """stdout cannot be written (a full disk, a closed terminal)."""


class _GuardedStdout:
    """sys.stdout whose write failures become `StdoutError` (one line, not a traceback)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _guard(self, call: Callable[[], int | None]) -> int | None:
        try:
            return call()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(
                f"cannot write to stdout ({exc.strerror or exc}): free space on the disk or "
                "send the output somewhere else"
            ) from None

    def write(self, text: str) -> int:
        return self._guard(lambda: self._stream.write(text)) or 0

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    # Point fd 1 at /dev/null so the interpreter's final flush does not fail (and print) again.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run_main(main: Callable[[Sequence[str]], int], argv: Sequence[str] | None, prog: str) -> int:
    """Run `main`, mapping `DojoError` to one stderr line and its exit code.

    stdout is flushed before returning, so a full disk is reported here, as one line.
    Unexpected exceptions keep their traceback: they are bugs.

    Run as the process's command (`argv` None), the objects the run made are left to the
    operating system: the collector is frozen at exit, so the interpreter's last collections
    do not walk them (after `release` read a 2 MB changelog twice, they took 30 ms).
    """
    if argv is None:
        atexit.register(gc.freeze)
    args = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM (a CI runner cancelling, `kill`) takes the same path as Ctrl-C: the running
    # subprocess is interrupted cleanly (release.shell.proc) and the run stops with one line.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    real_stdout = sys.stdout
    sys.stdout = _GuardedStdout(real_stdout)
    try:
        code = main(args)
        sys.stdout.flush()
        return code
    except StdoutError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.stdout = real_stdout
        _silence_stdout()
        return exc.exit_code
    except ChecksFailed as exc:
        for problem in exc.problems:
            print(f"{prog}: {log.redact(problem)}", file=sys.stderr)
        return exc.exit_code
    except DojoError as exc:
        print(f"{prog}: {log.redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: run the same command again to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`extract-notes latest | head -1`): not an error of ours.
        sys.stdout = real_stdout
        _silence_stdout()
        return 0
    finally:
        sys.stdout = real_stdout
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
