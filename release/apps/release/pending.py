"""An earlier run's release: HEAD is a `Release vX.Y.Z` commit that may not have reached the
remote yet (a push refused, a run interrupted after committing or tagging).

`observe` reads what exists (release commit, local tag, remote branch and tag) into a
`Pending`; the plan then skips every step whose effect is already there, and the executor
finishes the rest. That is all `--resume` is: the same steps, fewer of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from release import log
from release.apps.release import checks
from release.apps.release.facts import Options
from release.apps.release.preflight import committed_text, observe_local
from release.config import Settings
from release.core import changelog
from release.core.commits import release_tag
from release.core.tagformat import version_in
from release.core.version import Version
from release.errors import ChangelogError, ChecksFailed, ConfigError, DojoError
from release.shell import git
from release.shell.git import Repository


@dataclass(frozen=True)
class Pending:
    root: Path
    remote: str
    branch: str
    version: Version
    tag: str
    head: str
    tagged: bool  # the tag exists locally, on HEAD
    published: bool  # the remote has the tag on HEAD (the push is atomic: so has the branch)
    notes: str  # the version's section at HEAD: the tag's message when it must be made
    sign_tag: bool


def observe(repo: Repository, settings: Settings, opts: Options) -> Pending | None:
    """The release at HEAD, when an earlier run of ours left one; None when HEAD is not ours
    (no release commit, its tag on another commit, or pushed untagged by someone else)."""
    head = repo.head_commit()
    tag = release_tag(head.subject) if head else None
    version = version_in(tag) if tag else None
    if head is None or tag is None or version is None:
        return None
    local = repo.local_sha(f"refs/tags/{tag}")
    if local is not None and local != head.sha:
        return None  # that tag is on another commit: this is not our unfinished release
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
        and not branch_has_head
        and not repo.contains(head.sha, view.branch_sha)
    ):
        raise DojoError(
            f"{remote}/{branch} moved on since the release commit: drop the local release "
            f"(`git tag -d {tag}` if it exists, `git reset --keep HEAD~1`), `git pull --ff-only "
            f"{remote} {branch}`, then run release again"
        )
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
    )


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
    if text is None:
        raise DojoError(f"the release commit has no {path}: cannot recover the notes for the tag")
    try:
        return changelog.extract(text, str(version), allow_empty=True, name=path).body
    except ChangelogError as exc:
        raise DojoError(f"cannot recover the notes of {tag} from {path}: {exc}") from None
