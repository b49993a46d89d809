"""The version in `pyproject.toml` and in `[tool.release] version-files`. Pure: text in, text out.

tomlkit keeps the rest of the document byte for byte: only the version value changes, in the
quoting style it already had, with its comment and spacing.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import tomlkit
from tomlkit.items import String

from release.core.version import Version, VersionError, parse
from release.errors import ConfigError


def _project(doc: tomlkit.TOMLDocument, name: str) -> Any:
    project = doc.get("project")
    if not isinstance(project, dict):
        raise ConfigError(f"{name} has no [project] table: add one with name and version")
    return project


def read_version(doc: tomlkit.TOMLDocument, name: str = "pyproject.toml") -> Version:
    """The static `project.version`; an error that says so when it is dynamic, missing or bad."""
    project = _project(doc, name)
    dynamic = project.get("dynamic", [])
    if "version" in dynamic or "version" not in project:
        what = "dynamic" if "version" in dynamic else "missing"
        raise ConfigError(
            f"{name}: project.version is {what}; release needs a static version: "
            'set `version = "X.Y.Z"` in [project] (and drop "version" from dynamic)'
        )
    value = project["version"]
    if not isinstance(value, str):
        raise ConfigError(f'{name}: project.version must be a string such as "1.2.3"')
    try:
        return parse(str(value))
    except VersionError:
        raise VersionError(
            f"{name}: project.version {str(value)!r} is not a PEP 440 version "
            "(such as 1.2.3 or 1.3.0rc1): fix it"
        ) from None


def bump_pyproject(doc: tomlkit.TOMLDocument, new: Version, name: str = "pyproject.toml") -> str:
    """The document with `project.version` set to `new`; every other byte stays as it was.

    `doc` itself is not changed (the edit is made on a copy)."""
    read_version(doc, name)
    edited = copy.deepcopy(doc)
    project = _project(edited, name)
    old = project["version"]
    assert isinstance(old, String)
    # Same quoting as before; tomlkit carries the comment and spacing (trivia) over.
    project["version"] = String.from_raw(str(new), old.type)
    return tomlkit.dumps(edited)


def _pattern(old: Version) -> re.Pattern[str]:
    # The whole version only: 0.1.0 must not match inside 10.1.0, 0.1.0.dev1 or 0.1.0-rc.1.
    return re.compile(rf"(?:(?<![\w.+-])|(?<=\bv)){re.escape(str(old))}(?![\w+-]|\.\w)")


def count_version(text: str, old: Version) -> int:
    return len(_pattern(old).findall(text))


def bump_text(text: str, old: Version, new: Version) -> str:
    """Every whole occurrence of `old` in an extra version file replaced with `new`."""
    return _pattern(old).sub(str(new), text)
