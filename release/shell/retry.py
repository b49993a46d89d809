"""Bounded retries with exponential backoff, for transient faults only.

A transient fault (HTTP 5xx or 429, connection reset, timeout) is raised as `TransientError`;
anything else (401/403/404, a refused tag, a bug) passes through at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from release import log
from release.errors import DojoError

T = TypeVar("T")


class TransientError(DojoError):
    """A fault that may go away if the same request is sent again."""


class GaveUp(DojoError):
    """A transient fault outlasted every attempt."""


@dataclass(frozen=True)
class Backoff:
    """How often and how long to wait between attempts."""

    attempts: int = 4
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 10.0

    def delays(self) -> Iterator[float]:
        """The pauses between attempts (one fewer than `attempts`)."""
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay)
            delay *= self.factor


DEFAULT = Backoff()


def retrying(
    operation: Callable[[], T],
    *,
    what: str,
    policy: Backoff = DEFAULT,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, again after a pause on `TransientError`, at most `policy.attempts` times."""
    delays = policy.delays()
    attempt = 1
    while True:
        try:
            return operation()
        except TransientError as exc:
            delay = next(delays, None)
            if delay is None:
                raise GaveUp(
                    f"{what} failed {policy.attempts} times in a row ({exc}): the service is "
                    "unavailable; re-run the job later (publishing is safe to repeat)"
                ) from None
            log.step(
                "retry",
                what=what,
                attempt=f"{attempt}/{policy.attempts}",
                delay=f"{delay:g}s",
                reason=str(exc),
            )
            sleep(delay)
            attempt += 1
