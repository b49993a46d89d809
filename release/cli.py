"""The CLI boundary: known errors become one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from release import log
from release.errors import ChecksFailed, DojoError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2 through `UsageError`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def run_main(main: Callable[[Sequence[str]], int], argv: Sequence[str] | None, prog: str) -> int:
    """Run `main`, mapping `DojoError` to one stderr line and its exit code.

    Unexpected exceptions keep their traceback: they are bugs.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM (a CI runner cancelling, `kill`) takes the same path as Ctrl-C: the running
    # subprocess is interrupted cleanly (release.shell.proc) and the run stops with one line.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return main(args)
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
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
