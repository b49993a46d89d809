"""The roll reads a parsed changelog without building every section: each release's level,
nesting and heading template come from the headings (`model.shape`), the released versions too
(`Changelog.release_versions`), and the rolled text is the one a changelog whose sections are all
built already rolls to, on the shapes, the fixtures and a few hundred generated changelogs.
"""

from __future__ import annotations

import dataclasses

import pytest

from release.core.changelog import parse, roll_forward
from release.core.changelog.model import Changelog, Sections, shape
from release.errors import ChangelogError
from tests.test_extract_one_section import TEXTS, _generated

ALL = [*TEXTS, *_generated(200)]
IDS = [f"text-{n}" for n in range(len(ALL))]


def _built(changelog: Changelog) -> Changelog:
    """The same changelog with every section built, held in a plain tuple."""
    return dataclasses.replace(changelog, sections=tuple(changelog.sections))


def _roll(changelog: Changelog) -> tuple[str, tuple[str, ...]] | str:
    try:
        rolled = roll_forward(
            changelog, "99.0.0", "2026-03-04", repo_url="https://github.com/o/r",
            previous=None, tag_format=None,
        )
    except ChangelogError as exc:
        return str(exc)
    return rolled.text, rolled.warnings


@pytest.mark.parametrize("text", ALL, ids=IDS)
def test_shapes_and_versions_are_the_built_sections(text: str) -> None:
    lazy = parse(text)
    assert isinstance(lazy.sections, Sections)
    shapes = [shape(lazy.sections, n) for n in range(len(lazy.sections))]
    versions = lazy.release_versions
    built = tuple(lazy.sections)
    assert shapes == [
        (s.level, s.nested, s.style.template if s.style else None) for s in built
    ]
    assert versions == [s.version for s in built if s.version is not None]
    assert [shape(built, n) for n in range(len(built))] == shapes


@pytest.mark.parametrize("text", ALL, ids=IDS)
def test_a_lazy_changelog_rolls_as_a_built_one(text: str) -> None:
    assert _roll(parse(text)) == _roll(_built(parse(text)))


def test_rolling_a_big_changelog_builds_a_handful_of_sections() -> None:
    releases = [f"## [1.{n // 10}.{n % 10}] - 2025-01-01\n\n- Change {n}\n\n" for n in range(999)]
    links = [f"[1.{n // 10}.{n % 10}]: https://github.com/o/r/releases/tag/v1.{n // 10}.{n % 10}\n"
             for n in range(999)]
    text = (
        "# Changelog\n\n## [Unreleased]\n\n- Next\n\n" + "".join(reversed(releases))
        + "[unreleased]: https://github.com/o/r/compare/v1.99.8...HEAD\n" + "".join(links)
    )
    changelog = parse(text)
    rolled = roll_forward(changelog, "2.0.0", "2026-03-04", previous="1.99.8",
                          previous_tag="v1.99.8")
    assert "## [2.0.0] - 2026-03-04\n\n- Next\n" in rolled.text
    # linked as the file links its releases
    assert "[2.0.0]: https://github.com/o/r/releases/tag/v2.0.0\n" in rolled.text
    sections = changelog.sections
    assert isinstance(sections, Sections)
    built = sum(item is not None for item in sections._items)
    assert built <= 4, built  # [Unreleased], the newest releases, the model heading
    assert sum(item is not None for item in changelog.link_refs._items) <= 4  # type: ignore[attr-defined]
