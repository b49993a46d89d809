"""`publish --via registry`: the plan's pushes carried out without a Docker daemon.

The plan, the checks before and after each push and the GitHub Release are the same as on the
Docker path (`execute`); only the executor of pushes differs (`release.shell.oci`). This module
decides what that executor needs from the plan: which tags to mine for layers the registry
already has, and the annotations of a multi-platform index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from release.apps.publish.plan import LATEST, STAGING, Plan
from release.core.tagformat import TagFormat
from release.errors import DojoError, UsageError
from release.shell.image import VERSION_LABEL
from release.shell.oci.archive import ArchiveImage, ImageArchive, read_image
from release.shell.oci.push import RegistryPusher
from release.shell.registry import RegistryClient, index_identity

# The image labels an index repeats as its own annotations (GHCR shows an index's only).
INDEX_ANNOTATIONS = (
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.version",
    "org.opencontainers.image.description",
)


def reuse_candidates(plan: Plan, tags: Sequence[str]) -> list[str]:
    """The registry tags most likely to share layers with this build, best first: this build's
    own (a re-run), `staging` (the release branch's last image), `latest`, then the releases,
    newest first, then the rest."""
    present = set(tags)
    fmt = plan.context.tag_format or TagFormat()
    releases = sorted(
        ((version, tag) for tag in tags if (version := fmt.parse(tag)) is not None),
        reverse=True,
    )
    order = [step.tag for step in plan.tags] + [STAGING, LATEST] + [t for _, t in releases]
    # The rest, but not the OCI referrers fallback tags (`sha256-<hex>`): they list artifacts.
    order += sorted((t for t in present - set(order) if not t.startswith("sha256-")),
                    reverse=True)
    return [t for t in dict.fromkeys(order) if t in present]


def index_annotations(summary: ImageArchive) -> dict[str, str]:
    """The index's annotations: the labels every platform's image agrees on."""
    return {key: summary.labels[key] for key in INDEX_ANNOTATIONS if summary.labels.get(key)}


def read_images(paths: Sequence[Path]) -> tuple[list[ArchiveImage], ImageArchive]:
    """The archives to publish, and what the plan sees of them: one image, or (several) one
    multi-platform image whose ID is `index_identity` of theirs and whose labels they share."""
    images = [read_image(path) for path in paths]
    if len(images) == 1:
        return images, images[0].summary
    by_platform: dict[str, Path] = {}
    for image in images:
        other = by_platform.setdefault(str(image.platform), image.path)
        if other != image.path:
            raise UsageError(
                f"{other} and {image.path} are both {image.platform} images: pass one archive "
                "per platform with --image"
            )
    labels = {}
    for key in sorted({k for image in images for k in image.summary.labels}):
        values = {image.summary.labels.get(key) for image in images}
        if len(values) == 1 and (value := values.pop()) is not None:
            labels[key] = value
        elif key == VERSION_LABEL:
            shown = ", ".join(f"{i.platform}: {i.summary.labels.get(key)}" for i in images)
            raise DojoError(
                f"the platforms' images disagree on {VERSION_LABEL} ({shown}): build every "
                "platform from the same commit"
            )
    first = images[0].summary
    summary = ImageArchive(
        path=first.path,
        image_id=index_identity(image.image_id for image in images),
        repo_tags=first.repo_tags,
        labels=labels,
        layers=sum(image.summary.layers for image in images),
        compressed=first.compressed,
    )
    return images, summary


def registry_pusher(
    plan: Plan, images: Sequence[ArchiveImage], registry: RegistryClient
) -> RegistryPusher:
    ctx = plan.context
    return RegistryPusher(
        registry,
        images,
        candidates=lambda: reuse_candidates(
            plan, list(plan.registry_tags) if plan.registry_tags is not None else registry.tags()
        ),
        annotations=index_annotations(plan.archive) if len(images) > 1 else None,
        mount_from=[RegistryClient(ctx.registry, repository, ctx.credentials)
                    for repository in ctx.mount_from],
    )
