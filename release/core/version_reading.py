"""What a written version names: the pattern of a version as written, and the PEP 440 version
a spelling reads as (`reading`). Apart from `version.py` (which re-exports both) so that reading
a changelog's headings loads neither the `Version` value nor the bump rules."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from release.core.pattern import LazyPattern

if TYPE_CHECKING:
    from packaging import version as pep440

# A version as written, without a leading `v`: dotted numbers, then a SemVer prerelease or
# PEP 440 pre, post and dev parts, then local/build metadata.
WRITTEN = (
    r"\d+(?:\.\d+)+"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
    r"|[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[0-9A-Za-z.-]+)?"
)
# `4.0.0-1`: PEP 440 reads a post-release (4.0.0.post1), SemVer a pre-release of 4.0.0 (npm
# writes them so). Changelogs, tags and version files are read with the SemVer meaning.
SEMVER_NUMERIC_PRE = LazyPattern(r"^v?\d+(?:\.\d+)+-\d+(?:\.\d+)*$", re.IGNORECASE)


# Large enough for every heading of a big changelog (4,550 in the benchmark's 2 MB one): a run
# reads them all more than once, and a cache smaller than one pass misses on every one.
@functools.lru_cache(maxsize=1 << 15)
def reading(written: str) -> pep440.Version | None:
    """The PEP 440 version a spelling names, or None: the one rule for what a version is,
    wherever it is written (a tag, a changelog heading, a version file, the command line).

    `1.2.0-rc.1` is `1.2.0rc1` and `2.0` is `2.0`; `4.0.0-1` is a SemVer pre-release, which
    PEP 440 has no word for, so it names no PEP 440 version."""
    from packaging import version as pep440  # noqa: PLC0415 (extract-notes of a version reads none)

    written = written.strip()
    if SEMVER_NUMERIC_PRE.match(written):
        return None
    try:
        return pep440.Version(written)
    except pep440.InvalidVersion:
        return None
