"""Versions as changelog headings write them: SemVer, PEP 440, CalVer, two- and four-part.

The one place that decides what a version is and when two spellings name the same one; PEP 440
parsing and normalisation come from `packaging`. SemVer prereleases are read as PEP 440 ones
(`1.2.0-rc.1` is `1.2.0rc1`); a SemVer spelling PEP 440 has no word for (`1.18.0-next.0`) is
still a version, compared as written.
"""

from __future__ import annotations

import functools
import re

from packaging.version import InvalidVersion
from packaging.version import Version as Pep440

# A version as written, without a leading `v`: dotted numbers, then a SemVer prerelease or
# PEP 440 pre, post and dev parts, then local/build metadata.
VERSION = (
    r"\d+(?:\.\d+)+"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
    r"|[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[0-9A-Za-z.-]+)?"
)


_SEMVER_NUMERIC_PRE = re.compile(r"^\d+(?:\.\d+)+-\d+(?:\.\d+)*$")


@functools.lru_cache(maxsize=4096)
def pep440(written: str) -> Pep440 | None:
    """The PEP 440 reading of a version as written (`v` already removed), or None.

    `4.0.0-1` is a SemVer prerelease (npm writes them so), not PEP 440's post-release
    `4.0.0.post1`: it has no PEP 440 reading."""
    if _SEMVER_NUMERIC_PRE.match(written):
        return None
    try:
        return Pep440(written)
    except InvalidVersion:
        return None


def key(written: str) -> Pep440 | str:
    """What two spellings of one version share: `2.0` and `2.0.0`, `1.2.0-rc.1` and `1.2.0rc1`."""
    found = pep440(written)
    return found if found is not None else written.lower()


def is_prerelease(written: str) -> bool:
    """A pre- or development release (`2.0.0rc8`, `1.0.0.dev1`, `1.18.0-next.0`)."""
    found = pep440(written)
    return found.is_prerelease if found is not None else "-" in written


def release_numbers(written: str) -> tuple[int, ...]:
    """The leading dotted numbers: (5, 0) for `5.0`, (2022, 6, 22, 1) for `2022.06.22.1`."""
    numbers: list[int] = []
    for part in written.split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        numbers.append(int(digits))
        if digits != part:
            break
    return tuple(numbers)
