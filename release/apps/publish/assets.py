"""`publish --asset PATH` (and the `--sbom` file on a tag build): the GitHub Release's assets,
checked before anything is pushed (regular files, one name each)."""

from __future__ import annotations

import stat
from pathlib import Path

from release.apps.publish.sbom import asset_name
from release.errors import DojoError
from release.shell.github_assets import Asset


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
        if name in assets:
            raise DojoError(
                f"two release assets are named {name} ({assets[name].path} and "
                f"{path}): a release holds one asset per name; rename one"
            )
        assets[name] = Asset(path=path, name=name, size=info.st_size)
    return tuple(assets.values())
