"""The image through the Docker daemon: load the docker-archive (`oci.archive` reads it), tag it,
push it.

The archive is what `dockerTools.buildLayeredImage` writes (gzip'd or not): layer tars, the
config `<sha256>.json` and `manifest.json`. Loading, tagging and pushing go through the Docker
Engine API with the Docker SDK; registry credentials travel in the API's `X-Registry-Auth`
header, never in argv or on disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import requests

from release import log
from release.errors import DojoError
from release.shell.oci.archive import ArchiveImage, docker_archive
from release.shell.registry import Credentials, credential_hint
from release.shell.retry import DEFAULT, Backoff, TransientError, retrying

if TYPE_CHECKING:
    import docker

VERSION_LABEL = "org.opencontainers.image.version"
MAX_IMAGES = 20  # the daemon's images of the repository asked what layers they are made of
# Push errors that no retry can fix: the daemon reports them as text only.
_PERMANENT = (
    "unauthorized", "authentication required", "no basic auth credentials", "denied",
    "forbidden", "not found",
)


class Engine:
    """The Docker daemon named by `DOCKER_HOST` (or the default socket)."""

    def __init__(self, *, timeout: float = 600, policy: Backoff = DEFAULT) -> None:
        # The Docker SDK only where the daemon is used: `--via registry` and re-runs that
        # push nothing never load it.
        import docker  # noqa: PLC0415

        self.policy = policy
        self.errors = docker.errors
        try:
            self.client: docker.DockerClient = docker.from_env(timeout=int(timeout))
            self.client.ping()
        except (self.errors.DockerException, requests.RequestException) as exc:
            raise DojoError(
                f"cannot reach the Docker daemon ({_first_line(exc)}): start it or set DOCKER_HOST"
            ) from None

    def close(self) -> None:
        self.client.close()

    def has_image(self, image_id: str) -> bool:
        try:
            self.client.images.get(image_id)
        except self.errors.ImageNotFound:
            return False
        return True

    def load(self, path: Path) -> frozenset[str]:
        """`docker load` the archive at `path` (streamed from disk); the loaded image IDs."""
        try:
            with path.open("rb") as data:
                images = self.client.images.load(data)
        except (self.errors.DockerException, requests.RequestException) as exc:
            raise DojoError(f"docker load of {path} failed: {_first_line(exc)}") from None
        return frozenset(str(image.id) for image in images)

    def load_stream(self, chunks: Iterable[bytes], *, what: str) -> frozenset[str]:
        """`docker load` of a docker-archive sent as `chunks`; the loaded image IDs."""
        try:
            # The SDK hands the body to requests, which streams an iterable (chunked).
            images = self.client.images.load(cast(Any, chunks))
        except (self.errors.DockerException, requests.RequestException) as exc:
            raise DojoError(f"docker load of {what} failed: {_first_line(exc)}") from None
        return frozenset(str(image.id) for image in images)

    def layer_chains(self, repository: str, limit: int = MAX_IMAGES) -> list[tuple[str, ...]]:
        """The layers (diff_ids, base first) of the daemon's images of `repository` (tagged
        or pushed there: the previous builds), at most `limit` of them; empty when there are
        none or the daemon cannot say (then nothing is left out of a load). Nix images all say
        they were created in 1970: the repository, not the date, finds the previous build."""

        def ours(summary: dict[str, Any]) -> bool:
            names = [*(summary.get("RepoTags") or ()), *(summary.get("RepoDigests") or ())]
            return any(str(n).rpartition("@")[0] == repository
                       or str(n).rpartition(":")[0] == repository for n in names)

        try:
            found = []
            for summary in [s for s in self.client.api.images() if ours(s)][:limit]:
                rootfs = self.client.images.get(summary["Id"]).attrs.get("RootFS") or {}
                found.append(tuple(str(d) for d in rootfs.get("Layers") or ()))
        except (self.errors.DockerException, requests.RequestException, KeyError, TypeError,
                AttributeError):
            return []
        return found

    def push(
        self, image_id: str, repository: str, tag: str, credentials: Credentials | None
    ) -> str:
        """Tag `image_id` as `repository:tag`, push it (retrying transient faults), return
        the manifest digest the registry accepted."""
        try:
            self.client.images.get(image_id).tag(repository, tag)
        except self.errors.DockerException as exc:
            raise DojoError(f"docker tag {repository}:{tag} failed: {_first_line(exc)}") from None
        return retrying(
            lambda: self._push_once(repository, tag, credentials),
            what=f"pushing {repository}:{tag}",
            policy=self.policy,
        )

    def _push_once(self, repository: str, tag: str, credentials: Credentials | None) -> str:
        # Always explicit: with no auth the SDK sends whatever `docker login` left in the
        # Docker config, behind `step=credentials source=anonymous`. `{}` is anonymous.
        auth = credentials.auth_config() if credentials else {}
        digest: str | None = None
        try:
            # The SDK does not raise on push errors: every streamed line must be checked.
            stream: Iterator[dict[str, Any]] = self.client.images.push(
                repository, tag, stream=True, decode=True, auth_config=auth
            )
            for line in stream:
                error = line.get("errorDetail", {}).get("message") or line.get("error")
                if error:
                    _raise_push_error(repository, tag, str(error))
                aux = line.get("aux")
                if isinstance(aux, dict) and aux.get("Tag") == tag and aux.get("Digest"):
                    digest = str(aux["Digest"])
        except self.errors.APIError as exc:
            _raise_push_error(repository, tag, _first_line(exc))
        except requests.RequestException as exc:
            raise TransientError(
                f"lost the Docker daemon's push stream: {_first_line(exc)}"
            ) from None
        if digest is None:
            raise TransientError(f"push of {repository}:{tag} ended without a digest")
        return digest


def _raise_push_error(repository: str, tag: str, message: str) -> None:
    text = f"push of {repository}:{tag} failed: {message}"
    if any(word in message.lower() for word in _PERMANENT):
        host = repository.split("/", 1)[0]
        raise DojoError(f"{text}: {credential_hint(host)}, and the repository name")
    raise TransientError(text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def known_prefix(diff_ids: Sequence[str], chains: Iterable[Sequence[str]]) -> int:
    """How many of an image's first layers (`diff_ids`, base first) the daemon has as a chain:
    a layer is stored under its whole chain below it, so only a shared prefix is reusable."""
    best = 0
    for chain in chains:
        shared = 0
        for ours, theirs in zip(diff_ids, chain, strict=False):
            if ours != theirs:
                break
            shared += 1
        best = max(best, shared)
    return best


class Preload:
    """`docker load` started in a thread while the archive is read and the plan is made.

    Started only when a push is certain (the SHA tag is not in the registry yet), so a
    re-run that finds every tag up to date never loads anything. The thread asks the daemon
    which layers its images of the repository (the previous builds) are made of; with none,
    the archive file is sent as it is, while it is read here. Else, once the archive is read
    (`give` hands it over), the layers the daemon has are left out of what is sent (it reuses
    a layer it stores without opening the file, so a one-layer change loads one layer, not the
    whole archive); a daemon that refuses the short archive gets the whole file.
    """

    def __init__(self, engine: Callable[[], Engine], path: Path, repository: str) -> None:
        self.path = path
        self.repository = repository  # where the image goes: the daemon's previous builds
        self._image: Future[ArchiveImage | None] = Future()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docker-load")
        self._engine: Engine | None = None
        self._logged: list[dict[str, object]] = []  # what the load did, logged when it is used
        self._future: Future[frozenset[str]] = self._pool.submit(self._run, engine)
        self._pool.shutdown(wait=False)

    def give(self, image: ArchiveImage | None) -> None:
        """The archive's image, read meanwhile (None: load nothing after all)."""
        if not self._image.done():
            self._image.set_result(image)

    def _run(self, engine: Callable[[], Engine]) -> frozenset[str]:
        self._engine = docker = engine()
        chains = docker.layer_chains(self.repository)
        if not chains:  # no previous build here: the whole file, at once, while it is read
            self._logged.append({"daemon_has": 0, "status": "ok",
                                 "reason": "no image of the repository"})
            return docker.load(self.path)
        image = self._image.result()
        if image is None:
            return frozenset()
        total = len(image.layers)
        known = known_prefix([layer.diff_id for layer in image.layers], chains)
        if known:
            try:
                loaded = docker.load_stream(
                    docker_archive(image, known), what=f"{total - known} layers of {self.path}"
                )
            except DojoError as exc:
                self._logged.append({"layers": total, "daemon_has": known, "status": "refused",
                                     "reason": str(exc), "then": "loading the whole archive"})
            else:
                if image.image_id in loaded:
                    self._logged.append({"layers": total, "daemon_has": known,
                                         "sent": total - known, "status": "ok"})
                    return loaded
        self._logged.append({"layers": total, "daemon_has": 0, "sent": total, "status": "ok"})
        return docker.load(self.path)

    def result(self) -> tuple[Engine, frozenset[str]]:
        """Wait for the load: the engine it used and the image IDs it loaded."""
        ids = self._future.result()
        assert self._engine is not None
        while self._logged:
            log.step("preload", None, **self._logged.pop(0))
        return self._engine, ids

    def discard(self) -> None:
        """Wait for an unused load to end (its errors no longer matter) and close."""
        self.give(None)
        with contextlib.suppress(Exception):
            self._future.result()
        if self._engine is not None:
            self._engine.close()
