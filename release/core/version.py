"""PEP 440 versions: parse, order, normalise and bump. Pure: no I/O.

`packaging` parses and orders; this module adds what a release needs on top: SemVer spellings
read as their PEP 440 equivalents (`v1.2.0-rc.1` is `1.2.0rc1`, `2.0.0-dev.5` is `2.0.0.dev5`,
which `packaging`'s normalisation already accepts) and the next version for a bump.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.core.pattern import LazyPattern
from release.core.version_reading import SEMVER_NUMERIC_PRE, reading
from release.errors import DojoError

if TYPE_CHECKING:
    from packaging import version as pep440


class VersionError(DojoError):
    """A version string is not PEP 440, or a bump cannot apply to a version."""


class Bump(enum.Enum):
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"
    RELEASE = "release"  # finish a pre-release: 1.3.0rc2 -> 1.3.0
    POST = "post"  # 1.2.3 -> 1.2.3.post1
    DEV = "dev"  # 1.2.3 -> 1.2.4.dev1; 1.2.4.dev1 -> 1.2.4.dev2


class Pre(enum.Enum):
    """Pre-release phases, in PEP 440 order."""

    ALPHA = "a"
    BETA = "b"
    RC = "rc"

    @property
    def rank(self) -> int:
        return list(Pre).index(self)


_POSITIONS = {Bump.MAJOR: 0, Bump.MINOR: 1, Bump.PATCH: 2}


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    """A PEP 440 version; `str()` is its normalised form (`1.3.0rc1`, `2.0.0.dev5`)."""

    value: pep440.Version

    def __str__(self) -> str:
        return str(self.value)

    def __lt__(self, other: Version) -> bool:
        return self.value < other.value

    @property
    def release(self) -> tuple[int, ...]:
        return self.value.release

    @property
    def pre(self) -> tuple[Pre, int] | None:
        pre = self.value.pre
        return None if pre is None else (Pre(pre[0]), pre[1])

    @property
    def post(self) -> int | None:
        return self.value.post

    @property
    def dev(self) -> int | None:
        return self.value.dev

    @property
    def local(self) -> str | None:
        return self.value.local

    @property
    def is_prerelease(self) -> bool:
        """A pre-release (`a`, `b`, `rc`) or a development release (`.devN`)."""
        return self.value.is_prerelease

    @property
    def base(self) -> Version:
        """The final release this one leads to or follows: epoch and release numbers only."""
        return _make(self.value.epoch, self.release)

    def bump(self, kind: Bump, pre: Pre | None = None) -> Version:
        """The next version; see `next_version`."""
        return next_version(self, kind, pre)


def _make(
    epoch: int,
    release: tuple[int, ...],
    pre: tuple[Pre, int] | None = None,
    post: int | None = None,
    dev: int | None = None,
) -> Version:
    text = f"{epoch}!" if epoch else ""
    text += ".".join(str(n) for n in release)
    if pre is not None:
        text += f"{pre[0].value}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    from packaging import version as pep440  # noqa: PLC0415 (see `reading`)

    return Version(pep440.Version(text))


def _release_bump(current: Version, kind: Bump) -> Version:
    """The final release a major/minor/patch bump leads to.

    A pre-release or dev release of X.Y.0 is already on its way to a minor release, so
    `--bump minor` finishes it (1.3.0rc2 -> 1.3.0) rather than skipping to 1.4.0; likewise
    for major (X.0.0) and patch (any). Release numbers keep their length (CalVer `24.10`
    bumps minor to `24.11`) and grow to the position bumped.
    """
    position = _POSITIONS[kind]
    numbers = list(current.release) + [0] * (position + 1 - len(current.release))
    on_its_way = current.pre is not None or (current.dev is not None and current.post is None)
    if on_its_way and not any(numbers[position + 1 :]):
        return _make(current.value.epoch, tuple(numbers))
    numbers[position] += 1
    numbers[position + 1 :] = [0] * (len(numbers) - position - 1)
    return _make(current.value.epoch, tuple(numbers))


def _pre_bump(current: Version, base: Version, pre: Pre) -> Version:
    """`base` as pre-release `pre`: the next number in `current`'s series when it is one."""
    epoch = base.value.epoch
    if current.base != base or current.pre is None:
        return _make(epoch, base.release, (pre, 1))  # 1.3.0.dev5 -> 1.3.0rc1 too
    phase, number = current.pre
    if pre.rank < phase.rank:
        raise VersionError(
            f"{base}{pre.value}1 would be lower than {current} ({pre.value} comes before "
            f"{phase.value}): use --pre {phase.value} or a later phase"
        )
    if pre is not phase:
        return _make(epoch, base.release, (pre, 1))
    if current.dev is not None and current.post is None:
        return _make(epoch, base.release, (phase, number))  # 1.3.0rc2.dev1 -> 1.3.0rc2
    return _make(epoch, base.release, (phase, number + 1))


def next_version(current: Version, kind: Bump, pre: Pre | None = None) -> Version:
    """The version after `current` for a bump; always greater than `current`.

    - `major`/`minor`/`patch`: the next such release (a pre-release of it is finished, not
      skipped); with `pre`, that release's next pre-release of phase `pre` (1.2.3 minor rc ->
      1.3.0rc1, then 1.3.0rc2; `b` after `a` starts at b1).
    - `release`: finish a pre-release or dev release (1.3.0rc2 -> 1.3.0).
    - `post`: the next post-release (1.2.3 -> 1.2.3.post1 -> 1.2.3.post2).
    - `dev`: the next development release (1.2.4.dev1 -> 1.2.4.dev2; after a final or post
      release, a dev release of the next patch; after a pre-release, of the next one).
    """
    if current.local is not None:
        raise VersionError(
            f"{current} has a local version label (+{current.local}), which is never released: "
            "drop it from the version"
        )
    if pre is not None and kind not in _POSITIONS:
        raise VersionError(f"--pre goes with --bump major, minor or patch, not {kind.value}")
    epoch = current.value.epoch
    if kind in _POSITIONS:
        base = _release_bump(current, kind)
        return base if pre is None else _pre_bump(current, base, pre)
    if kind is Bump.RELEASE:
        if not current.is_prerelease:
            raise VersionError(
                f"{current} is not a pre-release or dev release, so there is nothing to finish: "
                "use --bump patch, minor or major"
            )
        if current.post is not None and current.pre is None:
            return _make(epoch, current.release, None, current.post)  # 1.2.3.post1.dev2
        return current.base
    if kind is Bump.POST:
        if current.dev is not None:
            raise VersionError(
                f"{current} is a dev release: finish it (--bump release) before a post-release"
            )
        post = 1 if current.post is None else current.post + 1
        return _make(epoch, current.release, current.pre, post)
    # Bump.DEV
    if current.dev is not None:
        return _make(epoch, current.release, current.pre, current.post, current.dev + 1)
    if current.pre is not None:  # 1.3.0rc1 (or rc1.post1) -> 1.3.0rc2.dev1
        phase, number = current.pre
        return _make(epoch, current.release, (phase, number + 1), None, 1)
    # a final or post release: the next patch's first dev release (1.2.3.post1 -> 1.2.4.dev1)
    return _make(epoch, _release_bump(current, Bump.PATCH).release, None, None, 1)


def explicit(current: Version | None, text: str) -> Version:
    """`--version X`: a valid, releasable PEP 440 version greater than `current`."""
    new = parse(text)
    if new.local is not None:
        raise VersionError(
            f"--version {text}: a local version (+{new.local}) is never released: drop the "
            "`+...` part"
        )
    if current is not None and not new > current:
        raise VersionError(
            f"--version {new} is not greater than the current version {current}: choose a "
            "higher version"
        )
    return new


# A written version's parts, to spell another version the same way (`release` alone: compiled
# when first used, like `SEMVER_NUMERIC_PRE`, which reads only what extract-notes does not ask).
_STYLE = LazyPattern(
    r"^(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<sep>[-_.]?)(?P<word>alpha|beta|rc|a|b|c|pre|preview)(?P<sep2>[-_.]?)\d+)?"
)
_LONG = {"a": "alpha", "b": "beta", "rc": "rc"}
_PHASE = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "rc": "rc", "c": "rc", "pre": "rc",
          "preview": "rc"}

def parse(text: str) -> Version:
    """Parse a PEP 440 version, with an optional leading `v`, or its SemVer spelling
    (`v1.2.0-rc.1`); raise `VersionError` otherwise."""
    found = reading(text)
    if found is not None:
        return Version(found)
    if SEMVER_NUMERIC_PRE.match(text.strip()):
        base, _, number = text.strip().partition("-")
        raise VersionError(
            f"{text!r} is a SemVer pre-release, which PEP 440 cannot say (it would read a "
            f"post-release): write {base.lstrip('vV')}rc{number.split('.')[0]} for a "
            f"pre-release or {base.lstrip('vV')}.post{number.split('.')[0]} for a post-release"
        )
    raise VersionError(
        f"{text!r} is not a PEP 440 version (such as 1.2.3, 1.3.0rc1, 2.0.0.dev5, "
        "2026.8.17): fix it"
    )


def try_parse(text: str) -> Version | None:
    """`parse`, or None for anything that is not a version."""
    try:
        return parse(text)
    except VersionError:
        return None


def spell(new: Version | str, like: str) -> str:
    """`new` written the way `like` writes its version: zero-padded release numbers (CalVer
    `2026.08.17` -> `2026.08.18`) and a SemVer pre-release (`1.2.0-rc.1` -> `1.2.0-rc.2`)
    keep their spelling; anything else is the normalised form. Always a spelling of `new`;
    a `new` given as text is already spelled (`8.5.1.dev`) and stays as it is."""
    if isinstance(new, str):
        return new
    style = _STYLE.match(like.strip().lstrip("vV"))
    if style is None:
        return str(new)
    widths = [len(p) if p.startswith("0") and len(p) > 1 else 0
              for p in style["release"].split(".")]
    numbers = [str(n).zfill(widths[i]) if i < len(widths) else str(n)
               for i, n in enumerate(new.release)]
    text = (f"{new.value.epoch}!" if new.value.epoch else "") + ".".join(numbers)
    if new.pre is not None:
        phase, number = new.pre
        if style["word"] is not None:
            word = style["word"]
            if _PHASE[word.lower()] != phase.value:
                word = _LONG[phase.value] if len(word) > 2 else phase.value
            text += f"{style['sep']}{word}{style['sep2']}{number}"
        else:
            text += f"{phase.value}{number}"
    text += "".join(
        part for part in (
            f".post{new.post}" if new.post is not None else "",
            f".dev{new.dev}" if new.dev is not None else "",
        )
    )
    found = reading(text)
    return text if found is not None and found == new.value else str(new)
