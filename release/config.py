"""Project settings from `[tool.release]` in `pyproject.toml`, so another project adopts the
toolkit by changing configuration, not code.

`pyproject.toml` is read and parsed once per run (`project_in_work_tree`, or release's
`project_at_head`, both through `parse_project`); the settings and the version both come from
that one document. What the file declares (`Declared`) is resolved once into the `Settings` in
force (changelog found, branch decided): no value there is a placeholder for a later call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from release.core import changelog_discovery, tagformat
from release.core.changelog_discovery import Read
from release.errors import ConfigError

PYPROJECT = "pyproject.toml"
# A setuptools project may keep its metadata here instead of (or beside) pyproject.toml.
LEGACY_FILES = ("setup.cfg", "setup.py")
# `[tool.release] version-source` values (release.core.pyproject detects one when it is unset).
VERSION_SOURCES = ("project", "poetry", "vcs", "file:PATH")
MAX_PYPROJECT_BYTES = 16 << 20
@dataclass(frozen=True)
class Declared:
    """What `pyproject.toml` itself says, checked; None where it is silent (the run decides)."""

    changelog: str | None  # [tool.release] changelog, or [tool.towncrier] filename
    branch: str | None  # [tool.release] branch
    remote: str = "origin"
    image: str = "dojo"
    registry: str = "ghcr.io"
    version_files: tuple[str, ...] = ()
    notes_command: str | None = None
    tag_format: str | None = None  # validated: None means inferred from the existing tags
    version_source: str | None = None  # None: detected from the build backend's settings
    towncrier: bool = False  # [tool.towncrier]: towncrier writes the changelog from fragments
    changelog_urls: tuple[str, ...] = ()  # `[project.urls]` Changelog, History, ... links
    name: str = ""  # the project's name ([project] or [tool.poetry]; else the folder's)


# Whether a project file exists (in the work tree, or in the commit a run releases).
Exists = Callable[[str], bool]
# The remote's default branch, as a clone knows it (None: it does not tell).
DefaultBranch = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Settings:
    """The settings a run uses, every one decided: nothing here changes later."""

    root: Path
    changelog: str  # relative to the root, POSIX (absolute when a link leads outside it)
    changelog_given: bool  # named by [tool.release] changelog or [tool.towncrier]
    branch: str
    branch_given: bool  # named by [tool.release] branch
    remote: str
    image: str
    registry: str
    version_files: tuple[str, ...]  # relative to the root, POSIX
    notes_command: str | None
    tag_format: str | None  # None: inferred from the existing tags (`v{version}` if none)
    version_source: str | None  # None: detected from the build backend's settings
    towncrier: bool

    @property
    def changelog_file(self) -> Path:
        return self.root / self.changelog

    def relative(self, path: Path) -> str:
        """`path` relative to the project root, POSIX, as git names it."""
        return _relative(self.root, path)


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def resolve(
    declared: Declared, root: Path, *, exists: Exists, default_branch: DefaultBranch,
    read: Read | None = None,
) -> Settings:
    """The settings in force: the changelog as pyproject.toml names it, else the one
    `changelog_discovery` finds in the tree `exists` and `read` see, else CHANGELOG.md (whose
    absence the caller reports); the branch as configured, else the remote's default branch,
    else main."""
    changelog = declared.changelog or changelog_discovery.find(
        declared.changelog_urls, declared.name or root.name, exists, read or (lambda _: None)
    ) or "CHANGELOG.md"
    branch = declared.branch or default_branch(declared.remote) or "main"
    return Settings(
        root=root,
        changelog=_relative(root, root / changelog),
        changelog_given=declared.changelog is not None,
        branch=branch,
        branch_given=declared.branch is not None,
        remote=declared.remote,
        image=declared.image,
        registry=declared.registry,
        version_files=tuple(_relative(root, root / f) for f in declared.version_files),
        notes_command=declared.notes_command,
        tag_format=declared.tag_format,
        version_source=declared.version_source,
        towncrier=declared.towncrier,
    )


@dataclass(frozen=True)
class Project:
    """`pyproject.toml`, parsed once: its text, its document, what it declares and the
    settings in force."""

    text: str
    document: tomlkit.TOMLDocument
    declared: Declared
    settings: Settings

    def tool(self, name: str) -> dict[str, Any]:
        """`[tool.NAME]`, or an empty table."""
        return _get_table(self.document, "tool", name)

    @property
    def name(self) -> str:
        return self.declared.name or self.settings.root.name


# towncrier's own default when `[tool.towncrier] filename` is not set (reStructuredText: such a
# project is then refused by release and extract-notes, with the reason).
TOWNCRIER_FILENAME = "NEWS.rst"


def _name(document: tomlkit.TOMLDocument) -> str:
    # Poetry 1 projects name themselves in [tool.poetry] only.
    for table in (_get_table(document, "project"), _get_table(document, "tool", "poetry")):
        name = table.get("name")
        if name:
            return str(name)
    return ""


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


def project_in_work_tree(root: Path, *, default_branch: DefaultBranch) -> Project:
    """`root/pyproject.toml` as it is in the work tree (publish, extract-notes), with the
    changelog found there; an error that says how to fix it. A project without one (setup.cfg
    or setup.py only) has the default settings."""
    path = root / PYPROJECT
    try:
        with path.open("rb") as handle:  # bounded: a link to /dev/zero must not fill memory
            data = handle.read(MAX_PYPROJECT_BYTES + 1)
    except FileNotFoundError:
        if not any((root / legacy).is_file() for legacy in LEGACY_FILES):
            raise ConfigError(
                f"no {PYPROJECT}, setup.cfg or setup.py in {root}: run from the project's root "
                "directory"
            ) from None
        data = b""
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}): fix it and retry") from None
    if len(data) > MAX_PYPROJECT_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_PYPROJECT_BYTES >> 20} MiB: that is not a "
            "pyproject.toml (a device, or the wrong file?); fix it"
        )
    resolved = root.resolve()
    return parse_project(
        decode(data, str(path)), resolved,
        exists=lambda name: (resolved / name).is_file(), default_branch=default_branch,
        read=lambda name: _small_text(resolved / name),
    )


def parse_project(
    text: str, root: Path, *, exists: Exists, default_branch: DefaultBranch,
    name: str = PYPROJECT, read: Read | None = None,
) -> Project:
    """The project whose `pyproject.toml` holds `text` (from the work tree or a commit), with
    its settings resolved against `exists` and `default_branch`: the one way to settings."""
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{name} is not valid TOML ({exc}): fix the file and retry") from None
    except Exception as exc:  # tomlkit raises others on some inputs (deep nesting, ...)
        raise ConfigError(
            f"{name} cannot be parsed as TOML ({type(exc).__name__}): fix the file and retry"
        ) from None
    root = root.resolve()
    declared = _declared(document)
    settings = resolve(declared, root, exists=exists, default_branch=default_branch, read=read)
    return Project(text, document, declared, settings)


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


def _declared(document: tomlkit.TOMLDocument) -> Declared:
    table = _table(document)
    files = table.get("version-files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f"[tool.release] version-files must be {KEYS['version-files']}")
    command = table.get("notes-command")
    if command is not None and not isinstance(command, str):
        raise ConfigError(f"[tool.release] notes-command must be {KEYS['notes-command']}")
    tag_format = table.get("tag-format")
    if tag_format is not None:  # a configuration error before anything touches a remote
        tag_format = tagformat.validate(_str(table, "tag-format", "")).pattern
    source = table.get("version-source")
    if source is not None and not (
        source in VERSION_SOURCES[:-1]
        or (isinstance(source, str) and source.startswith("file:") and source[5:].strip())
    ):
        raise ConfigError(f"[tool.release] version-source must be {KEYS['version-source']}")
    news = _towncrier_filename(document)
    changelog = _str(table, "changelog", news or "CHANGELOG.md") if (
        "changelog" in table or news is not None) else None
    if news is not None and changelog is not None and Path(changelog) != Path(news):
        raise ConfigError(
            f"[tool.release] changelog is {changelog} but towncrier writes {news} "
            f"([tool.towncrier] filename): drop one of them or make them the same file"
        )
    return Declared(
        changelog=changelog,
        branch=_str(table, "branch", "") if "branch" in table else None,
        remote=_str(table, "remote", "origin"),
        image=_str(table, "image", "dojo"),
        registry=_str(table, "registry", "ghcr.io"),
        version_files=tuple(str(f) for f in files),
        notes_command=str(command) if command else None,
        tag_format=tag_format,
        version_source=str(source) if source is not None else None,
        towncrier=news is not None,
        changelog_urls=changelog_discovery.changelog_urls(
            _get_table(document, "project", "urls")
        ),
        name=_name(document),
    )
