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
from concurrent.futures import ThreadPoolExecutor
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
from release.shell.oci.blobs import Blobs, Descriptor
from release.shell.oci.compress import GzipStream
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
SMALL_AT_ONCE = 8  # HEADs and mounts in flight at once: small requests, one round trip each
MAX_LOOKUPS = 10  # manifests read to find reusable layers


@dataclass(frozen=True)
class Manifest:
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
    """diff_id -> the registry's blob of that layer, read from the images under `tags` (in
    that order, at most `limit` manifests), until every `wanted` diff_id is found."""
    found: dict[str, Descriptor] = {}
    seen: set[str] = set()
    for tag in tags:
        if wanted <= found.keys() or len(seen) >= limit:
            break
        for manifest in _image_manifests(client, tag, seen, limit):
            _pair(client, manifest, found)
    return {diff_id: found[diff_id] for diff_id in wanted if diff_id in found}


def recent_tags(tags: Iterable[str]) -> list[str]:
    """Another repository's tags, likeliest to hold its current layers first: `latest`,
    `staging`, then the rest in reverse order (newer versions and dates sort later), without
    the OCI referrers fallback tags (`sha256-<hex>`, artifacts)."""
    present = [t for t in tags if not t.startswith("sha256-")]
    first = [t for t in ("latest", "staging") if t in present]
    return first + sorted((t for t in present if t not in first), reverse=True)


def _image_manifests(
    client: RegistryClient, ref: str, seen: set[str], limit: int
) -> Iterator[dict[str, Any]]:
    """The image manifests under `ref`: itself, or an index's entries."""
    got = client.manifest(ref)
    if got is None:
        return
    body, _ = got
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if digest in seen:
        return
    seen.add(digest)
    try:
        value = http.json_object(body, what=f"reading {client.reference}:{ref}")
    except http.BadAnswer:
        return  # not ours to judge here: nothing reusable in it
    if value.get("mediaType") in (OCI_INDEX, DOCKER_LIST) or "manifests" in value:
        for entry in value.get("manifests") or []:
            child = entry.get("digest") if isinstance(entry, dict) else None
            if isinstance(child, str) and child not in seen and len(seen) < limit:
                yield from _image_manifests(client, child, seen, limit)
    elif isinstance(value.get("config"), dict):
        yield value


def _pair(client: RegistryClient, manifest: dict[str, Any], found: dict[str, Descriptor]) -> None:
    config_digest = manifest["config"].get("digest")
    layers = manifest.get("layers")
    if not isinstance(config_digest, str) or not isinstance(layers, list):
        return
    config_bytes = client.blob(config_digest)
    if config_bytes is None:
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
        present = self._present(known)
        for source in self.mount_from:
            if wanted <= present.keys():
                break
            present |= self._mount(source, wanted - present.keys())
        manifests = [(self._image(image, present), image) for image in self.images]
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

    def _present(self, known: dict[str, Descriptor]) -> dict[str, Descriptor]:
        """The known blobs that are really in the repository (HEAD each, several at once)."""
        with ThreadPoolExecutor(SMALL_AT_ONCE, thread_name_prefix="head") as pool:
            sizes = dict(zip(known, pool.map(lambda d: self.client.blob_size(d.digest),
                                             known.values()), strict=True))
        return {diff_id: d for diff_id, d in known.items() if sizes[diff_id] is not None}

    def _mount(self, source: RegistryClient, wanted: set[str]) -> dict[str, Descriptor]:
        """The `wanted` layers found in `source`'s recent images, mounted into ours (several
        at once); a source we cannot read, or a mount refused, leaves the layer to upload."""
        try:
            found = reusable_layers(source, recent_tags(source.tags()), wanted)
        except DojoError as exc:
            log.step("mount", source=source.reference, status="skipped", reason=str(exc))
            return {}
        with ThreadPoolExecutor(SMALL_AT_ONCE, thread_name_prefix="mount") as pool:
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

    def _image(self, image: ArchiveImage, present: dict[str, Descriptor]) -> Manifest:
        missing = [layer for layer in image.layers if layer.diff_id not in present]
        todo = {layer.member: layer for layer in missing}  # one upload per distinct layer
        sent_before = self.blobs.bytes_sent
        uploaded: dict[str, Descriptor] = {}
        if image.summary.compressed and not set(todo) <= image.resume.keys():
            # One pass over the gzip'd archive; the deflate of each layer runs on every core.
            for layer, stream in layer_streams(image, set(todo)):
                uploaded[layer.diff_id] = self._upload(image, layer, stream)
        else:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="upload") as pool:
                for desc, layer in zip(
                    pool.map(lambda layer: self._upload(image, layer, None), todo.values()),
                    todo.values(), strict=True,
                ):
                    uploaded[layer.diff_id] = desc
        config = Descriptor(OCI_CONFIG, self.blobs.put(image.config, what="uploading the config"),
                            len(image.config))
        layers = [present.get(layer.diff_id) or uploaded[layer.diff_id] for layer in image.layers]
        log.step("blobs", platform=str(image.platform), image=image.image_id,
                 layers=len(image.layers), reused=len(image.layers) - len(missing),
                 mounted=sum(layer.diff_id in self.mounted for layer in image.layers),
                 uploaded=len(todo), bytes=self.blobs.bytes_sent - sent_before, status="ok")
        return image_manifest(config, layers)

    def _upload(self, image: ArchiveImage, layer: Layer, first: Readable | None) -> Descriptor:
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

        done = self.blobs.upload(source, what=what, before_commit=check)
        return Descriptor(OCI_LAYER_GZIP, done.digest, done.size)


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
