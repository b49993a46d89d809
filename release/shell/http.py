"""One HTTP policy for every service the apps talk to (OCI registries, GitHub's API).

- A total deadline per request: connecting, sending, the status line, the headers and the whole
  body must all fit in it. A per-read timeout alone lets a server that answers one byte at a
  time hold a run forever.
- The body is read inside the request (unless the caller streams), so a body cut off half-way
  is a fault of the request, retried like a connection reset, not a crash while decoding it.
- Faults are sorted once: TLS failures are permanent (no retry; the message says TLS), resets,
  timeouts and cut-off bodies are transient.

`PolicyAdapter` is a `requests` transport adapter; `session()` mounts it for the registry client,
and `release.shell.github_api` mounts it inside PyGithub's connections.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.auth
import urllib3
import urllib3.connection
import urllib3.connectionpool
from requests.exceptions import ChunkedEncodingError, ContentDecodingError
from requests.exceptions import ConnectionError as ConnectionError_
from urllib3.exceptions import MaxRetryError, ProtocolError

from release.errors import DojoError
from release.shell.retry import TransientError

DEFAULT_DEADLINE = 60.0  # seconds for one request, first byte out to last byte in
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
MAX_BODY = 64 << 20  # bytes in one answer: a registry page or GitHub's releases stay far below

# The deadline (time.monotonic()) of the request attempt this thread is sending (None outside
# one), and the seconds each attempt gets (set by `PolicyAdapter.send`, used per attempt: urllib3
# retries inside one `send`).
_DEADLINE: ContextVar[float | None] = ContextVar("dojo_http_deadline", default=None)
_BUDGET: ContextVar[float | None] = ContextVar("dojo_http_budget", default=None)


def _start_attempt() -> None:
    budget = _BUDGET.get()
    _DEADLINE.set(None if budget is None else time.monotonic() + budget)


class TLSError(DojoError):
    """The TLS handshake or certificate check failed: retrying cannot help."""


class _DeadlineSocket:
    """A connected socket whose every read and write waits no longer than the deadline left."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._timeout: float | None = sock.gettimeout()
        self._io_refs = 0
        self._closed = False

    def _bound(self) -> None:
        deadline = _DEADLINE.get()
        if deadline is None:
            self._sock.settimeout(self._timeout)
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._timeout

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._bound()
        return int(self._sock.recv_into(buffer, *args))

    def recv(self, *args: Any) -> bytes:
        self._bound()
        return bytes(self._sock.recv(*args))

    def sendall(self, data: Any, *args: Any) -> None:
        self._bound()
        self._sock.sendall(data, *args)

    def send(self, data: Any, *args: Any) -> int:
        self._bound()
        return int(self._sock.send(data, *args))

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        # socket.makefile's buffered reader calls our recv_into, so reads stay bounded.
        makefile: Any = socket.socket.makefile
        return makefile(self, *args, **kwargs)

    # As socket.socket does: close() while a reader made by makefile() is open only marks the
    # socket closed, the descriptor goes with the last reader. http.client closes the
    # connection as soon as it has the headers of a `Connection: close` answer, before the body
    # is read; closing the descriptor then cut the body off (EBADF) whenever it came in a later
    # packet than the headers.
    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def _decref_socketios(self) -> None:
        self._io_refs = max(0, self._io_refs - 1)
        if self._closed and self._io_refs == 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _HTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection

    def _make_request(self, *args: Any, **kwargs: Any) -> Any:
        _start_attempt()  # each attempt (urllib3 retries too) gets the whole deadline
        return super()._make_request(*args, **kwargs)


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection

    def _make_request(self, *args: Any, **kwargs: Any) -> Any:
        _start_attempt()
        return super()._make_request(*args, **kwargs)


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class PolicyAdapter(requests.adapters.HTTPAdapter):
    """`HTTPAdapter` with a total deadline per request and whole-body reads inside it.

    A body cut off half-way is retried through `max_retries` (urllib3's `Retry`, as PyGithub
    passes it) like a reset; with no retries left, it is raised as `ChunkedEncodingError`.
    """

    def __init__(self, *, deadline: float = DEFAULT_DEADLINE, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        retries = self.max_retries
        while True:
            budget, deadline = _BUDGET.set(self.deadline), _DEADLINE.set(None)
            try:
                response = super().send(
                    request, stream=True, timeout=_bounded(timeout, self.deadline), **kwargs
                )
                if stream:
                    return response
                try:
                    _read_body(response)  # the whole body, within the deadline
                except (ConnectionError_, ChunkedEncodingError, ContentDecodingError) as exc:
                    response.close()
                    if time.monotonic() >= (_DEADLINE.get() or float("inf")):
                        raise requests.Timeout(
                            f"no complete answer within {self.deadline:g} s", request=request
                        ) from None
                    if isinstance(exc, requests.exceptions.SSLError):
                        raise
                    try:
                        retries = retries.increment(
                            request.method, request.url, error=ProtocolError(str(exc))
                        )
                    except (MaxRetryError, ProtocolError):
                        raise exc from None
                    retries.sleep()
                    continue
                return response
            finally:
                _DEADLINE.reset(deadline)
                _BUDGET.reset(budget)


def _read_body(response: requests.Response) -> None:
    """Read the whole body into `response.content`, refusing more than `MAX_BODY` bytes (a
    fast server could otherwise fill memory within the deadline)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        response.close()
        raise BadAnswer(_too_large(response))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_BODY:
            response.close()
            raise BadAnswer(_too_large(response))
        chunks.append(chunk)
    # What requests' own `content` property stores once it has read the body.
    response._content = b"".join(chunks)


def _too_large(response: requests.Response) -> str:
    return (
        f"{response.request.method} {response.url}: the answer is larger than "
        f"{MAX_BODY >> 20} MiB: the address may point at something else; check it"
    )


def _bounded(timeout: Any, deadline: float) -> Any:
    if timeout is None:
        return (min(CONNECT_TIMEOUT, deadline), min(READ_TIMEOUT, deadline))
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (
            deadline if connect is None else min(connect, deadline),
            deadline if read is None else min(read, deadline),
        )
    if isinstance(timeout, urllib3.Timeout):
        return timeout
    return (min(float(timeout), deadline), min(float(timeout), deadline))


class _AsSent(requests.auth.AuthBase):
    """The request's own Authorization header, as the client set it. Given any `auth`, requests
    consults no ~/.netrc; without one, a netrc entry for the host replaces the header (a
    registry's Bearer token, GitHub's token) with the file's Basic credentials."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


AS_SENT = _AsSent()


class _Session(requests.Session):
    """A session that reads the environment's settings (proxies, NO_PROXY, the CA bundle) once
    per scheme and host: requests reads them again for every request, two scans of the whole
    environment each time, most of its own CPU per request (~0.6 ms of ~1.2 ms measured on a
    registry's HEAD). The environment does not change while a run talks to a registry."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], Any] = {}
        self.auth = AS_SENT

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        # A redirect to another host drops the credentials, as requests does, and takes none
        # from ~/.netrc for the new host (a blob's presigned storage URL needs none).
        headers = prepared_request.headers
        strip = self.should_strip_auth(  # type: ignore[no-untyped-call]
            response.request.url, prepared_request.url
        )
        if "Authorization" in headers and strip:
            del headers["Authorization"]

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(str(url))
        key = (parts.scheme, parts.netloc)
        found: Any = self._environment.get(key)
        if found is None:
            found = super().merge_environment_settings(url, {}, None, None, None)
            self._environment[key] = found
        return {**found, "proxies": dict(found["proxies"])}


def session(
    deadline: float = DEFAULT_DEADLINE, headers: Mapping[str, str] | None = None
) -> requests.Session:
    """A `requests.Session` that follows this policy (deadline, whole bodies) for http and
    https."""
    sess = _Session()
    adapter = PolicyAdapter(deadline=deadline)
    sess.mount("http://", adapter)
    sess.mount("https://", adapter)
    sess.headers.update(headers or {})
    return sess


def tls_problem(exc: BaseException) -> str | None:
    """The TLS failure behind `exc`, if it is one (a bad certificate, a proxy in the way...)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.exceptions.SSLError | urllib3.exceptions.SSLError):
            inner = current.args[0] if current.args else current
            reason = getattr(inner, "reason", inner)
            return _first_line(reason)
        if isinstance(current, ssl.SSLError):
            return _first_line(current)
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException) and current.args:
            nxt = current.args[0]
        current = nxt if isinstance(nxt, BaseException) else current.__cause__
    return None


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def classify(exc: requests.RequestException, what: str, where: str) -> DojoError:
    """The error a failed request becomes: `TLSError` (permanent) or `TransientError`."""
    tls = tls_problem(exc)
    if tls is not None:
        return TLSError(
            f"{what}: TLS with {where} failed ({tls}): check the host name, its certificate and "
            "the CA bundle (REQUESTS_CA_BUNDLE), or a proxy intercepting TLS; retrying cannot help"
        )
    if isinstance(exc, requests.Timeout):
        return TransientError(f"{what}: no complete answer in time ({type(exc).__name__})")
    if isinstance(exc, ChunkedEncodingError | ContentDecodingError):
        return TransientError(f"{what}: the answer was cut off")
    return TransientError(f"{what}: {type(exc).__name__}")


class BadAnswer(DojoError):
    """A service answered, but not with what its API documents (HTML, garbage, a wrong shape)."""


def json_object(body: bytes, *, what: str, content_type: str = "") -> dict[str, Any]:
    """`body` parsed as a JSON object, or `BadAnswer` saying what came instead."""
    value = json_value(body, what=what, content_type=content_type, kinds=(dict,))
    assert isinstance(value, dict)
    return value


def json_value(
    body: bytes,
    *,
    what: str,
    content_type: str = "",
    kinds: tuple[type, ...] = (dict, list),
) -> Any:
    """`body` parsed as JSON of one of `kinds` (an object or an array by default), or
    `BadAnswer` saying what came instead (an HTML page, garbage, another JSON type)."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, kinds):
        return value
    declared = content_type.partition(";")[0].strip() or "no content type"
    kind = declared if value is None else f"JSON {type(value).__name__}"
    start = body[:40].decode("utf-8", errors="replace").strip().splitlines()
    shown = f", starting {start[0]!r}" if start else ", empty"
    wanted = " or ".join("a JSON object" if k is dict else "a JSON array" for k in kinds)
    raise BadAnswer(
        f"{what}: the answer is not {wanted} ({kind}{shown}): the address may point at "
        "something else (a login page, a proxy); check it"
    )
