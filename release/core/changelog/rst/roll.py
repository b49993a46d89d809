"""Rolling a reStructuredText changelog forward in the file's own style: the newest release's
title shape, adornment (character, overline, how much longer than the title the line is, an
overlined title's inset), labels before it, status line and date format, and the blank lines
around it.

The unreleased conventions: a section titled for its version and marked unreleased (Pallets'
`Version 3.1.0` over `Unreleased`, zest.releaser's `1.2.4 (unreleased)`) becomes the release
(`Released <date>`, the date in place of `unreleased`), retitled if the release is another
version; a section that is only the marker (`Unreleased`) is emptied and stays on top, the new
release under it.
"""

from __future__ import annotations

import re

from docutils.utils import column_width

from release.core.changelog import versions
from release.core.changelog.heading import restyle_date
from release.core.changelog.roll import Rolled
from release.core.changelog.rst.model import Adornment, RstChangelog, RstSection
from release.errors import ChangelogError

_MARKERS = re.compile(r"\s*(?:\(\s*unreleased\s*\)|\[\s*unreleased\s*\]|\(yanked\))", re.I)
_UNRELEASED_WORD = re.compile(r"un-?released|not\s+(?:yet\s+)?released", re.I)
DEFAULT = RstSection(
    version="0.0.0", date=None, title="", body="", url=None, template="{version} ({date})",
    adornment=Adornment("-", overline=False),
)


def roll_forward(
    changelog: RstChangelog, version: object, date: str, *, notes: str | None = None,
) -> Rolled:
    """`changelog` with its unreleased section (or `notes`) released as `version` on `date`
    (YYYY-MM-DD, written in the file's own date format)."""
    text, eol = changelog.text, changelog.eol
    name = str(version)
    found = changelog.unreleased_sections
    if len(found) > 1:
        lines = ", ".join(str(s.line) for s in found)
        raise ChangelogError(
            f"the changelog has {len(found)} unreleased sections (lines {lines}): keep one"
        )
    unreleased = found[0] if found and isinstance(found[0], RstSection) else None
    same = [s for s in changelog.releases if versions.key(s.version or "") == versions.key(name)]
    if same:
        raise ChangelogError(
            f"the changelog already has a section for {name} (line {same[0].line}): "
            "that version was released; bump to a new one (or remove the section)"
        )
    if unreleased is None and notes is None:
        raise ChangelogError(
            "the changelog has no unreleased section and no notes were given: add an "
            "`Unreleased` section above the newest version, with the notes for this release"
        )
    body = (notes if notes is not None else unreleased.body if unreleased else "").strip("\r\n")
    body = eol.join(body.replace("\r\n", "\n").split("\n"))
    if not body.strip():
        line = unreleased.line if unreleased else 0
        raise ChangelogError(
            f"nothing to release: the unreleased section (line {line}) is empty and no notes "
            "were given: write the notes under it"
        )
    releases = [s for s in changelog.rst_sections if s.version is not None and not s.nested]
    model = releases[0] if releases else None
    written = restyle_date(date, model.date if model is not None else None)
    warnings: list[str] = []
    if unreleased is not None and unreleased.pending is not None:
        new = _release_pending(changelog, unreleased, model, name=name, date=written, body=body)
        if versions.key(unreleased.pending) != versions.key(name):
            warnings.append(
                f"the unreleased section (line {unreleased.line}) was titled for "
                f"{unreleased.pending}: retitled {name}"
            )
        # Up to the end of its notes (of its title or status line, when it has none yet): the
        # blank lines after it stay as they are.
        end = unreleased.body_end
        if not unreleased.body.strip():
            end = unreleased.status.end if unreleased.status is not None else len(
                text[: unreleased.heading_end].rstrip("\r\n"))
        return Rolled(text[: unreleased.start] + new + text[end:], tuple(warnings))
    section = _new_section(changelog, model or unreleased or DEFAULT, name, written, body)
    if unreleased is not None:
        # The marker section stays, emptied, above the new release.
        head = text[unreleased.start : unreleased.heading_end].rstrip("\r\n") + eol + eol
        out = text[: unreleased.start] + head + section + _gap(changelog, model, eol)
        rest = text[unreleased.end :]
        return Rolled(out + rest if rest else out.rstrip("\r\n") + eol, tuple(warnings))
    at = model.start if model is not None else len(text)
    tail = _gap(changelog, model, eol) if model is not None else eol
    lead = "" if at == 0 or text[:at].endswith(eol + eol) else (eol if text[:at].endswith(eol)
                                                                 else eol + eol)
    return Rolled(text[:at] + lead + section + tail + text[at:], tuple(warnings))


def _gap(changelog: RstChangelog, model: RstSection | None, eol: str) -> str:
    """What the file puts between one release's last line and the next one's labels/title."""
    if model is None:
        return eol + eol
    between = changelog.text[model.body_end : model.end]
    return between if between.strip() == "" and between.count("\n") >= 2 else eol + eol


def _title(model: RstSection, name: str, date: str) -> str:
    template = _MARKERS.sub("", model.template) or "{version}"
    return template.format(version=name, date=date)


def _labels(changelog: RstChangelog, model: RstSection, name: str) -> str:
    """The model's labels and the blank lines after them, for `name` (`.. _v1-2-3:`); labels
    that do not name the version are not repeated (they would collide)."""
    block = changelog.text[model.start : model.title_start]
    if not model.labels or (model.version is None and model.pending is None):
        return ""
    old = model.version or model.pending or ""
    for sep in (".", "-", "_", ""):
        spelled = old.replace(".", sep)
        if spelled and all(spelled in label for label in model.labels):
            return block.replace(spelled, name.replace(".", sep))
    return ""


def _heading(adornment: Adornment, title: str, eol: str) -> str:
    return adornment.render(title, eol, column_width(title))


def _status(model: RstSection | None, date: str) -> str | None:
    """The status line for a release on `date`, like the model's (`Released 2024-11-08`)."""
    if model is None or model.status is None or not model.status.released:
        return None
    status = model.status
    if status.date is None:
        return None
    return status.text.replace(status.date, date, 1).split(",")[0].rstrip()


def _new_section(
    changelog: RstChangelog, model: RstSection, name: str, date: str, body: str
) -> str:
    eol = changelog.eol
    adornment = model.adornment or Adornment("-", overline=False)
    if model.version is None and model.pending is None:  # a marker section: its level, ours
        model = RstSection(**{**DEFAULT.__dict__, "adornment": adornment})
    title = _title(model, name, date)
    status = _status(model, date)
    head = _labels(changelog, model, name) + _heading(adornment, title, eol) + eol + eol
    if status is not None:
        head += status + eol + eol
    return head + body


def _release_pending(
    changelog: RstChangelog, section: RstSection, model: RstSection | None, *, name: str,
    date: str, body: str,
) -> str:
    """The pending section, released: its title for `name` (the date in place of an
    `(unreleased)` marker), its status line saying the date, the same labels."""
    eol = changelog.eol
    text = changelog.text
    pending = section.pending or name
    template = section.template
    if "{date}" not in template and _UNRELEASED_WORD.search(template):
        template = _UNRELEASED_WORD.sub("{date}", template, count=1)
    title = template.format(version=name, date=date)
    labels = _labels(changelog, section, name) if pending != name else \
        text[section.start : section.title_start]
    adornment = section.adornment or Adornment("-", overline=False)
    out = labels + _heading(adornment, title, eol)
    status = section.status
    if status is not None:
        line = _status(model, date) or f"Released {date}"
        gap = text[section.title_start : status.start]
        gap = gap[gap.rfind("\n") + 1 :] if "\n" in gap else ""
        out += eol + eol + gap + line
    return out + eol + eol + body


def open_unreleased(
    changelog: RstChangelog, version: object, *, like: RstChangelog | None = None
) -> str:
    """`changelog` with a fresh, empty section for the notes of `version` (the next one, in
    development) in the shape the file keeps for them (`like`: the file before the release):
    Pallets' `Version X` over its `Unreleased` line, zest.releaser's `X (unreleased)`, with the
    labels the file puts before titles. Unchanged when it has an unreleased section already or
    keeps none."""
    if changelog.unreleased_sections:
        return changelog.text
    shape = like or changelog
    pending = next((s for s in shape.rst_sections if s.pending is not None), None)
    releases = [s for s in changelog.rst_sections if s.version is not None and not s.nested]
    if pending is None or not releases:
        return changelog.text
    eol, text = changelog.eol, changelog.text
    name = str(version)
    marker = _UNRELEASED_WORD.search(pending.title)  # `(unreleased)` stands where a date goes
    title = pending.template.format(version=name, date=marker[0] if marker else "").rstrip()
    labels = _labels(shape, pending, name)
    section = labels + _heading(pending.adornment or Adornment("-", overline=False), title, eol)
    if pending.status is not None:
        section += eol + eol + pending.status.text
    first = releases[0]
    return text[: first.start] + section + _gap(changelog, first, eol) + text[first.start :]
