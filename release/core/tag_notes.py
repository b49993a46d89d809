"""A release's notes kept in its annotated tag, for projects that keep no changelog file (the
notes live in GitHub Releases): `release` writes them there, `extract-notes` and `publish` read
them back. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from release.core.tagformat import version_in
from release.core.version import Version, VersionError, parse

_SIGNATURE = re.compile(r"^-----BEGIN (?:PGP|SSH) SIGNATURE-----$", re.M)


def notes_of(tag: str, message: str) -> str:
    """The notes an annotated tag's `message` holds: without the first line when it only names
    the tag (as `release` writes it: `v1.2.3`, a blank line, the notes) and without a
    signature block."""
    signed = _SIGNATURE.search(message)
    text = message[: signed.start()] if signed else message
    first, _, rest = text.partition("\n")
    if first.strip() in (tag, f"Release {tag}", f"Version {tag}"):
        text = rest
    return text.strip("\n").rstrip()  # as a changelog section's body: no final newline


def pick_tag(query: str, tags: Iterable[str], *, include_prereleases: bool = False) -> str | None:
    """The tag `query` names (`v1.2.3`, `1.2.3`, `refs/tags/v1.2.3`, `latest`): the tag itself
    when it exists, else the tag whose version equals the query's; `latest` is the highest
    final release (a prerelease too, when allowed)."""
    names = list(tags)
    wanted = query.removeprefix("refs/tags/")
    if wanted in names:
        return wanted
    versions = [(v, name) for name in names if (v := version_in(name)) is not None]
    if wanted.lower() == "latest":
        allowed = [(v, n) for v, n in versions if include_prereleases or not v.is_prerelease]
        return max(allowed)[1] if allowed else None
    try:
        version: Version = parse(wanted.removeprefix("v").removeprefix("V"))
    except VersionError:
        return None
    found = sorted(name for v, name in versions if v == version)
    return found[0] if found else None
