"""Real containers infrastructure for tests and benchmarks, all on loopback in temporary dirs.

- `running_dockerd()`: a Docker daemon on a unix socket (vfs, no iptables, no bridge).
- `running_registry()`: CNCF distribution (`docker-registry serve`) on 127.0.0.1, optionally
  with htpasswd (bcrypt) auth.
- `FaultProxy`: an HTTP proxy on loopback (in front of a registry or the fake GitHub) that can
  answer chosen requests with an HTTP error, a reset, any body (HTML, garbage JSON), or relay
  the real answer one byte at a time or cut off half-way.
- `make_archive()`: a docker-archive in `dockerTools.buildLayeredImage`'s layout (layers,
  then the config `<sha>.json`, then `manifest.json`), gzip'd or not, with labels.

The pytest fixtures at the bottom start the daemon and the registries once per session.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.tools import require_tool

DOCKER_TOOLS = ("dockerd", "docker", "docker-registry")
# What the registry may hold under a tag: Docker's schema 2 (docker push) or OCI (--via registry).
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
MTIME = 1  # what buildLayeredImage uses (1970-01-01T00:00:01Z)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {timeout:g} s")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Docker daemon -------------------------------------------------------------------------


@dataclass(frozen=True)
class Daemon:
    root: Path
    host: str  # unix:///tmp/dk.XXXX/docker.sock
    config_dir: Path  # DOCKER_CONFIG for clients of this daemon

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.config_dir)}


@contextlib.contextmanager
def running_dockerd(timeout: float = 60) -> Iterator[Daemon]:
    """Start a private dockerd (stopped and wiped afterwards)."""
    # Short path: unix socket paths are limited to 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="dk.", dir="/tmp"))
    sock = root / "docker.sock"
    config_dir = root / "config"
    config_dir.mkdir()
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            "dockerd",
            "--data-root", str(root / "data"),
            "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "pid"),
            "--host", f"unix://{sock}",
            "--storage-driver", "vfs",
            "--iptables=false", "--ip6tables=false", "--bridge=none",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    daemon = Daemon(root=root, host=f"unix://{sock}", config_dir=config_dir)
    try:
        import docker

        def ready() -> bool:
            client = docker.DockerClient(base_url=daemon.host, timeout=5)
            try:
                return bool(client.ping())
            finally:
                client.close()

        _wait(ready, "dockerd", timeout, proc)
        yield daemon
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


# --- OCI registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    root: Path
    address: str  # 127.0.0.1:PORT
    user: str | None = None
    password: str | None = None

    def url(self) -> str:
        return f"http://{self.address}"

    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.user and self.password else None

    def tags(self, repository: str) -> list[str]:
        """The registry's own answer, independent of the code under test."""
        resp = requests.get(
            f"{self.url()}/v2/{repository}/tags/list", auth=self.auth(), timeout=10
        )
        if resp.status_code == 404:
            return []
        resp.raise_for_status()
        return sorted(resp.json().get("tags") or [])

    def _manifest(self, method: str, repository: str, tag: str) -> requests.Response | None:
        resp = requests.request(
            method,
            f"{self.url()}/v2/{repository}/manifests/{tag}",
            auth=self.auth(),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
            timeout=10,
        )
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp

    def digest(self, repository: str, tag: str) -> str | None:
        resp = self._manifest("HEAD", repository, tag)
        return None if resp is None else resp.headers["Docker-Content-Digest"]

    def config_digest(self, repository: str, tag: str) -> str | None:
        resp = self._manifest("GET", repository, tag)
        return None if resp is None else str(resp.json()["config"]["digest"])


@contextlib.contextmanager
def running_registry(
    *, user: str | None = None, password: str | None = None, timeout: float = 30
) -> Iterator[Registry]:
    """Start `docker-registry serve` on a free loopback port (htpasswd auth if user given)."""
    root = Path(tempfile.mkdtemp(prefix="reg."))
    port = free_port()
    auth = ""
    if user and password:
        import bcrypt

        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{user}:{hashed}\n")
        auth = f"auth: {{ htpasswd: {{ realm: test, path: {root / 'htpasswd'} }} }}\n"
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log: { level: warn }\n"
        f"storage: {{ filesystem: {{ rootdirectory: {root / 'data'} }}, "
        "delete: { enabled: true } }\n"
        f"http: {{ addr: 127.0.0.1:{port} }}\n" + auth
    )
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    registry = Registry(root=root, address=f"127.0.0.1:{port}", user=user, password=password)
    try:
        _wait(
            lambda: requests.get(f"{registry.url()}/v2/", timeout=2).status_code in (200, 401),
            "docker-registry",
            timeout,
            proc,
        )
        yield registry
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


# --- Fault-injecting proxy -----------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected fault: what the proxy does to one matching request."""

    kind: str  # "status", "reset", "answer", "slow" or "cut"
    pattern: re.Pattern[str] | None = None
    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0  # "slow": pause between bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class FaultProxy:
    """A loopback HTTP proxy to `upstream` (a registry, the fake GitHub) that can fail requests.

    Every request is inspected: the proxy asks upstream to close the connection after each
    answer (`Connection: close`), so a kept-alive client opens a new connection per request.
    When a pending fault's pattern matches the request line (`PUT /v2/x/manifests/t HTTP/1.1`),
    the proxy, by the fault's kind:
    - `status`: answers `HTTP/1.1 <status>` with a registry-style JSON error and closes;
    - `reset`: resets the connection (TCP RST, no answer);
    - `answer`: answers the given status, content type and body (HTML 200, garbage JSON);
    - `slow`: relays upstream's answer one byte at a time, `delay` seconds apart;
    - `cut`: relays upstream's answer without the second half of its body (the headers still
      announce the whole length), then closes: a body cut off half-way.
    Anything that is not plain HTTP (Docker probes TLS first) is relayed untouched.
    """

    upstream: tuple[str, int]
    address: str = ""
    connections: int = 0
    faults_served: int = 0
    requests_seen: list[str] = field(default_factory=list)
    bytes_up: int = 0  # bytes relayed from clients to upstream (heads and bodies)
    heads_seen: list[bytes] = field(default_factory=list)  # every request head, headers too
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self) -> FaultProxy:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        self._server = server
        self.address = f"127.0.0.1:{server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            # close() alone leaves the socket listening while the accept thread is blocked in
            # accept(): the port stays taken by a proxy nobody stops, and a later server bound
            # to port 0 with SO_REUSEADDR (the fake GitHub) can share it and lose its requests.
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._server.close()
            self._server = None

    def _add(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    @staticmethod
    def _compile(match: str | None) -> re.Pattern[str] | None:
        return re.compile(match) if match else None

    def fail_next(self, status: int = 503, times: int = 1, match: str | None = None) -> None:
        """Fail the next `times` requests whose request line matches `match` (any, if None)
        with HTTP `status`; status 0 resets the connection instead."""
        kind = "reset" if status == 0 else "status"
        self._add(Fault(kind, self._compile(match), status=status), times)

    def answer_next(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        times: int = 1,
        match: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next matching requests with this status, content type and body."""
        fault = Fault(
            "answer", self._compile(match), status=status, body=body,
            content_type=content_type, headers=tuple((headers or {}).items()),
        )
        self._add(fault, times)

    def slow_next(self, delay: float = 0.05, times: int = 1, match: str | None = None) -> None:
        """Relay the next matching answers one byte every `delay` seconds."""
        self._add(Fault("slow", self._compile(match), delay=delay), times)

    def cut_next(self, times: int = 1, match: str | None = None) -> None:
        """Relay the next matching answers with the second half of the body missing."""
        self._add(Fault("cut", self._compile(match)), times)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _accept(self) -> None:
        while self._server is not None:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _take_fault(self, request_line: str) -> Fault | None:
        with self._lock:
            self.requests_seen.append(request_line)
            for index, fault in enumerate(self._faults):
                if fault.pattern is None or fault.pattern.search(request_line):
                    del self._faults[index]
                    self.faults_served += 1
                    return fault
        return None

    @staticmethod
    def _close_after(head: bytes) -> bytes:
        """The request head, asking upstream to close the connection after its answer."""
        lines = head.split(b"\r\n")
        kept = [
            line for line in lines[1:]
            if not line.lower().startswith((b"connection:", b"keep-alive:"))
        ]
        return b"\r\n".join([lines[0], b"Connection: close", *kept])

    def _handle(self, conn: socket.socket) -> None:
        head = b""
        conn.settimeout(30)
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                head += chunk
                if not head[:1].isalpha():
                    break  # not plain HTTP (Docker probes TLS first): relay as is
        plain = head[:1].isalpha() and b"\r\n\r\n" in head
        if plain:
            with self._lock:
                self.heads_seen.append(head.partition(b"\r\n\r\n")[0])
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        fault = self._take_fault(request_line) if plain else None
        if fault is not None and fault.kind in ("status", "reset", "answer"):
            self._answer(conn, fault)
            return
        if plain:
            request_head, _, rest = head.partition(b"\r\n\r\n")
            head = self._close_after(request_head) + b"\r\n\r\n" + rest
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.sendall(head)
            with self._lock:
                self.bytes_up += len(head)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        conn.settimeout(None)
        if fault is not None:
            self._mangle(conn, upstream, fault)
            return

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while chunk := src.recv(262144):
                    dst.sendall(chunk)
                    if dst is upstream:
                        with self._lock:
                            self.bytes_up += len(chunk)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
        back.start()
        pipe(conn, upstream)
        back.join(120)
        conn.close()
        upstream.close()

    def _answer(self, conn: socket.socket, fault: Fault) -> None:
        with conn, contextlib.suppress(OSError):
            if fault.kind == "reset":
                # SO_LINGER 0: close() sends RST, the client sees "connection reset".
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            body = fault.body
            reason = "OK" if fault.kind == "answer" and fault.status < 400 else "Injected Fault"
            if fault.kind == "status":
                body = b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}'
            extra = "".join(f"{k}: {v}\r\n" for k, v in fault.headers)
            conn.sendall(
                f"HTTP/1.1 {fault.status} {reason}\r\nContent-Type: {fault.content_type}\r\n"
                f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n".encode()
                + body
            )

    def _mangle(self, conn: socket.socket, upstream: socket.socket, fault: Fault) -> None:
        """Relay upstream's whole answer slowly, or cut off."""
        with conn, upstream, contextlib.suppress(OSError):
            # The request body (if any) arrived with the head or follows it: relay it on.
            threading.Thread(target=self._drain, args=(conn, upstream), daemon=True).start()
            answer = b""
            while chunk := upstream.recv(262144):
                answer += chunk
            if fault.kind == "cut":
                head, _, body = answer.partition(b"\r\n\r\n")
                conn.sendall(head + b"\r\n\r\n" + body[: len(body) // 2])
            else:
                for index in range(len(answer)):
                    conn.sendall(answer[index : index + 1])
                    time.sleep(fault.delay)
            # shutdown, not only close: the drain thread still blocks in recv on `conn`.
            conn.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _drain(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(262144):
                dst.sendall(chunk)


# --- docker-archives -----------------------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    path: Path
    image_id: str  # sha256:<config digest>
    diff_ids: tuple[str, ...]
    repo_tag: str
    labels: Mapping[str, str]


def _tar_bytes(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = MTIME
            info.mode = 0o444
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def make_archive(
    path: Path,
    *,
    layers: Sequence[Mapping[str, bytes]],
    labels: Mapping[str, str] | None = None,
    repo_tag: str = "dojo:latest",
    compress: bool = False,
    compresslevel: int = 9,
    architecture: str = "amd64",
) -> Archive:
    """Write a docker-archive laid out like `buildLayeredImage`'s output (optionally gzip'd)."""
    layer_tars = [_tar_bytes(files) for files in layers]
    checksums = [hashlib.sha256(data).hexdigest() for data in layer_tars]
    config = {
        "created": "1970-01-01T00:00:01+00:00",
        "architecture": architecture,
        "os": "linux",
        "config": {"Labels": dict(labels or {}), "Cmd": ["/bin/true"]},
        "rootfs": {"diff_ids": [f"sha256:{c}" for c in checksums], "type": "layers"},
        "history": [{"created": "1970-01-01T00:00:01+00:00"} for _ in checksums],
    }
    config_bytes = json.dumps(config, indent=4).encode()
    config_sha = hashlib.sha256(config_bytes).hexdigest()
    manifest = [
        {
            "Config": f"{config_sha}.json",
            "RepoTags": [repo_tag],
            "Layers": [f"{c}/layer.tar" for c in checksums],
        }
    ]
    raw: io.BufferedWriter | gzip.GzipFile
    with open(path, "wb") as out:
        raw = (
            gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=compresslevel)
            if compress
            else out
        )
        with tarfile.open(fileobj=raw, mode="w|") as tar:
            for checksum, data in zip(checksums, layer_tars, strict=True):
                _add(tar, f"{checksum}/layer.tar", data)
            _add(tar, f"{config_sha}.json", config_bytes)
            _add(tar, "manifest.json", json.dumps(manifest, indent=4).encode())
        if compress:
            raw.close()
    return Archive(
        path=path,
        image_id=f"sha256:{config_sha}",
        diff_ids=tuple(f"sha256:{c}" for c in checksums),
        repo_tag=repo_tag,
        labels=dict(labels or {}),
    )


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = MTIME
    tar.addfile(info, io.BytesIO(data))


def tiny_layers(seed: str, count: int = 2) -> list[dict[str, bytes]]:
    """A few KB of layers whose content depends on `seed` (different seed: different image)."""
    return [
        {f"layer{i}/data.txt": f"{seed} layer {i}\n".encode() * 16} for i in range(count)
    ]


def unique_name(prefix: str = "dojo") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- pytest fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Daemon]:
    """One Docker daemon for the whole session (it takes a few seconds to start)."""
    require_tool(*DOCKER_TOOLS)
    with running_dockerd() as daemon:
        yield daemon


@pytest.fixture(scope="session")
def oci_registry() -> Iterator[Registry]:
    """An anonymous registry on 127.0.0.1; use a unique repository name per test."""
    require_tool("docker-registry")
    with running_registry() as registry:
        yield registry


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[Registry]:
    """A registry with htpasswd (bcrypt) auth; credentials in `.user` / `.password`."""
    require_tool("docker-registry")
    with running_registry(user="dojo-bot", password=f"pw-{uuid.uuid4().hex}") as registry:
        yield registry


@pytest.fixture
def fault_proxy(oci_registry: Registry) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of `oci_registry`."""
    host, port = oci_registry.address.split(":")
    proxy = FaultProxy(upstream=(host, int(port))).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def docker_env(dockerd: Daemon, monkeypatch: pytest.MonkeyPatch) -> Daemon:
    """Point the process at the session daemon, with no GitHub or registry env leaking in."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "DOJO_", "DOCKER_")) and name != "DOJO_REQUIRE_TOOLS":
            monkeypatch.delenv(name, raising=False)
    for key, value in dockerd.env().items():
        monkeypatch.setenv(key, value)
    return dockerd
