"""Rolling [Unreleased] (or given notes) forward into a new version section, in the file's own
style: the heading level and shape of its releases (a patch like its patches where
conventional-changelog writes minors at `#` and patches at `##`), its date format, its link kind
(`/compare/`, `/releases/tag/`, `/tree/`) and head reference (`...main`), tags in the project's
tag format."""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from release.core.changelog import roll_links, versions
from release.core.changelog.heading import DATE, PENDING, known_date_style, restyle_date
from release.core.changelog.model import (
    Changelog,
    HeadingStyle,
    Section,
    _heads,
    shape,
)
from release.core.changelog.parse import parse
from release.core.changelog.scan import scan_text
from release.errors import ChangelogError

_INLINE_HEAD = re.compile(r"(?P<keep>\]\([^)\s]*/compare/)[^)\s]*?(?P<head>\.\.\.[^)\s]+)\)")
_MARKERS = re.compile(r"\s*(?:\[yanked\]|\(yanked\)|\(unreleased\)|\[unreleased\])", re.IGNORECASE)
DEFAULT_STYLE = HeadingStyle()  # Keep a Changelog, for a file with no release yet


# Here, not in model, so only the path that rolls builds it (`model.Rolled` and
# `release.core.changelog.Rolled` name it still).
@dataclass(frozen=True)
class Rolled:
    """A changelog rolled forward, and what the roll warns about."""

    text: str
    warnings: tuple[str, ...]


class _Releases(Sequence[Section]):
    """The file's releases but the one being rolled, in file order, each section built when it
    is asked for: the roll reads the newest ones, and every one's level and heading template
    only (`shape`), which the parse tells without building 4,000 sections."""

    def __init__(self, changelog: Changelog, left_out: Section | None) -> None:
        self._sections = changelog.sections
        skip = left_out.line if left_out is not None else None  # a heading's line is its own
        self.positions = tuple(
            n for n, (version, _also, line) in enumerate(_heads(self._sections))
            if version is not None and line != skip
        )

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> Section: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Section, ...]: ...

    def __getitem__(self, index: int | slice) -> Section | tuple[Section, ...]:
        if isinstance(index, slice):
            return tuple(self._sections[n] for n in self.positions[index])
        return self._sections[self.positions[index]]

    def __iter__(self) -> Iterator[Section]:
        return (self._sections[n] for n in self.positions)

    @functools.cached_property
    def shapes(self) -> list[tuple[int, int, bool, str | None]]:
        """(index, level, nested, heading template) of each release, none of them built."""
        return [(index, *shape(self._sections, n)) for index, n in enumerate(self.positions)]

    def version(self, index: int) -> str:
        return _heads(self._sections)[self.positions[index]][0] or ""


def _unreleased(changelog: Changelog, name: str, notes: str | None) -> Section | None:
    """The [Unreleased] section to roll (None: a file without one, given notes); refuses what
    cannot be rolled."""
    found = changelog.unreleased_sections
    if len(found) > 1:
        lines = ", ".join(str(s.line) for s in found)
        raise ChangelogError(
            f"the changelog has {len(found)} [Unreleased] sections (lines {lines}): keep one"
        )
    if not found and notes is None:
        raise ChangelogError(
            "the changelog has no [Unreleased] section and no notes were given: add "
            "`## [Unreleased]` above the newest version, with the notes for this release under it"
        )
    wanted = versions.key(name)
    sections, heads = changelog.sections, _heads(changelog.sections)
    same = [  # the releases the index finds by a version their heading names, as their own
        section for n in changelog._by_key.get(wanted, [])
        if versions.key(heads[n][0] or "") == wanted and (section := sections[n]) not in found
    ]
    if same:
        raise ChangelogError(
            f"the changelog already has a section for {name} (line {same[0].line}): "
            "that version was released; bump to a new one (or remove the section)"
        )
    return found[0] if found else None


def _previous(releases: Sequence[Section], given: object | None) -> str | None:
    """The release before the new one, as the file writes it (so its tag is the one made
    then): `given`, else the highest final release."""
    if given is None:
        finals = [versions.pep440(s.version or "") for s in releases if not s.prerelease]
        known = [v for v in finals if v is not None]
        if not known:
            return None
        given = max(known)
    prior = versions.key(str(given))
    return next(
        (s.version for s in releases if s.version and versions.key(s.version) == prior),
        str(given),
    )


def _tag_format(changelog: Changelog, previous: str | None) -> str:
    """The tag format the file's own links use for the previous release (`{version}` for
    `.../compare/1.0.0...HEAD`, `kite-v{version}`), else `v{version}`."""
    if previous is not None:
        ours = changelog.ref("unreleased")
        newest = next((s for s in changelog.sections if s.version is not None), None)
        dests = [ours.dest if ours else "", *([newest.url or ""] if newest is not None else [])]
        for dest in dests:
            for part in re.split(r"[/.]{3}|/", dest):
                if previous in part and re.fullmatch(r"[\w@+-]*" + re.escape(previous), part):
                    return part.replace(previous, "{version}")
    return "v{version}"


def _patch(version: str) -> bool:
    return any(versions.release_numbers(version)[2:])


def _model(releases: _Releases, version: str) -> Section | None:
    """The release the new heading is written like: the newest at the file's usual release
    level, unless the file puts patches and minors at different levels (conventional-changelog's
    `#` minors, `##` patches): then the newest of the new version's kind."""
    # From the releases' shapes: only the one chosen is built.
    shaped = [(n, level) for n, level, nested, template in releases.shapes
              if not nested and template is not None]
    if not shaped:
        return None
    counts = collections.Counter(level for _n, level in shaped)
    top = max(counts.values())
    newest_at, newest_level = next((n, lv) for n, lv in shaped if counts[lv] == top)
    kind = _patch(version)
    same_at = next(
        ((n, lv) for n, lv in shaped if _patch(releases.version(n)) == kind), None
    )
    if same_at is not None and same_at[1] != newest_level:
        return releases[same_at[0]]
    return releases[newest_at]


def _clean_notes(notes: str, eol: str, level: int) -> str:
    """The notes without surrounding blank lines, their headings below the release's level:
    the `### Added` categories notes are written with go one level down (`#### Added`) in a
    file whose releases are `###` headings; any other heading at or above that level is
    refused, as it would split the section."""
    lines = notes.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    headings = scan_text("\n".join(lines)).headings
    if level == 3 and headings and min(h.level for h in headings) == 3:
        for heading in headings:
            line = lines[heading.index]
            at = line.index("#")
            lines[heading.index] = line[:at] + "#" + line[at:]
        headings = scan_text("\n".join(lines)).headings
    if any(h.level <= level for h in headings):
        raise ChangelogError(
            f"the notes contain a heading of level {level} or above, which would split the "
            f"changelog section: use `{'#' * (level + 1)}` headings in notes"
        )
    return eol.join(lines)


def _roll_rst(changelog: Changelog, version: object, date: str, notes: str | None) -> Rolled:
    """A reStructuredText changelog rolls in its own module (its titles are no headings)."""
    from release.core.changelog.rst.model import RstChangelog  # noqa: PLC0415
    from release.core.changelog.rst.roll import roll_forward as roll_rst  # noqa: PLC0415

    assert isinstance(changelog, RstChangelog)
    return roll_rst(changelog, version, date, notes=notes)


def roll_forward(
    text: str | Changelog,
    version: object,
    date: str,
    *,
    notes: str | None = None,
    repo_url: str | None = None,
    previous: object | None = None,
    tag_format: str | None = "v{version}",
    previous_tag: str | None = None,
) -> Rolled:
    """`text` with [Unreleased] (or `notes`) moved into a new section for `version` (anything
    whose str() is the version), dated `date` (YYYY-MM-DD, written in the file's own date
    format), in the file's heading style, with a fresh empty [Unreleased] when the file keeps
    one, and its compare links kept current (tags as `tag_format` names them; None: as the
    file's own links name the previous release's tag, else `v{version}`; `previous_tag` as
    git spells it, when known). Refuses a version that has a section already."""
    # Pre-flight has parsed the file already: a parsed changelog is not parsed again.
    changelog = text if isinstance(text, Changelog) else parse(text)
    if changelog.syntax == "rst":
        return _roll_rst(changelog, version, date, notes)
    text = changelog.text
    eol = changelog.eol
    name = str(version)
    unreleased = _unreleased(changelog, name, notes)
    if unreleased is None and notes is not None:
        _no_stray_notes(changelog)
    # A versioned unreleased section (`1.2.3 (unreleased)`) is neither a model nor the previous
    # release; with no release to copy, its own heading is the model (its mark is the date).
    releases = _Releases(changelog, unreleased)
    model = _model(releases, name)
    if model is None and unreleased is not None and unreleased.marked_unreleased:
        model = unreleased
    style = model.style if model is not None and model.style is not None else DEFAULT_STYLE
    body = unreleased.body if notes is None and unreleased else _clean_notes(notes or "", eol,
                                                                            style.level)
    if not body.strip():
        line = unreleased.line if unreleased else 0
        raise ChangelogError(
            f"nothing to release: [Unreleased] (line {line}) is empty and no notes "
            "were given: write the notes under it"
        )
    warnings: list[str] = []
    links = roll_links.links(changelog, model, repo_url, warnings)
    prior = _previous(releases, previous)
    fmt = tag_format or _tag_format(changelog, prior)
    tag = fmt.format(version=name)
    before = previous_tag or (fmt.format(version=prior) if prior is not None else None)
    url = links.release(tag, before)
    heading = _heading(
        style, releases, model if model is not unreleased else None, name=name, date=date,
        url=url, eol=eol, warnings=warnings,
    )
    edits = [_placed(
        changelog, unreleased, releases, heading=heading, body=body, links=links, tag=tag,
        date=date, name=name, warnings=warnings,
    )]
    label = _label(model, name)
    edits += roll_links.link_edits(
        changelog, unreleased=unreleased, label=label, links=links, tag=tag, before=before,
        warnings=warnings,
    )
    out = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: edit.start] + edit.text + out[edit.end :]
    return Rolled(out, tuple(warnings))


def _heading(
    style: HeadingStyle, releases: _Releases, model: Section | None, *, name: str,
    date: str, url: str | None, eol: str, warnings: list[str],
) -> str:
    """The new release's heading in `style` (its model's), dated in the model's date format
    (ISO 8601, with a warning, when that format is not recognised)."""
    written = restyle_date(date, model.date if model is not None else None)
    if model is not None and model.date and not known_date_style(model.date):
        warnings.append(
            f"the date in `{model.title}` (line {model.line}) is in a form not recognised: "
            f"the new heading has {written} (ISO 8601)"
        )
    template = _MARKERS.sub("", style.template)
    heading = HeadingStyle(style.level, template, style.setext).render(name, written, url, eol)
    warnings += _mixed(releases, model, template, heading)
    if "{url}" in template and url is None:
        warnings.append(f"`{heading}` has no link: the repository URL is not known")
    return heading


def _placed(
    changelog: Changelog, unreleased: Section | None, releases: Sequence[Section], *,
    heading: str, body: str, links: roll_links.Links, tag: str, date: str, name: str,
    warnings: list[str],
) -> roll_links.Edit:
    """The edit that puts the new section in: where [Unreleased] was (its heading kept), in
    place of a versioned unreleased section, above the newest release, or after the title."""
    text, eol = changelog.text, changelog.eol
    section = heading + eol + eol + body + eol
    rest = text[unreleased.end :] if unreleased is not None else ""
    if unreleased is not None and unreleased.marked_unreleased:  # released where it stands
        if unreleased.version and versions.key(unreleased.version) != versions.key(name):
            warnings.append(
                f"the unreleased section `{unreleased.title}` (line {unreleased.line}) is "
                f"released as {name}"
            )
        line = None if PENDING.search(unreleased.title) else _released_line(releases, date)
        if line is not None:  # Pallets: `Unreleased` -> `Released <date>`
            section = heading + eol + eol + line + eol + eol + body + eol
        return roll_links.Edit(unreleased.start, unreleased.end, section + (eol if rest else ""))
    if unreleased is not None:
        heading_line = text[unreleased.start : unreleased.heading_end]
        if links.base is not None:  # `## [Unreleased](.../compare/vA...HEAD)` moves on too
            heading_line = _INLINE_HEAD.sub(rf"\g<keep>{tag}\g<head>)", heading_line)
        middle = _with_eol(heading_line, eol) + eol + section + (eol if rest else "")
        return roll_links.Edit(unreleased.start, unreleased.end, middle)
    if releases:
        return roll_links.Edit(releases[0].start, releases[0].start, section + eol)
    # the first release, after the title and preamble (a file may end without a newline)
    kept = re.sub(r"(?:\r?\n[ \t]*)*\Z", "", text)  # without its final blank lines
    return roll_links.Edit(len(kept), len(text), (eol + eol if kept else "") + section)


_RELEASED = re.compile(
    r"^(?P<pre>[ \t]*[*_]*released:?[ \t]+(?:on[ \t]+)?)(?P<date>.*?)(?P<post>[*_]*\.?[ \t]*)$",
    re.IGNORECASE,
)


def _released_line(releases: Sequence[Section], date: str) -> str | None:
    """The line that replaces an `Unreleased` first line: when the release came out, as the
    file's releases write it (`Released 2026-12-02`, `_Released: Dec 2, 2026_`); None (the
    line goes) when they date their headings instead."""
    for section in releases:
        first = section.body.split("\n", 1)[0].rstrip("\r")
        if (found := _RELEASED.match(first)) and DATE.fullmatch(found["date"]):
            return found["pre"] + restyle_date(date, found["date"]) + found["post"]
    return None if any(s.date for s in releases) else f"Released {date}"


# Headings that look like notes for the next release, under a name not recognised
_STRAY = re.compile(
    r"\b(?:unreleased|upcoming|next|latest|pending|draft|wip|in\s+progress|development)\b",
    re.IGNORECASE,
)


def _no_stray_notes(changelog: Changelog) -> None:
    """Refuse to publish other notes when the file holds hand-written ones for the next release
    under a heading that is not recognised as such (above every release)."""
    top = next(
        (line for version, _also, line in _heads(changelog.sections) if version is not None), None
    )
    for line, level, title in changelog._others:
        if top is not None and line > top:
            break
        if level > 1 and _STRAY.search(title):
            raise ChangelogError(
                f"`{'#' * level} {title}` (line {line}) looks like notes for the next release, "
                "but it is not read as such: name it `## [Unreleased]` (or remove it) so its "
                "notes are not left behind"
            )


def _mixed(
    releases: _Releases, model: Section | None, template: str, heading: str
) -> list[str]:
    """A warning when the releases at the new one's level are written in more than one way."""
    if model is None:
        return []
    at = next((
        n for n, level, _nested, written in releases.shapes
        if written is not None and level == model.level
        and _MARKERS.sub("", written) != template
    ), None)
    if at is None:
        return []
    odd = releases[at]
    return [
        f"the changelog mixes heading styles (`{model.title}` on line {model.line}, "
        f"`{odd.title}` on line {odd.line}): writing `{heading.splitlines()[0]}` in the "
        "newest one's style"
    ]


def _label(model: Section | None, name: str) -> str | None:
    """The reference label the new heading uses (`[1.3.0]`, `[v1.3.0]`), if it is one."""
    if model is None:
        return name  # Keep a Changelog: `## [1.3.0] - date`
    if not model.label or model.version is None:
        return None
    return model.label.replace(model.version, name)


def _with_eol(text: str, eol: str) -> str:
    return text if text.endswith(("\n", "\r")) else text + eol


def open_unreleased(
    text: str | Changelog, version: object, *, like: str | Changelog | None = None
) -> str:
    """`text` with a fresh, empty section for the notes of `version` (the next one, in
    development), in the shape the file keeps for them: `1.2.4 (unreleased)` (zest.releaser),
    `## Version 8.5.1` with an `Unreleased` line (Pallets). `like` is the changelog as it was
    before the release (the rolled one no longer shows the shape). Unchanged when the file has
    a section for the next notes already (the roll keeps `## [Unreleased]`, `## Latest
    Changes`) or keeps none."""
    changelog = text if isinstance(text, Changelog) else parse(text)
    if changelog.syntax == "rst":  # a parsed reST changelog, and `like` parsed too
        from release.core.changelog.rst.model import RstChangelog  # noqa: PLC0415
        from release.core.changelog.rst.roll import open_unreleased as open_rst  # noqa: PLC0415

        assert isinstance(changelog, RstChangelog)
        assert like is None or isinstance(like, RstChangelog)
        return open_rst(changelog, version, like=like)
    if changelog.unreleased_sections:
        return changelog.text
    shape = changelog if like is None else like if isinstance(like, Changelog) else parse(like)
    pending = next(iter(shape.marked_unreleased), None)
    if pending is None or pending.style is None or pending.marker is None:
        return changelog.text
    eol = changelog.eol
    name = str(version)
    if PENDING.search(pending.title):  # the heading says it: `(unreleased)` is its date
        section = pending.style.render(name, pending.marker, None, eol) + eol + eol
    else:  # a line under it says it
        model = _model(_Releases(changelog, None), name)
        style = model.style if model is not None and model.style is not None else pending.style
        section = style.render(name, "", None, eol) + eol + eol + pending.marker + eol + eol
    first = changelog.releases[0] if changelog.releases else None
    if first is None:
        kept = re.sub(r"(?:\r?\n[ \t]*)*\Z", "", changelog.text)
        return kept + (eol + eol if kept else "") + section.rstrip("\r\n") + eol
    return changelog.text[: first.start] + section + changelog.text[first.start :]
