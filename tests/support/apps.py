"""The apps' `main` functions, imported in one place.

Tests that call an app in-process import it from here, so a later move of the app modules
changes only this file. The imports are local: importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest


def release_main(argv: Sequence[str]) -> int:
    """`release ARGV` in this process."""
    from release.apps.release.cli import main

    return main(argv)


def publish_main(argv: Sequence[str]) -> int:
    """`publish ARGV` in this process (it reads the current directory and os.environ)."""
    from release.apps.publish.cli import main

    return main(argv)


def extract_notes_main(argv: Sequence[str]) -> int:
    """`extract-notes ARGV` in this process (it reads the current directory)."""
    from release.apps.extract_notes import main

    return main(argv)


def release_in(work: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`release -C WORK ARGS` in this process: exit code, stdout, stderr."""
    code = release_main(["-C", str(work), *args])
    out, err = capsys.readouterr()
    return code, out, err


def problems(err: str, prog: str = "release") -> list[str]:
    """The one-line errors an app printed (`prog: ...`), without its logfmt step lines."""
    return [line for line in err.splitlines() if line.startswith(f"{prog}: ")]
