"""towncrier: projects that keep their changelog as news fragments (`[tool.towncrier]` in
pyproject.toml) release by having towncrier write the new section, then read it like any
other changelog."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from release.core.changelog import require_markdown
from release.shell.proc import run

TOWNCRIER = "towncrier"
DEFAULT_FILENAME = "NEWS.rst"  # towncrier's own default when `filename` is not set


@dataclass(frozen=True)
class Towncrier:
    """A project's towncrier set-up, as far as a release needs it."""

    filename: str  # the changelog towncrier writes, relative to the project


def configured(pyproject_text: str) -> Towncrier | None:
    """The project's towncrier set-up when pyproject.toml has `[tool.towncrier]`, else None.
    Pure: text in; a pyproject.toml that is not TOML is left to whoever reads it for real."""
    try:
        data = tomllib.loads(pyproject_text)
    except tomllib.TOMLDecodeError:
        return None
    tool = data.get("tool")
    section = tool.get("towncrier") if isinstance(tool, dict) else None
    if not isinstance(section, dict):
        return None
    filename = section.get("filename", DEFAULT_FILENAME)
    return Towncrier(filename if isinstance(filename, str) else DEFAULT_FILENAME)


def build(root: Path, version: str, towncrier: Towncrier, *, draft: bool = False) -> str:
    """Run `towncrier build --version VERSION --yes` in `root`: towncrier writes the section
    into its changelog and removes the fragments. With `draft`, `--draft` instead: nothing
    changes and the section is returned (for a dry run). Refuses a changelog that is not
    Markdown before running anything."""
    require_markdown(towncrier.filename)
    argv = [TOWNCRIER, "build", "--version", version, "--draft" if draft else "--yes"]
    return run(argv, cwd=root).stdout
