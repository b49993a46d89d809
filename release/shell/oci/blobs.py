"""Blob uploads to an OCI registry: chunked, resumable, checked before they are committed.

An upload is the distribution spec's chunked flow: POST opens a session, each chunk is a PATCH
with its `Content-Range`, a PUT with `?digest=` commits. Only the chunk in flight is held in
memory. When a PATCH fails half-way, the session's status (GET, `Range: 0-N`) says how much
arrived and the rest of the chunk is sent; when the session is gone the blob starts over from
its source (`Restart`). A blob is committed only after `before_commit` accepted what was read
(the layer's diff_id), so a changed archive never leaves a wrong blob under a right digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

from release import log
from release.errors import DojoError
from release.shell.registry import RegistryAuthError, RegistryClient
from release.shell.retry import GaveUp, TransientError, retrying

CHUNK = 8 << 20  # bytes per PATCH: well inside the request deadline on a slow link


class Restart(TransientError):
    """The upload session is gone: the blob is sent again from the start."""


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int

    def json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Uploaded:
    """A blob the registry holds now, and what sending it cost."""

    digest: str
    size: int
    sent: int = 0  # bytes over the wire for it, resends included (0: the registry had it)


class Blobs:
    """Uploads into one repository of one registry (the client's)."""

    def __init__(self, client: RegistryClient, *, chunk: int | None = None) -> None:
        self.client = client
        self.chunk = chunk or CHUNK
        self.bytes_sent = 0  # over the wire, resends included
        self._lock = threading.Lock()

    @property
    def _uploads(self) -> str:
        return f"/v2/{self.client.repository}/blobs/uploads/"

    def put(self, data: bytes, *, what: str) -> str:
        """Upload a small blob (a config, an SBOM) in one request; its digest."""
        return self.put_counted(data, what=what).digest

    def put_counted(self, data: bytes, *, what: str) -> Uploaded:
        """`put`, saying how many bytes it sent (none when the registry has the blob)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.client.blob_size(digest) is not None:
            return Uploaded(digest, len(data))

        def once() -> None:
            location = self._start(what)
            self._commit(location, digest, data, what)

        retrying(once, what=what, policy=self.client.policy)
        self._count(len(data))
        return Uploaded(digest, len(data), len(data))

    def _count(self, sent: int) -> None:
        with self._lock:  # uploads run in several threads
            self.bytes_sent += sent

    def mount(self, digest: str, source: str) -> str | None:
        """Mount blob `digest` from repository `source` of the same registry (no bytes sent).
        None: mounted; else why not (the caller uploads it instead). A 201 is believed only for
        the digest asked: naming another (or none), the blob must be seen here (HEAD)."""
        what = f"mounting blob {digest} from {source}"
        try:
            resp = self.client.request(
                "POST", f"{self._uploads}?mount={digest}&from={source}", what=what,
                absent_ok=True,
            )
        except RegistryAuthError as exc:
            return f"not allowed ({exc})"
        except DojoError as exc:  # a mount is a shortcut: an outage of it leaves the upload
            return str(exc)
        if resp is None:
            return "the registry answered HTTP 404"
        if resp.status_code == 201:
            accepted = resp.headers.get("Docker-Content-Digest")
            if accepted == digest or self.client.blob_size(digest) is not None:
                return None
            return f"the registry answered 201 for {accepted or 'no digest'}, and has no {digest}"
        if resp.status_code == 202 and resp.headers.get("Location"):
            # Declined (the source lacks it, or the registry does not mount): the session it
            # opened instead is given back; the layer is uploaded as any other.
            self._cancel(urljoin(resp.url, resp.headers["Location"]))
        return f"the registry declined (HTTP {resp.status_code})"

    def upload(
        self,
        source: Callable[[int], Iterable[bytes]],
        *,
        what: str,
        before_commit: Callable[[], None] = lambda: None,
    ) -> Uploaded:
        """Upload the bytes `source(attempt)` yields (attempt 0 first, then after a `Restart`),
        chunk by chunk; returns the committed digest and size."""
        attempts = self.client.policy.attempts
        for attempt in range(attempts):
            try:
                return self._upload_once(source(attempt), what, before_commit)
            except Restart as exc:
                if attempt + 1 == attempts:
                    raise GaveUp(
                        f"{what} failed {attempts} times in a row ({exc}): the registry keeps "
                        "dropping the upload; re-run the job later (publishing is safe to repeat)"
                    ) from None
                log.step("retry", what=what, attempt=f"{attempt + 1}/{attempts}",
                         reason=f"{exc}: sending the blob again")
        raise AssertionError("unreachable")

    def _upload_once(
        self, pieces: Iterable[bytes], what: str, before_commit: Callable[[], None]
    ) -> Uploaded:
        # The first chunk is read (and compressed) while the session is opened, the next
        # while this one is on the wire.
        chunks = _Chunks(pieces, self.chunk)
        try:
            location = self._start(what)
        except BaseException:
            chunks.close()
            raise
        sha = hashlib.sha256()
        offset = sent = 0
        try:
            for data in chunks:
                location, wire = self._patch(location, data, offset, what)
                chunks.sent()
                sha.update(data)
                offset += len(data)
                sent += wire
            before_commit()
        except DojoError:
            chunks.close()  # before the session goes: nothing sends to it any more
            self._cancel(location)
            raise
        finally:
            chunks.close()
        digest = "sha256:" + sha.hexdigest()
        try:
            self._commit(location, digest, b"", what)
        except TransientError as exc:
            # The commit may have landed with its answer lost: the registry says.
            if self.client.blob_size(digest) != offset:
                raise Restart(f"{what}: committing the upload failed ({exc})") from None
        return Uploaded(digest, offset, sent)

    def _start(self, what: str) -> str:
        resp = self.client.request("POST", self._uploads, what=what, absent_ok=False)
        assert resp is not None
        return self._location(resp, what)

    def _location(self, resp: requests.Response, what: str) -> str:
        location = resp.headers.get("Location")
        if resp.status_code != 202 or not location:
            raise DojoError(
                f"{what}: the registry answered HTTP {resp.status_code} without an upload "
                "location: it does not follow the OCI distribution spec; check its address"
            )
        return urljoin(resp.url, location)

    def _patch(self, location: str, data: bytes, offset: int, what: str) -> tuple[str, int]:
        """Send `data` at `offset`; after a transient fault, resume where the registry's
        session says it stopped. The session's next location, and the bytes sent (resends
        included)."""
        sent = wire = 0
        delays = self.client.policy.delays()
        while True:
            part = data[sent:]
            start = offset + sent
            try:
                resp = self.client.send_once(
                    "PATCH", location, what=what, data=part, absent_ok=True,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{start}-{offset + len(data) - 1}",
                        "Content-Length": str(len(part)),
                    },
                )
                if resp is None:
                    raise Restart(f"{what}: the upload session is gone (HTTP 404)")
                self._count(len(part))
                return self._location(resp, what), wire + len(part)
            except Restart:
                raise
            except TransientError as exc:
                # An upper bound: some of it may not have arrived.
                self._count(len(part))
                wire += len(part)
                delay = next(delays, None)
                if delay is None:
                    raise Restart(str(exc)) from None
                log.step("retry", what=what, delay=f"{delay:g}s", reason=str(exc),
                         resume="from the registry's offset")
                time.sleep(delay)
                received = self._received(location, what)
                if received is None or not offset <= received <= offset + len(data):
                    raise Restart(f"{what}: the registry lost the upload ({exc})") from None
                sent = received - offset

    def _received(self, location: str, what: str) -> int | None:
        """How many bytes the upload session holds (its `Range: 0-N`), None if it is gone."""
        try:
            resp = self.client.send_once("GET", location, what=what, absent_ok=True)
        except TransientError:
            return None
        if resp is None:
            return None
        first, _, last = resp.headers.get("Range", "").partition("-")
        if not first.isdigit() or not last.isdigit():
            return None
        return int(last) + 1 if int(last) > 0 else 0

    def _commit(self, location: str, digest: str, data: bytes, what: str) -> None:
        separator = "&" if "?" in location else "?"
        resp = self.client.send_once(
            "PUT", f"{location}{separator}digest={digest}", what=what, data=data,
            absent_ok=True,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        )
        if resp is None:
            raise Restart(f"{what}: the upload session is gone (HTTP 404)")
        accepted = resp.headers.get("Docker-Content-Digest")
        if accepted and accepted != digest:
            raise DojoError(
                f"{what}: the registry stored {accepted}, not the {digest} sent: the registry "
                "(or a proxy) altered the blob"
            )

    def _cancel(self, location: str) -> None:
        """Give back an upload session we will not commit (best effort)."""
        with contextlib.suppress(DojoError):
            self.client.send_once("DELETE", location, what="cancelling an upload",
                                  absent_ok=True)


_END = object()


class _Chunks:
    """The bytes of `pieces` cut into chunks of `size` (the last one shorter), read in a thread
    of their own one chunk ahead of the sender: reading and compressing the next chunk overlaps
    sending this one. At most two chunks are held (the one on the wire and the next); `sent()`
    says the one taken last is done with. An exception while reading is raised to the reader."""

    def __init__(self, pieces: Iterable[bytes], size: int) -> None:
        self._pieces = pieces
        self._size = size
        self._ready: queue.Queue[object] = queue.Queue()
        self._slots = threading.Semaphore(2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="chunks", daemon=True)
        self._thread.start()

    def _take_slot(self) -> bool:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def _read(self) -> None:
        pieces = iter(self._pieces)
        try:
            held: list[bytes] = []
            length = 0
            if not self._take_slot():
                return
            for piece in pieces:
                if self._stop.is_set():
                    return
                held.append(piece)
                length += len(piece)
                while length >= self._size:
                    # Copied once: the pieces before the last whole, the last one's head.
                    last = held.pop()
                    need = self._size - (length - len(last))
                    self._ready.put(b"".join([*held, last[:need]]))
                    rest = last[need:]
                    held, length = ([rest] if rest else []), len(rest)
                    if not self._take_slot():
                        return
            if length:
                self._ready.put(b"".join(held))
            self._ready.put(_END)
        except BaseException as exc:  # raised again in the reader's thread
            self._ready.put(exc)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # a generator's cleanup (the archive's file) runs in its own thread

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item

    def sent(self) -> None:
        self._slots.release()

    def close(self) -> None:
        """Stop reading and wait for the reading thread to end (it holds the archive)."""
        self._stop.set()
        self._slots.release()
        self._thread.join()
