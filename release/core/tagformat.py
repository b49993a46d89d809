"""The project's own release tag format: `v{version}` by default, inferred from the existing
tags (plain `2.4.0` tags give `{version}`; among several formats, from the history that
matters: the project's name as the prefix, the tag of the current version, the newest
releases), or `[tool.release] tag-format`. Pure: names in, values out. `resolve` is the one
inference, for `release` and `publish` alike.

A tag is a release tag when it is the format's prefix, a PEP 440 version in any spelling
(`v1.3.0rc1` and `v1.3.0-rc.1` are the same release) with at least two release numbers (`v2`
is a moving major tag, not a release), and the format's suffix. Tags that `release` writes
use the normalised version (`v1.3.0rc1`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from release.core.version import Version, try_parse
from release.errors import ConfigError

DEFAULT = "v{version}"
PLACEHOLDER = "{version}"

# What may stand around `{version}`: characters git accepts in a tag name, no `..` and no `@{`
# (git-check-ref-format), and nothing a version could continue with at the joint.
_AFFIX = re.compile(r"^[A-Za-z0-9._/@+-]*$")
# An inferred prefix: empty, `v`, or a name and a separator with an optional `v`
# (`hatchling-v`, `release-`, `pkg@`, `tools/v`).
_INFERRED_PREFIX = re.compile(r"^(?:[A-Za-z][A-Za-z0-9._-]*?[-_/@])?[vV]?$")
_LEADING_DIGIT = re.compile(r"^\d")


@dataclass(frozen=True)
class TagFormat:
    """A tag format such as `v{version}`, and where it came from (for the dry run and logs)."""

    pattern: str = DEFAULT
    origin: str = "default"  # "default", "[tool.release] tag-format", "N existing tags"

    @property
    def prefix(self) -> str:
        return self.pattern.partition(PLACEHOLDER)[0]

    @property
    def suffix(self) -> str:
        return self.pattern.partition(PLACEHOLDER)[2]

    def render(self, version: Version) -> str:
        """The tag name of `version`, written in its normalised form."""
        return f"{self.prefix}{version}{self.suffix}"

    def parse(self, name: str) -> Version | None:
        """The version a tag name stands for, or None when it is not a release tag."""
        name = name.removeprefix("refs/tags/")
        if not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return None
        middle = name[len(self.prefix) : len(name) - len(self.suffix)]
        if not _LEADING_DIGIT.match(middle):
            return None  # `{version}` must not take `v1.2.3`, nor `v{version}` `vv1.2.3`
        version = try_parse(middle)
        if version is None or len(version.release) < 2 or version.local is not None:
            return None
        return version

    def glob(self) -> str:
        """A git/GitHub Actions glob for the format's tags, pre-releases included."""
        # At least one dot: `v2`, a moving major tag, is no release.
        return f"{self.prefix}[0-9]*.[0-9]*{self.suffix}"


def validate(pattern: str, where: str = "[tool.release] tag-format") -> TagFormat:
    """A configured format, checked: exactly one `{version}` and tag-safe text around it."""
    if pattern.count(PLACEHOLDER) != 1:
        raise ConfigError(
            f'{where} {pattern!r} must contain {PLACEHOLDER} exactly once, e.g. "v{{version}}"'
        )
    fmt = TagFormat(pattern, where)
    for affix in (fmt.prefix, fmt.suffix):
        if not _AFFIX.match(affix) or ".." in affix or "@{" in affix or "//" in affix:
            raise ConfigError(
                f"{where} {pattern!r}: {affix!r} cannot be part of a git tag name: use letters, "
                "digits and . _ - / @ only"
            )
    if fmt.prefix.startswith(("/", ".", "-")) or fmt.suffix.endswith((".", "/", ".lock")):
        raise ConfigError(f"{where} {pattern!r} is not a valid git tag name: fix it")
    if fmt.prefix and fmt.prefix[-1].isdigit():
        raise ConfigError(
            f"{where} {pattern!r}: a digit right before {PLACEHOLDER} would run into the "
            "version: put a separator there"
        )
    if fmt.suffix and (fmt.suffix[0].isalnum() or fmt.suffix[0] in "+."):
        raise ConfigError(
            f"{where} {pattern!r}: the text after {PLACEHOLDER} must start with - _ / or @ so "
            "it cannot be read as part of the version"
        )
    return fmt


def _inferred_prefix(name: str) -> str | None:
    """The prefix a version tag `name` uses, or None when it names no release."""
    for i, char in enumerate(name[:64]):
        if not char.isdigit():
            continue
        prefix = name[:i]
        if _INFERRED_PREFIX.match(prefix) and TagFormat(prefix + PLACEHOLDER).parse(name):
            return prefix
    return None


def format_of(name: str) -> TagFormat | None:
    """The format a release tag is written in (`v1.2.3` -> `v{version}`), or None."""
    prefix = _inferred_prefix(name)
    return None if prefix is None else TagFormat(prefix + PLACEHOLDER, f"the tag {name}")


def version_in(name: str) -> Version | None:
    """The version a release tag in any format names (`Release hatchling-v1.2.3` commits)."""
    fmt = format_of(name)
    return None if fmt is None else fmt.parse(name)


@dataclass(frozen=True)
class Resolved:
    """The format in force, and the release tags it gives."""

    format: TagFormat
    tags: tuple[tuple[str, Version], ...]  # (name, version) of every release tag in the format
    # Tags that look like releases but are not, in this format: `vnext` or `v2` for
    # `v{version}`, and version tags in another format when the format is configured.
    ignored: tuple[str, ...]


def resolve(
    configured: str | None, names: Iterable[str], *, project: str | None = None,
    current: Version | None = None,
) -> Resolved:
    """The tag format for a repository with tags `names`, for the project named `project`
    whose version source says `current` (both optional).

    Configured: that format. Otherwise inferred from the history that matters: the one format
    every version tag agrees on; else, among several, the one whose prefix is the project's
    name (a monorepo's `<name>-v{version}`), else the one holding the tag of the current
    version, else the one the newest release tags agree on; `v{version}` when there are no
    version tags. Tags in other formats are reported in `ignored`. When even the newest tags
    disagree, `ConfigError` names each format seen with its newest tag: picking one would
    silently start a second format.
    """
    names = sorted(set(names))
    by_prefix: dict[str, list[tuple[Version, str]]] = {}
    for name in names:
        prefix = _inferred_prefix(name)
        version = None if prefix is None else TagFormat(prefix + PLACEHOLDER).parse(name)
        if prefix is not None and version is not None:
            by_prefix.setdefault(prefix, []).append((version, name))
    if configured is not None:
        fmt = validate(configured)
    elif len(by_prefix) > 1:
        fmt = _infer(by_prefix, project, current)
    elif by_prefix:
        ((prefix, agreeing),) = by_prefix.items()
        fmt = TagFormat(prefix + PLACEHOLDER, _counted(len(agreeing), "existing tag"))
    else:
        fmt = TagFormat()
    tags: list[tuple[str, Version]] = []
    ignored: list[str] = []
    for name in names:
        version = fmt.parse(name)
        if version is not None:
            tags.append((name, version))
        elif _inferred_prefix(name) is not None or (
            name.startswith(fmt.prefix) and (fmt.prefix or _LEADING_DIGIT.match(name))
        ):
            ignored.append(name)
    return Resolved(fmt, tuple(tags), tuple(ignored))


# How many of the highest release tags (PEP 440 order, all formats) make "the recent
# history"; the format most of them are in is continued.
RECENT = 3


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _infer(
    by_prefix: dict[str, list[tuple[Version, str]]], project: str | None,
    current: Version | None,
) -> TagFormat:
    """One format among several, from the history that matters (see `resolve`)."""
    if project:
        named = [
            prefix for prefix in by_prefix
            if _normalised(prefix.rstrip("vV").rstrip("-_/@")) == _normalised(project)
        ]
        if len(named) == 1:
            count = len(by_prefix[named[0]])
            return TagFormat(
                named[0] + PLACEHOLDER,
                f"{_counted(count, 'tag')} named after the project {project}",
            )
    if current is not None:
        holding = [
            (prefix, name) for prefix, tags in by_prefix.items()
            for version, name in tags if version == current
        ]
        if len(holding) == 1:
            prefix, name = holding[0]
            return TagFormat(prefix + PLACEHOLDER, f"the tag {name} of the current version")
    newest = sorted(
        ((version, prefix) for prefix, tags in by_prefix.items() for version, _ in tags),
        reverse=True,
    )[:RECENT]
    counts = {prefix: sum(p == prefix for _, p in newest) for _, prefix in newest}
    leader = max(counts, key=lambda p: counts[p])
    # Two formats tagging the newest version (dual tagging) is no history to continue.
    dual = len(newest) > 1 and newest[0][0] == newest[1][0] and newest[0][1] != newest[1][1]
    if counts[leader] * 2 > len(newest) and not dual:
        return TagFormat(
            leader + PLACEHOLDER, f"{counts[leader]} of the {len(newest)} newest release tags"
        )
    prefixes = set(counts)
    seen = sorted(prefixes, key=lambda p: (-len(by_prefix[p]), p))
    found = "; ".join(
        f"{prefix}{PLACEHOLDER}: {_counted(len(by_prefix[prefix]), 'tag')} such as "
        f"{max(by_prefix[prefix])[1]}"
        for prefix in seen
    )
    choices = " or ".join(f'"{prefix}{PLACEHOLDER}"' for prefix in seen)
    raise ConfigError(
        f"the newest release tags use more than one format ({found}): set [tool.release] "
        f"tag-format to the one new releases continue ({choices})"
    )
