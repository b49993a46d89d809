"""How a roll edits the changelog's links: the repository base and link kind the file's own
links use (`Links`), and the edits that keep the definitions at the bottom current
(`link_edits`). Each definition edited is looked up by its label; the file's others are never
built."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from release.core.changelog.model import (
    VERSION_QUERY,
    Changelog,
    LinkRef,
    Section,
    _heads,
    normalize_label,
)

_REPO_BASE = re.compile(r"^(?P<base>.+?)/(?:compare|releases/tag|tree|commits?|tags?)/")
_KIND = re.compile(r"/(?P<kind>compare|releases/tag|tree|commits?|tags?)/(?P<ref>[^\s)]*)$")
_HEAD_REF = re.compile(r"/compare/(?P<from>[^\s)]+?)\.\.\.(?P<head>[^\s)/.][^\s)]*)$")


@dataclass(frozen=True)
class Edit:
    """Text to put in place of `text[start:end]`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Links:
    """How the file links its releases."""

    base: str | None  # https://github.com/o/r
    kind: str  # "compare", "releases/tag", "tree", ...
    head: str  # what [Unreleased] compares to: HEAD, main, master

    def release(self, tag: str, previous: str | None) -> str | None:
        if self.base is None:
            return None
        if self.kind == "compare" and previous is not None:
            return f"{self.base}/compare/{previous}...{tag}"
        kind = "releases/tag" if self.kind == "compare" else self.kind
        return f"{self.base}/{kind}/{tag}"


def links(
    changelog: Changelog, newest: Section | None, repo_url: str | None, warnings: list[str]
) -> Links:
    """How the file links releases. The repository base is the one its own links use (an
    SSH alias or a port in the remote's URL says nothing reliable about the web address); the
    remote's only when the file has none, and a remote that disagrees is pointed out."""
    ours = changelog.ref("unreleased")
    # The first link that names the repository, the headings' first (in order: each section
    # is built only until one is found)
    dests = itertools.chain(
        (s.url for s in changelog.sections if s.url),
        (ref.dest for ref in itertools.chain((ours,), changelog.link_refs) if ref),
    )
    remote = repo_url.strip().removesuffix("/").removesuffix(".git") if repo_url else None
    base = next((found["base"] for d in dests if (found := _REPO_BASE.match(d))), None)
    if base is None:
        base = remote
    elif remote is not None and base.lower() != remote.lower():
        warnings.append(
            f"the changelog's links point at {base}, the remote at {remote}: links written "
            "like the file's (fix them in the file if the repository moved)"
        )
    kind = "compare"
    sample = newest.url if newest is not None and newest.url else None
    if sample is None and newest is not None and newest.version is not None:
        ref = changelog.ref(newest.label or newest.version)
        sample = ref.dest if ref is not None else None
    # The first release links its tag (there is nothing to compare it with): it says nothing
    # about how the file links the releases after it.
    first = newest is not None and newest is _last_release(changelog)
    if sample and (found := _KIND.search(sample)) and not (first and found["kind"] != "tree"):
        kind = found["kind"]
    head = "HEAD"
    unreleased = changelog.unreleased
    for target in (ours.dest if ours else None, unreleased.url if unreleased else None):
        if target and (compared := _HEAD_REF.search(target)):
            head = compared["head"]
    return Links(base, kind, head)


def _last_release(changelog: Changelog) -> Section | None:
    sections = changelog.sections
    heads = _heads(sections)
    return next((sections[n] for n in reversed(range(len(heads))) if heads[n][0] is not None),
                None)



def link_edits(
    old: Changelog,
    *,
    unreleased: Section | None,
    label: str | None,
    links: Links,
    tag: str,
    before: str | None,
    warnings: list[str],
) -> list[Edit]:
    """Edits that keep the definitions at the bottom current: [Unreleased] compares the new tag
    with the head, and a reference-style heading gets its definition."""

    def placed(ref: LinkRef | None) -> LinkRef | None:
        """`ref`, if it is a definition to edit: written at the top level, the first for its
        label, outside [Unreleased]'s body (which moves into the new section as written)."""
        if ref is None or ref.line is None or old._refs.get(ref.key) is not ref:
            return None
        if unreleased is not None and unreleased.heading_end <= ref.start < unreleased.end:
            return None
        return ref

    # Each definition to edit is looked up by its label (the first for a label is the one
    # `_refs` holds); without [Unreleased]'s, the first version's is searched for, in file
    # order (the new definition goes above it).
    ours = placed(old._refs.get("unreleased"))
    version_ref = None if ours is not None else next((
        r for r in old.link_refs
        if VERSION_QUERY.fullmatch(r.label.removeprefix("v")) and placed(r) is not None
    ), None)
    if ours is None and version_ref is None:
        return []
    if links.base is None:
        warnings.append(
            "compare links not updated: the repository URL is not in the changelog; "
            "pass the remote's URL"
        )
        return []
    eol = old.eol
    target = links.release(tag, before)
    new_ref = f"[{label}]: {target}" if label else None
    edits: list[Edit] = []
    stale = placed(old._refs.get(normalize_label(label))) if label else None
    if new_ref and stale is not None:
        warnings.append(f"replaced the link definition [{stale.label}] on line {stale.line}")
    if ours is not None:
        source = old.text[ours.start : ours.end]
        line_end = source[len(source.rstrip("\r\n")) :]
        replacement = f"[{ours.label}]: {links.base}/compare/{tag}...{links.head}" + (
            line_end or eol
        )
        if new_ref:
            replacement += new_ref + (line_end or "")
            if stale is not None:
                edits.append(Edit(stale.start, stale.end, ""))
        edits.append(Edit(ours.start, ours.end, replacement))
    elif new_ref and stale is not None:
        edits.append(Edit(stale.start, stale.end, new_ref + eol))
    elif new_ref and version_ref is not None:
        edits.append(Edit(version_ref.start, version_ref.start, new_ref + eol))
    return edits
