"""Versions as changelog headings write them: SemVer, PEP 440, CalVer, two- and four-part.

What a version is, and when two spellings name the same one, is `release.core.version`'s
decision (`reading`), the same for tags, headings and version files; this module adds the
heading-side helpers. SemVer prereleases are read as PEP 440 ones
(`1.2.0-rc.1` is `1.2.0rc1`); a SemVer spelling PEP 440 has no word for (`1.18.0-next.0`) is
still a version, compared as written.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from release.core.version_reading import WRITTEN, reading

if TYPE_CHECKING:
    from packaging.version import Version as Pep440

# A version as written, without a leading `v` (one definition, in `release.core.version`).
VERSION = WRITTEN


def pep440(written: str) -> Pep440 | None:
    """The PEP 440 reading of a version as written (`v` already removed), or None, as
    `release.core.version_reading.reading` decides for every version the toolkit reads."""
    return reading(written)


def key(written: str) -> Pep440 | str:
    """What two spellings of one version share: `2.0` and `2.0.0`, `1.2.0-rc.1` and `1.2.0rc1`."""
    found = pep440(written)
    return found if found is not None else written.lower()


def is_prerelease(written: str) -> bool:
    """A pre- or development release (`2.0.0rc8`, `1.0.0.dev1`, `1.18.0-next.0`)."""
    found = pep440(written)
    return found.is_prerelease if found is not None else "-" in written


@functools.lru_cache(maxsize=1 << 14)
def release_numbers(written: str) -> tuple[int, ...]:
    """The leading dotted numbers: (5, 0) for `5.0`, (2022, 6, 22, 1) for `2022.06.22.1`."""
    found = _NUMBERS.match(written)
    return tuple(int(part) for part in found[0].split(".")) if found else ()


# What `str.isdigit` and `int` read alike (`\d`: Unicode decimal digits), dot-separated, from
# the start: `5.0rc1` gives 5.0, `v1.2` nothing.
_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
