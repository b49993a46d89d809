"""Changelogs as the world writes them, one table row per shape (issue 11): every section comes
out byte-exact, and rolling forward writes the next heading in the file's own style.

The texts are written here, in the shapes real projects use (conventional-changelog, setext,
PEP 440 and CalVer, `###` patches, two-part versions, same-level subsections, product names,
bold, odd dates): none is copied from a real changelog. Rows marked "was silently wrong" are
the shapes the old reader cut short or merged with exit 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from release.core.changelog import check, extract, parse, roll_forward

REPO = "https://github.com/acme/kite"


@dataclass(frozen=True)
class Shape:
    name: str
    text: str
    sections: dict[str, str]  # query -> the body extract-notes must print (before definitions)
    # roll_forward(version, "2026-01-02", notes=...) must write this heading (its lines)
    roll: tuple[str, str] | None = None
    tag_format: str = "v{version}"
    also: dict[str, str] = field(default_factory=dict)  # other spellings -> the version they find


SHAPES = [
    Shape(
        "level-1 minors, level-2 patches (conventional-changelog)",
        f"# [7.8.0]({REPO}/compare/v7.7.1...v7.8.0) (2025-11-03)\n\n\n### Features\n\n"
        "* **sync:** resume interrupted uploads\n\n\n\n"
        f"## [7.7.1]({REPO}/compare/v7.7.0...v7.7.1) (2025-10-20)\n\n\n### Bug Fixes\n\n"
        "* **cli:** quote paths with spaces\n\n\n\n"
        f"# [7.7.0]({REPO}/compare/v7.6.0...v7.7.0) (2025-10-01)\n\n\n### Features\n\n"
        "* tab completion for bash\n",
        {
            "7.8.0": "### Features\n\n* **sync:** resume interrupted uploads",
            "7.7.1": "### Bug Fixes\n\n* **cli:** quote paths with spaces",
            "7.7.0": "### Features\n\n* tab completion for bash",
        },
        ("7.8.1", f"## [7.8.1]({REPO}/compare/v7.8.0...v7.8.1) (2026-01-02)"),
    ),
    Shape(
        "conventional-changelog: a minor is rolled at the minors' level",
        f"# [7.8.0]({REPO}/compare/v7.7.1...v7.8.0) (2025-11-03)\n\n- a\n\n"
        f"## [7.7.1]({REPO}/compare/v7.7.0...v7.7.1) (2025-10-20)\n\n- b\n",
        {"7.8.0": "- a", "7.7.1": "- b"},
        ("7.9.0", f"# [7.9.0]({REPO}/compare/v7.8.0...v7.9.0) (2026-01-02)"),
    ),
    Shape(
        "setext level 1 with dates",
        "3.1.0 / 2025-06-01\n==================\n\n  * Add a `--quiet` flag\n"
        "  * Faster start-up\n\n"
        "3.0.2 / 2025-05-11\n==================\n\n  * Fix the exit code on SIGPIPE\n",
        {"3.1.0": "  * Add a `--quiet` flag\n  * Faster start-up",
         "3.0.2": "  * Fix the exit code on SIGPIPE"},
        ("3.2.0", "3.2.0 / 2026-01-02\n=================="),
    ),
    Shape(
        "setext level 2 under a setext title, same-level subsection between releases",
        "Changelog\n=========\n\nv2.4.0 (Mar 3 2025)\n-------------------\n\n"
        "* Templates load lazily\n\n"
        "Notes for packagers\n-------------------\n\n* The tarball moved\n\n"
        "v2.3.1 (Jan 9 2025)\n-------------------\n\n* Fix a leak\n",
        {"2.4.0": "* Templates load lazily\n\nNotes for packagers\n-------------------\n\n"
                  "* The tarball moved",
         "2.3.1": "* Fix a leak"},
        ("2.5.0", "v2.5.0 (Jan 2 2026)\n-------------------"),
    ),
    Shape(
        "PEP 440 pre, post and dev releases; CalVer",
        "# Changes\n\n## 2.0.0rc8\n\n- Last candidate.\n\n## 21.12b0\n\n- A beta.\n\n"
        "## 1.0.post1\n\n- Packaging fix.\n\n## 1.0.0.dev5\n\n- Nightly.\n\n"
        "## 2026.08.17\n\n- CalVer.\n",
        {"2.0.0rc8": "- Last candidate.", "21.12b0": "- A beta.", "1.0.post1": "- Packaging fix.",
         "1.0.0.dev5": "- Nightly.", "2026.08.17": "- CalVer."},
        also={"2.0.0-rc.8": "2.0.0rc8", "v2.0.0.rc8": "2.0.0rc8", "2026.8.17": "2026.08.17",
              "1.0.0-dev.5": "1.0.0.dev5"},
    ),
    Shape(
        "level-3 patches under level-2 minors (standard-version); ### Bug Fixes stays inside",
        "# Changelog\n\n"
        f"## [8.4.0]({REPO}/compare/v8.3.2...v8.4.0) (2025-04-02)\n\n### Features\n\n* zstd\n\n"
        f"### [8.3.2]({REPO}/compare/v8.3.1...v8.3.2) (2025-03-20)\n\n### Bug Fixes\n\n"
        "* flush on exit\n\n"
        f"### [8.3.1]({REPO}/compare/v8.3.0...v8.3.1) (2025-03-01)\n\n* docs only\n\n"
        f"## [8.3.0]({REPO}/compare/v8.2.0...v8.3.0) (2025-02-14)\n\n### Features\n\n* tar\n",
        {"8.4.0": "### Features\n\n* zstd", "8.3.2": "### Bug Fixes\n\n* flush on exit",
         "8.3.1": "* docs only", "8.3.0": "### Features\n\n* tar"},
        ("8.4.1", f"### [8.4.1]({REPO}/compare/v8.4.0...v8.4.1) (2026-01-02)"),
    ),
    Shape(
        "level-3 releases under a `## Releases` heading, a `## Links` trailer",
        "# kite\n\n## Releases\n\n### v1.3.0\n\n_2025-09-01_\n\n- New dashboard.\n\n"
        "### v1.2.0\n\n- Export to CSV.\n\n## Links\n\n- Homepage\n",
        {"1.3.0": "_2025-09-01_\n\n- New dashboard.", "1.2.0": "- Export to CSV."},
        ("1.4.0", "### v1.4.0"),
    ),
    Shape(
        "two-part versions, found as written and by their three-part spelling",
        "## v2.1 (2025-06-30)\n\n- Plugins.\n\n## v2.0 (2025-01-15)\n\n- Rewrite.\n",
        {"2.1": "- Plugins.", "2.0": "- Rewrite."},
        ("2.2", "## v2.2 (2026-01-02)"),
        also={"2.1.0": "2.1", "v2.0.0": "2.0"},
    ),
    Shape(
        "a two-part minor holding its patches (### 5.0.1 under ## 5.0)",
        "## 5.1\n\n- Minor.\n\n## 5.0\n\nThe 5.0 series.\n\n### 5.0.1\n\n- Patch.\n\n"
        "### 5.0.0\n\n- First.\n\n## 4.0\n\n- Old.\n",
        {"5.1": "- Minor.",
         "5.0": "The 5.0 series.\n\n### 5.0.1\n\n- Patch.\n\n### 5.0.0\n\n- First.",
         "5.0.1": "- Patch.", "5.0.0": "- First.", "4.0": "- Old."},
    ),
    Shape(
        "product name before the version",
        "# Release notes\n\n## Kite Client 3.6.10\n\n- Fix caching.\n\n"
        "## Kite Client 3.6.9 (2025-02-01)\n\n- Fix retries.\n\n## Kite Client 3.6.8\n\n- Docs.\n",
        {"3.6.10": "- Fix caching.", "3.6.9": "- Fix retries.", "3.6.8": "- Docs."},
        ("3.6.11", "## Kite Client 3.6.11"),
    ),
    Shape(
        "a one-word product name with two-part versions",
        "# Kite changelog\n\n## Kite 2.4\n\n- Faster.\n\n## Kite 2.3\n\n- Smaller.\n",
        {"2.4": "- Faster.", "2.3": "- Smaller."},
        ("2.5", "## Kite 2.5"),
    ),
    Shape(
        "bold version, punctuation after it, a date before it",
        "## **6.17.1**\n\n- Bold.\n\n## 6.17.0/\n\n- Slash.\n\n"
        "## 2025-03-04, 6.16.0\n\n- Date first.\n",
        {"6.17.1": "- Bold.", "6.17.0": "- Slash.", "6.16.0": "- Date first."},
        ("6.17.2", "## **6.17.2**"),
    ),
    Shape(
        "the date inside the link text; [YANKED]; (unreleased)",
        f"## [v1.3.0 - 2025-05-05]({REPO}/releases/tag/v1.3.0)\n\n- Linked.\n\n"
        "## [1.2.1] - 2025-04-04 [YANKED]\n\n- Pulled.\n\n"
        "## 1.2.0 (unreleased)\n\n- Never shipped.\n\n"
        f"[1.2.1]: {REPO}/releases/tag/v1.2.1\n",
        {"1.3.0": "- Linked.", "1.2.1": "- Pulled.", "1.2.0": "- Never shipped."},
        ("1.4.0", f"## [v1.4.0 - 2026-01-02]({REPO}/releases/tag/v1.4.0)"),
    ),
    Shape(
        "zero-padded CalVer at level 3 with level-4 categories (yt-dlp style)",
        "# Changelog\n\n### 2025.09.05\n\n#### Core changes\n\n- a\n\n### 2025.08.27.1\n\n"
        "#### Extractor changes\n\n- b\n",
        {"2025.09.05": "#### Core changes\n\n- a", "2025.08.27.1": "#### Extractor changes\n\n- b"},
        ("2026.01.02", "### 2026.01.02"),
        also={"2025.9.5": "2025.09.05"},
    ),
    Shape(
        "was silently wrong: a subsection written at the release's own level",
        "## [Unreleased]\n\n## [0.14.0] - 2025-07-07\n\n## Fixed\n\n- Typo.\n\n## 🐛 Bug Fixes\n\n"
        "- Crash.\n\n## [0.13.0] - 2025-06-06\n\n- Older.\n",
        {"0.14.0": "## Fixed\n\n- Typo.\n\n## 🐛 Bug Fixes\n\n- Crash.", "0.13.0": "- Older."},
    ),
    Shape(
        "was silently wrong: a ## release followed by ### releases",
        f"## [21.0.0]({REPO}/compare/v20.2.9...v21.0.0) (2025-01-02)\n\n### Features\n\n"
        "* big\n\n"
        f"### [20.2.9]({REPO}/compare/v20.2.8...v20.2.9) (2024-12-01)\n\n### Bug Fixes\n\n"
        "* small\n",
        {"21.0.0": "### Features\n\n* big", "20.2.9": "### Bug Fixes\n\n* small"},
    ),
    Shape(
        "Keep a Changelog with compare links to ...main",
        "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- Next.\n\n"
        "## [1.1.0] - 2025-02-02\n\n### Fixed\n\n- Bug.\n\n## [1.0.0] - 2025-01-01\n\n- First.\n\n"
        f"[Unreleased]: {REPO}/compare/v1.1.0...main\n[1.1.0]: {REPO}/compare/v1.0.0...v1.1.0\n"
        f"[1.0.0]: {REPO}/releases/tag/v1.0.0\n",
        {"Unreleased": "### Added\n\n- Next.", "1.1.0": "### Fixed\n\n- Bug.", "1.0.0": "- First."},
        ("1.2.0", "## [1.2.0] - 2026-01-02"),
    ),
    Shape(
        "ordinal dates and /tree/ links with tags without a v",
        f"## [0.12.0]({REPO}/tree/0.12.0) (6th December, 2024)\n\n- Tree.\n\n"
        f"## [0.11.0]({REPO}/tree/0.11.0) (21st November, 2024)\n\n- Older.\n",
        {"0.12.0": "- Tree.", "0.11.0": "- Older."},
        ("0.13.0", f"## [0.13.0]({REPO}/tree/0.13.0) (2nd January, 2026)"),
        tag_format="{version}",
    ),
    Shape(
        "Release prefix with month-name dates at level 1",
        "# Release 4.16.0 (July 2, 2025)\n\n- Final.\n\n# Release 4.16.0rc1 (June 24, 2025)\n\n"
        "- Candidate.\n",
        {"4.16.0": "- Final.", "4.16.0rc1": "- Candidate.", "latest": "- Final."},
        ("4.17.0", "# Release 4.17.0 (January 2, 2026)"),
    ),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_every_section_of_every_shape_is_exact(shape: Shape) -> None:
    for query, body in shape.sections.items():
        assert extract(shape.text, query).body.startswith(body), query
        assert parse(shape.text).find(query).body == body, query
    for spelling, written in shape.also.items():
        assert parse(shape.text).find(spelling).version == written, spelling


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_check_has_no_errors_on_any_shape(shape: Shape) -> None:
    errors = [p for p in check(parse(shape.text)) if p.severity.value == "error"]
    assert errors == []


ROLLED = [s for s in SHAPES if s.roll is not None]


@pytest.mark.parametrize("shape", ROLLED, ids=[s.name for s in ROLLED])
def test_roll_forward_keeps_each_shapes_style(shape: Shape) -> None:
    assert shape.roll is not None
    version, heading = shape.roll
    notes = None if "[Unreleased]" in shape.text else "- Rolled."
    rolled = roll_forward(shape.text, version, "2026-01-02", notes=notes,
                          tag_format=shape.tag_format)
    assert "\n" + heading + "\n\n" in "\n" + rolled.text, rolled.text
    after = parse(rolled.text)
    assert after.find(version).body == (notes or parse(shape.text).find("Unreleased").body)
    for query, body in shape.sections.items():  # every old section stays exactly as it was
        if query not in ("Unreleased", "latest"):
            assert after.find(query).body == body, query


def test_roll_forward_moves_the_compare_links_and_keeps_main() -> None:
    shape = next(s for s in SHAPES if "...main" in s.name)
    rolled = roll_forward(shape.text, "1.2.0", "2026-01-02").text
    assert rolled.endswith(
        f"[Unreleased]: {REPO}/compare/v1.2.0...main\n"
        f"[1.2.0]: {REPO}/compare/v1.1.0...v1.2.0\n"
        f"[1.1.0]: {REPO}/compare/v1.0.0...v1.1.0\n[1.0.0]: {REPO}/releases/tag/v1.0.0\n"
    )


def test_roll_forward_writes_tags_in_the_projects_format() -> None:
    text = (
        "## [Unreleased]\n\n- x\n\n## [2.0.0] - 2025-01-01\n\n- a\n\n"
        f"[Unreleased]: {REPO}/compare/kite-v2.0.0...HEAD\n"
        f"[2.0.0]: {REPO}/compare/kite-v1.9.0...kite-v2.0.0\n"
    )
    rolled = roll_forward(text, "2.1.0", "2026-01-02", tag_format="kite-v{version}").text
    assert f"[Unreleased]: {REPO}/compare/kite-v2.1.0...HEAD\n" in rolled
    assert f"[2.1.0]: {REPO}/compare/kite-v2.0.0...kite-v2.1.0\n" in rolled


@pytest.mark.parametrize(
    ("like", "written"),
    [
        ("2025-07-02", "2026-01-02"), ("July 2, 2025", "January 2, 2026"),
        ("Feb 15 2021", "Jan 2 2026"), ("Sept. 3, 2020", "Jan. 2, 2026"),
        ("28 March 2021", "2 January 2026"), ("6th December, 2024", "2nd January, 2026"),
        ("2025/07/02", "2026/01/02"), ("02.07.2025", "02.01.2026"), ("7/22/2025", "1/2/2026"),
        ("last summer", "2026-01-02"),
    ],
)
def test_dates_are_written_in_the_files_own_format(like: str, written: str) -> None:
    from release.core.changelog.heading import restyle_date

    assert restyle_date("2026-01-02", like) == written
