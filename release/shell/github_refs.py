"""Git refs as GitHub holds them: the commit a release tag peels to, a branch's tip."""

from __future__ import annotations

from github import GithubException
from github.Repository import Repository

from release.shell.github_api import DEFAULT_POLICY, GitHubError, RetryPolicy, session


def tag_commit(
    repo: Repository, repository: str, tag: str, target: str | None, doing: list[str]
) -> str | None:
    """The commit `tag` peels to on GitHub (annotated tags followed), checked against
    `target`; None when `target` is None (no check asked)."""
    if target is None:
        return None
    doing.append(f"looking up tag {tag} in {repository}")
    try:
        obj = repo.get_git_ref(f"tags/{tag}").object
    except GithubException as exc:
        if exc.status != 404:
            raise
        raise GitHubError(
            f"tag {tag} is not in {repository} on GitHub: push it first (`git push "
            f"origin {tag}`); a Release for a missing tag would make GitHub create the tag "
            "on the default branch's head"
        ) from None
    for _ in range(8):  # a tag of a tag of ...: git allows it, GitHub peels one level a call
        if obj.type != "tag":
            break
        obj = repo.get_git_tag(obj.sha).object
    if obj.type != "commit":
        raise GitHubError(
            f"tag {tag} in {repository} names a {obj.type}, not a commit: move the "
            "tag to the release commit"
        )
    sha = str(obj.sha)
    if not sha.startswith(target.lower()):
        raise GitHubError(
            f"tag {tag} in {repository} names commit {sha[:12]}, but this build is "
            f"commit {target[:12]}: publish the image built from the tagged commit"
        )
    doing.pop()
    return sha


def branch_tip(
    repository: str,
    branch: str,
    *,
    token: str,
    api_url: str,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> str | None:
    """The commit `branch` is at on GitHub now; None when GitHub has no such branch."""

    def work(repo: Repository, doing: list[str]) -> str | None:
        try:
            obj = repo.get_git_ref(f"heads/{branch}").object
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise
        return str(obj.sha) if obj.type == "commit" else None

    return session(
        repository, work, f"looking up branch {branch} in {repository}",
        token=token, api_url=api_url, policy=policy,
    )
