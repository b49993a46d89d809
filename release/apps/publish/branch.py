"""Where the release branch is now, so `staging` only ever moves to its tip.

A re-run of an older CI run on the release branch builds an older commit; pushing `staging`
for it would move the tag backwards. The tip comes from GitHub's API when publish has a token
(as in CI), else from the clone's remote (`git ls-remote`), else from the clone's own branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from release.apps.publish.context import Context
from release.errors import DojoError
from release.shell import git
from release.shell.git import Repository


@dataclass(frozen=True)
class Tip:
    """A branch's tip as publish read it."""

    sha: str | None  # None: not known (`source` says why)
    source: str  # where it was read, for the log line


def branch_tip(ctx: Context) -> Tip:
    """The commit the release branch is at now, read-only; never raises for a failed read
    (`staging` then stays where it is, and the log line says why)."""
    branch = ctx.release_branch
    try:
        if ctx.github_token and ctx.github_repository:
            from release.shell.github_refs import branch_tip as github_tip  # noqa: PLC0415 (start-up)

            sha = github_tip(
                ctx.github_repository, branch, token=ctx.github_token, api_url=ctx.github_api_url
            )
            return Tip(sha, f"GitHub ({ctx.github_repository})")
        repo = Repository.find(ctx.root)
        if repo is None:
            return Tip(None, "no GITHUB_TOKEN to ask GitHub and no clone")
        if repo.remote_url(ctx.remote) is not None:
            return Tip(git.remote_branch(repo.root, ctx.remote, branch), f"the remote {ctx.remote}")
        return Tip(repo.local_sha(f"refs/heads/{branch}"), "the clone (it has no remote)")
    except DojoError as exc:
        return Tip(None, f"reading it failed: {exc}")
