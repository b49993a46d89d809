"""The frozen release plan, computed from gathered values before anything is written.

`make_plan` (a new release) and `plan_pending` (an earlier run's release, finished) are pure:
they take what pre-flight and the notes step read and return a `Plan`: every new file's
content, the commit and tag messages, the push, and the steps to skip with the reason.
`render` shows a plan as a dry run prints it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from release.apps.release import verify
from release.apps.release.checks import shorten
from release.apps.release.edits import (
    FileChange,
    FollowUp,
    development_message,
    reopen,
    version_edits,
)
from release.apps.release.facts import Facts
from release.apps.release.pending import Pending
from release.config import PYPROJECT
from release.core import changelog, commitmsg, notes
from release.core.notes import Notes, NotesSource
from release.core.version import Version
from release.errors import ChecksFailed
from release.shell import git


class Plan(NamedTuple):
    """Every change a release makes, decided before any is made."""

    root: Path
    base: str  # HEAD when the plan was made: the commit the release commit goes on
    remote: str
    branch: str
    version: Version
    tag: str  # in the project's tag format
    headline: str  # what is released, from what, as the dry run's first lines say it
    files: tuple[FileChange, ...]
    commit_message: str
    tag_message: str
    notes: Notes | None  # None when the tag exists already
    sign_commit: bool
    sign_tag: bool
    skip: tuple[tuple[str, str], ...] = ()  # (step, why its effect is already there)
    warnings: tuple[str, ...] = ()
    follow: FollowUp | None = None  # the back-to-development commit after the tagged one
    tag_target: str = "HEAD"  # the release commit (a resumed release names it)

    @property
    def push_argv(self) -> tuple[str, ...]:
        return git.push_argv(self.remote, self.branch, self.tag)

    def skipped(self, step: str) -> str | None:
        return dict(self.skip).get(step)

    @property
    def commits(self) -> int:
        """The commits the release puts on the branch: the release commit, then the
        back-to-development one when there is one (what `git reset --keep HEAD~N` drops)."""
        return 2 if self.follow is not None or self.skipped("develop") else 1


def tag_message(tag: str, text: str) -> str:
    return f"{tag}\n\n{text}"


def _release_texts(facts: Facts) -> dict[str, str]:
    """The committed text of every file a version edit may touch."""
    files, release = facts.files, facts.release
    texts = {PYPROJECT: files.pyproject.text, **dict(files.version_files)}
    texts.update((lock.path, text) for lock, text in files.locks)
    if release.version_file is not None:
        texts[release.version_file[0].path] = release.version_file[1]
    return texts


def _version_changes(facts: Facts) -> list[FileChange]:
    release = facts.release
    spec = release.version_file[0] if release.version_file else None
    extra = tuple(p for p, _ in facts.files.version_files)
    return version_edits(
        release.source, spec, _release_texts(facts), extra=extra, old=release.current,
        new=release.new, locks=tuple(lock for lock, _ in facts.files.locks),
    )


def _follow_up(facts: Facts, released: tuple[FileChange, ...]) -> FollowUp | None:
    """The back-to-development commit: the next development version written where the
    release wrote its version, from the release commit's texts."""
    release = facts.release
    if release.follow is None:
        return None
    version, spelled = release.follow
    texts = _release_texts(facts)
    texts.update((c.path, c.new) for c in released if c.new is not None)
    spec = release.version_file[0] if release.version_file else None
    extra = tuple(p for p, _ in facts.files.version_files)
    changes = version_edits(
        release.source, spec, texts, extra=extra, old=release.new, new=spelled,
        locks=tuple(lock for lock, _ in facts.files.locks),
    )
    opened = _open_unreleased(facts, released, version)
    files = tuple(c for c in [*changes, *opened] if c.new != c.old)
    return FollowUp(version, spelled, files, development_message(spelled))


def _open_unreleased(
    facts: Facts, released: tuple[FileChange, ...], version: Version
) -> list[FileChange]:
    """A fresh unreleased section for the next version, in the shape the file keeps for it
    (`1.2.4 (unreleased)`, Pallets' `Version 8.5.1` over `Unreleased`), when the release
    consumed it (a fresh `## [Unreleased]` is already in the release commit)."""
    files = facts.files
    path = files.changelog_path
    rolled = next((c.new for c in released if c.path == path), None)
    if files.parsed is None or files.news is not None or rolled is None:
        return []
    return [FileChange(path, rolled, reopen(path, rolled, files.parsed, version))]


def _changelog_changes(facts: Facts, picked: Notes) -> tuple[list[FileChange], tuple[str, ...]]:
    """The changelog rolled forward in its own style, or, for a towncrier project, what
    towncrier wrote and removed; and the warnings."""
    release, files = facts.release, facts.files
    if files.news is not None:
        return [FileChange(*change) for change in files.news.files], ()
    if files.parsed is None:  # no changelog kept: the notes live in the tag only
        return [], ()
    rolled = changelog.roll_forward(
        files.parsed,
        release.new,
        release.date,
        notes=None if picked.source is NotesSource.UNRELEASED else picked.text,
        repo_url=git.web_url(facts.where.remote_url),
        previous=release.previous.version if release.previous else None,
        tag_format=release.tag_format.pattern,
        previous_tag=release.previous.name if release.previous else None,
    )
    return [FileChange(files.changelog_path, files.changelog, rolled.text)], rolled.warnings


def make_plan(facts: Facts, picked: Notes) -> Plan:
    """Everything a new release writes and runs; `ChecksFailed` when release files already
    changed in the work tree hold anything else (an interrupted run's files must match)."""
    where, release = facts.where, facts.release
    changelog_changes, warnings = _changelog_changes(facts, picked)
    current = release.current
    version_changes = _version_changes(facts)
    changes = [*version_changes[:1], *changelog_changes, *version_changes[1:]]
    files = tuple(c for c in changes if c.new != c.old)
    checked = verify.plan_problems(facts, picked.text, files)
    if checked:
        raise ChecksFailed(checked)
    follow = _follow_up(facts, files)
    check_written(facts, files)
    summary = notes.summarise(picked.text)
    previous = release.previous.name if release.previous else None
    message = commitmsg.render(
        where.project,
        previous,
        release.tag,
        release.why,
        summary,
        major=current is not None and release.new.release[:1] > current.release[:1],
    )
    fmt = release.tag_format
    source = release.source.describe(release.version_file[0] if release.version_file else None)
    headline = (
        f"Release plan for {where.project}\n\n"
        f"version: {current or 'none'} -> {release.new} ({release.why}); previous release: "
        f"{previous or 'none'}; {notes.counted(release.commits, 'commit')} since\n"
        f"version source: {source}\n"
        f"tag: {release.tag} (format {fmt.pattern}, from {fmt.origin})\n"
        f"branch: {where.branch} on {where.remote} ({notes.counted(where.ahead, 'commit')} "
        "ahead before the release)"
        + (f"\nthen: back to development at {follow.spelled} in a second commit, pushed with "
           "the release" if follow is not None else "")
    )
    return Plan(
        root=where.root,
        base=where.head,
        remote=where.remote,
        branch=where.branch,
        version=release.new,
        tag=release.tag,
        headline=headline,
        files=files,
        commit_message=message,
        tag_message=tag_message(release.tag, picked.text),
        notes=picked,
        sign_commit=where.sign_commit,
        sign_tag=where.sign_tag,
        warnings=warnings,
        follow=follow,
    )


def check_written(facts: Facts, files: tuple[FileChange, ...]) -> None:
    """Release files already changed in the work tree are fine only when they hold exactly
    what this plan writes (a run killed after writing them); anything else is a dirty tree."""
    planned = {c.path: c.new for c in files}
    stray = [p for p, text in facts.files.written.items() if p not in planned or planned[p] != text]
    if stray:
        raise ChecksFailed(
            [
                f"the working tree is not clean ({shorten(stray)}): commit or restore those "
                f"changes (`git checkout -- {' '.join(stray)}` drops them)"
            ]
        )


def plan_pending(pending: Pending) -> Plan:
    """Finish an earlier run's release: only the steps whose effect is missing."""
    where = f"{pending.remote}/{pending.branch}"
    skip = [("commit", f"the release commit {pending.head[:12]} exists")]
    if pending.tagged or pending.published:
        skip.append(("tag", f"{pending.tag} exists on the release commit"))
    if pending.published:
        skip.append(("push", f"{pending.tag} is on {pending.remote} already"))
    if pending.developed:
        skip.append(("develop", "the back-to-development commit exists"))
    state = "already published" if pending.published else f"not yet on {where}"
    return Plan(
        root=pending.root,
        base=pending.head,
        remote=pending.remote,
        branch=pending.branch,
        version=pending.version,
        tag=pending.tag,
        headline=f"Resume plan for {pending.tag}: the release commit {pending.head[:12]} "
        f"is {state}",
        files=(),
        commit_message="",
        tag_message=tag_message(pending.tag, pending.notes),
        notes=None,
        sign_commit=False,
        sign_tag=pending.sign_tag,
        skip=tuple(skip),
        follow=pending.follow,
        tag_target=pending.head,
    )


def _signed(on: bool) -> str:
    return " (signed)" if on else ""


def render(plan: Plan) -> str:
    """The plan as a dry run prints it on stdout."""
    first, _, rest = plan.headline.partition("\n")
    parts = [f"{first} (dry run: nothing was written)", *([rest] if rest else []), ""]
    parts += [f"skip {step}: {reason}" for step, reason in plan.skip]
    if plan.skipped("commit") is None:
        parts += [
            "== files ==",
            *(c.diff() for c in plan.files),
            f"== commit{_signed(plan.sign_commit)} ==",
            plan.commit_message,
        ]
    if plan.skipped("tag") is None:
        parts += [f"== tag {plan.tag}, annotated{_signed(plan.sign_tag)} ==", plan.tag_message]
    if plan.notes is not None:
        parts += [f"== notes (source: {plan.notes.source.value}, {plan.notes.detail}) ==",
                  plan.notes.text]
    if plan.follow is not None and plan.skipped("develop") is None:
        parts += [
            "== back to development: files (after the tagged commit) ==",
            *(c.diff() for c in plan.follow.files),
            f"== commit{_signed(plan.sign_commit)} ==",
            plan.follow.message,
        ]
    if plan.skipped("push") is None:
        parts += ["== push ==", " ".join(plan.push_argv)]
    if plan.warnings:
        parts += ["", "== warnings ==", *plan.warnings]
    return "\n".join(parts) + "\n"
