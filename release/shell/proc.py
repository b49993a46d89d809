"""The one place where subprocesses run: logs the command (redacted) and raises `CommandError`."""

from __future__ import annotations

import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from release import log
from release.errors import CommandError


@dataclass(frozen=True)
class Result:
    """A finished subprocess: its command line, exit status and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def render(argv: Sequence[str]) -> str:
    """The command as a user would type it, secrets redacted."""
    return log.redact(shlex.join(argv))


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    quiet: bool = False,
) -> Result:
    """Run `argv` (never through a shell). Secrets go through `input` or `env`, never `argv`.

    With `check`, a non-zero exit raises `CommandError` naming the command and its stderr.
    """
    if not quiet:
        log.step("exec", cmd=render(argv))
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            # Output that is not UTF-8 (a Latin-1 hook message) must not become a traceback.
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise CommandError(
            f"{argv[0]} is not installed or not on PATH: install it (or run through `nix run`)",
            returncode=127,
            stderr=str(exc),
        ) from None
    try:
        stdout, stderr = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(child)
        raise CommandError(
            f"`{render(argv)}` did not finish within {timeout:g} s",
            returncode=124,
            stderr="",
        ) from None
    except BaseException:
        # Ctrl-C (or SIGTERM, which the CLI turns into KeyboardInterrupt) reached us alone:
        # pass it on and let the child finish cleanly (git removes its index.lock), not SIGKILL.
        _stop(child)
        raise
    done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    result = Result(tuple(argv), done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        detail = log.redact(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
        raise CommandError(
            f"`{render(argv)}` failed with exit code {done.returncode}"
            + (f": {detail}" if detail else ""),
            returncode=done.returncode,
            stderr=log.redact(done.stderr),
        )
    return result


def _stop(child: subprocess.Popen[str], grace: float = 10.0) -> None:
    """Interrupt `child` as a terminal would (SIGINT), then wait; kill it only if it lingers."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
