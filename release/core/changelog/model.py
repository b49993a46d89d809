"""The changelog's values: sections, link definitions, heading styles."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, overload

from release.core.changelog import versions
from release.core.changelog.heading import ANY_VERSION, UNRELEASED, UNRELEASED_ONLY
from release.core.markdown import core_tokens
from release.core.pattern import LazyPattern
from release.errors import ChangelogError

if TYPE_CHECKING:
    from packaging.version import Version as Pep440

    from release.core.changelog.roll import Rolled as Rolled  # noqa: PLC0414 (re-exported)


# Each label is folded twice (as the scan hands it to mistletoe, and as its definition is
# indexed): a changelog's bottom holds thousands.
@functools.lru_cache(maxsize=1 << 15)
def normalize_label(label: str) -> str:
    """A link label as CommonMark compares them (case and inner whitespace folded)."""
    return str(core_tokens.normalize_label(label))


VERSION_QUERY = LazyPattern(ANY_VERSION, re.IGNORECASE)


# The values nothing subclasses are named tuples (one class built at import, not a dataclass's
# six generated methods): a fifth of the cost at start-up, and the same fields, defaults,
# equality, hash and repr.
class HeadingStyle(NamedTuple):
    """How a release heading is written, so a new one can be written the same way."""

    level: int = 2
    template: str = "[{version}] - {date}"  # see heading.Title.template
    setext: str = ""  # the underline of a setext heading (`=====`), else ""

    def render(self, version: str, date: str, url: str | None, eol: str = "\n") -> str:
        """The heading for `version`, its underline included (no final line ending)."""
        text = self.template
        if url is None:  # `[{version}]({url})` without a known URL: `[{version}]`
            text = text.replace("]({url})", "]").replace("{url}", "")
        text = text.format(
            version=version, version_dashed=version.replace(".", "-"),
            version_underscored=version.replace(".", "_"), date=date, url=url or "",
        )
        if self.setext:
            return text + eol + self.setext[0] * max(len(self.setext), len(text))
        return "#" * self.level + " " + text

    @property
    def dated(self) -> bool:
        return "{date}" in self.template

    def shape(self) -> tuple[int, bool, str]:
        """What must agree for two headings to be in one style (the date aside)."""
        return (self.level, bool(self.setext), self.template)


@dataclass(frozen=True)
class Section:
    """One release (or [Unreleased]) section. Offsets index `Changelog.text`."""

    version: str | None  # as written, without a leading `v`; None for [Unreleased]
    date: str | None
    title: str  # heading text without the `#`s (or the setext underline)
    body: str  # exact text as written, no heading, no surrounding blank lines
    url: str | None  # link in the heading, if any
    line: int = 0  # 1-based line of the heading
    start: int = 0  # offset of the heading line
    heading_end: int = 0  # offset just after the heading (and its line ending)
    body_start: int = 0
    body_end: int = 0
    end: int = 0  # where the section's region ends (next heading, trailing definitions, EOF)
    style: HeadingStyle | None = None
    label: str | None = None  # the `[...]` text of a reference-style heading, for link lookups
    level: int = 2
    setext: bool = False
    nested: bool = False  # a patch written inside its minor's section (`### 5.0.1` in `## 5.0`)
    also: tuple[str, ...] = ()  # more versions the heading names (`3.9.1 and 3.9.2`)
    # A version marked as not released yet: `1.2.3 (unreleased)`, or Pallets' `Unreleased`
    # first line (left out of the body, which starts after it)
    marked_unreleased: bool = False
    # How it is marked: the heading's word (`unreleased`) or the whole first line (`Unreleased`)
    marker: str | None = None

    @property
    def name(self) -> str:
        return "Unreleased" if self.version is None else self.version

    @property
    def prerelease(self) -> bool:
        return self.version is not None and versions.is_prerelease(self.version)


@dataclass(frozen=True)
class LinkRef:
    """A link reference definition, `[label]: dest "title"`."""

    label: str  # as written
    dest: str
    title: str = ""
    line: int | None = None  # 1-based; None for one nested inside a list or quote
    start: int = -1  # offsets of its source text in `Changelog.text` (top-level ones only)
    end: int = -1  # just after its last line ending

    @functools.cached_property
    def key(self) -> str:
        return normalize_label(self.label)


_Item = TypeVar("_Item")


class TupleLike(Sequence[_Item]):
    """A sequence that compares, hashes and prints as the tuple of its items."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


class Lazy(TupleLike[_Item]):
    """A tuple whose items are built the first time each one is asked for: `release` asks a
    2 MB changelog for its [Unreleased] section and whether every version still has one, and
    building all 4,000 sections (and 7,000 link definitions) for that was most of its time.
    Compares and hashes as the tuple of its items."""

    def __init__(self, build: Callable[[int], _Item], count: int) -> None:
        self._build = build
        self._items: list[_Item | None] = [None] * count
        self._all: tuple[_Item, ...] | None = None  # once every item is built

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> _Item: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[_Item, ...]: ...

    def __getitem__(self, index: int | slice) -> _Item | tuple[_Item, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self._items))))
        item = self._items[index]
        if item is None:
            item = self._items[index] = self._build(index % len(self._items))
        return item

    def __iter__(self) -> Iterator[_Item]:
        if self._all is not None:
            return iter(self._all)
        return self._iterate()

    def _iterate(self) -> Iterator[_Item]:
        for index in range(len(self._items)):
            yield self[index]
        self._all = tuple(self._items)  # type: ignore[arg-type]  # every one built now


class Sections(Lazy[Section]):
    """A parsed changelog's sections, built when asked for; what every heading says of its
    versions and where it is are known without building any (`Changelog.find`'s indexes)."""

    def __init__(
        self, build: Callable[[int], Section],
        heads: Sequence[tuple[str | None, tuple[str, ...], int]],
        shape: Callable[[int], tuple[int, bool, str]] | None = None,
    ) -> None:
        super().__init__(build, len(heads))
        self.heads = heads  # (version, also, line) of each section, as its Section will say
        self._shape = shape


def _heads(sections: Sequence[Section]) -> Sequence[tuple[str | None, tuple[str, ...], int]]:
    if isinstance(sections, Sections):
        return sections.heads
    return [(s.version, s.also, s.line) for s in sections]


def shape(sections: Sequence[Section], n: int) -> tuple[int, bool, str | None]:
    """(level, nested, heading template) of section `n`, as its `level`, `nested` and
    `style.template` say, without building it where the parse can tell: `release` learns the
    file's heading style from every release, and building 4,000 sections for it was most of
    the roll."""
    if isinstance(sections, Sections) and sections._shape is not None:
        return sections._shape(n)
    section = sections[n]
    return section.level, section.nested, section.style.template if section.style else None


@dataclass(frozen=True)
class Changelog:
    """A parsed changelog: its sections and link definitions, over the text they index."""

    syntax: ClassVar[str] = "markdown"  # "rst" for rst.model.RstChangelog
    text: str
    sections: Sequence[Section]  # a tuple, or (parse) one built as asked: `Sections`
    link_refs: Sequence[LinkRef]
    eol: str = "\n"
    _refs: Mapping[str, LinkRef] = field(default_factory=dict, repr=False, compare=False)
    # (line, level, text) of the headings that are no release heading
    _others: tuple[tuple[int, int, str], ...] = field(default=(), repr=False, compare=False)
    # A code fence or HTML block that never closes, and the release-like headings it hides
    _unclosed: tuple[int, tuple[int, ...]] | None = field(default=None, repr=False, compare=False)

    @property
    def unreleased(self) -> Section | None:
        return next(iter(self.unreleased_sections), None)

    @property
    def unreleased_sections(self) -> list[Section]:
        """The [Unreleased] sections; a heading that is just the marker wins over history's
        `Unreleased changes in ...`."""
        sections = self.sections
        found = [sections[n] for n, head in enumerate(_heads(sections)) if head[0] is None]
        marked = [s for s in found if UNRELEASED_ONLY.match(s.title)]
        found = marked if len(found) > 1 and marked else found
        return found + self.marked_unreleased

    @property
    def marked_unreleased(self) -> list[Section]:
        """Versioned sections marked as not released yet (`1.2.3 (unreleased)`, Pallets'
        `Unreleased` line) above every released one: the notes of the next release. One below
        a release is history (a version that never shipped)."""
        out = []
        for section in self.sections:
            if section.version is None:
                continue
            if not section.marked_unreleased:
                break
            out.append(section)
        return out

    @property
    def releases(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.version is not None)

    @property
    def release_versions(self) -> list[str]:
        """Each release's version as written (`Section.version`), in file order, without
        building a section."""
        return [version for version, _also, _line in _heads(self.sections) if version is not None]

    def ref(self, label: str) -> LinkRef | None:
        """The definition for `label` (case- and whitespace-insensitive, first one wins)."""
        return self._refs.get(normalize_label(label))

    def find(self, query: str, *, include_prereleases: bool = False) -> Section:
        """The section for `v1.2.3`, `1.2.3`, `refs/tags/v1.2.3`, `Unreleased` or `latest` (the
        topmost final release; with `include_prereleases`, the topmost release). A version is
        found in any spelling of it (`2.0` by `2.0.0`, `1.2.0rc1` by `1.2.0-rc.1`) when only one
        section has it."""
        found, name = self.matches(query, include_prereleases=include_prereleases)
        if not found:
            raise ChangelogError(f"no section for {name}; {self._known()}")
        if len(found) > 1:
            if len({s.name for s in found}) == 1:
                lines = "lines " + ", ".join(str(s.line) for s in found)
            else:
                lines = ", ".join(f"{s.name} on line {s.line}" for s in found)
            raise ChangelogError(
                f"the changelog has {len(found)} sections for {name} ({lines}): "
                "merge them into one"
            )
        return found[0]

    def matches(
        self, query: str, *, include_prereleases: bool = False
    ) -> tuple[list[Section], str]:
        """The sections `find` chooses from for `query` (for `latest`, its one section), and the
        name it asked for; ChangelogError for a query that names nothing to look for."""
        found, name = self._positions(query, include_prereleases)
        if found is None:
            return self.unreleased_sections, name
        return [self.sections[n] for n in found], name

    def reaches(self, query: str) -> bool:
        """Whether `matches(query)` finds a section (two is not none), without building any;
        False for a query that names nothing to look for."""
        wanted = query.strip().removeprefix("refs/tags/")
        if (wanted[1:] if wanted[:1] in "vV" else wanted).lower() in self._as_written:
            return True  # a heading names it as written: `release` asks this of every version
        try:
            found, _name = self._positions(query, False)
        except ChangelogError:
            return False
        return bool(self.unreleased_sections) if found is None else bool(found)

    def _positions(self, query: str, include_prereleases: bool) -> tuple[list[int] | None, str]:
        """What `matches` finds, as positions in `sections` (None: the [Unreleased] ones)."""
        wanted = query.strip().removeprefix("refs/tags/")
        if wanted.lower() == "latest":
            top = next((
                n for n, (version, _also, _line) in enumerate(_heads(self.sections))
                if version is not None
                and (include_prereleases or not versions.is_prerelease(version))
            ), None)
            if top is None:
                kind = "released version" if include_prereleases else "final release"
                raise ChangelogError(
                    f"the changelog has no {kind} yet ({self._known()}): "
                    "ask for Unreleased or a version, or release first"
                )
            return [top], "latest"
        if UNRELEASED.match(wanted):
            return None, "[Unreleased]"
        written = wanted[1:] if wanted[:1] in "vV" else wanted
        if VERSION_QUERY.fullmatch(written) is None:  # a tag in the project's format?
            from release.core.tagformat import format_of  # noqa: PLC0415

            fmt = format_of(wanted)  # `kite-v2.0.0`
            if fmt is not None:
                written = wanted[len(fmt.prefix) :]
        if VERSION_QUERY.fullmatch(written) is None:
            raise ChangelogError(
                f"{query!r} is not a version: ask for vX.Y.Z, X.Y.Z, refs/tags/vX.Y.Z, "
                "Unreleased or latest"
            )
        found = self._as_written.get(written.lower())
        if not found:
            found = self._by_key.get(versions.key(written), [])
        return found, written

    # What `find` looks a version up in, built once: `release` asks for every version the file
    # holds (no section lost in the roll), which was quadratic in the number of sections. The
    # indexes hold positions in `sections`, read from the headings alone (no section is built).
    @functools.cached_property
    def _as_written(self) -> dict[str, list[int]]:
        """Releases by each version their heading names, lowercased, in file order."""
        return _index(_heads(self.sections), str.lower)

    @functools.cached_property
    def _by_key(self) -> dict[Pep440 | str, list[int]]:
        """Releases by what each spelling of their versions shares (`versions.key`)."""
        return _index(_heads(self.sections), versions.key)

    def _known(self, limit: int = 10) -> str:
        names = ["Unreleased" if v is None else v for v, _also, _line in _heads(self.sections)]
        if not names:
            return "it has no version sections (`## [X.Y.Z] - YYYY-MM-DD`) at all"
        shown = ", ".join(names[:limit])
        more = f", ... ({len(names)} sections in all)" if len(names) > limit else ""
        return f"sections that exist: {shown}{more}"


_Key = TypeVar("_Key", bound=Hashable)


def _index(
    heads: Sequence[tuple[str | None, tuple[str, ...], int]], key: Callable[[str], _Key]
) -> dict[_Key, list[int]]:
    index: dict[_Key, list[int]] = {}
    for n, (version, also, _line) in enumerate(heads):
        if version is None:
            continue
        if not also:  # most headings name one version: asked of each of 4,000 in `release`
            index.setdefault(key(version), []).append(n)
            continue
        for found in dict.fromkeys(key(v) for v in (version, *also)):
            index.setdefault(found, []).append(n)
    return index


class Extracted(NamedTuple):
    """A section's notes, as `extract-notes` prints them (`--format json`'s fields, in order:
    `_asdict()`)."""

    version: str | None
    date: str | None
    title: str
    body: str  # notes(): the body plus the link definitions it uses
    url: str | None


def __getattr__(name: str) -> Any:
    # `Rolled` is the roll's (release.core.changelog.roll), loaded only on the path that rolls;
    # `model.Rolled` still names it.
    if name == "Rolled":
        from release.core.changelog.roll import Rolled  # noqa: PLC0415

        return Rolled
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

