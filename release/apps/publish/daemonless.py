"""`publish --via registry`: the plan's pushes carried out without a Docker daemon.

The plan, the checks before and after each push and the GitHub Release are the same as on the
Docker path (`execute`); only the executor of pushes differs (`release.shell.oci`). This module
decides what that executor needs from the plan: which tags to mine for layers the registry
already has, and the annotations of a multi-platform index.
"""

from __future__ import annotations

from collections.abc import Sequence

from release.apps.publish.plan import LATEST, STAGING, Plan
from release.core.tagformat import TagFormat
from release.shell.oci.archive import ArchiveImage
from release.shell.oci.push import RegistryPusher
from release.shell.registry import RegistryClient

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
    order += sorted(present - set(order), reverse=True)
    return [t for t in dict.fromkeys(order) if t in present]


def index_annotations(images: Sequence[ArchiveImage]) -> dict[str, str]:
    """The index's annotations: the labels every platform's image agrees on."""
    found: dict[str, str] = {}
    for key in INDEX_ANNOTATIONS:
        values = {image.summary.labels.get(key) for image in images}
        value = values.pop() if len(values) == 1 else None
        if value:
            found[key] = value
    return found


def registry_pusher(
    plan: Plan, images: Sequence[ArchiveImage], registry: RegistryClient
) -> RegistryPusher:
    return RegistryPusher(
        registry,
        images,
        candidates=lambda: reuse_candidates(plan, registry.tags()),
        annotations=index_annotations(images) if len(images) > 1 else None,
    )



