"""Push docker-archives to a registry without a Docker daemon: the daemonless executor.

Reuse needs no local cache. A layer is known by its diff_id (the digest of its uncompressed
tar, in the image config); the registry knows blobs by their compressed digest. The manifests
and configs of images already in the repository (the tags the caller names, newest first) pair
the two, so every layer the registry holds is found, HEAD-checked and referenced, and only the
rest is compressed (`compress.GzipStream`) and uploaded, several at a time. Then the manifest:
an OCI image manifest for one archive; for several, each platform's manifest by digest and an
OCI image index with the given annotations. `push(tag)` points a tag at it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.oci.archive import (
    ArchiveImage,
    Layer,
    Platform,
    Readable,
    layer_streams,
    open_layer,
)
from release.shell.oci.blobs import Blobs, Descriptor, Uploaded
from release.shell.oci.compress import GzipStream
from release.shell.parallel import AT_ONCE
from release.shell.registry import RegistryClient

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Layer blobs a manifest of ours may reference, by the media type found in the registry.
_REUSABLE = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip": OCI_LAYER_GZIP,
    OCI_LAYER_GZIP: OCI_LAYER_GZIP,
    "application/vnd.oci.image.layer.v1.tar+zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.v1.tar": "application/vnd.oci.image.layer.v1.tar",
}
CONCURRENCY = 4  # layers uploaded at once from a plain archive
SMALL_AT_ONCE = AT_ONCE  # HEADs and mounts in flight at once: small requests, one round trip each
MAX_LOOKUPS = 10  # manifests read to find reusable layers


@dataclass(frozen=True)
class Manifest:
    """A manifest as pushed: its bytes and media type."""

    body: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.body).hexdigest()


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, indent=2).encode()


def image_manifest(config: Descriptor, layers: Sequence[Descriptor]) -> Manifest:
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.json(),
        "layers": [layer.json() for layer in layers],
    }
    return Manifest(_dumps(body), OCI_MANIFEST)


def image_index(
    manifests: Sequence[tuple[Manifest, Platform]], annotations: Mapping[str, str]
) -> Manifest:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": m.media_type, "digest": m.digest, "size": len(m.body),
             "platform": platform.descriptor()}
            for m, platform in manifests
        ],
    }
    if annotations:
        body["annotations"] = dict(sorted(annotations.items()))
    return Manifest(_dumps(body), OCI_INDEX)


def reusable_layers(
    client: RegistryClient, tags: Iterable[str], wanted: set[str], *, limit: int = MAX_LOOKUPS
) -> dict[str, Descriptor]:
    """diff_id -> the registry's blob of that layer, read from the images under `tags` (the
    earlier a tag, the more it counts; at most `limit` manifests), until every `wanted`
    diff_id is found.

    The first tag is read alone: it is usually the previous build, holding nearly every layer.
    If layers are still missing (a changed layer is in none of them), the other tags' manifests,
    then their configs, are read several at once: a round trip each, not one per tag."""
    found: dict[str, Descriptor] = {}
    seen: set[str] = set()
    refs = list(tags)
    with ThreadPoolExecutor(SMALL_AT_ONCE, thread_name_prefix="lookup") as pool:
        for batch in (refs[:1], refs[1:]):
            if wanted <= found.keys() or len(seen) >= limit:
                break
            manifests = _image_manifests(client, batch, seen, limit, pool)
            configs = list(pool.map(lambda m: _config_of(client, m), manifests))
            for manifest, config in zip(manifests, configs, strict=True):
                _pair(manifest, config, found)
    return {diff_id: found[diff_id] for diff_id in wanted if diff_id in found}


def recent_tags(tags: Iterable[str]) -> list[str]:
    """Another repository's tags, likeliest to hold its current layers first: `latest`,
    `staging`, then the rest in reverse order (newer versions and dates sort later), without
    the OCI referrers fallback tags (`sha256-<hex>`, artifacts)."""
    present = [t for t in tags if not t.startswith("sha256-")]
    first = [t for t in ("latest", "staging") if t in present]
    return first + sorted((t for t in present if t not in first), reverse=True)


def _image_manifests(
    client: RegistryClient, refs: Sequence[str], seen: set[str], limit: int,
    pool: ThreadPoolExecutor,
) -> list[dict[str, Any]]:
    """The image manifests under `refs`, in their order: each itself, or an index's entries
    (read a level at a time, several at once; at most `limit` manifests in `seen`)."""
    found: list[dict[str, Any]] = []
    level = list(refs)
    while level and len(seen) < limit:
        got = list(pool.map(client.manifest, level[: limit - len(seen)]))
        children: list[str] = []
        for ref, item in zip(level, got, strict=False):
            if item is None or len(seen) >= limit:
                continue
            body = item[0]
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                value = http.json_object(body, what=f"reading {client.reference}:{ref}")
            except http.BadAnswer:
                continue  # not ours to judge here: nothing reusable in it
            if value.get("mediaType") in (OCI_INDEX, DOCKER_LIST) or "manifests" in value:
                for entry in value.get("manifests") or []:
                    child = entry.get("digest") if isinstance(entry, dict) else None
                    if isinstance(child, str) and child not in seen:
                        children.append(child)
            elif isinstance(value.get("config"), dict):
                found.append(value)
        level = list(dict.fromkeys(children))
    return found


def _config_of(client: RegistryClient, manifest: dict[str, Any]) -> bytes | None:
    digest = manifest["config"].get("digest")
    return client.blob(digest) if isinstance(digest, str) else None


def _pair(manifest: dict[str, Any], config_bytes: bytes | None,
          found: dict[str, Descriptor]) -> None:
    layers = manifest.get("layers")
    if config_bytes is None or not isinstance(layers, list):
        return
    try:
        config = json.loads(config_bytes)
        diff_ids = config["rootfs"]["diff_ids"]
    except (ValueError, KeyError, TypeError):
        return
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
        return
    for diff_id, layer in zip(diff_ids, layers, strict=True):
        if not isinstance(layer, dict) or not isinstance(diff_id, str):
            continue
        media_type = _REUSABLE.get(str(layer.get("mediaType")))
        digest, size = layer.get("digest"), layer.get("size")
        if media_type and isinstance(digest, str) and isinstance(size, int):
            found.setdefault(diff_id, Descriptor(media_type, digest, size))


class RegistryPusher:
    """Uploads what the registry lacks of `images`, then points tags at their manifest (one
    image) or index (several); `candidates()` names the tags to look for reusable layers in."""

    def __init__(
        self,
        client: RegistryClient,
        images: Sequence[ArchiveImage],
        *,
        candidates: Callable[[], Sequence[str]],
        annotations: Mapping[str, str] | None = None,
        concurrency: int = CONCURRENCY,
        mount_from: Sequence[RegistryClient] = (),
    ) -> None:
        self.client = client
        self.images = tuple(images)
        self.candidates = candidates
        self.annotations = dict(annotations or {})
        self.concurrency = concurrency
        self.mount_from = tuple(mount_from)
        self.blobs = Blobs(client)
        self.mounted: set[str] = set()  # diff_ids mounted from another repository
        self._top: Manifest | None = None

    @property
    def manifest(self) -> Manifest:
        assert self._top is not None, "prepare() first"
        return self._top

    def prepare(self) -> None:
        wanted = {layer.diff_id for image in self.images for layer in image.layers}
        known = reusable_layers(self.client, self.candidates(), wanted)
        with ThreadPoolExecutor(SMALL_AT_ONCE, thread_name_prefix="small") as small, \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="upload") as pool:
            # At once: (no mount source to ask first) the uploads of the layers no image in the
            # registry has, the longest work, started first; the configs; the HEADs of the known
            # layers.
            uploads: dict[str, tuple[Future[Uploaded], str]] = {}  # diff_id -> (upload, image)
            if not self.mount_from:
                self._start(known.keys(), uploads, pool, early=True)
            configs = [small.submit(self._config, image) for image in self.images]
            heads = {diff_id: small.submit(self.client.blob_size, desc.digest)
                     for diff_id, desc in known.items()}
            try:
                present = {diff_id: desc for diff_id, desc in known.items()
                           if heads[diff_id].result() is not None}
                for source in self.mount_from:
                    if wanted <= present.keys():
                        break
                    present |= self._mount(source, wanted - present.keys(), small)
                self._start(present.keys(), uploads, pool)
                manifests = [
                    (self._image(image, present, uploads, config.result()), image)
                    for image, config in zip(self.images, configs, strict=True)
                ]
            except BaseException:
                pending: list[Future[Any]] = [*configs, *heads.values()]
                for future in [*pending, *(upload for upload, _ in uploads.values())]:
                    future.cancel()  # what has not started yet; the rest ends before we do
                raise
        if len(manifests) == 1:
            self._top = manifests[0][0]
            return
        for manifest, image in manifests:
            self._put(manifest.digest, manifest, platform=str(image.platform))
        self._top = image_index([(m, image.platform) for m, image in manifests],
                                self.annotations)

    def push(self, tag: str) -> str:
        """Point `tag` at the manifest (or index); the digest it now names."""
        self._put(tag, self.manifest)
        return self.manifest.digest

    def close(self) -> None:
        """Close the mount sources' clients (the repository's own belongs to the caller)."""
        for source in self.mount_from:
            source.close()

    def _put(self, ref: str, manifest: Manifest, platform: str | None = None) -> None:
        self.client.put_manifest(ref, manifest.body, manifest.media_type, verb="pushing")
        if platform is not None:  # a tag's own push is logged by the caller (`step=push`)
            log.step("manifest", platform=platform, digest=manifest.digest, status="ok")

    def _mount(
        self, source: RegistryClient, wanted: set[str], pool: ThreadPoolExecutor
    ) -> dict[str, Descriptor]:
        """The `wanted` layers found in `source`'s recent images, mounted into ours (several
        at once); a source we cannot read, or a mount refused, leaves the layer to upload."""
        try:
            found = reusable_layers(source, recent_tags(source.tags()), wanted)
        except DojoError as exc:
            log.step("mount", source=source.reference, status="skipped", reason=str(exc))
            return {}
        refused = list(pool.map(
            lambda d: self.blobs.mount(d.digest, source.repository), found.values()))
        mounted = {}
        for (diff_id, desc), reason in zip(found.items(), refused, strict=True):
            if reason is None:
                mounted[diff_id] = desc
            else:
                log.step("mount", source=source.reference, blob=desc.digest, status="refused",
                         reason=reason, then="uploaded")
        self.mounted |= mounted.keys()
        log.step("mount", source=source.reference, found=len(found), mounted=len(mounted),
                 status="ok")
        return mounted

    def _config(self, image: ArchiveImage) -> tuple[Descriptor, int]:
        """The image's config in the repository, and the bytes that took."""
        done = self.blobs.put_counted(image.config, what="uploading the config")
        return Descriptor(OCI_CONFIG, done.digest, done.size), done.sent

    def _start(
        self,
        skip: Iterable[str],
        uploads: dict[str, tuple[Future[Uploaded], str]],
        pool: ThreadPoolExecutor,
        *,
        early: bool = False,
    ) -> None:
        """Start uploading every layer not in `skip` nor started yet, each from the first image
        that has it. A gzip'd archive some of whose layers can only be reached by inflating it
        from the start is read in one pass instead (`_one_pass`), all its layers at once: not
        `early`, when the HEADs may still add layers to that pass."""
        skipped = set(skip)
        for image in self.images:
            todo: dict[str, Layer] = {}
            for layer in image.layers:
                if layer.diff_id not in skipped and layer.diff_id not in uploads:
                    todo.setdefault(layer.diff_id, layer)
            if not todo:
                continue
            members = {layer.member for layer in todo.values()}
            if image.summary.compressed and not members <= image.resume.keys():
                if early:
                    continue
                whole = pool.submit(self._one_pass, image, list(todo.values()))
                for diff_id in todo:
                    uploads[diff_id] = (_part(whole, diff_id), image.image_id)
                continue
            for diff_id, layer in todo.items():
                uploads[diff_id] = (pool.submit(self._upload, image, layer, None), image.image_id)

    def _one_pass(self, image: ArchiveImage, layers: list[Layer]) -> dict[str, Uploaded]:
        # One pass over the gzip'd archive; the deflate of each layer runs on every core.
        done = {}
        for layer, stream in layer_streams(image, {layer.member for layer in layers}):
            done[layer.diff_id] = self._upload(image, layer, stream)
        return done

    def _image(
        self,
        image: ArchiveImage,
        present: dict[str, Descriptor],
        uploads: dict[str, tuple[Future[Uploaded], str]],
        config: tuple[Descriptor, int],
    ) -> Manifest:
        missing = [layer for layer in image.layers if layer.diff_id not in present]
        uploaded = {layer.diff_id: uploads[layer.diff_id][0].result() for layer in missing}
        layers = [present.get(layer.diff_id)
                  or Descriptor(OCI_LAYER_GZIP, uploaded[layer.diff_id].digest,
                                uploaded[layer.diff_id].size)
                  for layer in image.layers]
        # The uploads this image started (a layer another platform's image has too is sent
        # once, counted with the first).
        own = [done for diff_id, done in uploaded.items() if uploads[diff_id][1] == image.image_id]
        log.step("blobs", platform=str(image.platform), image=image.image_id,
                 layers=len(image.layers), reused=len(image.layers) - len(missing),
                 mounted=sum(layer.diff_id in self.mounted for layer in image.layers),
                 uploaded=len(own), bytes=sum(done.sent for done in own) + config[1],
                 status="ok")
        return image_manifest(config[0], layers)

    def _upload(self, image: ArchiveImage, layer: Layer, first: Readable | None) -> Uploaded:
        what = f"uploading layer {layer.diff_id}"
        current: list[GzipStream] = []

        def source(attempt: int) -> Iterator[bytes]:
            if attempt == 0 and first is not None:
                current[:] = [GzipStream(first)]
                yield from current[0]
                return
            with open_layer(image, layer) as stream:
                current[:] = [GzipStream(stream)]
                yield from current[0]

        def check() -> None:
            if current[0].diff_id != layer.diff_id or current[0].size != layer.size:
                raise DojoError(
                    f"layer {layer.member} of {image.path} hashes to {current[0].diff_id}, not "
                    f"the {layer.diff_id} its config names: the archive changed while "
                    "publishing (or is damaged); rebuild it and run again"
                )

        return self.blobs.upload(source, what=what, before_commit=check)


def _part(whole: Future[dict[str, Uploaded]], diff_id: str) -> Future[Uploaded]:
    """The upload of one layer of a one-pass read (`_one_pass`), as a future of its own."""
    part: Future[Uploaded] = Future()

    def done(future: Future[dict[str, Uploaded]]) -> None:
        if part.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            part.set_exception(exc)
        else:
            part.set_result(future.result()[diff_id])

    whole.add_done_callback(done)
    return part


class IndexPusher:
    """Points tags at an index of platform manifests already in the repository (pushed by
    each platform's runner): nothing to upload."""

    def __init__(
        self,
        client: RegistryClient,
        manifests: Sequence[tuple[Manifest, Platform]],
        annotations: Mapping[str, str],
    ) -> None:
        self.client = client
        self.manifest = image_index(manifests, annotations)

    def prepare(self) -> None:
        """The platforms' manifests and blobs are in the repository already."""

    def push(self, tag: str) -> str:
        self.client.put_manifest(tag, self.manifest.body, self.manifest.media_type,
                                 verb="pushing")
        return self.manifest.digest

    def close(self) -> None:
        """Nothing held."""
