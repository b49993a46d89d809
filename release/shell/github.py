"""The GitHub Release for a version tag: created if missing, its title and body kept current.

Only for a tag GitHub has that peels to the commit being published, and with that commit as its
target. A release is never deleted: an existing one gets at most a PATCH of its title and body,
and only when they differ, so a re-run sends no write at all. The API client, its retries and
its errors are `release.shell.github_api`.

With assets (GitHub's immutable releases take assets only before they are published) a new
release is made as a draft, every asset is uploaded, then the draft is published; a re-run after
a failure at any step finds the draft, uploads only the assets it lacks (same name and size
counts as there) and publishes it. A published release gets no assets: the ones it lacks are
named on the `step=release` line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from github import GithubException
from github.GithubObject import NotSet
from github.GitRelease import GitRelease
from github.Repository import Repository

from release import log
from release.shell import http
from release.shell.github_api import (
    DEFAULT_POLICY,
    GitHubError,
    PermissionDenied,
    RetryPolicy,
    session,
    where_of,
)


class ReleaseStatus(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Asset:
    """A file to attach to the release under `name`; `size` in bytes, read when planned."""

    path: Path
    name: str
    size: int


@dataclass(frozen=True)
class ReleaseSpec:
    """What the release for `tag` should look like (`repository` is `owner/name`)."""

    repository: str
    tag: str
    title: str
    body: str
    prerelease: bool
    # Only used when the release is created: GitHub's `make_latest`. Pass False for a backport
    # (1.4.1 after 2.0.0) so it does not become the repository's "Latest" release.
    latest: bool = True
    # The commit being published: the tag must exist on GitHub and peel to it (a Release for a
    # missing tag makes GitHub create that tag on the default branch's head), and a created
    # Release names it as `target_commitish`. None: the tag is not checked.
    target: str | None = None
    # Release assets: the release is created as a draft, the assets uploaded, then published.
    assets: tuple[Asset, ...] = ()


@dataclass(frozen=True)
class ReleaseResult:
    status: ReleaseStatus
    url: str  # the release page; "" when a dry run would create it
    id: int | None


@dataclass(frozen=True)
class ExistingRelease:
    """The parts of a release on GitHub that `upsert_release` compares and keeps."""

    id: int
    url: str
    title: str
    body: str
    draft: bool
    prerelease: bool
    # The assets GitHub shows on the release: name -> (size, state).
    assets: tuple[tuple[str, int, str], ...] = ()


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    NOTHING = "nothing"


def _same_text(a: str, b: str) -> bool:
    # GitHub may store CRLF line ends or drop trailing blank lines; neither is a change.
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def decide(existing: ExistingRelease | None, spec: ReleaseSpec) -> Action:
    """What to do so the release matches `spec` (pure: no I/O)."""
    if existing is None:
        return Action.CREATE
    if existing.title != spec.title or not _same_text(existing.body, spec.body):
        return Action.UPDATE
    return Action.NOTHING


def _existing(release: GitRelease) -> ExistingRelease:
    # GitHub's own JSON fields: PyGithub's attribute names for them moved across 2.x.
    data = release.raw_data
    if not isinstance(data.get("id"), int) or not isinstance(data.get("html_url"), str):
        raise http.BadAnswer(
            "GitHub's answer is not a release (no `id` or `html_url`): check GITHUB_API_URL"
        )
    assets = tuple(
        (str(a.get("name")), int(a.get("size") or 0), str(a.get("state") or ""))
        for a in data.get("assets") or []
        if isinstance(a, dict) and isinstance(a.get("size") or 0, int)
    )
    return ExistingRelease(
        id=int(data["id"]),
        url=str(data["html_url"]),
        title=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        assets=assets,
    )


def missing_assets(existing: ExistingRelease, spec: ReleaseSpec) -> list[Asset]:
    """The assets of `spec` the release does not have yet (same name and size is there)."""
    have = {name: (size, state) for name, size, state in existing.assets}
    missing = []
    for asset in spec.assets:
        there = have.get(asset.name)
        if there == (asset.size, "uploaded"):
            continue
        if there is not None:
            raise GitHubError(
                f"draft release {spec.tag} in {spec.repository} already has an asset "
                f"{asset.name} of {there[0]} bytes ({there[1]}), not {asset.size}: delete it on "
                "the draft's page on GitHub and re-run the job"
            )
        missing.append(asset)
    return missing


def _find(repo: Repository, tag: str) -> GitRelease | None:
    try:
        return repo.get_release(tag)
    except GithubException as exc:
        if exc.status != 404:
            raise
    # A draft has no tag yet, so the by-tag endpoint cannot see it; GitHub lists drafts to
    # anyone who can push. A 404 here means the repository itself is missing.
    for release in repo.get_releases():
        if release.tag_name == tag:
            return release
    return None


def _already_exists(exc: GithubException) -> bool:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") or []
    return exc.status == 422 and any(
        isinstance(e, dict) and e.get("code") == "already_exists" for e in errors
    )


def _permission_problem(repo: Repository, spec: ReleaseSpec) -> str | None:
    """Why the token cannot write releases, when GitHub's repository answer says so."""
    permissions = repo.raw_data.get("permissions")
    if isinstance(permissions, dict) and permissions.get("push") is False:
        return (
            f"the token may not write to {spec.repository} (GitHub's repository answer says "
            "permissions.push=false): add `permissions: contents: write` to the workflow job "
            "that runs publish, or use a token that can push"
        )
    return None


def _tag_commit(repo: Repository, spec: ReleaseSpec, doing: list[str]) -> str | None:
    """The commit `spec.tag` peels to on GitHub (annotated tags followed), checked against
    `spec.target`; None when `spec.target` is None (no check asked)."""
    if spec.target is None:
        return None
    doing.append(f"looking up tag {spec.tag} in {spec.repository}")
    try:
        obj = repo.get_git_ref(f"tags/{spec.tag}").object
    except GithubException as exc:
        if exc.status != 404:
            raise
        raise GitHubError(
            f"tag {spec.tag} is not in {spec.repository} on GitHub: push it first (`git push "
            f"origin {spec.tag}`); a Release for a missing tag would make GitHub create the tag "
            "on the default branch's head"
        ) from None
    for _ in range(8):  # a tag of a tag of ...: git allows it, GitHub peels one level a call
        if obj.type != "tag":
            break
        obj = repo.get_git_tag(obj.sha).object
    if obj.type != "commit":
        raise GitHubError(
            f"tag {spec.tag} in {spec.repository} names a {obj.type}, not a commit: move the "
            "tag to the release commit"
        )
    sha = str(obj.sha)
    if not sha.startswith(spec.target.lower()):
        raise GitHubError(
            f"tag {spec.tag} in {spec.repository} names commit {sha[:12]}, but this build is "
            f"commit {spec.target[:12]}: publish the image built from the tagged commit"
        )
    doing.pop()
    return sha


def check_release(
    spec: ReleaseSpec, *, token: str, api_url: str, policy: RetryPolicy = DEFAULT_POLICY
) -> ReleaseResult:
    """The read-only look-up before anything is published: the repository, the token's
    permission on it (where GitHub's answer carries it), the tag (on GitHub, peeling to
    `spec.target`) and the release. Returns the status a run would have, logs nothing."""
    return _release_session(spec, token, api_url, policy, _Mode.CHECK)


def upsert_release(
    spec: ReleaseSpec,
    *,
    token: str,
    api_url: str,
    dry_run: bool = False,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> ReleaseResult:
    """Create the GitHub Release for `spec.tag`, or bring an existing one's title and body in line.

    Never deletes a release and never changes its draft or prerelease state. `dry_run` only reads:
    it reports the status the run would have.
    """
    mode = _Mode.DRY_RUN if dry_run else _Mode.APPLY
    return _release_session(spec, token, api_url, policy, mode)


class _Mode(enum.Enum):
    CHECK = "check"  # read, report nothing
    DRY_RUN = "dry-run"  # read, report what would be done
    APPLY = "apply"


def _release_session(
    spec: ReleaseSpec, token: str, api_url: str, policy: RetryPolicy, mode: _Mode
) -> ReleaseResult:
    def work(repo: Repository, doing: list[str]) -> ReleaseResult:
        problem = _permission_problem(repo, spec)
        if problem is not None:
            raise PermissionDenied(f"{where_of(api_url)}: {problem}")
        target = _tag_commit(repo, spec, doing)
        return _converge(repo, spec, target, mode, doing)

    return session(
        spec.repository, work, f"looking up release {spec.tag} in {spec.repository}",
        token=token, api_url=api_url, policy=policy,
    )


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


def _converge(
    repo: Repository, spec: ReleaseSpec, target: str | None, mode: _Mode, doing: list[str]
) -> ReleaseResult:
    found = _find(repo, spec.tag)
    existing = _existing(found) if found else None
    action = decide(existing, spec)
    if mode is _Mode.CHECK:
        return _result(action, existing)
    if mode is _Mode.DRY_RUN:
        return _report(spec, action, existing, dry_run=True)
    raced = False
    if action is Action.CREATE:
        doing.append(f"creating release {spec.tag} in {spec.repository}")
        try:
            created = repo.create_git_release(
                spec.tag,
                name=spec.title,
                message=spec.body,
                prerelease=spec.prerelease,
                make_latest=_make_latest(spec),
                target_commitish=target if target is not None else NotSet,
                draft=bool(spec.assets),
            )
            if not spec.assets:
                return _report(spec, action, _existing(created))
            return _finish_draft(created, _existing(created), spec, doing, resumed=False)
        except GithubException as exc:
            if not _already_exists(exc):
                raise
        raced = True
        # Someone (a parallel job, or our own create whose answer was lost and retried)
        # made it meanwhile: carry on with that one.
        doing.append(f"looking up release {spec.tag} in {spec.repository}")
        found = _find(repo, spec.tag)
        if found is None:
            raise GitHubError(
                f"GitHub says release {spec.tag} already exists in {spec.repository} but "
                "does not show it; re-run the job"
            )
        existing = _existing(found)
        action = decide(existing, spec)
    if found is not None and existing is not None and existing.draft and spec.assets:
        return _finish_draft(found, existing, spec, doing, resumed=True)
    if action is Action.UPDATE:
        assert found is not None
        assert existing is not None
        doing.append(f"updating release {spec.tag} in {spec.repository}")
        # PyGithub sends draft and prerelease too: send what is there, so nothing else moves.
        updated = found.update_release(
            name=spec.title,
            message=spec.body,
            draft=existing.draft,
            prerelease=existing.prerelease,
        )
        return _report(spec, action, _existing(updated), raced=raced)
    return _report(spec, action, existing, raced=raced)


def _make_latest(spec: ReleaseSpec) -> str:
    return "true" if spec.latest and not spec.prerelease else "false"


def _finish_draft(
    draft: GitRelease,
    existing: ExistingRelease,
    spec: ReleaseSpec,
    doing: list[str],
    *,
    resumed: bool,
) -> ReleaseResult:
    """Bring a draft's title and body in line, upload the assets it lacks, publish it."""
    missing = missing_assets(existing, spec)
    for asset in missing:
        doing.append(f"uploading {asset.name} to draft release {spec.tag} in {spec.repository}")
        draft.upload_asset(
            str(asset.path), name=asset.name, content_type="application/octet-stream"
        )
        log.step("asset", tag=spec.tag, name=asset.name, size=asset.size, status="uploaded")
        doing.pop()
    doing.append(f"publishing draft release {spec.tag} in {spec.repository}")
    published = draft.update_release(
        name=spec.title,
        message=spec.body,
        draft=False,
        prerelease=existing.prerelease if resumed else spec.prerelease,
        make_latest=_make_latest(spec),
    )
    result = _existing(published)
    fields: dict[str, object] = {"tag": spec.tag, "url": result.url, "status": "created"}
    fields["assets"] = len(spec.assets)
    fields["uploaded"] = len(missing)
    if resumed:
        fields["note"] = "published the draft an earlier run left"
    log.step("release", None, **fields)
    return ReleaseResult(status=ReleaseStatus.CREATED, url=result.url, id=result.id)


_STATUS = {
    Action.CREATE: ReleaseStatus.CREATED,
    Action.UPDATE: ReleaseStatus.UPDATED,
    Action.NOTHING: ReleaseStatus.UNCHANGED,
}


def _result(
    action: Action, release: ExistingRelease | None, *, dry_run: bool = False
) -> ReleaseResult:
    url = release.url if release and not (dry_run and action is Action.CREATE) else ""
    return ReleaseResult(status=_STATUS[action], url=url, id=release.id if release else None)


def _report(
    spec: ReleaseSpec,
    action: Action,
    release: ExistingRelease | None,
    *,
    dry_run: bool = False,
    raced: bool = False,
) -> ReleaseResult:
    result = _result(action, release, dry_run=dry_run)
    url = result.url
    # One `step=release` line per run; what was deliberately left alone rides on it.
    fields: dict[str, object] = {"tag": spec.tag}
    if url:
        fields["url"] = url
    fields["status"] = result.status.value
    if dry_run:
        fields["dry_run"] = True
    notes = []
    if raced:
        notes.append("it existed when created (a parallel run, or a retried create)")
    if release is not None and action is not Action.CREATE:
        if release.draft and not spec.assets:
            fields["draft"] = True
            notes.append("a draft stays a draft: publish it on GitHub")
        if release.prerelease != spec.prerelease:
            fields["prerelease"] = release.prerelease
            notes.append(
                f"kept prerelease={str(release.prerelease).lower()} although the version says "
                f"{str(spec.prerelease).lower()}: only the title and body are updated"
            )
        if spec.assets and not release.draft:
            have = {name for name, _size, _state in release.assets}
            lacking = [a.name for a in spec.assets if a.name not in have]
            if lacking:
                fields["missing_assets"] = ",".join(lacking)
                notes.append(
                    "a published release takes no assets (GitHub's immutable releases): "
                    "these stay off it"
                )
    if notes:
        fields["note"] = "; ".join(notes)
    log.step("release", None, **fields)
    return result
