"""Commits that are not a change a user would read about, by their subject: merges, the
commits release tools make (ours and others'), changelog and release-notes upkeep, the
maintainer's own set-up of the release, and dependency bots' bumps. Notes made from commits
leave them out. Pure."""

from __future__ import annotations

import functools
import re

_VERSION = r"v?\d+(?:[.\-]\d+)+[\w.+-]*"
_PATTERNS = (
    "|".join(
        rf"(?:{pattern})"
        for pattern in (
            # merges a forge or git writes
            r"^Merge (?:pull request|branch|remote-tracking branch|tag|commit|\S+ into )",
            r"^Merged? .* into \S+$",
            # a release tool's own commits: ours (`Release v1.2.3`), bump2version/bumpversion
            # (`Bump version: 1.2.3 → 1.2.4`), zest.releaser (`Preparing release 1.2.3`,
            # `Back to development: 1.3`), release-please (`chore(main): release 1.2.3`), tbump,
            # hatch/poetry scripts (`Release 1.2.3`, `Version 1.2.3`, `v1.2.3`, `1.2.3 (#42)`)
            rf"^(?:release|releasing|prepare|preparing|cut|version|bump(?:ed)?(?: the)? version"
            rf"(?: to| from)?|tag(?:ged)?)(?:\s+(?:release|version|for))?[:\s]+{_VERSION}\b",
            r"^bump(?:ed)? version\b",
            r"^(?:back to|start) development\b",
            rf"^{_VERSION}(?:\s*\(#\d+\))?\s*$",
            r"^(?:chore|build|ci)(?:\([^)]*\))?!?:\s*(?:release|bump version)\b",
            # changelog and release notes upkeep
            r"^(?:docs?(?:\([^)]*\))?:\s*)?(?:(?:update[sd]?|updating|add(?:ed)?|edit(?:ed)?|"
            r"prepare|write|regenerate|sync)\s+(?:the\s+)?)?(?:changelog(?:\.\w+)?|"
            r"release[ -]?notes|(?:changes|history|news)(?:\.\w+|\s+file)?(?=\s*$|\s+for\b))"
            r"(?:\s|$|[:.,])",
            # the maintainer configuring the release tool
            r"^(?:configure|set ?up|add|adopt|enable)\s+(?:the\s+)?(?:release|releasing)\b"
            r"(?:\s+(?:tool|configuration|config|settings|pipeline))?\s*$",
            r"\[tool\.release\]",
            # dependency bots (Dependabot, Renovate, pre-commit.ci)
            r"^\[pre-commit\.ci\]",
            r"^(?:build|chore|ci)\(deps(?:-dev)?\)",
            r"^Bump \S+ from \S+ to \S+",
            r"^(?:Update|Pin) (?:dependency \S+|\S+ (?:action|digest)) to \S+",
        )
    )
)


@functools.cache
def _noise() -> re.Pattern[str]:
    # Compiled on first use: a release whose notes come from the changelog never asks.
    return re.compile(_PATTERNS, re.IGNORECASE)


def is_noise(subject: str) -> bool:
    """Whether a commit with this subject stays out of the notes."""
    return _noise().search(subject.strip()) is not None
