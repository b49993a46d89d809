"""Carry out a release plan: one short tuple of steps (goreleaser's "pipes").

Each step has a name and a title and logs one logfmt line; a step whose effect is already
there (the plan says why) is logged as skipped. Every step leaves the repository in a state
`pending.observe` recognises, so a re-run (or `release --resume`) finishes exactly the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from release import log
from release.apps.release.edits import FileChange
from release.apps.release.plan import Plan
from release.core import git_said
from release.errors import CommandError, DojoError
from release.shell import git
from release.shell.files import safe_write


@dataclass(frozen=True)
class Step:
    """One step of a release run, resumable by name."""

    name: str
    title: str
    run: Callable[[Plan], None]


def _write_and_commit(plan: Plan) -> None:
    _commit_files(plan, plan.files, plan.commit_message, plan.base)


def _commit_files(plan: Plan, files: tuple[FileChange, ...], message: str, base: str) -> None:
    """Write `files` and commit them on `base` (HEAD now); restored when that fails."""
    root = plan.root
    written: list[FileChange] = []
    follow = plan.follow is not None and files is plan.follow.files
    try:
        for change in files:
            _put(root / change.path, change.new)
            written.append(change)
        log.step("files", status="ok", written=",".join(c.path for c in files))
        git.commit(root, [c.path for c in files], message,
                   new=[c.path for c in files if c.old is None])
    except KeyboardInterrupt:
        # Interrupted (Ctrl-C, SIGTERM): nothing half-done either. An interrupt as `git commit`
        # completes leaves the release commit in place: its files are the commit's, and putting
        # the old ones back would stage a revert of the release. The re-run finishes it.
        if git.head_sha(root) == base:
            _restore(root, written)
        raise
    except (DojoError, OSError) as exc:  # a git failure, or a file that cannot be written
        kept = _restore(root, written)
        detail = git_said.describe_error(exc) if isinstance(exc, CommandError) else str(exc)
        restored = "the files were restored" + (
            f" (except {', '.join(kept)}, changed by someone else meanwhile: left as found)"
            if kept else ""
        )
        what = "the back-to-development commit" if follow else "the release"
        after = (
            f"; the release commit and tag {plan.tag} are in place and nothing was pushed: "
            "fix the cause and run `release --resume`" if follow else ""
        )
        if plan.sign_commit:
            raise DojoError(
                f"git could not commit {what} (signed: {detail}); commit.gpgsign is set: fix "
                "your signing setup (key, agent, user.signingkey) or unset it, then retry; "
                f"nothing was committed and {restored}{after}"
            ) from None
        raise DojoError(
            f"committing {what} failed ({detail}): nothing was committed and {restored}"
            f"{after or '; fix the cause (a commit hook?) and retry'}"
        ) from None
    sha = git.head_sha(root)
    log.step("commit", status="ok", sha=sha[:12], signed=plan.sign_commit,
             development=follow)


def _develop(plan: Plan) -> None:
    """The back-to-development commit, after the tag (nothing when the plan has none)."""
    if plan.follow is None:
        return
    _commit_files(plan, plan.follow.files, plan.follow.message, git.head_sha(plan.root))


def execute(plan: Plan) -> None:
    """Run the pipeline; a step whose effect exists is skipped with the plan's reason; the
    first failing step raises with what to do next."""
    for step in PIPELINE:
        reason = plan.skipped(step.name)
        if reason is not None:
            log.step(step.name, title=step.title, status="skipped", reason=reason)
            continue
        step.run(plan)


def _put(path: Path, text: str | None) -> None:
    """Write a release file, or remove it (None: a news fragment towncrier consumed)."""
    if text is not None:
        safe_write(path, text, label="release file")
    else:
        path.unlink(missing_ok=True)


def _restore(root: Path, written: list[FileChange]) -> list[str]:
    """Put back what this run wrote, and only that: a file whose content is no longer ours
    was changed by someone else meanwhile and is left alone (its path is returned)."""
    kept: list[str] = []
    for change in written:
        path = root / change.path
        try:
            ours = path.read_bytes() == change.new.encode() if change.new is not None else (
                not path.exists() and not path.is_symlink()
            )
        except OSError:
            ours = False
        if ours:
            _put(path, change.old)
        else:
            kept.append(change.path)
    return kept


def _tag(plan: Plan) -> None:
    tag, sign = plan.tag, plan.sign_tag
    try:
        git.tag(plan.root, tag, plan.tag_message, sign=sign, target=plan.tag_target)
    except CommandError as exc:
        why = " (tag.gpgsign is set: fix your signing setup or unset it)" if sign else ""
        raise DojoError(
            f"tagging {tag} failed: {git_said.describe_error(exc)}{why}; the release commit is "
            "in place: fix the cause and run `release --resume` to tag and push it"
        ) from None
    log.step("tag", name=tag, signed=sign)


def _push(plan: Plan) -> None:
    remote, branch, tag = plan.remote, plan.branch, plan.tag
    try:
        git.push(plan.root, remote, branch, tag)
    except CommandError as exc:
        log.step("push", remote=remote, status="rejected")
        detail = git_said.describe_error(exc)
        moved = any(
            word in exc.stderr for word in ("non-fast-forward", "fetch first", "stale info")
        )
        advice = (
            f"{remote}/{branch} moved on meanwhile: drop the local release (`git tag -d {tag} "
            f"&& git reset --keep HEAD~{plan.commits}`), `git pull --ff-only {remote} {branch}`, "
            "then run release again"
            if moved
            else "fix the cause, then run `release --resume` to push them"
        )
        raise DojoError(
            f"{remote} refused the push ({detail}); nothing was pushed (atomic): the release "
            f"commit and tag {tag} stay local; {advice}"
        ) from None
    log.step("push", remote=remote, branch=branch, tag=tag, status="ok")


# The release, in order. Each step's outcome is visible in git, which is what makes resume work.
PIPELINE: tuple[Step, ...] = (
    # pyproject.toml, version files and the changelog (and the news fragments towncrier
    # consumed, removed), committed together; restored on failure
    Step("commit", "writing files and committing the release", _write_and_commit),
    # the annotated (or signed) tag vX.Y.Z on the release commit
    Step("tag", "tagging the release", _tag),
    # the next development version (`8.5.1.dev0`), committed after the tagged release commit
    # when the project was on a development version (or --next-dev asks)
    Step("develop", "going back to development", _develop),
    # branch and tag in one atomic push
    Step("push", "pushing branch and tag atomically", _push),
)
