"""Attach an artifact (the SBOM) to an image already in the registry, as the OCI 1.1 spec says.

The artifact is an image manifest with an `artifactType`, the empty config, the file as its one
layer and the image as its `subject`, pushed by digest. A registry with the referrers API
answers that push with `OCI-Subject` and lists the artifact itself; for one without (CNCF
distribution 2.x, GHCR), the spec's fallback: an image index under the tag `sha256-<hex>` of
the image's digest, listing its referrers, updated by merging (other artifacts stay).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from release import log
from release.errors import DojoError
from release.shell import http
from release.shell.oci.blobs import Blobs, Descriptor
from release.shell.oci.push import OCI_INDEX, OCI_MANIFEST, Manifest
from release.shell.registry import RegistryClient

EMPTY = Descriptor("application/vnd.oci.empty.v1+json",
                   "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)
CYCLONEDX = "application/vnd.cyclonedx+json"
TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class Attached:
    """An artifact attached to an image, and how."""

    digest: str  # the artifact manifest's
    via: str  # "referrers-api" or the fallback tag


def attach(
    client: RegistryClient, subject_digest: str, data: bytes, *, artifact_type: str, title: str
) -> Attached:
    """Push `data` as an artifact referring to the manifest `subject_digest` of this repository."""
    found = client.manifest(subject_digest)
    if found is None:
        raise DojoError(
            f"{client.reference}@{subject_digest} is not in the registry: cannot attach the "
            f"{title} to it; re-run publish"
        )
    body, media_type = found
    subject = Descriptor(media_type or OCI_MANIFEST, subject_digest, len(body))
    blobs = Blobs(client)
    blobs.put(b"{}", what="uploading the empty config")
    layer = Descriptor(artifact_type, blobs.put(data, what=f"uploading the {title}"), len(data))
    value = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": EMPTY.json(),
        "layers": [{**layer.json(), "annotations": {TITLE: title}}],
        "subject": subject.json(),
    }
    artifact = Manifest(json.dumps(value, indent=2).encode(), OCI_MANIFEST)
    resp = client.request(
        "PUT", f"/v2/{client.repository}/manifests/{artifact.digest}",
        headers={"Content-Type": OCI_MANIFEST}, data=artifact.body, absent_ok=False,
        what=f"pushing the {title} of {client.reference}@{subject_digest}",
    )
    assert resp is not None
    if resp.headers.get("OCI-Subject") == subject_digest:
        return Attached(artifact.digest, "referrers-api")
    tag = subject_digest.replace(":", "-")
    entry = {"mediaType": OCI_MANIFEST, "digest": artifact.digest, "size": len(artifact.body),
             "artifactType": artifact_type, "annotations": {TITLE: title}}
    _merge_fallback(client, tag, entry)
    return Attached(artifact.digest, tag)


def _merge_fallback(client: RegistryClient, tag: str, entry: dict[str, Any]) -> None:
    """Add `entry` to the referrers index under `tag` (made if missing), keeping the rest."""
    entries: list[dict[str, Any]] = []
    found = client.manifest(tag)
    if found is not None:
        index = http.json_object(found[0], what=f"reading {client.reference}:{tag}")
        listed = index.get("manifests")
        if index.get("mediaType") != OCI_INDEX or not isinstance(listed, list):
            raise DojoError(
                f"{client.reference}:{tag} is not a referrers index (the OCI fallback tag of "
                "an image's artifacts): remove that tag or let its owner know"
            )
        entries = [e for e in listed if isinstance(e, dict)]
    if any(e.get("digest") == entry["digest"] for e in entries):
        log.step("referrers", tag=tag, status="unchanged")
        return
    index_body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*entries, entry]}
    client.put_manifest(tag, json.dumps(index_body, indent=2).encode(), OCI_INDEX,
                        verb="pushing the referrers of")
    log.step("referrers", tag=tag, status="ok", artifacts=len(entries) + 1)
