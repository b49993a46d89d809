"""The next version in development after a release, spelled as the project spells its own.

Projects that keep the next version on the branch (Pallets' `8.5.0.dev`, zest.releaser's
`3.14.4.dev0`, `3.3.6-dev0`, Django's `(4, 2, 1, "alpha", 0)`) release by dropping the
development marker, tagging, then going back to development on the next patch. Pure.
"""

from __future__ import annotations

import re

from release.core.version import Version, parse

# How a development marker is written at the end of a version: `.dev0`, `.dev`, `-dev0`, `dev1`.
_MARKER = re.compile(r"(?P<sep>[._-]?)(?P<dev>dev)(?P<number>\d*)$", re.IGNORECASE)


def next_development(released: Version, like: str | None = None) -> tuple[Version, str]:
    """The development version after `released` (its next patch, `.dev0`), and its spelling
    in the style of `like`, the version as the project wrote it before the release
    (`8.5.0.dev` gives `8.5.1.dev`, `3.3.6-dev0` gives `3.3.7-dev0`; else `8.5.1.dev0`)."""
    numbers = list(released.release) + [0] * (3 - len(released.release))
    numbers[2] += 1
    base = ".".join(str(n) for n in numbers)
    epoch = f"{released.value.epoch}!" if released.value.epoch else ""
    version = parse(f"{epoch}{base}.dev0")
    marker = _MARKER.search(like or "")
    if marker is None:
        return version, str(version)
    number = "0" if marker["number"] else ""
    return version, f"{epoch}{base}{marker['sep']}{marker['dev']}{number}"
