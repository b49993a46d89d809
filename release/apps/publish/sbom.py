"""`publish --sbom PATH`: the image's SBOM, attached to the pushed image in the registry.

Read and checked before anything is pushed; attached after every tag is verified, on either
executor of pushes (the artifact goes through the registry's API, `release.shell.oci`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from release import log
from release.errors import UsageError
from release.shell.files import read_text
from release.shell.oci.referrers import CYCLONEDX, attach
from release.shell.registry import RegistryClient

MAX_SBOM = 64 << 20

# A Nix store path's name: 32 characters of Nix's base32 (no e, o, u, t), a dash, the name.
_STORE_NAME = re.compile(r"[0-9a-df-np-sv-z]{32}-(?P<name>.+)")


def asset_name(path: Path) -> str:
    """The name `path` is attached under: its file name, without the hash of a Nix store path
    (`/nix/store/<hash>-dojo-1.2.3-x86_64-linux.cdx.json` -> `dojo-1.2.3-x86_64-linux.cdx.json`)."""
    match = _STORE_NAME.fullmatch(path.name)
    return match["name"] if match and path.parent.name == "store" else path.name


# Set by the flake's publish apps to `packages.<system>.sbom`; `--sbom` with no path reads it.
SBOM_ENV = "DOJO_SBOM"


class _FromApp:
    """`--sbom` given without a path (argparse's `const`: not a string, so never converted)."""


FROM_APP = _FromApp()


def sbom_path(given: Path | _FromApp | None, env: Mapping[str, str]) -> Path | None:
    """The SBOM file: `--sbom PATH`, or (`--sbom` alone, FROM_APP) the app's DOJO_SBOM."""
    if not isinstance(given, _FromApp):
        return given
    if not env.get(SBOM_ENV):
        raise UsageError(
            f"--sbom without a path attaches the SBOM `nix run .#publish` provides (${SBOM_ENV}), "
            "but it is not set: pass --sbom PATH (`nix build .#sbom`)"
        )
    return Path(env[SBOM_ENV])


def read_sbom(path: Path) -> bytes:
    """The SBOM to attach, read before anything is pushed: a CycloneDX JSON document."""
    text = read_text(path, what="--sbom", limit=MAX_SBOM)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or value.get("bomFormat") != "CycloneDX":
        raise UsageError(
            f"--sbom {path} is not a CycloneDX JSON document (no \"bomFormat\": \"CycloneDX\"): "
            "pass the SBOM `nix build .#sbom` writes"
        )
    return text.encode()


def attach_sbom(registry: RegistryClient, digest: str, data: bytes, path: Path) -> None:
    """Attach the SBOM to the image `digest` (the referrers API, or the fallback tag)."""
    done = attach(registry, digest, data, artifact_type=CYCLONEDX, title=asset_name(path))
    log.step("sbom", subject=digest, digest=done.digest, via=done.via, status="ok")
