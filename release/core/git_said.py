"""What git said when a command failed, in one line for an error message."""

from __future__ import annotations

import re
import shlex

from release.errors import CommandError

_STALE_LOCK = re.compile(r"Unable to create '(?P<path>[^']+\.lock)': File exists")
_REJECTED = re.compile(
    r"^!\s*\[(?:remote )?rejected\]\s+(?P<ref>\S+)\s+->\s+\S+\s+\((?P<why>[^)]*)\)"
)


def describe_error(exc: CommandError) -> str:
    """What git said, in one line for messages: a stale lock file named with the fix, else
    the remote's own words and each refused ref's reason (a protected branch's text), else
    git's first `fatal:`/`error:` line, else its last line."""
    lock = _STALE_LOCK.search(exc.stderr)
    if lock:
        path = lock["path"]
        return (f"{path} exists, left by an interrupted git: if no git process is running, "
                f"remove it (`rm {shlex.quote(path)}`)")
    lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()]
    said = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
    said += [f"{m['ref']}: {m['why']}" for line in lines if (m := _REJECTED.match(line))]
    said = [line for line in dict.fromkeys(said) if line]
    if said:
        return "; ".join(said[:6]) + ("; …" if len(said) > 6 else "")
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else str(exc)
