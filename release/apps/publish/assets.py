"""`publish --asset PATH` (and the `--sbom` file on a tag build): the GitHub Release's assets,
checked before anything is pushed (regular files, one name each, names GitHub keeps)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from release.apps.publish.sbom import asset_name
from release.errors import DojoError
from release.shell.github_assets import Asset

# GitHub renames an asset whose name has "special characters, non-alphanumeric characters, and
# leading or trailing periods" (upload-a-release-asset), by rules it does not document: a re-run
# could not find it under its name. Names of this shape are kept as they are.
_KEPT = re.compile(r"[A-Za-z0-9_-]([A-Za-z0-9._-]*[A-Za-z0-9_-])?")


def release_assets(paths: list[Path], sbom: Path | None) -> tuple[Asset, ...]:
    assets: dict[str, Asset] = {}
    for path in [*paths, *([sbom] if sbom is not None else [])]:
        try:
            info = path.stat()
        except OSError as exc:
            raise DojoError(
                f"--asset {path} cannot be read ({exc.strerror}): pass an existing file"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise DojoError(f"--asset {path} is not a regular file: pass a file to attach")
        name = asset_name(path)
        if not _KEPT.fullmatch(name):
            raise DojoError(
                f"--asset {path}: GitHub renames an asset named {name!r} (only letters, digits, "
                "'.', '-' and '_' are kept, and no leading or trailing '.'), so a re-run could "
                "not find it: rename the file"
            )
        if name in assets:
            raise DojoError(
                f"two release assets are named {name} ({assets[name].path} and "
                f"{path}): a release holds one asset per name; rename one"
            )
        assets[name] = Asset(path=path, name=name, size=info.st_size)
    return tuple(assets.values())
