"""Where a project writes its version, and what it says there: the one detection `release`
and `publish` share. Pure: `read` hands over a project file's text (from a commit or the work
tree), or None when the file is not there.

`pyproject.toml` decides first (`release.core.pyproject.detect`: the build backend's settings,
or `[tool.release] version-source`); when it says nothing of the version, or there is no
`pyproject.toml`, setuptools' `setup.cfg` or `setup.py` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tomlkit

from release.core import pyproject, versionfile
from release.core.pyproject import SourceKind, VersionSource
from release.core.version import Version
from release.core.versionfile import VersionFile
from release.errors import ConfigError

PYPROJECT = "pyproject.toml"
# A project file's text, or None when it is not there; `ConfigError` when it cannot be read.
Read = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Located:
    """A version source, and the file that holds the version (when it is a file)."""

    source: VersionSource
    found: tuple[VersionFile, str] | None  # a FILE source's file and its text


def locate(
    document: tomlkit.TOMLDocument, configured: str | None, read: Read, *,
    absent: str = "which is not committed: commit it",
) -> Located:
    """Where the version is written; `ConfigError` saying what to do when nothing tells, or
    the file the backend reads is not there (`absent` says how that is put)."""
    try:
        source = pyproject.detect(document, configured)
    except pyproject.NoVersionSource:
        setup_cfg, setup_py = read("setup.cfg"), read("setup.py")
        legacy = pyproject.detect_setuptools_legacy(setup_cfg, setup_py)
        if legacy is None and (setup_cfg or setup_py) and "project" not in document:
            raise ConfigError(
                "no version release can read: pyproject.toml names none, and setup.cfg or "
                "setup.py computes it: write it as `version = X.Y.Z` in setup.cfg's "
                '[metadata] (or `version="X.Y.Z"` in setup.py), or set [tool.release] '
                "version-source"
            ) from None
        if legacy is None:
            raise
        source = legacy
    if source.kind is not SourceKind.FILE:
        return Located(source, None)
    for spec in source.files:
        text = read(spec.path)
        if text is not None:
            return Located(source, (spec, text))
    names = " or ".join(spec.path for spec in source.files)
    where = source.via if source.via.startswith("setup.") else f"{PYPROJECT} ({source.via})"
    raise ConfigError(
        f"{where} reads the version from {names}, {absent}, or set [tool.release] "
        "version-source"
    )


def current(document: tomlkit.TOMLDocument, located: Located) -> tuple[Version, str] | None:
    """The version written where `located` says, and its spelling there (None for a VCS
    source: the tag is the version); `ConfigError` or `VersionError` when it is not one."""
    kind = located.source.kind
    if kind is SourceKind.PROJECT:
        return pyproject.read_version(document), str(document["project"]["version"])
    if kind is SourceKind.POETRY:
        version = pyproject.read_poetry_version(document)
        return version, str(document["tool"]["poetry"]["version"])
    if kind is SourceKind.FILE:
        assert located.found is not None
        return versionfile.read(*located.found), versionfile.written(*located.found)
    return None
