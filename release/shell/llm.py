"""Run an LLM command line for release notes (through the one subprocess choke point)."""

from __future__ import annotations

from pathlib import Path

from release.core.notes import LlmCommand, NotesRejected, check_markdown
from release.errors import CommandError
from release.shell import proc


def run_llm(command: LlmCommand, *, cwd: Path, timeout: float) -> str:
    """Ask the LLM CLI; its checked output, or `NotesRejected` with the reason."""
    try:
        done = proc.run(command.argv, cwd=cwd, input=command.stdin, timeout=timeout)
    except CommandError as exc:
        reason = "timed out" if exc.returncode == 124 else f"exit code {exc.returncode}"
        if exc.returncode == 127:
            reason = "not installed"
        raise NotesRejected(f"{command.name} failed ({reason})") from None
    try:
        return check_markdown(done.stdout)
    except NotesRejected as exc:
        raise NotesRejected(f"{command.name}: {exc}") from None
