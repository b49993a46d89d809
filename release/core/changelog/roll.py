"""Rolling [Unreleased] forward into a new version section, in the file's own style."""

from __future__ import annotations

import re
from dataclasses import dataclass

from release.core.changelog.model import (
    Changelog,
    HeadingStyle,
    Rolled,
    Section,
    normalize_label,
)
from release.core.changelog.parse import parse
from release.core.changelog.scan import scan_text
from release.core.version import Version, try_parse
from release.errors import ChangelogError

_REPO_BASE = re.compile(r"^(?P<base>.+?)/(?:compare|releases/tag|tree|commits?|tags?)/")
_COMPARE_HEAD = re.compile(r"/compare/(?P<from>[^/]+?)\.\.\.HEAD$")
_COMPARE_INLINE = re.compile(r"(\]\([^)\s]*/compare/)[^)\s]*?\.\.\.HEAD")


def _repo_base(changelog: Changelog, repo_url: str | None) -> str | None:
    if repo_url:
        return repo_url.strip().removesuffix("/").removesuffix(".git")
    dests = [ref.dest for ref in (changelog.ref("unreleased"), *changelog.link_refs) if ref]
    dests += [s.url for s in changelog.sections if s.url]
    for dest in dests:
        found = _REPO_BASE.match(dest)
        if found:
            return found["base"]
    return None


def _tag_prefix(changelog: Changelog, previous: Version | None) -> str:
    # Tags are `vX.Y.Z` unless the file's own compare link says `X.Y.Z...HEAD`.
    ref = changelog.ref("unreleased")
    found = _COMPARE_HEAD.search(ref.dest) if ref is not None else None
    if found and previous is not None and found["from"] == str(previous):
        return ""
    return "v"


def _clean_notes(notes: str, eol: str) -> str:
    lines = notes.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    body = eol.join(lines)
    if any(h.level <= 2 for h in scan_text(body).headings):
        raise ChangelogError(
            "the notes contain a `#` or `##` heading, which would split the changelog section: "
            "use `###` headings in notes"
        )
    return body


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def roll_forward(
    text: str,
    version: Version,
    date: str,
    *,
    notes: str | None = None,
    repo_url: str | None = None,
    previous: Version | None = None,
) -> Rolled:
    """`text` with `[Unreleased]` (or `notes`) moved into a new section for `version`, written in
    the heading style the file already uses, a fresh empty `[Unreleased]` on top, and the compare
    links at the bottom updated when the file has them. Refuses a version that has a section."""
    changelog = parse(text)
    eol = changelog.eol
    found = [s for s in changelog.sections if s.version is None]
    if not found:
        raise ChangelogError(
            "the changelog has no [Unreleased] section: add `## [Unreleased]` above the newest "
            "version, with the notes for this release under it"
        )
    if len(found) > 1:
        lines = ", ".join(str(s.line) for s in found)
        raise ChangelogError(
            f"the changelog has {len(found)} [Unreleased] sections (lines {lines}): keep one"
        )
    unreleased = found[0]
    releases = changelog.releases
    same = [s for s in releases if s.version == version]
    if same:
        raise ChangelogError(
            f"the changelog already has a section for {version} (line {same[0].line}): "
            "that version was released; bump to a new one (or remove the section)"
        )
    body = unreleased.body if notes is None else _clean_notes(notes, eol)
    if not body.strip():
        raise ChangelogError(
            f"nothing to release: [Unreleased] (line {unreleased.line}) is empty and no notes "
            "were given: write the notes under it"
        )

    warnings: list[str] = []
    style = HeadingStyle()  # Keep a Changelog, for a file with no release yet
    newest = releases[0] if releases else None
    odd: list[Section] = []
    if newest is not None and newest.style is not None:
        style = newest.style
        odd = [s for s in releases[1:] if s.style is not None and not s.style.same_shape(style)]
    if previous is None and releases:
        previous = max(s.version for s in releases if s.version is not None)
    base = _repo_base(changelog, repo_url)
    prefix = _tag_prefix(changelog, previous)
    tag = f"{prefix}{version}"
    compare = (
        None if base is None
        else f"{base}/compare/{prefix}{previous}...{tag}" if previous is not None
        else f"{base}/releases/tag/{tag}"
    )
    heading = style.render(version, date, compare)
    if newest is not None and odd:
        warnings.append(
            f"the changelog mixes heading styles (`## {newest.title}` on line {newest.line}, "
            f"`## {odd[0].title}` on line {odd[0].line}): writing `{heading}` in the newest "
            "one's style"
        )
    if style.label == "inline" and compare is None:
        warnings.append(f"`{heading}` has no link: the repository URL is not known")

    heading_line = text[unreleased.start : unreleased.heading_end]
    if base is not None:  # `## [Unreleased](.../compare/vA...HEAD)` moves on too
        heading_line = _COMPARE_INLINE.sub(rf"\g<1>{tag}...HEAD", heading_line)
    section = heading + eol + eol + body + eol
    rest = text[unreleased.end :]
    middle = _with_eol(heading_line, eol) + eol + section + (eol if rest else "")
    edits = [_Edit(unreleased.start, unreleased.end, middle)]
    edits += _link_edits(
        changelog, unreleased=unreleased, version=version, previous=previous, style=style,
        base=base, prefix=prefix, warnings=warnings,
    )
    out = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: edit.start] + edit.text + out[edit.end :]
    return Rolled(out, tuple(warnings))


def _with_eol(text: str, eol: str) -> str:
    return text if text.endswith(("\n", "\r")) else text + eol


def _link_edits(
    old: Changelog,
    *,
    unreleased: Section,
    version: Version,
    previous: Version | None,
    style: HeadingStyle,
    base: str | None,
    prefix: str,
    warnings: list[str],
) -> list[_Edit]:
    """Edits of the old text that keep the compare links at the bottom current."""
    placed = [
        r for r in old.link_refs
        if r.line is not None and old._refs.get(r.key) is r
        and not unreleased.heading_end <= r.start < unreleased.end
    ]
    ours = next((r for r in placed if r.key == "unreleased"), None)
    versions = [r for r in placed if try_parse(r.label) is not None]
    if ours is None and not versions:
        return []
    if base is None:
        warnings.append(
            "compare links not updated: the repository URL is not in the changelog; "
            "pass the remote's URL"
        )
        return []
    eol = old.eol
    tag = f"{prefix}{version}"
    target = (
        f"{base}/compare/{prefix}{previous}...{tag}" if previous is not None
        else f"{base}/releases/tag/{tag}"
    )
    label = f"{'v' if style.v else ''}{version}"
    new_ref = f"[{label}]: {target}" if style.label == "ref" else None
    edits: list[_Edit] = []
    stale = next((r for r in placed if r.key == normalize_label(label)), None)
    if new_ref and stale is not None:
        warnings.append(f"replaced the link definition [{stale.label}] on line {stale.line}")
    if ours is not None:
        source = old.text[ours.start : ours.end]
        line_end = source[len(source.rstrip("\r\n")) :]
        replacement = f"[{ours.label}]: {base}/compare/{tag}...HEAD" + (line_end or eol)
        if new_ref:
            replacement += new_ref + (line_end or "")
            if stale is not None:
                edits.append(_Edit(stale.start, stale.end, ""))
        edits.append(_Edit(ours.start, ours.end, replacement))
    elif new_ref and stale is not None:
        edits.append(_Edit(stale.start, stale.end, new_ref + eol))
    elif new_ref:
        edits.append(_Edit(versions[0].start, versions[0].start, new_ref + eol))
    return edits
