"""Rolling forward and reading headings in the corners a review found (issue 15, items 3 to 6):
a file without a final newline, version-led subheadings, the compare links' repository base
and the previous release's tag as git spells it. The texts are written here, in real shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.apps.release.cli import main
from release.core.changelog import parse, roll_forward
from tests.support.gitrepo import PYPROJECT, make_repo

REPO = "https://github.com/acme/kite"


@pytest.mark.parametrize(
    ("text", "rolled"),
    [
        # a web editor saves the title alone, without a final newline
        ("# Changelog", "# Changelog\n\n## [0.1.0] - 2026-01-02\n\n- First\n"),
        ("# Changelog\r\n", "# Changelog\r\n\r\n## [0.1.0] - 2026-01-02\r\n\r\n- First\r\n"),
        # a one-paragraph preamble
        (
            "# Changelog\n\nAll notable changes are listed here.\n",
            "# Changelog\n\nAll notable changes are listed here.\n\n"
            "## [0.1.0] - 2026-01-02\n\n- First\n",
        ),
        (
            "# Changelog\n\nNotes.\n\n\n",
            "# Changelog\n\nNotes.\n\n## [0.1.0] - 2026-01-02\n\n- First\n",
        ),
        ("", "## [0.1.0] - 2026-01-02\n\n- First\n"),
    ],
)
def test_the_first_release_is_a_heading_of_its_own(text: str, rolled: str) -> None:
    out = roll_forward(text, "0.1.0", "2026-01-02", notes="- First").text
    assert out == rolled
    assert parse(out).find("0.1.0").body.replace("\r\n", "\n") == "- First"


UPGRADE_GUIDE = (
    "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- Config moved.\n\n"
    "### 2.0 upgrade guide\n\nRename `kite.ini` to `kite.toml`.\n\n"
    "## [1.9.0] - 2026-01-01\n\n### Added\n\n- Plugins.\n\n"
    "### 1.9 migration notes\n\nNothing to do.\n\n"
    "## [1.8.0] - 2025-12-01\n\n- Older.\n"
)


@pytest.mark.parametrize("version", ["1.10.0", "2.0.0"])
def test_a_version_led_subheading_stays_in_its_section(version: str) -> None:
    before = parse(UPGRADE_GUIDE)
    assert [s.name for s in before.sections] == ["Unreleased", "1.9.0", "1.8.0"]
    notes = before.find("Unreleased").body
    assert notes.endswith("### 2.0 upgrade guide\n\nRename `kite.ini` to `kite.toml`.")
    assert before.find("1.9.0").body.endswith("### 1.9 migration notes\n\nNothing to do.")
    out = roll_forward(UPGRADE_GUIDE, version, "2026-02-03").text
    assert f"\n## [{version}] - 2026-02-03\n\n### Changed\n" in out
    after = parse(out)
    assert after.find(version).body == notes
    assert after.find("1.9.0").body == before.find("1.9.0").body


@pytest.mark.parametrize(
    ("remote", "base", "warned"),
    [
        (None, "https://git.example.com:8443/acme/kite", False),
        ("https://git.example.com:8443/acme/kite", "https://git.example.com:8443/acme/kite", False),
        ("https://github.com/acme/kite-mirror", "https://git.example.com:8443/acme/kite", True),
    ],
)
def test_compare_links_keep_the_base_the_file_uses(
    remote: str | None, base: str, warned: bool
) -> None:
    text = (
        "## [Unreleased]\n\n- Next.\n\n## [1.0.0] - 2026-01-01\n\n- First.\n\n"
        "[Unreleased]: https://git.example.com:8443/acme/kite/compare/v1.0.0...HEAD\n"
        "[1.0.0]: https://git.example.com:8443/acme/kite/releases/tag/v1.0.0\n"
    )
    rolled = roll_forward(text, "1.1.0", "2026-02-03", repo_url=remote)
    assert f"[Unreleased]: {base}/compare/v1.1.0...HEAD\n" in rolled.text
    assert f"[1.1.0]: {base}/compare/v1.0.0...v1.1.0\n" in rolled.text
    assert any("the remote at" in w for w in rolled.warnings) is warned


def test_compare_links_come_from_the_remote_only_when_the_file_has_none() -> None:
    text = "## [Unreleased]\n\n- Next.\n\n## [1.0.0] - 2026-01-01\n\n- First.\n\n"
    text += "[Unreleased]: HEAD\n"
    rolled = roll_forward(text, "1.1.0", "2026-02-03", repo_url="https://git.example.com:8443/a/k")
    assert "[Unreleased]: https://git.example.com:8443/a/k/compare/v1.1.0...HEAD\n" in rolled.text


@pytest.mark.parametrize(
    ("heading", "version", "tag"),
    [("2026.08.17", "2026.8.17", "v2026.8.17"), ("1.2.0-rc.1", "1.2.0rc1", "v1.2.0rc1"),
     ("2.0", "2.0.0", "v2.0.0")],
)
def test_compare_links_name_the_previous_release_as_git_tagged_it(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str],
    heading: str, version: str, tag: str,
) -> None:
    web = "https://github.com/acme/spell"
    text = (
        f"# Changelog\n\n## [Unreleased]\n\n- Next.\n\n## [{heading}] - 2026-01-01\n\n- First.\n\n"
        f"[Unreleased]: {web}/compare/{tag}...HEAD\n[{heading}]: {web}/releases/tag/{tag}\n"
    )
    pyproject = PYPROJECT.replace("'0.1.0'", f"'{version}'")
    repo = make_repo(tmp_path / "spell", changelog=text, pyproject=pyproject, tag=tag,
                     name="spell")
    code = main(["-C", str(repo.work), "--version", "2026.9.1"])
    assert code == 0, capsys.readouterr().err
    rolled = repo.read("CHANGELOG.md")
    assert f"[2026.9.1]: {web}/compare/{tag}...v2026.9.1\n" in rolled
    assert f"[Unreleased]: {web}/compare/v2026.9.1...HEAD\n" in rolled
