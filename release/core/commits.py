"""A commit as the release sees it: a plain value, made from pygit2 objects in shell/git.py."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Commit:
    """A commit since the previous release."""

    sha: str
    message: str
    parents: int

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def body(self) -> str:
        parts = self.message.split("\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""


# The one spelling of a release commit's subject: `Release <tag>`.
_RELEASE = re.compile(r"^Release (?P<tag>\S*\d\S*)$")


def release_subject(tag: str) -> str:
    return f"Release {tag}"


def release_tag(subject: str) -> str | None:
    """The tag a `Release <tag>` subject names, or None for any other subject."""
    match = _RELEASE.match(subject.strip())
    return match["tag"] if match else None
