"""Rolling forward and reading headings in the corners a review found (issue 15, items 3 to 6):
a file without a final newline, version-led subheadings, the compare links' repository base
and the previous release's tag as git spells it. The texts are written here, in real shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.apps.release.cli import main
from release.core.changelog import ChangelogError, open_unreleased, parse, roll_forward
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


# Heading shapes read through one grammar (issue 19's "Markdown shapes still refused", issue
# 16's unreleased names): (text, query -> body).
SHAPES = {
    "two titles per release (a hand-written one, then towncrier's)": (
        "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
        f"## [2026.10.2]({REPO}/tree/2026.10.2) - 2026-10-02\n\n## kite 2026.10.2 (2026-10-02)\n\n"
        "### Bugfixes\n\n- Fix the cache.\n\n"
        f"## [2026.9.0]({REPO}/tree/2026.9.0) - 2026-09-01\n\n## kite 2026.9.0 (2026-09-01)\n\n"
        "### Features\n\n- Faster.\n",
        {"2026.10.2": "### Bugfixes\n\n- Fix the cache.", "2026.9.0": "### Features\n\n- Faster."},
    ),
    "a date, a colon and a product name before the version": (
        "# History\n\n## 2025-10-27: kite 16.0.0\n\n- Big.\n\n## 2025-09-01: kite 15.2.1\n\n"
        "- Small.\n",
        {"16.0.0": "- Big.", "15.2.1": "- Small."},
    ),
    "a lowercase product name throughout": (
        "# kite changes\n\n## kite 0.3.2\n\n- Three two.\n\n## kite 0.3.1\n\n- Three one.\n",
        {"0.3.2": "- Three two.", "0.3.1": "- Three one."},
    ),
    "the version in a code span, the date in emphasis": (
        "# Changelog\n\n### `0.6.6` _2026-10-29_\n\n- Six.\n\n### `0.6.5` _2026-10-01_\n\n"
        "- Five.\n",
        {"0.6.6": "- Six.", "0.6.5": "- Five."},
    ),
    "dotless CalVer": (
        "# Changelog\n\n## [20260107]\n\n- January.\n\n## [20251230]\n\n- December.\n",
        {"20260107": "- January.", "20251230": "- December."},
    ),
    "name/vX.Y.Z (date), setext": (
        "kite/v1.4.0 (2026-03-01)\n========================\n\n- Four.\n\n"
        "kite/v1.3.9 (2026-02-01)\n========================\n\n- Nine.\n",
        {"1.4.0": "- Four.", "1.3.9": "- Nine."},
    ),
    "a product name used only at level 3, its unreleased one too": (
        "# Kite\n\n## Releases\n\n### Kite 3.0 (unreleased)\n\n- Next.\n\n"
        "### Kite 2.9 (2026-01-05)\n\n- Nine.\n\n### Kite 2.8 (2025-12-01)\n\n- Eight.\n",
        {"Unreleased": "- Next.", "3.0": "- Next.", "2.9": "- Nine.", "2.8": "- Eight."},
    ),
    "(version) UNRELEASED": (
        "# Changes\n\n## (0.41.0) UNRELEASED\n\n- Pending.\n\n## (0.40.0) 2026-01-01\n\n- Done.\n",
        {"Unreleased": "- Pending.", "0.41.0": "- Pending.", "0.40.0": "- Done."},
    ),
    "one heading naming two versions": (
        "# Changes\n\n## 3.9.1 and 3.9.2\n\n- Both.\n\n## 0.11.0 = 0.11.1\n\n- Same.\n\n"
        "## 0.10.0\n\n- Old.\n",
        {"3.9.1": "- Both.", "3.9.2": "- Both.", "0.11.0": "- Same.", "0.11.1": "- Same.",
         "0.10.0": "- Old."},
    ),
    "Latest Changes at the top": (
        "# Release Notes\n\n## Latest Changes\n\n### Fixes\n\n- Quoting.\n\n## 0.115.2\n\n"
        "### Fixes\n\n- Paths.\n",
        {"Unreleased": "### Fixes\n\n- Quoting.", "0.115.2": "### Fixes\n\n- Paths."},
    ),
    "NEXT (UNRELEASED)": (
        "# Changelog\n\n## NEXT (UNRELEASED)\n\n- Soon.\n\n## 4.1.0 (2026-01-01)\n\n- Now.\n",
        {"Unreleased": "- Soon.", "4.1.0": "- Now."},
    ),
    "zest.releaser's (unreleased)": (
        "Changelog\n=========\n\n1.2.3 (unreleased)\n------------------\n\n- Nothing yet.\n\n"
        "1.2.2 (2026-01-01)\n------------------\n\n- Fixed.\n",
        {"Unreleased": "- Nothing yet.", "1.2.3": "- Nothing yet.", "1.2.2": "- Fixed."},
    ),
    "Pallets: an Unreleased first line": (
        "# Changes\n\n## Version 8.5.0\n\nUnreleased\n\n- New option.\n\n## Version 8.4.1\n\n"
        "Released 2026-11-10\n\n- A fix.\n",
        {"Unreleased": "- New option.", "8.5.0": "- New option.",
         "8.4.1": "Released 2026-11-10\n\n- A fix."},
    ),
    "a bold UNRELEASED line under the version, dated headings": (
        "# Changes\n\n## 2.1.0\n\n**UNRELEASED**\n\n- Soon.\n\n## 2.0.0 (2026-01-01)\n\n- Now.\n",
        {"Unreleased": "- Soon.", "2.1.0": "- Soon.", "2.0.0": "- Now."},
    ),
    "bold UNRELEASED": (
        "# Changes\n\n## **UNRELEASED**\n\n- Soon.\n\n## 2.0.0\n\n- Now.\n",
        {"Unreleased": "- Soon.", "2.0.0": "- Now."},
    ),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_heading_shape_is_found(name: str) -> None:
    text, bodies = SHAPES[name]
    changelog = parse(text)
    for query, body in bodies.items():
        assert changelog.find(query).body == body, query


# (shape, version, the heading the release writes, the line after it when there is one)
ROLLS = [
    ("Pallets: an Unreleased first line", "8.5.0", "## Version 8.5.0", "Released 2026-12-02"),
    ("zest.releaser's (unreleased)", "1.2.3", "1.2.3 (2026-12-02)\n------------------",
     "- Nothing yet."),
    ("(version) UNRELEASED", "0.41.0", "## (0.41.0) 2026-12-02", "- Pending."),
    ("a product name used only at level 3, its unreleased one too", "3.0",
     "### Kite 3.0 (2026-12-02)", "- Next."),
    ("Latest Changes at the top", "0.115.3", "## 0.115.3", "### Fixes"),
    ("a bold UNRELEASED line under the version, dated headings", "2.1.0",
     "## 2.1.0 (2026-12-02)", "- Soon."),
    ("NEXT (UNRELEASED)", "4.2.0", "## 4.2.0 (2026-12-02)", "- Soon."),
    ("the version in a code span, the date in emphasis", "0.6.7", "### `0.6.7` _2026-12-02_", None),
    ("a date, a colon and a product name before the version", "16.1.0",
     "## 2026-12-02: kite 16.1.0", None),
    ("one heading naming two versions", "3.9.3", "## 3.9.3", None),
    ("dotless CalVer", "20261202", "## [20261202]", None),
]


@pytest.mark.parametrize(("name", "version", "heading", "after"), ROLLS)
def test_each_shape_rolls_in_its_own_style(
    name: str, version: str, heading: str, after: str | None
) -> None:
    text, bodies = SHAPES[name]
    before = parse(text)
    notes = None if before.unreleased is not None else "- Rolled."
    rolled = roll_forward(text, version, "2026-12-02", notes=notes)
    assert f"\n{heading}\n\n{after or '- Rolled.'}\n" in "\n" + rolled.text, rolled.text
    again = parse(rolled.text)
    assert again.find(version).body.endswith(notes or before.unreleased.body)  # type: ignore[union-attr]
    assert again.unreleased is None or not again.unreleased.body
    for query, body in bodies.items():  # every released section stays as it was
        if query not in ("Unreleased", version) and not before.find(query).marked_unreleased:
            assert again.find(query).body == body, query


@pytest.mark.parametrize(
    ("old", "new", "warned"),
    [
        # M/D/YY: not recognised before, so the previous release's date was copied
        ("## 1.4.0 (2/23/25)", "## 1.5.0 (12/2/26)", False),
        # an attribute-list anchor holding the version: two headings shared one id
        ("## 1.18.0 {: #kite-v1.18.0 }", "## 1.19.0 {: #kite-v1.19.0 }", False),
        ('## 1.18.0 <a id="v1-18-0"></a>', '## 1.19.0 <a id="v1-19-0"></a>', False),
        # a date in a form not known: ISO 8601, said so, never the old date
        ("## 1.18.0 - 27-10-2025", "## 1.19.0 - 2026-12-02", True),
    ],
)
def test_the_new_heading_never_carries_the_previous_date_or_version(
    old: str, new: str, warned: bool
) -> None:
    version = "1.5.0" if "1.4.0" in old else "1.19.0"
    text = f"# Changes\n\n## Unreleased\n\n- Next.\n\n{old}\n\n- Before.\n"
    rolled = roll_forward(text, version, "2026-12-02")
    assert f"\n{new}\n\n- Next.\n\n{old}\n" in rolled.text
    assert any("not recognised" in w for w in rolled.warnings) is warned


@pytest.mark.parametrize(
    "heading", ["## Upcoming changes for 2.0", "## Draft notes", "## Next steps for the API"]
)
def test_notes_from_elsewhere_never_leave_hand_written_next_notes_behind(heading: str) -> None:
    text = f"# Changes\n\n{heading}\n\n- Curated.\n\n## 1.0.0 (2026-01-01)\n\n- First.\n"
    with pytest.raises(ChangelogError, match=r"looks like notes for the next release"):
        roll_forward(text, "1.1.0", "2026-12-02", notes="- From the commits.")


@pytest.mark.parametrize(
    ("name", "released", "nxt", "opened"),
    [
        ("Pallets: an Unreleased first line", "8.5.0", "8.5.1",
         "## Version 8.5.1\n\nUnreleased\n\n"),
        ("zest.releaser's (unreleased)", "1.2.3", "1.2.4",
         "1.2.4 (unreleased)\n------------------\n\n"),
        ("(version) UNRELEASED", "0.41.0", "0.42.0", "## (0.42.0) UNRELEASED\n\n"),
        ("NEXT (UNRELEASED)", "4.2.0", "4.3.0", None),  # the roll kept its heading
        ("two titles per release (a hand-written one, then towncrier's)", "2026.11.0",
         "2026.11.1", None),  # keeps none
    ],
)
def test_back_to_development_opens_the_next_section_in_the_files_shape(
    name: str, released: str, nxt: str, opened: str | None
) -> None:
    text = SHAPES[name][0]
    notes = None if parse(text).unreleased is not None else "- Rolled."
    rolled = roll_forward(text, released, "2026-12-02", notes=notes).text
    out = open_unreleased(rolled, nxt, like=text)
    if opened is None:
        assert out == rolled
        return
    at = parse(rolled).find(released).start
    assert out == rolled[:at] + opened + rolled[at:]
    again = parse(out)
    assert again.unreleased is not None
    assert again.unreleased.body == ""
    assert again.find(released).body == parse(rolled).find(released).body


@pytest.mark.parametrize(
    "name", ["Pallets: an Unreleased first line", "zest.releaser's (unreleased)"]
)
def test_release_publishes_the_versioned_unreleased_notes_end_to_end(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    text = SHAPES[name][0]
    before = parse(text)
    pending, previous = before.sections[0], before.sections[1]
    assert pending.version is not None
    assert previous.version is not None
    pyproject = PYPROJECT.replace("'0.1.0'", f"'{previous.version}'")
    repo = make_repo(tmp_path / "pending", changelog=text, pyproject=pyproject,
                     tag=f"v{previous.version}", name="pending")
    code = main(["-C", str(repo.work), "--version", pending.version])
    assert code == 0, capsys.readouterr().err
    after = parse(repo.read("CHANGELOG.md"))
    released = after.find(pending.version)
    assert released.body.endswith(pending.body)
    assert not released.marked_unreleased
    assert after.unreleased is None  # nothing left behind unreleased
    tag = repo.git("cat-file", "-p", f"v{pending.version}")
    assert pending.body in tag


def test_release_refuses_to_publish_commits_over_unread_next_notes(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "# Changelog\n\n## Upcoming changes for the next version\n\n- Curated by hand.\n\n"
        "## 0.1.0 (2026-01-01)\n\n- First release\n"
    )
    repo = make_repo(tmp_path / "stray", changelog=text, name="stray")
    head = repo.head()
    code = main(["-C", str(repo.work), "--bump", "patch"])
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("release: ")]
    assert code == 1
    assert len(problems) == 1
    assert "looks like notes for the next release" in problems[0]
    assert repo.head() == head
    assert repo.git("status", "--porcelain") == ""
    assert repo.read("CHANGELOG.md") == text
