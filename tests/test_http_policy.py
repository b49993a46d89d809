"""One HTTP policy (`release.shell.http`) for the registry client and GitHub: a total deadline
per request, cut-off bodies retried, TLS failures reported as TLS, answers that are not JSON
refused, and registry tag lists followed across every page on the registry's own host.

The registry is the real one (tests.support.containers) behind the fault-injecting proxy; GitHub
is the fake API behind the same proxy.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.github import ReleaseResult, ReleaseSpec, upsert_release
from release.shell.github_api import GitHubError, RetryPolicy
from release.shell.registry import Credentials, RegistryClient
from release.shell.retry import Backoff, GaveUp
from tests.support.containers import FaultProxy, Registry, unique_name
from tests.support.github_fake import REPOSITORY, FakeGitHub
from tests.support.tools import require_tool

QUICK = Backoff(attempts=3, first_delay=0.01, max_delay=0.01)
GITHUB_QUICK = RetryPolicy(
    backoff=Backoff(attempts=3, first_delay=0.02, max_delay=0.05),
    max_wait=0.1, timeout=5, deadline=1.0,
    seconds_between_requests=None, seconds_between_writes=None,
)
SPEC = ReleaseSpec(REPOSITORY, "v1.2.3", "v1.2.3", "### Added\n\n- Things.\n", False)
TAGS = r"^GET /v2/.*/tags/list"


@pytest.fixture
def proxy(oci_registry: Registry) -> Iterator[FaultProxy]:
    require_tool("docker-registry")
    host, port = oci_registry.address.split(":")
    started = FaultProxy(upstream=(host, int(port))).start()
    yield started
    started.stop()


@pytest.fixture
def github_proxy(github_api: FakeGitHub) -> Iterator[FaultProxy]:
    host, _, port = github_api.url.removeprefix("http://").partition(":")
    started = FaultProxy(upstream=(host, int(port))).start()
    github_api.url = started.url  # the links in GitHub's answers lead through the proxy too
    yield started
    started.stop()


def client(proxy: FaultProxy, repo: str, deadline: float = 5.0) -> RegistryClient:
    return RegistryClient(proxy.address, repo, None, deadline=deadline, policy=QUICK)


def tags_page(repo: str, tags: list[str]) -> bytes:
    return json.dumps({"name": repo, "tags": tags}).encode()


# --- registry ------------------------------------------------------------------------------


def test_a_registry_answering_one_byte_at_a_time_hits_the_total_deadline(
    proxy: FaultProxy,
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    proxy.slow_next(delay=0.2, times=3, match=TAGS)
    registry = client(proxy, repo, deadline=1.0)
    with pytest.raises(GaveUp) as caught:
        registry.tags()
    assert "no complete answer" in str(caught.value)
    assert "3 times" in str(caught.value)
    assert proxy.faults_served == 3


def test_a_cut_off_body_is_retried_like_a_reset(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    proxy.answer_next(200, tags_page(repo, ["v1.0.0", "v2.0.0"]) , match=TAGS)
    # The real registry answers the retry: the repository does not exist, so no tags.
    proxy.cut_next(match=TAGS)
    registry = client(proxy, repo)
    assert registry.tags() == ["v1.0.0", "v2.0.0"]  # the canned page came first
    assert registry.tags() == []  # cut off once, then the real (empty) answer
    assert proxy.faults_served == 2
    assert "answer was cut off" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Sign in</body></html>", "text/html"),
        (b'{"tags": ["v1", ', "application/json"),
        (b'["v1.0.0"]', "application/json"),
    ],
    ids=["html-200", "garbage-json", "not-an-object"],
)
def test_a_tag_list_that_is_not_json_is_one_error_not_retried(
    proxy: FaultProxy, body: bytes, content_type: str
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    proxy.answer_next(200, body, content_type=content_type, times=5, match=TAGS)
    with pytest.raises(http.BadAnswer) as caught:
        client(proxy, repo).tags()
    message = str(caught.value)
    assert message.startswith(f"listing tags of {proxy.address}/{repo}: the answer is not")
    assert "\n" not in message
    assert proxy.faults_served == 1


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_tag_lists_follow_every_next_link_on_the_same_host(
    proxy: FaultProxy, absolute: bool
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    base = f"http://{proxy.address}" if absolute else ""
    for page, (tags, last) in enumerate([(["v1.0.0"], "v1.0.0"), (["v1.1.0"], "v1.1.0")]):
        link = f'<{base}/v2/{repo}/tags/list?n=1&last={last}>; rel="next"'
        match = TAGS + (r"\?n=1000" if page == 0 else r".*last=v1\.0\.0")
        proxy.answer_next(200, tags_page(repo, tags), match=match, headers={"Link": link})
    proxy.answer_next(200, tags_page(repo, ["v2.0.0"]), match=r"last=v1\.1\.0")
    assert client(proxy, repo).tags() == ["v1.0.0", "v1.1.0", "v2.0.0"]
    assert proxy.pending_faults() == 0


def test_a_next_link_to_another_host_is_refused(proxy: FaultProxy) -> None:
    repo = f"{unique_name('owner')}/dojo"
    link = f'<https://elsewhere.example/v2/{repo}/tags/list?last=v1>; rel="next"'
    proxy.answer_next(200, tags_page(repo, ["v1.0.0"]), match=TAGS, headers={"Link": link})
    with pytest.raises(DojoError, match="on another host"):
        client(proxy, repo).tags()


def test_a_tls_failure_is_reported_as_tls_and_not_retried() -> None:
    # A plain-HTTP listener spoken to over https: the TLS handshake fails.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(requests.RequestException) as caught:
            http.session().get(f"https://127.0.0.1:{port}/v2/", timeout=5)
        error = http.classify(caught.value, "GET /v2/", f"127.0.0.1:{port}")
    finally:
        listener.close()
    assert isinstance(error, http.TLSError)
    assert "TLS" in str(error)
    assert "retrying cannot help" in str(error)
    assert len(accepted) == 1


# --- GitHub --------------------------------------------------------------------------------


def upsert(github_api: FakeGitHub, proxy: FaultProxy) -> ReleaseResult:
    return upsert_release(SPEC, token=github_api.token, api_url=proxy.url, policy=GITHUB_QUICK)


def test_github_answering_200_with_html_is_one_error(
    github_api: FakeGitHub, github_proxy: FaultProxy
) -> None:
    github_proxy.answer_next(
        200, b"<!DOCTYPE html><html>Sign in to GitHub</html>", content_type="text/html"
    )
    with pytest.raises(GitHubError) as caught:
        upsert(github_api, github_proxy)
    message = str(caught.value)
    assert "not a JSON object or a JSON array (text/html" in message
    assert "\n" not in message
    assert github_api.writes == []


def test_github_cut_off_bodies_are_retried(
    github_api: FakeGitHub, github_proxy: FaultProxy
) -> None:
    github_proxy.cut_next(match=r"^GET /repos/")
    result = upsert(github_api, github_proxy)
    assert result.status.value == "created"
    assert github_proxy.faults_served == 1
    assert [r["tag_name"] for r in github_api.releases] == ["v1.2.3"]


def test_github_one_byte_at_a_time_hits_the_total_deadline(
    github_api: FakeGitHub, github_proxy: FaultProxy
) -> None:
    github_proxy.slow_next(delay=0.2, times=10)
    with pytest.raises(GitHubError) as caught:
        upsert(github_api, github_proxy)
    assert "no complete answer in time (each request may take 1s)" in str(caught.value)
    assert github_api.writes == []


def test_github_over_tls_to_a_plain_server_says_tls(github_api: FakeGitHub) -> None:
    url = github_api.url.replace("http://", "https://")
    with pytest.raises(GitHubError) as caught:
        upsert_release(SPEC, token=github_api.token, api_url=url, policy=GITHUB_QUICK)
    assert "TLS with GitHub" in str(caught.value)
    assert "retrying cannot help" in str(caught.value)


def test_the_registry_client_reports_tls_failures_once_without_retrying(
    proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = client(proxy, f"{unique_name('owner')}/dojo")
    registry.base_url = f"https://{proxy.address}"  # a registry that does not speak TLS
    with pytest.raises(http.TLSError) as caught:
        registry.tags()
    assert "TLS with" in str(caught.value)
    assert "step=retry" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://bob:hunter2@reg.example/v2/x", "GET https://***@reg.example/v2/x"),
        ("realm https://auth.example/token?scope=x&access_token=abc123&n=1",
         "realm https://auth.example/token?scope=x&access_token=***&n=1"),
        ("git@github.com:acme/demo.git stays", "git@github.com:acme/demo.git stays"),
        # Presigned blob redirects (S3, GCS, Azure, CloudFront): what signs the URL is scrubbed,
        # what only describes it (algorithm, date, expiry, signed headers) stays.
        ('url="https://b.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256'
         "&X-Amz-Credential=AKIAEXAMPLE%2F20261202%2Fus-east-1%2Fs3%2Faws4_request"
         "&X-Amz-Date=20261202T000000Z&X-Amz-Expires=1200&X-Amz-Security-Token=IQoJb3Jp"
         '&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6"',
         'url="https://b.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256'
         "&X-Amz-Credential=***&X-Amz-Date=20261202T000000Z&X-Amz-Expires=1200"
         '&X-Amz-Security-Token=***&X-Amz-SignedHeaders=host&X-Amz-Signature=***"'),
        ("https://storage.googleapis.com/b/o?x-goog-algorithm=GOOG4-RSA-SHA256"
         "&x-goog-credential=sa%40p.iam&x-goog-signature=0a1b2c",
         "https://storage.googleapis.com/b/o?x-goog-algorithm=GOOG4-RSA-SHA256"
         "&x-goog-credential=***&x-goog-signature=***"),
        ("https://storage.googleapis.com/b/o?GoogleAccessId=sa&Expires=1&Signature=abc%3D",
         "https://storage.googleapis.com/b/o?GoogleAccessId=***&Expires=1&Signature=***"),
        ("https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-12-02&sp=r&sig=Zm9v%3D",
         "https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-12-02&sp=r&sig=***"),
        ("https://d1.cloudfront.net/b?Expires=1&Policy=eyJ9&Key-Pair-Id=K2&Signature=x~y",
         "https://d1.cloudfront.net/b?Expires=1&Policy=***&Key-Pair-Id=K2&Signature=***"),
        ("https://s3.amazonaws.com/b/k?AWSAccessKeyId=AKIA&Expires=1&Signature=c2ln",
         "https://s3.amazonaws.com/b/k?AWSAccessKeyId=***&Expires=1&Signature=***"),
    ],
)
def test_urls_in_logs_and_errors_are_scrubbed(text: str, expected: str) -> None:
    assert log.redact(text) == expected


def test_an_answer_larger_than_the_bound_is_refused_not_read(
    proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "MAX_BODY", 1024)
    repo = f"{unique_name('owner')}/dojo"
    proxy.answer_next(200, tags_page(repo, [f"v{n}.0.0" for n in range(500)]), match=TAGS)
    with pytest.raises(http.BadAnswer, match="larger than"):
        client(proxy, repo).tags()


def test_credentials_are_not_sent_to_a_plain_http_token_realm(proxy: FaultProxy) -> None:
    repo = f"{unique_name('owner')}/dojo"
    challenge = 'Bearer realm="http://auth.example/token",service="registry"'
    proxy.answer_next(401, b'{"errors":[]}', match=TAGS, headers={"WWW-Authenticate": challenge})
    registry = RegistryClient(proxy.address, repo, Credentials("me", "s3cret-pw"), policy=QUICK)
    with pytest.raises(DojoError, match="over plain HTTP: refusing to send them"):
        registry.tags()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (cryptography comes with PyGithub's pyjwt)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


def test_https_answers_are_read_whole_through_the_deadline_sockets(tmp_path: Path) -> None:
    """The deadline wraps TLS sockets too: big answers over kept-alive HTTPS connections."""
    cert, key = _self_signed(tmp_path)
    body = json.dumps({"tags": [f"v{n}.0.0" for n in range(20000)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = http.session(deadline=10)
        url = f"https://127.0.0.1:{server.server_address[1]}/v2/x/tags/list"
        answers = [session.get(url, verify=str(cert), timeout=10) for _ in range(3)]
        with pytest.raises(requests.RequestException) as caught:
            http.session().get(url, timeout=10)  # the system CAs do not know this certificate
    finally:
        server.shutdown()
        server.server_close()
    assert [len(a.json()["tags"]) for a in answers] == [20000] * 3
    assert isinstance(http.classify(caught.value, "GET", "127.0.0.1"), http.TLSError)


def test_a_connection_close_answer_whose_body_comes_after_its_headers_is_read_whole() -> None:
    """http.client closes a `Connection: close` connection once it has the headers; the body
    still arriving must be read, not cut off (the registry behind a proxy answers so)."""
    body = json.dumps({"tags": ["v1.0.0"] * 500}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.2)  # the headers in one packet, the body in a later one
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = http.session(deadline=10)
        url = f"http://127.0.0.1:{server.server_address[1]}/v2/x/tags/list"
        answers = [session.get(url, timeout=10) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert [len(a.json()["tags"]) for a in answers] == [500] * 3


def test_the_session_reads_the_environments_settings_as_requests_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read once per scheme and host, the proxies, NO_PROXY and the CA bundle are what requests
    itself would use for each URL."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    ours, theirs = http.session(), requests.Session()
    urls = ["http://reg.example/v2/", "https://reg.example:5000/v2/x", "https://direct.example/v2/",
            "http://reg.example/v2/again", "https://direct.example/token?scope=a"]
    for url in urls * 2:
        got = ours.merge_environment_settings(url, {}, None, None, None)
        assert got == theirs.merge_environment_settings(url, {}, None, None, None), url
        got["proxies"]["http"] = "changed by a caller"  # never changes the next answer
    proxied = ours.merge_environment_settings(urls[0], {}, None, None, None)
    assert proxied["proxies"]["http"] == "http://proxy.example:3128"
    assert proxied["verify"] == "/etc/ssl/corporate.pem"
    assert "https" not in ours.merge_environment_settings(urls[2], {}, None, None, None)["proxies"]


# --- ~/.netrc ------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers with the Authorization header it was sent; `/away` redirects to `target`."""

    seen: list[str | None]
    target = ""

    def do_GET(self) -> None:
        if self.path == "/away":
            self.send_response(307)
            self.send_header("Location", self.target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _echo_server(seen: list[str | None], target: str = "") -> ThreadingHTTPServer:
    handler = type("Echo", (_Echo,), {"seen": seen, "target": target})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("".join(f"machine {h} login someone password hunter2\n" for h in hosts))
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def test_a_netrc_entry_neither_replaces_the_clients_credentials_nor_follows_a_redirect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests lets ~/.netrc replace the Authorization header a client set (a registry's
    Bearer token became the file's Basic credentials) and adds the file's credentials for the
    host a redirect leads to; the policy's session does neither."""
    _netrc(tmp_path, monkeypatch, "127.0.0.1", "localhost")
    elsewhere: list[str | None] = []
    storage = _echo_server(elsewhere)
    here: list[str | None] = []
    registry = _echo_server(here, f"http://localhost:{storage.server_address[1]}/blob")
    try:
        base = f"http://127.0.0.1:{registry.server_address[1]}"
        session = http.session()
        session.get(f"{base}/v2/", headers={"Authorization": "Bearer the-token"}, timeout=10)
        session.get(f"{base}/away", headers={"Authorization": "Bearer the-token"}, timeout=10)
        assert requests.Session().get(f"{base}/v2/", timeout=10).ok  # the probe: requests'
    finally:
        for server in (registry, storage):
            server.shutdown()
            server.server_close()
    assert here[0] == "Bearer the-token"
    assert (here[1] or "").startswith("Basic ")  # plain requests took the netrc's for the host
    assert elsewhere == [None]  # dropped for another host, none taken from the netrc

