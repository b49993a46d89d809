"""`extract-notes` and PEP 440: a section is found by any spelling of its version, in any tag
format, and `latest` is the newest final release unless pre-releases are asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.core.changelog import extract
from release.errors import ChangelogError
from tests.support.apps import extract_notes_main

CHANGELOG = """\
# Changelog

## [Unreleased]

## [2.0.0.dev5] - 2026-08-20

- Dev build five.

## [2.0.0rc1] - 2026-08-10

- Candidate one.

## [2026.8.17] - 2026-08-17

- A CalVer release.

## [1.4.0.post1] - 2026-07-01

- Packaging fix.

## [1.4.0] - 2026-06-01

- Final.
"""


@pytest.mark.parametrize(
    ("query", "version"),
    [
        ("2.0.0.dev5", "2.0.0.dev5"),
        ("v2.0.0.dev5", "2.0.0.dev5"),
        ("refs/tags/v2.0.0.dev5", "2.0.0.dev5"),
        ("2.0.0-dev.5", "2.0.0.dev5"),
        ("refs/tags/dojo-v2.0.0-dev.5", "2.0.0.dev5"),
        ("v2.0.0-rc.1", "2.0.0rc1"),
        ("2.0.0RC1", "2.0.0rc1"),
        ("2026.08.17", "2026.8.17"),
        ("refs/tags/2026.8.17", "2026.8.17"),
        ("1.4.0-post.1", "1.4.0.post1"),
        ("latest", "2026.8.17"),
    ],
)
def test_any_spelling_finds_the_section(query: str, version: str) -> None:
    assert extract(CHANGELOG, query).version == version


def test_latest_with_prereleases_is_the_newest_section() -> None:
    assert extract(CHANGELOG, "latest", include_prereleases=True).version == "2.0.0.dev5"


def test_latest_when_only_prereleases_exist_says_what_to_do() -> None:
    text = "## [Unreleased]\n\n## [1.0.0rc1] - 2026-01-01\n\n- x\n"
    with pytest.raises(ChangelogError, match="no final release yet"):
        extract(text, "latest")
    assert extract(text, "latest", include_prereleases=True).version == "1.0.0rc1"


def test_the_cli_takes_a_prerelease_tag_and_include_prereleases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    assert extract_notes_main(["refs/tags/v2.0.0-dev.5"]) == 0
    assert capsys.readouterr().out == "- Dev build five.\n"
    assert extract_notes_main(["latest", "--include-prereleases"]) == 0
    assert capsys.readouterr().out == "- Dev build five.\n"
    assert extract_notes_main(["latest"]) == 0
    assert capsys.readouterr().out == "- A CalVer release.\n"
