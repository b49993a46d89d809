"""An earlier run's release: HEAD is a `Release vX.Y.Z` commit, or the back-to-development
commit right after one, that may not have reached the remote yet (a push refused, a run
interrupted after committing or tagging).

`observe` reads what exists (release commit, local tag, remote branch and tag) into a
`Pending`; the plan then skips every step whose effect is already there, and the executor
finishes the rest. That is all `--resume` is: the same steps, fewer of them.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import tomlkit

from release import log
from release.apps.release import checks, versions
from release.apps.release.edits import (
    DEVELOPMENT_SUBJECT,
    FileChange,
    FollowUp,
    development_message,
    reopen,
    version_edits,
)
from release.apps.release.facts import Options
from release.apps.release.preflight import committed_text, observe_local
from release.config import PYPROJECT, Project, Settings, parse_project
from release.core import changelog, notes
from release.core.commits import Commit, release_tag
from release.core.development import next_development
from release.core.tagformat import version_in
from release.core.version import Version
from release.errors import ChangelogError, ChecksFailed, ConfigError, DojoError
from release.shell import git
from release.shell.git import Repository


class Pending(NamedTuple):
    """A release made locally and not pushed yet, as a later run finds it."""

    root: Path
    remote: str
    branch: str
    version: Version
    tag: str
    head: str  # the release commit (HEAD, or HEAD's parent once back in development)
    tagged: bool  # the tag exists locally, on the release commit
    published: bool  # the remote has the tag on it (the push is atomic: so has the branch)
    notes: str  # the version's section at HEAD: the tag's message when it must be made
    sign_tag: bool
    developed: bool = False  # HEAD is the back-to-development commit after the release
    follow: FollowUp | None = None  # that commit, still to make


def observe(repo: Repository, project: Project, opts: Options) -> Pending | None:
    """The release at HEAD (or right below HEAD's back-to-development commit), when an earlier
    run of ours left one; None when HEAD is not ours (no release commit, its tag on another
    commit, or pushed untagged by someone else)."""
    settings = project.settings
    top = repo.head_commit()
    if top is None:
        return None
    head, developed = top, False
    if top.subject.startswith(DEVELOPMENT_SUBJECT) and top.parents == 1:
        below = repo.parent_commit(top.sha)
        if below is not None and release_tag(below.subject):
            head, developed = below, True
    tag = release_tag(head.subject)
    version = version_in(tag) if tag else None
    if tag is None or version is None:
        return None
    local = repo.local_sha(f"refs/tags/{tag}")
    if local is not None and local != head.sha:
        return None  # that tag is on another commit: this is not our unfinished release
    if developed and local is None:
        return None  # we tag before going back to development: not ours
    remote, branch = settings.remote, settings.branch
    _check(repo, settings)
    if opts.fetch:
        view = git.ls_remote(settings.root, remote, branch, tag)
    else:
        log.step("fetch", status="skipped", warning=f"--no-fetch: {remote} not contacted")
        view = git.RemoteView(repo.local_sha(f"refs/remotes/{remote}/{branch}"), None)
    if view.tag_sha is not None and view.tag_sha != head.sha:
        raise DojoError(
            f"tag {tag} on {remote} points at another commit than the local release commit: "
            f"inspect both (`git ls-remote {remote} {tag}`) and delete the wrong one"
        )
    published = view.tag_sha == head.sha
    branch_has_head = view.branch_sha is not None and repo.contains(view.branch_sha, head.sha)
    if not published and local is None and branch_has_head:
        # A `Release vX.Y.Z` commit pushed without its tag was not cut by an interrupted run
        # of ours (we tag before pushing): leave it alone.
        return None
    if (
        not published
        and view.branch_sha is not None
        and not repo.contains(top.sha, view.branch_sha)
    ):
        raise DojoError(
            f"{remote}/{branch} moved on since the release commit: drop the local release "
            f"(`git tag -d {tag}` if it exists, `git reset --keep HEAD~{1 + developed}`),"
            f" `git pull --ff-only {remote} {branch}`, then run release again"
        )
    follow = None if developed or published else _follow(repo, project, head, version, opts)
    notes = (
        "" if published or local is not None else _notes_at(repo, settings, head.sha, version, tag)
    )
    if published:
        log.step("resume", version=tag, status="done", reason=f"already on {remote}")
    else:
        log.step("resume", version=tag, tagged=local is not None, status="planned")
    return Pending(
        root=settings.root,
        remote=remote,
        branch=branch,
        version=version,
        tag=tag,
        head=head.sha,
        tagged=local is not None,
        published=published,
        notes=notes,
        sign_tag=git.config_bool(settings.root, "tag.gpgsign"),
        developed=developed,
        follow=follow,
    )


def _follow(
    repo: Repository, project: Project, release: Commit, version: Version, opts: Options
) -> FollowUp | None:
    """The back-to-development commit a run interrupted after the release commit still owes:
    asked for (`--next-dev`), or the version before the release was a development one."""
    if opts.next_dev is False:
        return None
    parent = repo.parent_commit(release.sha)
    problems: list[str] = []
    before = None
    if parent is not None:
        text = committed_text(repo, parent.sha, PYPROJECT) or ""
        try:
            document = tomlkit.parse(text)
        except Exception:  # an unreadable old pyproject.toml: nothing to detect
            document = None
        if document is not None:
            earlier = replace(project, text=text, document=document)
            before = versions.read_current(
                lambda path: committed_text(repo, parent.sha, path), earlier, problems
            )
    was_dev = (
        before is not None and before.version is not None and before.version.dev is not None
        and before.version < version
    )
    if not (opts.next_dev or was_dev):
        return None
    now = versions.read_current(lambda path: committed_text(repo, release.sha, path), project,
                                problems)
    if now.source is None or now.version is None or problems:
        return None  # the release commit's version cannot be read: nothing to go back from
    spelled = next_development(version, before.written if was_dev and before else None)
    texts = {PYPROJECT: project.text}
    if now.found is not None:
        texts[now.found[0].path] = now.found[1]
    extra = []
    for path in project.settings.version_files:
        extra_text = committed_text(repo, release.sha, path)
        if extra_text is not None:
            texts[path] = extra_text
            extra.append(path)
    locks = versions.find_locks(lambda path: committed_text(repo, release.sha, path), project)
    texts.update((lock.path, text) for lock, text in locks)
    changes = version_edits(
        now.source, now.found[0] if now.found else None, texts, extra=tuple(extra),
        old=version, new=spelled[1], locks=tuple(lock for lock, _ in locks),
    )
    path = project.settings.changelog
    rolled = committed_text(repo, release.sha, path)
    like = committed_text(repo, parent.sha, path) if parent is not None else None
    if rolled is not None and like is not None:
        changes.append(FileChange(path, rolled, reopen(path, rolled, like, spelled[0])))
    files = tuple(c for c in changes if c.new != c.old)
    return FollowUp(spelled[0], spelled[1], files, development_message(spelled[1]))


def _check(repo: Repository, settings: Settings) -> None:
    # The same branch, identity, remote and history checks as a new release, plus a clean tree.
    problems = checks.local(observe_local(repo, settings), settings)
    dirty = repo.dirty_paths()
    if dirty:
        problems.append(
            f"the working tree is not clean ({checks.shorten(dirty)}): commit or stash first"
        )
    if problems:
        raise ChecksFailed(problems)


def _notes_at(
    repo: Repository, settings: Settings, sha: str, version: Version, tag: str
) -> str:
    path = settings.changelog  # found in HEAD, which is `sha`
    try:
        text = committed_text(repo, sha, path)
    except ConfigError as exc:
        raise DojoError(f"cannot recover the notes for the tag: {exc}") from None
    if text is None and not settings.changelog_given:
        # No changelog kept: the notes were the commits since the previous release, as the
        # interrupted run made them (the release commit itself is not one of them).
        with contextlib.suppress(ConfigError):  # tags in several formats: no notes recovered
            previous = repo.previous_release(settings.tag_format).tag
            made = notes.group_commits(repo.commits_since(previous.target if previous else None))
            if made:
                return made
    if text is None:
        raise DojoError(f"the release commit has no {path}: cannot recover the notes for the tag")
    try:
        return changelog.extract(text, str(version), allow_empty=True, name=path).body
    except ChangelogError as exc:
        raise DojoError(f"cannot recover the notes of {tag} from {path}: {exc}") from None


def require_asked(repo: Repository, pending: Pending, opts: Options) -> None:
    """Only options that compute the pending release's own version may finish it: anything
    else is refused with how to finish or drop it (a pushed `v1.2.4` for `--version 2.0.0`,
    or the old tag printed for `--bump minor`, publish what was not asked)."""
    before = repo.first_parent(pending.head)
    asked: Version | None = None
    if before is not None:
        read = partial(committed_text, repo, before)
        project = parse_project(
            read(PYPROJECT) or "", pending.root, exists=lambda path: read(path) is not None,
            default_branch=lambda _remote: pending.branch,
        )
        tags = [v for name in repo.tag_names() if (v := version_in(name)) is not None]
        asked = versions.asked_before(
            read, project, released=pending.version, tags=tags, bump=opts.bump, pre=opts.pre,
            version=opts.version,
        )
    if asked == pending.version:
        return
    wanted = f"these options release {asked}" if asked else "these options"
    if pending.published:
        raise DojoError(
            f"HEAD is the release commit of {pending.tag}, already on {pending.remote}; "
            f"{wanted}, with nothing committed since: commit the changes to release first"
        )
    raise DojoError(
        f"HEAD is the unpushed release commit of {pending.tag}, and {wanted}: finish "
        f"{pending.tag} first (`release --resume`), or drop it (`git tag -d {pending.tag}` if "
        f"it exists, `git reset --keep HEAD~{1 + pending.developed}`) and run again"
    )
