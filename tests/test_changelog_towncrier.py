"""towncrier: detecting `[tool.towncrier]`, and a real `towncrier build` in a real git repository
whose Markdown changelog the new section is then extracted from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from release.core.changelog import extract
from release.errors import ChangelogError
from release.shell import towncrier
from tests.support.tools import require_tool

PYPROJECT = """\
[project]
name = "widget"
version = "1.2.0"

[tool.towncrier]
filename = "CHANGELOG.md"
directory = "changelog.d"
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PYPROJECT, towncrier.Towncrier("CHANGELOG.md")),
        ("[tool.towncrier]\ndirectory = 'news'\n", towncrier.Towncrier("NEWS.rst")),
        ("[tool.towncrier]\nfilename = 7\n", towncrier.Towncrier("NEWS.rst")),
        ("[project]\nname = 'x'\n\n[tool.ruff]\nline-length = 99\n", None),
        ("# [tool.towncrier] in a comment\n", None),
        ("tool = 'towncrier'\n", None),
        ("[tool.towncrier\nnot toml", None),
    ],
)
def test_configured(text: str, expected: towncrier.Towncrier | None) -> None:
    assert towncrier.configured(text) == expected


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.org", "-c", "user.name=Dev", *args],
        cwd=root, check=True, capture_output=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require_tool("towncrier", "git")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "CHANGELOG.md").write_text(
        "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
        "## 1.1.0 - 2025-01-01\n\n### Fixed\n\n- An older fix.\n"
    )
    news = tmp_path / "changelog.d"
    news.mkdir()
    (news / "12.feature.md").write_text("Sync works offline.\n")
    (news / "13.bugfix.md").write_text("No crash on an empty input file.\n")
    _git(tmp_path, "init", "-q", ".")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "start")
    return tmp_path


def test_build_writes_the_section_that_extract_notes_then_finds(project: Path) -> None:
    setup = towncrier.configured((project / "pyproject.toml").read_text())
    assert setup is not None
    before = (project / "CHANGELOG.md").read_text()
    draft = towncrier.build(project, "1.2.0", setup, draft=True)
    assert "Sync works offline. (#12)" in draft
    assert (project / "CHANGELOG.md").read_text() == before  # a draft changes nothing
    assert (project / "changelog.d" / "12.feature.md").exists()

    towncrier.build(project, "1.2.0", setup)
    text = (project / "CHANGELOG.md").read_text()
    assert not (project / "changelog.d" / "12.feature.md").exists()
    notes = extract(text, "1.2.0").body
    assert "- Sync works offline. (#12)" in notes
    assert "- No crash on an empty input file. (#13)" in notes
    assert "An older fix" not in notes
    assert extract(text, "1.1.0").body == "### Fixed\n\n- An older fix."


def test_a_changelog_that_is_not_markdown_is_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(ChangelogError, match=r"^NEWS\.rst is reStructuredText, not Markdown"):
        towncrier.build(tmp_path, "1.2.0", towncrier.Towncrier("NEWS.rst"))
