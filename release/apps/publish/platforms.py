"""The per-platform publish of a multi-runner build: each platform's runner pushes its image
under its own immutable tag (`--platform-only`), a last job assembles the index from them
(`--from-platform-tags`) and then applies the usual tags and the GitHub Release.

Images cannot travel between CI jobs, but they can travel through the registry: the tag
`<sha12>-<os>-<arch>` names one platform's image of one commit, and never moves (like the
SHA tag).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.apps.publish.context import Context
from release.errors import DojoError, UsageError
from release.shell.oci.archive import ImageArchive, Platform
from release.shell.oci.push import DOCKER_MANIFEST, OCI_MANIFEST, Manifest
from release.shell.registry import RegistryClient, index_identity

REVISION_LABEL = "org.opencontainers.image.revision"
_PART = re.compile(r"^[a-z0-9]+$")


def platform_tag(sha: str, platform: Platform) -> str:
    """`0123456789ab-linux-arm64` (`-v8` appended for a variant): one platform of one commit."""
    return "-".join((sha[:12], platform.os, platform.architecture,
                     *((platform.variant,) if platform.variant else ())))


def parse_platforms(value: str) -> tuple[Platform, ...]:
    """`linux/amd64,linux/arm64` (OS/ARCH[/VARIANT], comma-separated) as platforms."""
    found: list[Platform] = []
    for item in value.split(","):
        parts = item.strip().split("/")
        if not 2 <= len(parts) <= 3 or not all(_PART.match(p) for p in parts):
            raise UsageError(
                f"--from-platform-tags: {item.strip()!r} is not a platform: give OS/ARCH[/VARIANT] "
                "in lower case, comma-separated, such as linux/amd64,linux/arm64"
            )
        platform = Platform(*parts)
        if platform in found:
            raise UsageError(f"--from-platform-tags names {platform} twice: name each once")
        found.append(platform)
    return tuple(found)


def read_platform_images(
    ctx: Context, registry: RegistryClient, platforms: Sequence[Platform]
) -> tuple[list[tuple[Manifest, Platform]], ImageArchive]:
    """Each platform's manifest under its tag, checked (present, one image of that platform,
    built from this commit), and what the plan sees of them: one multi-platform image."""
    manifests: list[tuple[Manifest, Platform]] = []
    configs: list[tuple[str, Mapping[str, str]]] = []
    for platform in platforms:
        tag = platform_tag(ctx.sha, platform)
        ref = f"{registry.reference}:{tag}"
        manifest, config_digest, labels = _read_one(registry, ref, tag, platform)
        revision = labels.get(REVISION_LABEL, "")
        if not revision.startswith(ctx.sha):
            raise DojoError(
                f"{ref} is an image of revision {revision or '(no ' + REVISION_LABEL + ' label)'}"
                f", not of this commit {ctx.sha}: re-run that platform's job for this commit; "
                "nothing was pushed"
            )
        manifests.append((manifest, platform))
        configs.append((config_digest, labels))
    shared = {
        key: value for key, value in configs[0][1].items()
        if all(labels.get(key) == value for _, labels in configs)
    }
    summary = ImageArchive(
        path=Path(f"{registry.reference}:{platform_tag(ctx.sha, platforms[0])}"),
        image_id=index_identity(digest for digest, _ in configs),
        repo_tags=(),
        labels=shared,
        layers=len(manifests),
    )
    return manifests, summary


def _read_one(
    registry: RegistryClient, ref: str, tag: str, platform: Platform
) -> tuple[Manifest, str, dict[str, str]]:
    found = registry.manifest(tag)
    if found is None:
        raise DojoError(
            f"{ref} is missing: the {platform} image of this commit was not pushed (run `publish "
            f"--via registry --platform-only` on a {platform} runner first); nothing was pushed"
        )
    body, header_type = found
    try:
        value = json.loads(body)
        media_type = str(value.get("mediaType") or header_type)
        config_digest = value["config"]["digest"]
        if media_type not in (OCI_MANIFEST, DOCKER_MANIFEST) or not isinstance(config_digest, str):
            raise TypeError(media_type)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DojoError(
            f"{ref} is not one image's manifest: per-platform tags are pushed by `publish "
            "--platform-only` only; delete the tag and re-run that platform's job"
        ) from None
    blob = registry.blob(config_digest)
    try:
        config = json.loads(blob or b"null")
        labels = {str(k): str(v) for k, v in
                  ((config.get("config") or {}).get("Labels") or {}).items()}
        actual = Platform(str(config["os"]), str(config["architecture"]),
                          config.get("variant") or None)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DojoError(
            f"{ref}: its image config {config_digest} is missing or unreadable: re-run that "
            "platform's job; nothing was pushed"
        ) from None
    if actual != platform:
        raise DojoError(
            f"{ref} is a {actual} image, not {platform}: delete the tag and re-run the "
            f"{platform} job; nothing was pushed"
        )
    return Manifest(body, media_type), config_digest, labels
