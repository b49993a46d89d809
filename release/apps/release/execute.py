"""Carry out a release plan, and finish one that a failure or an interruption left unpushed.

The executor is a short tuple of steps (goreleaser's "pipes"): each has a title and a `run`,
and logs one logfmt line. Every step leaves the repository in a state `find_pending` recognises,
so a re-run (or `release --resume`) finishes exactly the missing steps.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

import pygit2

from release import log
from release.apps.release.plan import Plan, tag_message
from release.config import Settings
from release.core import changelog
from release.core.commits import Commit
from release.core.version import Version, try_parse
from release.errors import ChangelogError, ChecksFailed, CommandError, DojoError
from release.shell import git
from release.shell.files import write_atomic

_RELEASE = re.compile(r"^Release (?P<tag>v\S+)$")


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    run: Callable[[Plan], None]


def _write_and_commit(plan: Plan) -> None:
    root = plan.facts.settings.root
    try:
        for change in plan.files:
            write_atomic(root / change.path, change.new)
        log.step("files", status="ok", written=",".join(c.path for c in plan.files))
        git.commit(root, [c.path for c in plan.files], plan.commit_message)
    except (CommandError, OSError) as exc:
        # Nothing half-done: put every file back the way HEAD has it.
        for change in plan.files:
            write_atomic(root / change.path, change.old)
        detail = git.describe_error(exc) if isinstance(exc, CommandError) else str(exc)
        if plan.facts.sign_commit:
            raise DojoError(
                f"git could not commit the signed release commit ({detail}); commit.gpgsign is "
                "set: fix your signing setup (key, agent, user.signingkey) or unset it, then "
                "retry; nothing was committed and the files were restored"
            ) from None
        raise DojoError(
            f"committing the release failed ({detail}): nothing was committed and the files "
            "were restored; fix the cause (a commit hook?) and retry"
        ) from None
    sha = git.head_sha(root)
    log.step("commit", status="ok", sha=sha[:12], signed=plan.facts.sign_commit)


def _tag(plan: Plan) -> None:
    make_tag(plan.facts.settings, plan.facts.new, plan.tag_message, sign=plan.facts.sign_tag)


def _push(plan: Plan) -> None:
    push(plan.facts.settings, plan.facts.new)


# The release, in order. Each step's outcome is visible in git, which is what makes resume work.
PIPELINE: tuple[Step, ...] = (
    # pyproject.toml, version files and the changelog, committed together (restored on failure)
    Step("commit", "writing files and committing the release", _write_and_commit),
    # the annotated (or signed) tag vX.Y.Z on the release commit
    Step("tag", "tagging the release", _tag),
    # branch and tag in one atomic push
    Step("push", "pushing branch and tag atomically", _push),
)


def execute(plan: Plan) -> None:
    """Run the pipeline; the first failing step raises with what to do next."""
    for step in PIPELINE:
        step.run(plan)


def make_tag(settings: Settings, version: Version, message: str, *, sign: bool) -> None:
    try:
        git.tag(settings.root, version.tag, message, sign=sign)
    except CommandError as exc:
        why = " (tag.gpgsign is set: fix your signing setup or unset it)" if sign else ""
        raise DojoError(
            f"tagging {version.tag} failed: {git.describe_error(exc)}{why}; the release commit is "
            "in place: fix the cause and run `release --resume` to tag and push it"
        ) from None
    log.step("tag", name=version.tag, signed=sign)


def push(settings: Settings, version: Version) -> None:
    remote, branch, tag = settings.remote, settings.branch, version.tag
    try:
        git.push(settings.root, remote, branch, tag)
    except CommandError as exc:
        log.step("push", remote=remote, status="rejected")
        detail = git.describe_error(exc)
        moved = any(
            word in exc.stderr for word in ("non-fast-forward", "fetch first", "stale info")
        )
        advice = (
            f"{remote}/{branch} moved on meanwhile: drop the local release (`git tag -d {tag} "
            f"&& git reset --keep HEAD~1`), `git pull --ff-only {remote} {branch}`, then run "
            "release again"
            if moved
            else "fix the cause, then run `release --resume` to push them"
        )
        raise DojoError(
            f"{remote} refused the push ({detail}); nothing was pushed (atomic): the release "
            f"commit and tag {tag} stay local; {advice}"
        ) from None
    log.step("push", remote=remote, branch=branch, tag=tag, status="ok")


@dataclass(frozen=True)
class Pending:
    """HEAD is a `Release vX.Y.Z` commit that has not fully reached the remote."""

    version: Version
    head: Commit
    tagged: bool


def find_pending(repo: pygit2.Repository) -> Pending | None:
    """The release commit at HEAD, when there is one (with its tag on HEAD, or no tag yet)."""
    head = git.head_commit(repo)
    match = _RELEASE.match(head.subject) if head else None
    version = try_parse(match["tag"]) if match else None
    if head is None or version is None:
        return None
    local = git.local_sha(repo, f"refs/tags/{version.tag}")
    if local is not None and local != head.sha:
        return None  # that tag is on another commit: this is not our unfinished release
    return Pending(version, head, tagged=local is not None)


class Outcome(enum.Enum):
    FINISHED = "finished"  # tagged if needed, pushed (or, in a dry run, planned)
    DONE = "done"  # commit and tag were already on the remote: nothing to do
    NOT_PENDING = "not-pending"  # an untagged release commit already pushed: not our run


def resume(
    repo: pygit2.Repository, settings: Settings, pending: Pending, *, dry_run: bool, fetch: bool
) -> Outcome:
    """Finish `pending`: tag it if the tag is missing, then push branch and tag atomically."""
    root, remote, branch, tag = settings.root, settings.remote, settings.branch, pending.version.tag
    problems: list[str] = []
    current = git.current_branch(repo)
    if current != branch:
        problems.append(f"not on the release branch {branch!r}: `git switch {branch}` and retry")
    dirty = git.dirty_paths(repo)
    if dirty:
        problems.append(
            f"the working tree is not clean ({', '.join(dirty[:5])}): commit or stash first"
        )
    if git.remote_url(repo, remote) is None:
        problems.append(f"no remote {remote!r}: add it (`git remote add {remote} URL`)")
    if problems:
        raise ChecksFailed(problems)
    if fetch:
        view = git.ls_remote(root, remote, branch, tag)
    else:
        log.step("fetch", status="skipped", warning=f"--no-fetch: {remote} not contacted")
        view = git.RemoteView(git.local_sha(repo, f"refs/remotes/{remote}/{branch}"), None)
    head = pending.head.sha
    if view.tag_sha is not None and view.tag_sha != pending.head.sha:
        raise DojoError(
            f"tag {tag} on {remote} points at another commit than the local release commit: "
            f"inspect both (`git ls-remote {remote} {tag}`) and delete the wrong one"
        )
    if view.tag_sha == head and view.branch_sha == head:
        log.step("resume", version=tag, status="done", reason=f"already on {remote}")
        return Outcome.DONE
    on_remote = view.branch_sha is not None and (
        view.branch_sha == head
        or (git.has_commit(repo, view.branch_sha) and repo.descendant_of(view.branch_sha, head))
    )
    if not pending.tagged and view.tag_sha is None and on_remote:
        # A `Release vX.Y.Z` commit pushed without its tag was not cut by an interrupted run
        # of ours (we tag before pushing): leave it alone and treat the run as a new release.
        return Outcome.NOT_PENDING
    if (
        view.branch_sha is not None
        and not on_remote
        and not (
            git.has_commit(repo, view.branch_sha) and repo.descendant_of(head, view.branch_sha)
        )
    ):
        raise DojoError(
            f"{remote}/{branch} moved on since the release commit: drop the local release "
            f"(`git tag -d {tag}` if it exists, `git reset --keep HEAD~1`), `git pull --ff-only "
            f"{remote} {branch}`, then run release again"
        )
    message = tag_message(pending.version, _notes_at_head(repo, settings, pending))
    log.step("resume", version=tag, tagged=pending.tagged, status="planned")
    if dry_run:
        steps = [] if pending.tagged else [f"git tag --annotate {tag} (message below)"]
        steps.append(" ".join(git.push_argv(remote, branch, tag)))
        body = "" if pending.tagged else f"\n== tag message ==\n{message}"
        print(
            f"Resume plan for {tag} (dry run: nothing was written)\n\n"
            + "\n".join(steps)
            + "\n"
            + body,
            end="",
        )
        return Outcome.FINISHED
    if not pending.tagged:
        make_tag(settings, pending.version, message, sign=git.config_bool(root, "tag.gpgsign"))
    push(settings, pending.version)
    return Outcome.FINISHED


def _notes_at_head(repo: pygit2.Repository, settings: Settings, pending: Pending) -> str:
    path = settings.changelog.resolve().relative_to(settings.root).as_posix()
    data = git.read_blob(repo, pending.head.sha, path)
    if data is None:
        raise DojoError(f"the release commit has no {path}: cannot recover the notes for the tag")
    try:
        return changelog.extract(data.decode("utf-8"), str(pending.version), allow_empty=True).body
    except ChangelogError as exc:
        raise DojoError(
            f"cannot recover the notes of {pending.version.tag} from {path}: {exc}"
        ) from None
