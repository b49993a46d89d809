"""`publish`: not implemented yet (see the issue tracker)."""

from __future__ import annotations

from collections.abc import Sequence

from release.cli import ArgumentParser, run_main
from release.errors import UsageError


def _main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(prog="publish", description=__doc__)
    parser.parse_args(argv)
    raise UsageError("publish is not implemented yet")


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "publish")
