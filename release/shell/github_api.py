"""GitHub's REST API as the apps reach it: PyGithub with the shared HTTP policy, bounded
retries, and every failure turned into one `GitHubError` that says what to do.

Transient faults (5xx, 429, connection resets, timeouts) are retried by PyGithub's `GithubRetry`
(urllib3's `Retry`) with bounded attempts and waits; creates (POST) by `release.shell.github`,
which looks first whether the failed one took effect.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import urllib3
from github import Auth, Github, GithubException, GithubRetry
from github.Repository import Repository
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester
from urllib3.util.retry import Retry

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.retry import DEFAULT, Backoff

# PyGithub attaches its own stderr handler at INFO; its lines ("Request POST … failed with 403")
# would break the one-line error on stderr. Our logfmt lines report retries and outcomes.
logging.getLogger("github").setLevel(logging.WARNING)

_T = TypeVar("_T")


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


def client(token: str, api_url: str, policy: RetryPolicy) -> Github:
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
        # Not POST (GithubRetry's default adds it): a POST creates, and one whose answer was
        # lost may have taken effect, so `release.shell.github` looks before sending it again.
        # PATCH (a release's title, body, draft state) sends the same values again: retried.
        allowed_methods=(Retry.DEFAULT_ALLOWED_METHODS - {"POST"}) | {"PATCH"},
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


def translate(
    exc: GithubException, repository: str, doing: str, api_url: str, policy: RetryPolicy
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
            f"{where} answered {answer}: the release was deleted while {doing}; re-run the "
            "job to create it"
        )
    if status == 404:
        return RepositoryNotFound(
            f"{where} answered {answer} for repository {repository!r}: the name is wrong "
            "or the token cannot see it; check GITHUB_REPOSITORY (--github-repository)"
        )
    if status >= 500 or status == 429:
        return GitHubUnavailable(
            f"{where} still answered {answer} while {doing} after {policy.backoff.attempts} "
            "attempts; re-run the job later"
        )
    return GitHubError(f"{where} answered {answer} while {doing}; see the message for the fix")


def transient(exc: Exception) -> bool:
    """A failure after which the request may or may not have taken effect (not TLS)."""
    if isinstance(exc, GithubException):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, requests.RequestException) and http.tls_problem(exc) is None


def created_once(
    send: Callable[[], _T],
    look: Callable[[], _T | None],
    *,
    policy: RetryPolicy,
    what: str,
) -> tuple[_T, bool]:
    """`send()` a create at most `policy.backoff.attempts` times; after each failure (a 5xx,
    a reset, a timeout, 422 already_exists) `look()` first, as the create may have taken effect
    with its answer lost. Returns the object and whether it was found rather than made."""
    delays = policy.backoff.delays()
    attempt = 1
    while True:
        try:
            return send(), False
        except (GithubException, requests.RequestException) as exc:
            if not (transient(exc) or (
                isinstance(exc, GithubException) and already_exists(exc)
            )):
                raise
            failure = exc
        found = look()
        if found is not None:
            return found, True
        delay = next(delays, None)
        if delay is None:
            raise failure
        reason = failure.status if isinstance(failure, GithubException) else type(failure).__name__
        log.step("github", retry=attempt, what=what, reason=reason, wait=f"{delay:g}s")
        time.sleep(delay)
        attempt += 1


def already_exists(exc: GithubException) -> bool:
    """GitHub's 422 `already_exists` (a release for the tag, an asset of the name)."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") or []
    return exc.status == 422 and any(
        isinstance(e, dict) and e.get("code") == "already_exists" for e in errors
    )


def where_of(api_url: str) -> str:
    return f"GitHub ({api_url})"


def session(
    repository: str,
    work: Callable[[Repository, list[str]], _T],
    doing: str,
    *,
    token: str,
    api_url: str,
    policy: RetryPolicy,
) -> _T:
    """`work(repo, doing)` against `repository`, every failure one `GitHubError` that names
    what was being done (`doing`, the last entry of the list `work` may push onto)."""
    log.register_secret(token)
    if not token:
        raise GitHubError("no GitHub token: set GITHUB_TOKEN (the workflow's token will do)")
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(
            f"repository {repository!r} is not owner/name; pass --github-repository owner/name"
        )
    steps = [doing]
    gh = client(token, api_url, policy)
    try:
        # Not lazy (PyGithub's default; its lazy release objects have had bugs): this GET
        # tells a missing repository apart from a missing release.
        return work(gh.get_repo(repository), steps)
    except GithubException as exc:
        raise translate(exc, repository, steps[-1], api_url, policy) from None
    except http.BadAnswer as exc:
        raise GitHubError(f"{where_of(api_url)} while {steps[-1]}: {exc}") from None
    except requests.RequestException as exc:
        tls = http.tls_problem(exc)
        if tls is not None:
            raise GitHubError(
                f"TLS with GitHub ({api_url}) failed while {steps[-1]} ({tls}): check "
                "GITHUB_API_URL, the CA bundle (REQUESTS_CA_BUNDLE) or a proxy intercepting "
                "TLS; retrying cannot help"
            ) from None
        raise GitHubUnavailable(
            f"could not reach GitHub ({api_url}) while {steps[-1]}: "
            f"{_network_reason(exc, policy)} after {policy.backoff.attempts} attempts; check "
            "the network and re-run the job"
        ) from None
    finally:
        gh.close()
