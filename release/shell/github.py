"""The GitHub Release for a version tag: created if missing, its title and body kept current.

PyGithub talks to the REST API; transient faults (5xx, 429, connection resets, timeouts) are
retried by PyGithub's `GithubRetry` (urllib3's `Retry`) with bounded attempts and waits. A release
is never deleted: an existing one gets at most a PATCH of its title and body, and only when they
differ, so a re-run sends no write at all.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from github import Auth, Github, GithubException, GithubRetry
from github.GitRelease import GitRelease
from github.Repository import Repository
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.retry import DEFAULT, Backoff

# PyGithub attaches its own stderr handler at INFO; its lines ("Request POST … failed with 403")
# would break the one-line error on stderr. Our logfmt lines report retries and outcomes.
logging.getLogger("github").setLevel(logging.WARNING)


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


@dataclass(frozen=True)
class ReleaseResult:
    status: ReleaseStatus
    url: str  # the release page; "" when a dry run would create it
    id: int | None


@dataclass(frozen=True)
class RetryPolicy:
    """How GitHub is asked: the attempts and pauses are the shared `retry.Backoff` (the
    registry's too); the rest is GitHub's own (Retry-After cap, timeouts, pacing). The worst
    case is about `attempts * deadline + (attempts - 1) * max_wait` seconds."""

    backoff: Backoff = DEFAULT
    max_wait: float = 20.0  # caps Retry-After and rate-limit waits too
    timeout: int = 15  # seconds per read (and to connect)
    deadline: float = 45.0  # seconds per request, the whole answer included
    # PyGithub's pacing between requests; GitHub asks for 1 s between writes.
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0


DEFAULT_POLICY = RetryPolicy()


class GitHubError(DojoError):
    """The GitHub API refused or failed a request; the message says what to do."""


class TokenRejected(GitHubError):
    """401: the token is invalid or expired."""


class PermissionDenied(GitHubError):
    """403: the token lacks a permission (or hit a rate limit)."""


class RepositoryNotFound(GitHubError):
    """404 on the repository: a wrong name or a token that cannot see it."""


class GitHubUnavailable(GitHubError):
    """Transient faults outlasted every attempt."""


@dataclass(frozen=True)
class ExistingRelease:
    """The parts of a release on GitHub that `upsert_release` compares and keeps."""

    id: int
    url: str
    title: str
    body: str
    draft: bool
    prerelease: bool


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


class _BoundedRetry(GithubRetry):
    """`GithubRetry` whose waits (backoff, Retry-After, rate-limit reset) are capped and logged."""

    def __init__(self, *, max_wait: float = DEFAULT_POLICY.max_wait, **kwargs: Any) -> None:
        self.max_wait = max_wait
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _BoundedRetry:
        kw["max_wait"] = self.max_wait
        retry: _BoundedRetry = super().new(**kw)
        return retry

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = self.get_retry_after(response)
        if delay is None:
            delay = self.get_backoff_time()
        delay = max(0.0, min(float(delay), self.max_wait))
        last = self.history[-1] if self.history else None
        reason = (last.status or type(last.error).__name__) if last else "?"
        log.step("github", retry=len(self.history), reason=reason, wait=f"{delay:g}s")
        if delay:
            time.sleep(delay)


def _connection_classes(
    deadline: float,
) -> tuple[type[HTTPRequestsConnectionClass], type[HTTPSRequestsConnectionClass]]:
    """PyGithub's connections with the shared HTTP policy (`release.shell.http`) mounted:
    a total deadline per request, cut-off bodies retried, answers that are not JSON refused."""

    def mount(connection: Any, scheme: str) -> None:
        connection.adapter = http.PolicyAdapter(
            deadline=deadline,
            max_retries=connection.retry,
            pool_connections=connection.pool_size,
            pool_maxsize=connection.pool_size,
        )
        connection.session.mount(f"{scheme}://", connection.adapter)

    def checked(response: Any) -> Any:
        # Only what PyGithub's response has offered since 2.1: status, headers, read().
        body = (response.read() or "").encode()
        if body.strip():
            http.json_value(
                body,
                what=f"GitHub answered HTTP {response.status}",
                content_type=str(response.headers.get("Content-Type", "")),
            )
        return response

    class Plain(HTTPRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            mount(self, "http")

        def getresponse(self) -> Any:
            return checked(super().getresponse())

    class Secure(HTTPSRequestsConnectionClass):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            mount(self, "https")

        def getresponse(self) -> Any:
            return checked(super().getresponse())

    return Plain, Secure


def _client(token: str, api_url: str, policy: RetryPolicy) -> Github:
    retry = _BoundedRetry(
        total=policy.backoff.attempts - 1,
        # urllib3 waits 0, 2f, 4f, ... (doubling): with f = first_delay / 2 the pauses are
        # the shared policy's (first_delay, 2 * first_delay, ...), the first retry immediate.
        backoff_factor=policy.backoff.first_delay / 2,
        backoff_max=policy.backoff.max_delay,
        max_wait=policy.max_wait,
        secondary_rate_wait=policy.max_wait,
        status_forcelist=[429, *range(500, 600)],
        # Give the last answer back instead of urllib3's MaxRetryError, so the error names it.
        raise_on_status=False,
        # TLS failures (urllib3 counts them as "other" errors) are not retried: they persist.
        other=0,
    )
    # PyGithub picks its connection classes when the client is made; put them back at once so
    # nothing else in the process is affected.
    Requester.injectConnectionClasses(*_connection_classes(policy.deadline))
    try:
        return Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token),
            retry=retry,
            timeout=policy.timeout,
            per_page=100,
            seconds_between_requests=policy.seconds_between_requests,
            seconds_between_writes=policy.seconds_between_writes,
        )
    finally:
        Requester.resetConnectionClasses()


def _existing(release: GitRelease) -> ExistingRelease:
    # GitHub's own JSON fields: PyGithub's attribute names for them moved across 2.x.
    data = release.raw_data
    if not isinstance(data.get("id"), int) or not isinstance(data.get("html_url"), str):
        raise http.BadAnswer(
            "GitHub's answer is not a release (no `id` or `html_url`): check GITHUB_API_URL"
        )
    return ExistingRelease(
        id=int(data["id"]),
        url=str(data["html_url"]),
        title=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
    )


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


def _message_of(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or "").strip()


def _rate_limited(exc: GithubException, said: str) -> bool:
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    # After the last retry GithubRetry has already read the body, so the message can be gone:
    # GitHub's rate-limit headers still say it.
    return (
        "rate limit" in said.lower()
        or headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in headers
    )


def _network_reason(exc: requests.RequestException, policy: RetryPolicy) -> str:
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off"
    # requests wraps urllib3's MaxRetryError, whose `reason` is the last attempt's fault.
    cause: object = exc.args[0] if exc.args else exc
    cause = getattr(cause, "reason", cause)
    if isinstance(cause, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError too
        return "connection refused"
    if isinstance(cause, TimeoutError | urllib3.exceptions.TimeoutError | requests.Timeout):
        return f"no complete answer in time (each request may take {policy.deadline:g}s)"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "connection reset"
    return type(cause).__name__


def _translate(
    exc: GithubException, spec: ReleaseSpec, doing: str, api_url: str, policy: RetryPolicy
) -> GitHubError:
    status = exc.status
    said = _message_of(exc)
    answer = f"{status} {said}".strip()
    where = f"GitHub ({api_url})"
    if status == 401:
        return TokenRejected(
            f"{where} rejected the token ({answer}) while {doing}: it is invalid or expired; "
            "pass a current token in GITHUB_TOKEN"
        )
    if status in (403, 429) and _rate_limited(exc, said):
        return PermissionDenied(
            f"{where} rate limit hit while {doing} ({answer}); "
            "re-run the job after the limit resets"
        )
    if status == 403:
        return PermissionDenied(
            f"{where} refused {doing} ({answer}): the token lacks the `contents: write` "
            "permission; add `permissions: contents: write` to the workflow job that runs publish"
        )
    if status == 404 and doing.startswith("updating"):
        return GitHubError(
            f"{where} no longer has release {spec.tag} ({answer}): it was deleted while "
            f"{doing}; re-run the job to create it"
        )
    if status == 404:
        return RepositoryNotFound(
            f"{where} answered {answer} for repository {spec.repository!r}: the name is wrong "
            "or the token cannot see it; check GITHUB_REPOSITORY (--repository)"
        )
    if status >= 500 or status == 429:
        return GitHubUnavailable(
            f"{where} still answered {answer} while {doing} after {policy.backoff.attempts} "
            "attempts; re-run the job later"
        )
    return GitHubError(f"{where} answered {answer} while {doing}; see the message for the fix")


def where_of(api_url: str) -> str:
    return f"GitHub ({api_url})"


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
    log.register_secret(token)
    if not token:
        raise GitHubError("no GitHub token: set GITHUB_TOKEN (the workflow's token will do)")
    owner, _, name = spec.repository.partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(
            f"repository {spec.repository!r} is not owner/name; pass --repository owner/name"
        )
    doing = f"looking up release {spec.tag} in {spec.repository}"
    gh = _client(token, api_url, policy)
    try:
        # Not lazy (PyGithub's default; its lazy release objects have had bugs): this GET
        # tells a missing repository apart from a missing release.
        repo = gh.get_repo(spec.repository)
        found = _find(repo, spec.tag)
        existing = _existing(found) if found else None
        action = decide(existing, spec)
        raced = False
        if dry_run:
            return _report(spec, action, existing, dry_run=True)
        if action is Action.CREATE:
            doing = f"creating release {spec.tag} in {spec.repository}"
            try:
                created = repo.create_git_release(
                    spec.tag,
                    name=spec.title,
                    message=spec.body,
                    prerelease=spec.prerelease,
                    make_latest="true" if spec.latest and not spec.prerelease else "false",
                )
                return _report(spec, action, _existing(created))
            except GithubException as exc:
                if not _already_exists(exc):
                    raise
            raced = True
            # Someone (a parallel job, or our own create whose answer was lost and retried)
            # made it meanwhile: carry on with that one.
            doing = f"looking up release {spec.tag} in {spec.repository}"
            found = _find(repo, spec.tag)
            if found is None:
                raise GitHubError(
                    f"GitHub says release {spec.tag} already exists in {spec.repository} but "
                    "does not show it; re-run the job"
                )
            existing = _existing(found)
            action = decide(existing, spec)
        if action is Action.UPDATE:
            assert found is not None
            assert existing is not None
            doing = f"updating release {spec.tag} in {spec.repository}"
            # PyGithub sends draft and prerelease too: send what is there, so nothing else moves.
            updated = found.update_release(
                name=spec.title,
                message=spec.body,
                draft=existing.draft,
                prerelease=existing.prerelease,
            )
            return _report(spec, action, _existing(updated), raced=raced)
        return _report(spec, action, existing, raced=raced)
    except GithubException as exc:
        raise _translate(exc, spec, doing, api_url, policy) from None
    except http.BadAnswer as exc:
        raise GitHubError(f"{where_of(api_url)} while {doing}: {exc}") from None
    except requests.RequestException as exc:
        tls = http.tls_problem(exc)
        if tls is not None:
            raise GitHubError(
                f"TLS with GitHub ({api_url}) failed while {doing} ({tls}): check GITHUB_API_URL, "
                "the CA bundle (REQUESTS_CA_BUNDLE) or a proxy intercepting TLS; retrying cannot "
                "help"
            ) from None
        raise GitHubUnavailable(
            f"could not reach GitHub ({api_url}) while {doing}: {_network_reason(exc, policy)} "
            f"after {policy.backoff.attempts} attempts; check the network and re-run the job"
        ) from None
    finally:
        gh.close()


def _report(
    spec: ReleaseSpec,
    action: Action,
    release: ExistingRelease | None,
    *,
    dry_run: bool = False,
    raced: bool = False,
) -> ReleaseResult:
    status = {
        Action.CREATE: ReleaseStatus.CREATED,
        Action.UPDATE: ReleaseStatus.UPDATED,
        Action.NOTHING: ReleaseStatus.UNCHANGED,
    }[action]
    url = release.url if release and not (dry_run and action is Action.CREATE) else ""
    # One `step=release` line per run; what was deliberately left alone rides on it.
    fields: dict[str, object] = {"tag": spec.tag}
    if url:
        fields["url"] = url
    fields["status"] = status.value
    if dry_run:
        fields["dry_run"] = True
    notes = []
    if raced:
        notes.append("it existed when created (a parallel run, or a retried create)")
    if release is not None and action is not Action.CREATE:
        if release.draft:
            fields["draft"] = True
            notes.append("a draft stays a draft: publish it on GitHub")
        if release.prerelease != spec.prerelease:
            fields["prerelease"] = release.prerelease
            notes.append(
                f"kept prerelease={str(release.prerelease).lower()} although the version says "
                f"{str(spec.prerelease).lower()}: only the title and body are updated"
            )
    if notes:
        fields["note"] = "; ".join(notes)
    log.step("release", None, **fields)
    return ReleaseResult(status=status, url=url, id=release.id if release else None)
