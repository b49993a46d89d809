"""A CycloneDX SBOM of a Nix closure, from Nix's own data.

The input is what Nix exports for a derivation's `exportReferencesGraph` (with structured
attributes): per store path its NAR hash, NAR size and references. Each path becomes one
component: name and version as `builtins.parseDrvName` splits the path's name, the NAR hash as
its SHA-256, and the `nix:` properties nixpkgs documents for CycloneDX (doc/interoperability/
cyclonedx.md: `nix:store_path`, `nix:narinfo:*`); the references become the dependency graph.
Nothing is guessed from file contents. The output is reproducible: no timestamp, no random
serial number, components in store-path order.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SPEC_VERSION = "1.6"
NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"  # Nix's base-32 alphabet (no e, o, u, t)
_STORE_NAME = re.compile(r"^[0-9a-df-np-sv-z]{32}-(?P<name>.+)$")


class ClosureError(ValueError):
    """The closure data is not what Nix exports."""


@dataclass(frozen=True)
class StorePath:
    """A Nix store path of the image's closure, as Nix exports it."""

    path: str
    nar_hash: str  # as Nix gives it: sha256:<nix32>, sha256:<hex> or sha256-<base64>
    nar_size: int
    references: tuple[str, ...]
    deriver: str | None = None
    ca: str | None = None

    @property
    def name(self) -> str:
        base = self.path.rstrip("/").rsplit("/", 1)[-1]
        match = _STORE_NAME.match(base)
        return match.group("name") if match else base


def parse_drv_name(name: str) -> tuple[str, str]:
    """`builtins.parseDrvName`: the version starts after the first `-` not followed by a
    letter (`python3.13-requests-2.32.3` -> `python3.13-requests`, `2.32.3`)."""
    for index, char in enumerate(name):
        if char == "-" and index + 1 < len(name) and not name[index + 1].isalpha():
            return name[:index], name[index + 1 :]
    return name, ""


def sha256_hex(nar_hash: str) -> str:
    """The hex digest of a Nix SHA-256 hash in any of Nix's spellings."""
    algo, sep, value = nar_hash.partition(":")
    if not sep:
        algo, sep, value = nar_hash.partition("-")
        if sep and algo == "sha256":
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError:
                raw = b""
            if len(raw) == 32:
                return raw.hex()
    if algo != "sha256":
        raise ClosureError(f"NAR hash {nar_hash!r} is not a SHA-256 hash")
    if re.fullmatch(r"[0-9a-f]{64}", value):
        return value
    if len(value) == 52 and all(c in NIX32 for c in value):
        return _nix32_decode(value, 32).hex()
    raise ClosureError(f"NAR hash {nar_hash!r} is neither base-32, hex nor SRI")


def _nix32_decode(text: str, size: int) -> bytes:
    """Nix's base-32 (least significant digit last, 5 bits per digit)."""
    out = bytearray(size)
    for n in range(len(text)):
        digit = NIX32.index(text[len(text) - n - 1])
        bit = n * 5
        i, j = divmod(bit, 8)
        out[i] |= (digit << j) & 0xFF
        carry = digit >> (8 - j)
        if i < size - 1:
            out[i + 1] |= carry
        elif carry:
            raise ClosureError(f"base-32 hash {text!r} is too long for {size} bytes")
    return bytes(out)


def read_closure(entries: object) -> list[StorePath]:
    """`exportReferencesGraph`'s list (structured attributes) as store paths."""
    if not isinstance(entries, list) or not entries:
        raise ClosureError("the closure is not a non-empty list of store paths")
    paths = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ClosureError(f"closure entry {str(entry)[:80]} is not an object")
        path, nar_hash, size = entry.get("path"), entry.get("narHash"), entry.get("narSize")
        refs = entry.get("references") or []
        if not (isinstance(path, str) and path.startswith("/") and isinstance(nar_hash, str)
                and isinstance(size, int) and isinstance(refs, list)
                and all(isinstance(r, str) for r in refs)):
            raise ClosureError(
                f"closure entry {str(entry)[:120]} lacks path, narHash, narSize or references"
            )
        deriver, ca = entry.get("deriver"), entry.get("ca")
        paths.append(StorePath(path, nar_hash, size, tuple(sorted(refs)),
                               deriver if isinstance(deriver, str) and deriver else None,
                               ca if isinstance(ca, str) and ca else None))
    return sorted(paths, key=lambda p: p.path)


def _component(path: StorePath, kind: str) -> dict[str, Any]:
    name, version = parse_drv_name(path.name)
    properties = [
        ("nix:store_path", path.path),
        ("nix:narinfo:store_path", path.path),
        ("nix:narinfo:nar_hash", path.nar_hash),
        ("nix:narinfo:nar_size", str(path.nar_size)),
        ("nix:narinfo:references", " ".join(path.references)),
    ]
    if path.deriver:
        properties.append(("nix:narinfo:deriver", path.deriver))
    if path.ca:
        properties.append(("nix:narinfo:ca", path.ca))
    component: dict[str, Any] = {"type": kind, "bom-ref": path.path, "name": name}
    if version:
        component["version"] = version
    component["hashes"] = [{"alg": "SHA-256", "content": sha256_hex(path.nar_hash)}]
    component["properties"] = [{"name": k, "value": v} for k, v in properties]
    return component


def closure_sbom(closure: Sequence[StorePath], root: str) -> dict[str, Any]:
    """The CycloneDX document of `closure`, whose top is the store path `root`."""
    by_path = {p.path: p for p in closure}
    if root not in by_path:
        raise ClosureError(f"{root} is not in the closure it should be the top of")
    known = set(by_path)
    dependencies = [
        {"ref": p.path, "dependsOn": [r for r in p.references if r != p.path and r in known]}
        for p in closure
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "component": _component(by_path[root], "application"),
            "properties": [{"name": "cdx:reproducible", "value": "true"}],
        },
        "components": [_component(p, "library") for p in closure if p.path != root],
        "dependencies": dependencies,
    }
