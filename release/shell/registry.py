"""Read-only view of an OCI/Docker registry through its HTTP API (distribution spec v2).

Pushing goes through the Docker daemon (`release.shell.image`), or, daemonless, through
`release.shell.oci`, which sends its uploads with `send_once`. Reads come here because the Engine
API cannot list a repository's tags (needed to decide `latest`), because an independent read
makes the after-push verification an actual check rather than the pusher vouching for itself,
and because `--dry-run` then needs no daemon. `requests` (a dependency of the Docker SDK) does
the HTTP; the only hand-written part is the standard `WWW-Authenticate` challenge (Basic, or
Bearer with a token from the realm, as GHCR and Docker Hub do).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.utils import parse_dict_header

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.parallel import at_once
from release.shell.retry import DEFAULT, Backoff, TransientError, retrying

# Every manifest type we may find under a tag; the registry must not convert (schema1).
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
SINGLE_IMAGE_TYPES = MANIFEST_TYPES[1::2]
INDEX_TYPES = MANIFEST_TYPES[0::2]
MAX_PAGES = 1000  # of tag lists: a registry whose `next` links never end is broken


def credential_hint(host: str) -> str:
    """What to check when `host` refuses us: GITHUB_TOKEN is only ever sent to ghcr.io."""
    if host.split(":", 1)[0] == "ghcr.io":
        return (
            "check DOJO_REGISTRY_USER/DOJO_REGISTRY_PASSWORD (in GitHub Actions: GITHUB_ACTOR/"
            "GITHUB_TOKEN with `packages: write`)"
        )
    return (
        f"set DOJO_REGISTRY_USER/DOJO_REGISTRY_PASSWORD for {host} (the workflow's GITHUB_TOKEN "
        "is only sent to ghcr.io)"
    )


class RegistryAuthError(DojoError):
    """The registry refused our credentials or our permissions (401/403)."""


@dataclass(frozen=True)
class Credentials:
    """A registry login (the password never shown)."""

    username: str
    password: str

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"Credentials(username={self.username!r}, password='***')"

    def auth_config(self) -> dict[str, str]:
        """The Docker Engine API's auth config (sent in a header, never in argv)."""
        return {"username": self.username, "password": self.password}


@dataclass(frozen=True)
class TagState:
    """What a tag points to now: the manifest digest and the image (config) digest."""

    tag: str
    digest: str | None  # None: the tag does not exist
    image_id: str | None  # config digest (an index: `index_identity`); None when absent

    @property
    def exists(self) -> bool:
        return self.digest is not None


def index_identity(config_digests: Iterable[str]) -> str:
    """What a multi-platform image is: its platforms' image IDs (config digests), in any order.
    An index under a tag and the archives of a build are the same image when these match."""
    joined = "\n".join(sorted(config_digests))
    return "index:sha256:" + hashlib.sha256(joined.encode()).hexdigest()


def _config_digest(manifest: object) -> str | None:
    config = manifest.get("config") if isinstance(manifest, dict) else None
    digest = config.get("digest") if isinstance(config, dict) else None
    return digest if isinstance(digest, str) else None


def is_loopback(host: str) -> bool:
    """`127.0.0.1:5000`, `localhost`, `[::1]:5000`: registries Docker also talks plain HTTP to."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or "]" in host else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Reads tags and manifests of one repository (`owner/dojo`) on one registry host."""

    def __init__(
        self,
        host: str,
        repository: str,
        credentials: Credentials | None,
        *,
        timeout: float = 30,
        deadline: float = http.DEFAULT_DEADLINE,
        policy: Backoff = DEFAULT,
    ) -> None:
        self.host = host
        self.repository = repository
        self.credentials = credentials
        self.timeout = timeout
        self.policy = policy
        self.base_url = f"{'http' if is_loopback(host) else 'https'}://{host}"
        self.session = http.session(deadline, {"User-Agent": "dojo-publish"})
        self._authorization: str | None = None
        # Requests go out from several threads at once: one answers a challenge at a time,
        # and a 401 to a request sent before another thread's answer is sent again with it.
        self._auth_lock = threading.Lock()
        # Manifests read by their digest (content-addressed: they never change).
        self._by_digest: dict[str, Future[tuple[bytes, str] | None]] = {}
        self._digest_lock = threading.Lock()

    @property
    def reference(self) -> str:
        return f"{self.host}/{self.repository}"

    def close(self) -> None:
        self.session.close()

    def tag_states(self, tags: Sequence[str]) -> list[TagState]:
        """`tag_state` of each of `tags`, in order, read at once (a round trip each)."""
        return at_once(self.tag_state, tags, "tag")

    def tag_state(self, tag: str) -> TagState:
        """The digest `tag` resolves to now (absent tags give `digest=None`)."""
        resp = self._get(
            f"/v2/{self.repository}/manifests/{tag}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
            absent_ok=True,
            what=f"reading {self.reference}:{tag}",
        )
        if resp is None:
            return TagState(tag, None, None)
        body = resp.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        header = resp.headers.get("Docker-Content-Digest")
        if header and header != digest:
            raise DojoError(
                f"registry {self.host} sent {self.repository}:{tag} with digest {header} but "
                f"its content hashes to {digest}: the registry (or a proxy) altered it"
            )
        image_id: str | None = None
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            manifest: dict[str, Any] = json.loads(body)
        except ValueError:
            manifest = {}
        media_type = str(manifest.get("mediaType") or media_type)
        if media_type in SINGLE_IMAGE_TYPES:
            image_id = _config_digest(manifest)
        elif media_type in INDEX_TYPES:
            image_id = self._index_identity(manifest, tag)
        return TagState(tag, digest, image_id)

    def _index_identity(self, index: dict[str, Any], tag: str) -> str | None:
        """The `index_identity` of the images an index lists (None if one cannot be read)."""
        children = [entry.get("digest") if isinstance(entry, dict) else None
                    for entry in index.get("manifests") or []]
        if not all(isinstance(child, str) for child in children):
            return None
        got = at_once(self.manifest, [str(child) for child in children], "index")
        configs = []
        for found in got:
            if found is None:
                return None
            try:
                config = _config_digest(json.loads(found[0]))
            except ValueError:
                config = None
            if config is None:
                return None
            configs.append(config)
        return index_identity(configs) if configs else None

    def tags(self) -> list[str]:
        """Every tag of the repository (empty if the repository does not exist yet).

        Follows every `Link: <...>; rel="next"` page, relative or absolute, on this registry's
        own host only (credentials never go to another host).
        """
        what = f"listing tags of {self.reference}"
        tags: list[str] = []
        seen: set[str] = set()
        url: str | None = f"{self.base_url}/v2/{self.repository}/tags/list?n=1000"
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise DojoError(
                    f"{what}: the registry's pages do not end (page {len(seen) + 1} is {url}): "
                    "report it to the registry's operator"
                )
            seen.add(url)
            resp = self._get(url, absent_ok=True, what=what)
            if resp is None:
                return tags
            page = http.json_object(
                resp.content, what=what, content_type=resp.headers.get("Content-Type", "")
            )
            found = page.get("tags") or []
            if not isinstance(found, list) or not all(isinstance(t, str) for t in found):
                raise http.BadAnswer(f"{what}: `tags` is not a list of names: {str(found)[:80]}")
            tags.extend(found)
            url = self._next_page(resp, what)
        return tags

    def _next_page(self, resp: requests.Response, what: str) -> str | None:
        nxt = resp.links.get("next", {}).get("url")
        if not nxt:
            return None
        url = urljoin(resp.url, nxt)
        if urlsplit(url)[:2] != urlsplit(self.base_url)[:2]:
            raise DojoError(
                f"{what}: the registry sent the next page on another host ({url}): refusing to "
                "follow it (credentials stay with the registry); check the registry's address"
            )
        return url

    def manifest(self, tag: str) -> tuple[bytes, str] | None:
        """The raw manifest under `tag` (or a digest) and its media type (None if absent). A
        manifest read by digest, whose content has that digest, is read once (threads asking at
        the same time wait for the one read): it cannot change, and a run reads an index's
        platform manifests under each of its tags."""
        if not tag.startswith("sha256:"):
            return self._manifest(tag)
        with self._digest_lock:
            pending = self._by_digest.get(tag)
            mine = pending is None
            if pending is None:
                pending = self._by_digest[tag] = Future()
        if not mine:
            return pending.result()
        try:
            found = self._manifest(tag)
        except BaseException as exc:
            with self._digest_lock:
                del self._by_digest[tag]
            pending.set_exception(exc)
            raise
        if found is None or tag != "sha256:" + hashlib.sha256(found[0]).hexdigest():
            with self._digest_lock:
                del self._by_digest[tag]  # absent (it may be pushed yet), or not what it says
        pending.set_result(found)
        return found

    def _manifest(self, tag: str) -> tuple[bytes, str] | None:
        resp = self._get(
            f"/v2/{self.repository}/manifests/{tag}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
            absent_ok=True,
            what=f"reading {self.reference}:{tag}",
        )
        if resp is None:
            return None
        media_type = resp.headers.get("Content-Type", "").partition(";")[0].strip()
        return resp.content, media_type

    def put_manifest(self, tag: str, body: bytes, media_type: str, *, verb: str = "moving") -> None:
        """Point `tag` (or a digest) at the manifest `body` (its blobs are already in this
        repository)."""
        self.request(
            "PUT",
            f"/v2/{self.repository}/manifests/{tag}",
            headers={"Content-Type": media_type},
            data=body,
            absent_ok=False,
            what=f"{verb} {self.reference}:{tag}",
        )

    # --- HTTP with the auth challenge and retries ------------------------------------------

    def _get(
        self, path: str, *, what: str, headers: dict[str, str] | None = None, absent_ok: bool
    ) -> requests.Response | None:
        return self.request("GET", path, what=what, headers=headers, absent_ok=absent_ok)

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        absent_ok: bool,
    ) -> requests.Response | None:
        """`send_once`, again after a pause on a transient fault (the retry policy)."""
        return retrying(
            lambda: self.send_once(method, path, what=what, headers=headers, data=data,
                                   absent_ok=absent_ok),
            what=what,
            policy=self.policy,
        )

    def send_once(
        self,
        method: str,
        path: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        absent_ok: bool,
    ) -> requests.Response | None:
        """One request to `path` (or a URL on this registry), the auth challenge answered, not
        retried: a transient fault raises `TransientError`, 404 gives None if `absent_ok`."""
        url = path if "://" in path else self.base_url + path
        if urlsplit(url)[:2] != urlsplit(self.base_url)[:2]:
            raise DojoError(
                f"{what}: the registry sent us to another host ({url}): refusing to follow it "
                "(credentials stay with the registry); check the registry's address"
            )
        for _ in range(3):
            authorization = self._authorization
            resp = self._send(method, url, headers or {}, data, authorization)
            if resp.status_code != 401:
                break
            with self._auth_lock:
                if authorization == self._authorization and not self._answer_challenge(resp):
                    break
        return self._check(resp, what=what, absent_ok=absent_ok)

    def blob_size(self, digest: str) -> int | None:
        """The size of blob `digest` in this repository (HEAD), None if it is not there."""
        resp = self.request(
            "HEAD", f"/v2/{self.repository}/blobs/{digest}", absent_ok=True,
            what=f"looking for blob {digest} in {self.reference}",
        )
        if resp is None:
            return None
        length = resp.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else 0

    def blob(self, digest: str) -> bytes | None:
        """Blob `digest` (a config: small), checked against its digest; None if absent."""
        what = f"reading blob {digest} of {self.reference}"
        resp = self._get(f"/v2/{self.repository}/blobs/{digest}", absent_ok=True, what=what)
        if resp is None:
            return None
        actual = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        if actual != digest:
            raise DojoError(
                f"{what}: its content hashes to {actual}: the registry (or a proxy) altered it"
            )
        return resp.content

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        authorization: str | None,
    ) -> requests.Response:
        sent = dict(headers)
        if authorization:
            sent["Authorization"] = authorization
        return _transient(
            lambda: self.session.request(
                method, url, headers=sent, data=data, timeout=self.timeout
            ),
            f"{method} {url}",
            self.host,
        )

    def _answer_challenge(self, resp: requests.Response) -> bool:
        """Set the Authorization header the registry asks for; False if we cannot."""
        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, _, params_text = challenge.partition(" ")
        params: dict[str, str] = parse_dict_header(params_text)  # type: ignore[no-untyped-call]
        creds = self.credentials
        if scheme.lower() == "basic":
            if creds is None or self._authorization is not None:
                return False
            pair = f"{creds.username}:{creds.password}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode()
            return True
        if scheme.lower() != "bearer" or "realm" not in params:
            return False
        realm = urlsplit(params["realm"])
        if creds is not None and realm.scheme != "https" and not is_loopback(realm.netloc):
            raise DojoError(
                f"registry {self.host} asks for the credentials at {params['realm']}, over plain "
                "HTTP: refusing to send them; check the registry's address"
            )
        query = {"service": params.get("service", "")}
        query["scope"] = params.get("scope") or f"repository:{self.repository}:pull"
        auth = (creds.username, creds.password) if creds else None

        def fetch() -> requests.Response:
            return self.session.get(
                params["realm"], params=query, auth=auth, timeout=self.timeout
            )

        what = f"getting a token from {params['realm']}"
        token_resp = retrying(
            lambda: _check_status(_transient(fetch, f"GET {params['realm']}", params["realm"])),
            what=what,
            policy=self.policy,
        )
        if token_resp.status_code in (401, 403):
            self._raise_auth(token_resp.status_code)
        if token_resp.status_code >= 400:
            raise DojoError(
                f"{what}: answered HTTP {token_resp.status_code}: check the registry's address"
            )
        body = http.json_object(
            token_resp.content, what=what, content_type=token_resp.headers.get("Content-Type", "")
        )
        token = body.get("token") or body.get("access_token")
        if not token or not isinstance(token, str):
            raise DojoError(f"token endpoint {params['realm']} returned no token")
        log.register_secret(token)
        if self._authorization == f"Bearer {token}":
            return False
        self._authorization = f"Bearer {token}"
        return True

    def _check(
        self, resp: requests.Response, *, what: str, absent_ok: bool
    ) -> requests.Response | None:
        if resp.status_code in (401, 403):
            self._raise_auth(resp.status_code)
        if resp.status_code == 404 and absent_ok:
            return None
        _check_status(resp)
        if resp.status_code >= 400:
            raise DojoError(
                f"{what}: registry answered HTTP {resp.status_code} {_error_text(resp)}"
            )
        return resp

    def _raise_auth(self, status: int) -> None:
        who = f"user {self.credentials.username!r}" if self.credentials else "anonymous access"
        if status == 401:
            problem = (
                f"registry {self.host} rejected the credentials ({who}, HTTP 401)"
                if self.credentials
                else f"registry {self.host} requires credentials (HTTP 401)"
            )
        else:
            problem = f"registry {self.host} denied {who} access to {self.repository} (HTTP 403)"
        raise RegistryAuthError(f"{problem}: {credential_hint(self.host)}")


def _check_status(resp: requests.Response) -> requests.Response:
    if resp.status_code >= 500 or resp.status_code == 429:
        raise TransientError(f"HTTP {resp.status_code} from {resp.url}")
    return resp


def _transient(
    call: Callable[[], requests.Response], what: str, where: str
) -> requests.Response:
    try:
        return call()
    except requests.RequestException as exc:
        raise http.classify(exc, what, where) from None


def _error_text(resp: requests.Response) -> str:
    try:
        errors = http.json_object(resp.content, what="").get("errors") or []
    except http.BadAnswer:
        return resp.text[:200].replace("\n", " ")
    if not isinstance(errors, list):
        return str(errors)[:200]
    return "; ".join(
        f"{e.get('code')}: {e.get('message')}" if isinstance(e, dict) else str(e) for e in errors
    )
