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
KNOWN_KEYS = (
    "changelog", "branch", "remote", "image", "registry", "version-files", "notes-command"
)


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

    @classmethod
    def defaults(cls, root: Path) -> Settings:
        """What applies where pyproject.toml says nothing (or cannot be read)."""
        return cls(root=root, changelog=root / "CHANGELOG.md")


def read_pyproject(root: Path) -> tomlkit.TOMLDocument:
    """Parse `root/pyproject.toml`, with an error that says how to fix a missing or broken one."""
    path = root / PYPROJECT
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no {PYPROJECT} in {root}: run from the project's root directory"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}): fix it and retry") from None
    return parse_pyproject(data, str(path))


def parse_pyproject(data: bytes, name: str) -> tomlkit.TOMLDocument:
    """`data` (a pyproject.toml's bytes) parsed; one-line errors for bytes that are not UTF-8
    or text that is not TOML. Every app reads pyproject.toml through here."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{name} is not UTF-8 (byte {exc.start}): save it as UTF-8 (TOML requires it)"
        ) from None
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{name} is not valid TOML ({exc}): fix the file and retry") from None
    except Exception as exc:  # tomlkit raises others on some inputs (deep nesting, ...)
        raise ConfigError(
            f"{name} cannot be parsed as TOML ({type(exc).__name__}): fix the file and retry"
        ) from None


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
    if not isinstance(tool, dict):
        raise ConfigError(f"`tool` in {PYPROJECT} must be a table ([tool.release] ...): fix it")
    release = tool.get("release", {})
    if not isinstance(release, dict):
        raise ConfigError(
            f"[tool.release] in {PYPROJECT} must be a table (`[tool.release]` with keys "
            f"{', '.join(KNOWN_KEYS)}), not a {type(release).__name__.lower()}: fix it"
        )
    table: dict[str, Any] = dict(release)
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"[tool.release] in {PYPROJECT} has unknown key(s) {', '.join(unknown)}: "
            f"the known keys are {', '.join(KNOWN_KEYS)}"
        )
    files = table.get("version-files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f"[tool.release] version-files must be a list of paths in {PYPROJECT}")
    command = table.get("notes-command")
    if command is not None and not isinstance(command, str):
        raise ConfigError(f"[tool.release] notes-command must be a string in {PYPROJECT}")
    return Settings(
        root=root,
        changelog=root / _str(table, "changelog", "CHANGELOG.md"),
        branch=_str(table, "branch", "master"),
        remote=_str(table, "remote", "origin"),
        image=_str(table, "image", "dojo"),
        registry=_str(table, "registry", "ghcr.io"),
        version_files=tuple(root / f for f in files),
        notes_command=str(command) if command else None,
    )
