"""The GitHub Release for a version tag: created if missing, its title and body kept current.

Only for a tag GitHub has that peels to the commit being published, and with that commit as its
target. A release is never deleted (only a duplicate draft this run itself just made): an
existing one gets at most a PATCH of its title and body, and only when they differ, so a re-run
sends no write at all. The API client, its retries and its errors are `release.shell.github_api`;
the assets `release.shell.github_assets`; the tag and branch look-ups `release.shell.github_refs`.

With assets (GitHub's immutable releases take assets only before they are published) a new
release is made as a draft, every asset is uploaded, then the draft is published; a re-run after
a failure at any step finds the draft, uploads only the assets it lacks (same name and size
counts as there; an empty `starter` asset a failed upload left is deleted and uploaded again)
and publishes it. A published release gets no assets: the ones it lacks are named on the
`step=release` line.

A create (a POST: the release, an asset) is never sent again blindly: after a failure or a lost
answer GitHub is read again first, since the create may have taken effect (GitHub allows any
number of drafts for one tag). PyGithub retries every other method itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from github import GithubException
from github.GithubObject import NotSet
from github.GitRelease import GitRelease
from github.Repository import Repository

from release import log
from release.shell import http
from release.shell.github_api import (
    DEFAULT_POLICY,
    PermissionDenied,
    RetryPolicy,
    created_once,
    session,
    where_of,
)
from release.shell.github_assets import (
    Asset,
    AssetThere,
    DraftWork,
    asset_there,
    delete_asset,
    draft_work,
    upload,
)
from release.shell.github_refs import tag_commit


class ReleaseStatus(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


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
    """What became of the GitHub Release."""

    status: ReleaseStatus
    url: str  # the release page; "" when a dry run would create it
    id: int | None
    # What a run does beyond the status, in words (a draft published, the assets uploaded).
    detail: str = ""


@dataclass(frozen=True)
class ExistingRelease:
    """The parts of a release on GitHub that `upsert_release` compares and keeps."""

    id: int
    url: str
    title: str
    body: str
    draft: bool
    prerelease: bool
    assets: tuple[AssetThere, ...] = ()


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    PUBLISH = "publish"  # a draft an earlier run left: upload what it lacks, then publish it
    NOTHING = "nothing"


def _same_text(a: str, b: str) -> bool:
    # GitHub may store CRLF line ends or drop trailing blank lines; neither is a change.
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def decide(existing: ExistingRelease | None, spec: ReleaseSpec) -> Action:
    """What to do so the release matches `spec` (pure: no I/O)."""
    if existing is None:
        return Action.CREATE
    if existing.draft and spec.assets:
        return Action.PUBLISH
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
    assets = tuple(asset_there(a) for a in data.get("assets") or [] if isinstance(a, dict))
    return ExistingRelease(
        id=int(data["id"]),
        url=str(data["html_url"]),
        title=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        assets=assets,
    )


def _find(repo: Repository, tag: str) -> GitRelease | None:
    try:
        return repo.get_release(tag)
    except GithubException as exc:
        if exc.status != 404:
            raise
    # A draft has no tag yet, so the by-tag endpoint cannot see it; GitHub lists drafts to
    # anyone who can push. A 404 here means the repository itself is missing. Of several
    # drafts for the tag (a human's, an older tool's) the oldest is the one carried on.
    drafts = _drafts(repo, tag)
    return drafts[0] if drafts else None


def _drafts(repo: Repository, tag: str) -> list[GitRelease]:
    """The drafts for `tag`, oldest first (by id: GitHub's ids only grow)."""
    found = [r for r in repo.get_releases() if r.tag_name == tag and r.draft]
    return sorted(found, key=lambda r: int(r.id))


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

    Never deletes a release (but a duplicate draft it just made) and never changes a published
    one's draft or prerelease state; with `spec.assets` a draft is finished and published.
    `dry_run` only reads: it reports the status the run would have, and (`detail`) what else.
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
        if mode is not _Mode.APPLY and not isinstance(repo.raw_data.get("permissions"), dict):
            # The check before any push cannot see a missing write permission: say so once.
            log.step("github", repository=spec.repository, permissions="unknown",
                     note="GitHub's repository answer carries no permissions for this token: "
                     "a missing `contents: write` shows only when the Release is written")

        target = tag_commit(repo, spec.repository, spec.tag, spec.target, doing)
        return _converge(repo, spec, target, mode=mode, doing=doing, policy=policy)

    return session(
        spec.repository, work, f"looking up release {spec.tag} in {spec.repository}",
        token=token, api_url=api_url, policy=policy,
    )


def _converge(
    repo: Repository,
    spec: ReleaseSpec,
    target: str | None,
    *,
    mode: _Mode,
    doing: list[str],
    policy: RetryPolicy,
) -> ReleaseResult:
    found = _find(repo, spec.tag)
    existing = _existing(found) if found else None
    action = decide(existing, spec)
    work = _draft_work(existing, spec) if existing and action is Action.PUBLISH else None
    if mode is _Mode.CHECK:
        return _result(action, existing, work, spec)
    if mode is _Mode.DRY_RUN:
        return _report(spec, action, existing, work, dry_run=True)
    raced = False
    if action is Action.CREATE:
        doing.append(f"creating release {spec.tag} in {spec.repository}")
        found, raced = _create(repo, spec, target, policy)
        doing.pop()
        existing = _existing(found)
        if not raced:
            if not spec.assets:
                return _report(spec, action, existing, None)
            return _finish_draft(found, existing, spec, doing, policy, resumed=False)
        # Someone (a parallel job, or our own create whose answer was lost) made it: carry on
        # with that one.
        action = decide(existing, spec)
    assert found is not None
    assert existing is not None
    if action is Action.PUBLISH:
        return _finish_draft(found, existing, spec, doing, policy, resumed=True)
    if action is Action.UPDATE:
        doing.append(f"updating release {spec.tag} in {spec.repository}")
        # PyGithub sends draft and prerelease too: send what is there, so nothing else moves.
        updated = found.update_release(
            name=spec.title,
            message=spec.body,
            draft=existing.draft,
            prerelease=existing.prerelease,
        )
        return _report(spec, action, _existing(updated), None, raced=raced)
    return _report(spec, action, existing, None, raced=raced)


def _create(
    repo: Repository, spec: ReleaseSpec, target: str | None, policy: RetryPolicy
) -> tuple[GitRelease, bool]:
    """The release (a draft when there are assets), made once: (it, whether it was found)."""

    def send() -> GitRelease:
        return repo.create_git_release(
            spec.tag,
            name=spec.title,
            message=spec.body,
            prerelease=spec.prerelease,
            make_latest=_make_latest(spec),
            target_commitish=target if target is not None else NotSet,
            draft=bool(spec.assets),
        )

    made, found = created_once(
        send, lambda: _find(repo, spec.tag), policy=policy, what=f"release {spec.tag}"
    )
    if not found and made.draft:
        # A create sent again can still meet the first one landing late: of two drafts for the
        # tag the older is kept and the one just made (ours, without assets) deleted.
        drafts = _drafts(repo, spec.tag)
        if drafts and int(drafts[0].id) != int(made.id):
            made.delete_release()
            return drafts[0], True
    return made, found


def _where(spec: ReleaseSpec) -> str:
    return f"draft release {spec.tag} in {spec.repository}"


def _draft_work(existing: ExistingRelease, spec: ReleaseSpec) -> DraftWork:
    return draft_work(existing.assets, spec.assets, _where(spec))


def _make_latest(spec: ReleaseSpec) -> str:
    return "true" if spec.latest and not spec.prerelease else "false"


def _finish_draft(
    draft: GitRelease,
    existing: ExistingRelease,
    spec: ReleaseSpec,
    doing: list[str],
    policy: RetryPolicy,
    *,
    resumed: bool,
) -> ReleaseResult:
    """Bring a draft's title and body in line, upload the assets it lacks, publish it."""
    work = _draft_work(existing, spec)
    where = _where(spec)
    for there in work.replace:
        doing.append(f"deleting the starter asset {there.name} of {where}")
        delete_asset(draft, there)
        log.step("asset", tag=spec.tag, name=there.name, status="deleted",
                 reason="starter (left by a failed upload)")
        doing.pop()
    for asset in work.upload:
        doing.append(f"uploading {asset.name} to {where}")
        status = upload(draft, asset, where, policy)
        log.step("asset", tag=spec.tag, name=asset.name, size=asset.size, status=status)
        doing.pop()
    doing.append(f"publishing {where}")
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
    fields["uploaded"] = len(work.upload)
    if resumed:
        fields["note"] = "published the draft an earlier run left"
    log.step("release", None, **fields)
    return ReleaseResult(status=ReleaseStatus.CREATED, url=result.url, id=result.id)


_STATUS = {
    Action.CREATE: ReleaseStatus.CREATED,
    Action.UPDATE: ReleaseStatus.UPDATED,
    Action.PUBLISH: ReleaseStatus.CREATED,
    Action.NOTHING: ReleaseStatus.UNCHANGED,
}


def _names(assets: tuple[Asset, ...] | tuple[AssetThere, ...]) -> str:
    return ",".join(a.name for a in assets)


def _detail(
    action: Action, release: ExistingRelease | None, work: DraftWork | None, spec: ReleaseSpec
) -> str:
    """What a run would do beyond the status, in words (for the dry run and the check)."""
    if action is Action.CREATE and spec.assets:
        return f"as a draft, upload {_names(spec.assets)}, then publish it"
    if action is Action.PUBLISH and work is not None and release is not None:
        parts = ["publish the draft an earlier run left"]
        if release.title != spec.title or not _same_text(release.body, spec.body):
            parts[0] += " with this title and body"
        if work.replace:
            parts.append(f"delete the starter asset(s) {_names(work.replace)} first")
        parts.append(f"upload {_names(work.upload)}" if work.upload else "upload nothing")
        return "; ".join(parts)
    return ""


def _result(
    action: Action,
    release: ExistingRelease | None,
    work: DraftWork | None,
    spec: ReleaseSpec,
    *,
    dry_run: bool = False,
) -> ReleaseResult:
    url = release.url if release and not (dry_run and action is Action.CREATE) else ""
    return ReleaseResult(status=_STATUS[action], url=url, id=release.id if release else None,
                         detail=_detail(action, release, work, spec))


def _report(
    spec: ReleaseSpec,
    action: Action,
    release: ExistingRelease | None,
    work: DraftWork | None,
    *,
    dry_run: bool = False,
    raced: bool = False,
) -> ReleaseResult:
    result = _result(action, release, work, spec, dry_run=dry_run)
    url = result.url
    # One `step=release` line per run; what was deliberately left alone rides on it.
    fields: dict[str, object] = {"tag": spec.tag}
    if url:
        fields["url"] = url
    fields["status"] = result.status.value
    if dry_run:
        fields["dry_run"] = True
        if action is Action.CREATE and spec.assets:
            fields["draft"] = "create"
            fields["upload"] = _names(spec.assets)
        if action is Action.PUBLISH and work is not None:
            fields["draft"] = "publish"
            fields["upload"] = _names(work.upload)
            if work.replace:
                fields["replace"] = _names(work.replace)
    notes = []
    if raced:
        notes.append("it existed when created (a parallel run, or a retried create)")
    if dry_run and result.detail:
        notes.append(f"would {result.detail}")
    if release is not None and action not in (Action.CREATE, Action.PUBLISH):
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
            have = {a.name for a in release.assets}
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
