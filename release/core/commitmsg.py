"""The release commit's message, derived from the notes alone so it is the same on every run."""

from __future__ import annotations

import textwrap

from release.core.commits import release_subject
from release.core.notes import Summary

_VERBS = {
    "Added": ("adds", "feature", "features"),
    "Changed": ("changes", "behaviour", "behaviours"),
    "Deprecated": ("deprecates", "feature", "features"),
    "Removed": ("removes", "feature", "features"),
    "Fixed": ("fixes", "bug", "bugs"),
    "Security": ("closes", "security issue", "security issues"),
}


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _clip(text: str, limit: int = 72) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(
    project: str, old: str | None, new: str, how: str, summary: Summary, *, major: bool = False
) -> str:
    """`Release <tag>`, a blank line, and 2-5 sentences: why, what (counts), impact. `old` and
    `new` are tag names; `how` says how the version was chosen ("minor bump of 1.2.3")."""
    since = f"since {old}" if old else "as its first release"
    noun = "change" if summary.total == 1 else "changes"
    why = f"Cut {project} {new} ({how}) to ship the {summary.total} {noun} recorded {since}."
    parts = []
    for kind, count in summary.counts:
        if kind == "Breaking":
            continue
        verb, one, many = _VERBS.get(kind, _VERBS["Changed"])
        parts.append(f"{verb} {count} {one if count == 1 else many}")
    sentences = [why]
    if parts:
        sentences.append(f"It {_join(parts)}.")
    if summary.breaking:
        names = "; ".join(_clip(name, 60) for name in summary.breaking[:3])
        more = f" and {len(summary.breaking) - 3} more" if len(summary.breaking) > 3 else ""
        count = len(summary.breaking)
        sentences.append(
            f"It breaks compatibility in {count} place{'s' if count > 1 else ''} ({names}{more}), "
            "so users must read the notes before upgrading."
        )
    elif major:
        sentences.append("It is a major release: check the notes before upgrading.")
    else:
        sentences.append("No breaking change is recorded, so upgrading should be safe.")
    return f"{release_subject(new)}\n\n" + textwrap.fill(" ".join(sentences), 72) + "\n"
