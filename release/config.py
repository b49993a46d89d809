"""Project settings from `[tool.release]` in `pyproject.toml`, so another project adopts the
toolkit by changing configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from release.errors import ConfigError

PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Settings:
    root: Path
    changelog: Path
    branch: str = "master"
    remote: str = "origin"
    image: str = "dojo"
    registry: str = "ghcr.io"
    version_files: tuple[Path, ...] = ()
    notes_command: str | None = None
    tag_format: str | None = None  # None: inferred from the existing tags (`v{version}` if none)
    version_source: str | None = None  # None: detected from pyproject.toml

    @classmethod
    def defaults(cls, root: Path) -> Settings:
        """What applies where pyproject.toml says nothing (or cannot be read)."""
        return cls(root=root, changelog=root / "CHANGELOG.md")


def read_pyproject(root: Path) -> tomlkit.TOMLDocument:
    """Parse `root/pyproject.toml`, with an error that says how to fix a missing or broken one."""
    path = root / PYPROJECT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no {PYPROJECT} in {root}: run from the project's root directory"
        ) from None
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix the file and retry") from None


def _str(table: dict[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[tool.release] {key} must be a non-empty string in {PYPROJECT}")
    return str(value)


def load_settings(root: Path) -> Settings:
    """Settings for the project at `root`; defaults apply where `[tool.release]` is silent."""
    root = root.resolve()
    doc = read_pyproject(root)
    tool = doc.get("tool", {})
    table: dict[str, Any] = dict(tool.get("release", {})) if isinstance(tool, dict) else {}
    files = table.get("version-files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f"[tool.release] version-files must be a list of paths in {PYPROJECT}")
    command = table.get("notes-command")
    if command is not None and not isinstance(command, str):
        raise ConfigError(f"[tool.release] notes-command must be a string in {PYPROJECT}")
    optional: dict[str, str | None] = {}
    for key in ("tag-format", "version-source"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"[tool.release] {key} must be a non-empty string in {PYPROJECT}")
        optional[key] = str(value) if value is not None else None
    return Settings(
        root=root,
        changelog=root / _str(table, "changelog", "CHANGELOG.md"),
        branch=_str(table, "branch", "master"),
        remote=_str(table, "remote", "origin"),
        image=_str(table, "image", "dojo"),
        registry=_str(table, "registry", "ghcr.io"),
        version_files=tuple(root / f for f in files),
        notes_command=str(command) if command else None,
        tag_format=optional["tag-format"],
        version_source=optional["version-source"],
    )
