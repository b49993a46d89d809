"""SemVer 2.0.0 versions: parse, order, bump. Pure: no I/O."""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from release.errors import DojoError

# The regular expression published at semver.org, with an optional leading "v".
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class VersionError(DojoError):
    """A version string is not SemVer."""


class Bump(enum.Enum):
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def tag(self) -> str:
        return f"v{self}"

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def _key(self) -> tuple[object, ...]:
        # SemVer precedence: a prerelease sorts before its release; numeric identifiers sort
        # numerically and before alphanumeric ones; build metadata is ignored.
        pre: tuple[tuple[int, int, str], ...] = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def bump(self, part: Bump) -> Version:
        """The next release. A prerelease of X.Y.Z bumps to X.Y.Z itself where SemVer allows."""
        if part is Bump.MAJOR:
            if self.prerelease and self.minor == 0 and self.patch == 0:
                return Version(self.major, 0, 0)
            return Version(self.major + 1, 0, 0)
        if part is Bump.MINOR:
            if self.prerelease and self.patch == 0:
                return Version(self.major, self.minor, 0)
            return Version(self.major, self.minor + 1, 0)
        if self.prerelease:
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)


def parse(text: str) -> Version:
    """Parse `1.2.3`, `v1.2.3`, `1.2.3-rc.1+build.5`; raise `VersionError` otherwise."""
    match = _SEMVER.match(text.strip())
    if match is None:
        raise VersionError(
            f"{text!r} is not a SemVer version (MAJOR.MINOR.PATCH, e.g. 1.2.3): fix it"
        )
    pre, build = match["pre"], match["build"]
    return Version(
        int(match["major"]),
        int(match["minor"]),
        int(match["patch"]),
        tuple(pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def try_parse(text: str) -> Version | None:
    """`parse`, or None for anything that is not SemVer."""
    try:
        return parse(text)
    except VersionError:
        return None
