"""The error hierarchy. Every expected failure is a `DojoError` whose text says what to do."""

from __future__ import annotations


class DojoError(Exception):
    """A failed run: one line on stderr, exit 1. The message says what is wrong and the fix."""

    exit_code = 1


class UsageError(DojoError):
    """Bad usage (arguments, flags): exit 2."""

    exit_code = 2


class ConfigError(DojoError):
    """`pyproject.toml` or `[tool.release]` is missing or wrong."""


class ChangelogError(DojoError):
    """The changelog cannot be read, or lacks what was asked for."""


class CommandError(DojoError):
    """A subprocess failed; the message names the command (redacted) and its stderr."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class ChecksFailed(DojoError):
    """Several pre-flight checks failed; each problem is reported on its own line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
