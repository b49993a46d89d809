"""Project settings from `[tool.release]` in `pyproject.toml`, so another project adopts the
toolkit by changing configuration, not code.

`pyproject.toml` is read and parsed once per run (`read_project` or `parse_project`); the
settings and the version both come from that one document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from release.core import changelog_discovery
from release.core.changelog_discovery import CHANGELOG_NAMES, Read
from release.errors import ConfigError

__all__ = ["CHANGELOG_NAMES", "PYPROJECT", "Project", "Settings", "load_settings"]

PYPROJECT = "pyproject.toml"
# `[tool.release] version-source` values (release.core.pyproject detects one when it is unset).
VERSION_SOURCES = ("project", "poetry", "vcs", "file:PATH")
MAX_PYPROJECT_BYTES = 16 << 20
@dataclass(frozen=True)
class Settings:
    root: Path
    changelog: Path
    branch: str = "main"  # see `branch_given`
    remote: str = "origin"
    image: str = "dojo"
    registry: str = "ghcr.io"
    version_files: tuple[Path, ...] = ()
    notes_command: str | None = None
    tag_format: str | None = None  # None: inferred from the existing tags (`v{version}` if none)
    version_source: str | None = None  # None: detected from pyproject.toml
    towncrier: bool = False  # [tool.towncrier]: towncrier writes the changelog from fragments
    changelog_given: bool = False  # named by [tool.release] changelog or [tool.towncrier]
    branch_given: bool = False  # named by [tool.release] branch
    changelog_urls: tuple[str, ...] = ()  # `[project.urls]` Changelog, History, ... links
    name: str = ""  # the project's name

    def find_changelog(self, exists: Callable[[str], bool], read: Read | None = None) -> str:
        """The changelog's path (relative, POSIX): as pyproject.toml names it, else the one
        `changelog_discovery` finds in the tree `exists` and `read` see, else CHANGELOG.md
        (whose absence the caller reports)."""
        if not self.changelog_given:
            found = changelog_discovery.find(
                self.changelog_urls, self.name, exists, read or (lambda _: None)
            )
            if found is not None:
                return self.relative(self.root / found)
        return self.relative(self.changelog)

    def with_branch(self, default_branch: Callable[[str], str | None]) -> Settings:
        """These settings with the release branch decided: as configured, else the remote's
        default branch as `default_branch(remote)` tells, else main."""
        if self.branch_given:
            return self
        return replace(self, branch=default_branch(self.remote) or "main", branch_given=True)

    def changelog_in_tree(self) -> Path:
        """`find_changelog` in the work tree."""
        return self.root / self.find_changelog(
            lambda name: (self.root / name).is_file(), lambda name: _small_text(self.root / name)
        )

    def relative(self, path: Path) -> str:
        """`path` relative to the project root, POSIX, as git names it."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass(frozen=True)
class Project:
    """`pyproject.toml`, parsed once: its text, its document and the settings it holds."""

    text: str
    document: tomlkit.TOMLDocument
    settings: Settings

    def tool(self, name: str) -> dict[str, Any]:
        """`[tool.NAME]`, or an empty table."""
        return _get_table(self.document, "tool", name)

    @property
    def name(self) -> str:
        return self.settings.name


# towncrier's own default when `[tool.towncrier] filename` is not set (reStructuredText: such a
# project is then refused by release and extract-notes, with the reason).
TOWNCRIER_FILENAME = "NEWS.rst"


def _name(document: tomlkit.TOMLDocument, root: Path) -> str:
    # Poetry 1 projects name themselves in [tool.poetry] only.
    for table in (_get_table(document, "project"), _get_table(document, "tool", "poetry")):
        name = table.get("name")
        if name:
            return str(name)
    return root.name


def _small_text(path: Path, limit: int = 1 << 20) -> str | None:
    """A small UTF-8 file of the work tree (mkdocs.yml, a docs index), or None."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
        return data.decode("utf-8") if len(data) <= limit else None
    except (OSError, UnicodeDecodeError):
        return None


def _get_table(document: tomlkit.TOMLDocument, *keys: str) -> dict[str, Any]:
    table: Any = document
    for key in keys:
        table = table.get(key) if isinstance(table, dict) else None
    return table if isinstance(table, dict) else {}


def _towncrier_filename(document: tomlkit.TOMLDocument) -> str | None:
    """The changelog towncrier writes, when pyproject.toml has `[tool.towncrier]`."""
    tool = document.get("tool")
    table = tool.get("towncrier") if isinstance(tool, dict) else None
    if table is None:
        return None
    if isinstance(table, dict) and table.get("single_file") is False:
        raise ConfigError(
            f"[tool.towncrier] single_file = false in {PYPROJECT} writes a file per release; "
            "release and extract-notes read one changelog: drop it (true is the default)"
        )
    filename = table.get("filename", TOWNCRIER_FILENAME) if isinstance(table, dict) else None
    if not isinstance(filename, str) or not filename:
        raise ConfigError(
            f"[tool.towncrier] in {PYPROJECT} must be a table whose `filename` is a non-empty "
            "string (the changelog towncrier writes): fix it"
        )
    return str(filename)


# Every key `[tool.release]` understands, with what its value must be.
KEYS = {
    "changelog": "a non-empty string",
    "branch": "a non-empty string",
    "remote": "a non-empty string",
    "image": "a non-empty string",
    "registry": "a non-empty string",
    "version-files": "a list of paths",
    "notes-command": "a string",
    "tag-format": 'a string with {version} once, such as "v{version}" or "{version}"',
    "version-source": "one of " + ", ".join(f'"{s}"' for s in VERSION_SOURCES),
}


def decode(data: bytes, name: str) -> str:
    """UTF-8 text, or a `ConfigError` that names the file and the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8 (byte {exc.start}): save it as UTF-8") from None


def read_project(root: Path) -> Project:
    """`root/pyproject.toml` from the work tree, with an error that says how to fix it."""
    path = root / PYPROJECT
    try:
        with path.open("rb") as handle:  # bounded: a link to /dev/zero must not fill memory
            data = handle.read(MAX_PYPROJECT_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"no {PYPROJECT} in {root}: run from the project's root directory"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}): fix it and retry") from None
    if len(data) > MAX_PYPROJECT_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_PYPROJECT_BYTES >> 20} MiB: that is not a "
            "pyproject.toml (a device, or the wrong file?); fix it"
        )
    return parse_project(decode(data, str(path)), root)


def parse_project(text: str, root: Path, name: str = PYPROJECT) -> Project:
    """The project whose `pyproject.toml` holds `text` (from the work tree or a commit)."""
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{name} is not valid TOML ({exc}): fix the file and retry") from None
    except Exception as exc:  # tomlkit raises others on some inputs (deep nesting, ...)
        raise ConfigError(
            f"{name} cannot be parsed as TOML ({type(exc).__name__}): fix the file and retry"
        ) from None
    return Project(text, document, _settings(document, root.resolve()))


def load_settings(root: Path) -> Settings:
    """Settings for the project at `root`; defaults apply where `[tool.release]` is silent."""
    return read_project(root).settings


def _table(document: tomlkit.TOMLDocument) -> dict[str, Any]:
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"`tool` in {PYPROJECT} must be a table: fix the file")
    table = tool.get("release", {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"[tool.release] in {PYPROJECT} must be a table (`[tool.release]` with keys "
            f"{', '.join(KEYS)}), not a {type(table).__name__.lower()}: fix it"
        )
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[tool.release] in {PYPROJECT} has unknown key(s) {', '.join(unknown)}: "
            f"the known keys are {', '.join(KEYS)}"
        )
    return dict(table)


def _str(table: dict[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[tool.release] {key} must be {KEYS[key]} in {PYPROJECT}")
    return str(value)


def _settings(document: tomlkit.TOMLDocument, root: Path) -> Settings:
    table = _table(document)
    files = table.get("version-files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f"[tool.release] version-files must be {KEYS['version-files']}")
    command = table.get("notes-command")
    if command is not None and not isinstance(command, str):
        raise ConfigError(f"[tool.release] notes-command must be {KEYS['notes-command']}")
    tag_format = table.get("tag-format")
    if tag_format is not None:
        tag_format = _str(table, "tag-format", "")
    source = table.get("version-source")
    if source is not None and not (
        source in VERSION_SOURCES[:-1]
        or (isinstance(source, str) and source.startswith("file:") and source[5:].strip())
    ):
        raise ConfigError(f"[tool.release] version-source must be {KEYS['version-source']}")
    news = _towncrier_filename(document)
    changelog = _str(table, "changelog", news or "CHANGELOG.md")
    if news is not None and Path(changelog) != Path(news):
        raise ConfigError(
            f"[tool.release] changelog is {changelog} but towncrier writes {news} "
            f"([tool.towncrier] filename): drop one of them or make them the same file"
        )
    return Settings(
        root=root,
        changelog=root / changelog,
        branch=_str(table, "branch", "main"),  # until `with_branch` decides
        remote=_str(table, "remote", "origin"),
        image=_str(table, "image", "dojo"),
        registry=_str(table, "registry", "ghcr.io"),
        version_files=tuple(root / f for f in files),
        notes_command=str(command) if command else None,
        tag_format=tag_format,
        version_source=str(source) if source is not None else None,
        towncrier=news is not None,
        changelog_given="changelog" in table or news is not None,
        branch_given="branch" in table,
        changelog_urls=changelog_discovery.changelog_urls(
            _get_table(document, "project", "urls")
        ),
        name=_name(document, root),
    )
