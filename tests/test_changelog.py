"""The changelog model: heading styles, exact extraction, link definitions, checks, rolling
forward. Table-driven over real-world-like files (tests/data/changelogs), golden outputs
(tests/data/changelogs/expected), and hypothesis properties."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release.core.changelog import (
    ChangelogError,
    check,
    extract,
    missing_sections,
    notes,
    parse,
    roll_forward,
)
from release.core.changelog import lines as changelog_lines
from release.core.changelog import scan as changelog_scan
from release.core.version import Bump
from release.core.version import parse as semver

DATA = Path(__file__).parent / "data" / "changelogs"
EXPECTED = DATA / "expected"
REGENERATE = os.environ.get("DOJO_REGENERATE_GOLDEN") == "1"

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# --- heading styles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    title: str  # the heading as written, for version 1.2.3 dated 2025-12-02
    version: str
    date: str | None
    url: str | None
    rolled: str  # what roll_forward writes for 1.3.0 on 2026-01-02, after a 1.2.3 in this style


REPO = "https://github.com/acme/widget"
STYLES = [
    Style("[1.2.3] - 2025-12-02", "1.2.3", "2025-12-02", None, "## [1.3.0] - 2026-01-02"),
    Style("[v1.2.3] - 2025-12-02", "1.2.3", "2025-12-02", None, "## [v1.3.0] - 2026-01-02"),
    Style("v1.2.3 \u2013 2025-12-02", "1.2.3", "2025-12-02", None, "## v1.3.0 \u2013 2026-01-02"),
    Style("v1.2.3 - 2025-12-02", "1.2.3", "2025-12-02", None, "## v1.3.0 - 2026-01-02"),
    Style("1.2.3 - 2025-12-02", "1.2.3", "2025-12-02", None, "## 1.3.0 - 2026-01-02"),
    Style("1.2.3 \u2014 2025-12-02", "1.2.3", "2025-12-02", None, "## 1.3.0 \u2014 2026-01-02"),
    Style("v1.2.3 \u2014 2025-12-02", "1.2.3", "2025-12-02", None, "## v1.3.0 \u2014 2026-01-02"),
    Style("1.2.3 (2025-12-02)", "1.2.3", "2025-12-02", None, "## 1.3.0 (2026-01-02)"),
    Style("v1.2.3 (2025-12-02)", "1.2.3", "2025-12-02", None, "## v1.3.0 (2026-01-02)"),
    Style(
        f"[1.2.3]({REPO}/compare/v1.2.2...v1.2.3) (2025-12-02)", "1.2.3", "2025-12-02",
        f"{REPO}/compare/v1.2.2...v1.2.3",
        f"## [1.3.0]({REPO}/compare/v1.2.3...v1.3.0) (2026-01-02)",
    ),
    Style("[1.2.3] - 2025-12-02 [YANKED]", "1.2.3", "2025-12-02", None,
          "## [1.3.0] - 2026-01-02"),
    Style("Version 1.2.3 - 2025-12-02", "1.2.3", "2025-12-02", None,
          "## Version 1.3.0 - 2026-01-02"),
    Style("1.2.3", "1.2.3", None, None, "## 1.3.0"),
    Style("[1.2.3]", "1.2.3", None, None, "## [1.3.0]"),
    Style("v1.2.3: 2025-12-02", "1.2.3", "2025-12-02", None, "## v1.3.0: 2026-01-02"),
    Style("1.2.3 ##", "1.2.3", None, None, "## 1.3.0"),  # closing sequence
]


def styled(title: str, body: str = "- Fixed the thing.\n  - and a nested detail") -> str:
    """A changelog whose two releases, 1.2.3 and 1.0.0, both use `title`'s style."""
    older = title.replace("1.2.3", "1.0.0").replace("1.2.2", "0.9.0")
    older = older.replace("2025-12-02", "2020-01-01")
    return (
        "# Changelog\n\n## [Unreleased]\n\n- Next up.\n\n"
        f"## {title}\n\n{body}\n\n## {older}\n\n- First.\n"
    )


@pytest.mark.parametrize("style", STYLES, ids=[s.title for s in STYLES])
@pytest.mark.parametrize("query", ["v1.2.3", "1.2.3", "refs/tags/v1.2.3", "latest"])
def test_every_heading_style_is_found(style: Style, query: str) -> None:
    found = extract(styled(style.title), query)
    assert found.version == style.version
    assert found.date == style.date
    assert found.url == style.url
    assert found.title == style.title.removesuffix(" ##")
    assert found.body == "- Fixed the thing.\n  - and a nested detail"


@pytest.mark.parametrize("style", STYLES, ids=[s.title for s in STYLES])
def test_roll_forward_writes_the_files_own_heading_style(style: Style) -> None:
    rolled = roll_forward(styled(style.title), semver("1.3.0"), "2026-01-02", repo_url=REPO)
    assert style.rolled in rolled.text.splitlines()
    assert rolled.warnings == ()
    assert extract(rolled.text, "1.3.0").body == "- Next up."


@pytest.mark.parametrize(
    "title",
    ["1.2.3-rc.1 - 2025-12-02", "[2.0.0-beta.2+build.7] - 2025-12-02", "v0.0.1-alpha (2025-12-02)"],
)
def test_prerelease_versions(title: str) -> None:
    text = f"## [Unreleased]\n\n## {title}\n\n- Fixed.\n\n## 0.0.0 - 2020-01-01\n\n- First.\n"
    found = parse(text).releases[0]
    assert found.version is not None
    assert found.prerelease
    assert extract(text, f"v{found.version}").body.startswith("- Fixed")


@pytest.mark.parametrize(
    "title",
    ["[Unreleased]", "Unreleased", "[unreleased]", f"[Unreleased]({REPO}/compare/v1.0.0...HEAD)"],
)
@pytest.mark.parametrize("query", ["Unreleased", "unreleased", "[Unreleased]"])
def test_unreleased_heading_spellings(title: str, query: str) -> None:
    text = f"# Changelog\n\n## {title}\n\n- Pending.\n\n## 1.0.0 - 2020-01-01\n\n- First.\n"
    found = extract(text, query)
    assert (found.version, found.body, found.title) == (None, "- Pending.", title)


def test_headings_that_are_not_headings_are_ignored() -> None:
    text = (
        "## [Unreleased]\n\n"
        "```\n## [0.9.0] - 2020-01-01\n```\n\n"
        "~~~md\n## 0.8.0\n~~~\n\n"
        "<!--\n## 0.7.0 - 2020-01-01\n-->\n\n"
        "    ## 0.6.0 indented code\n\n"
        "- item\n\n  ## 0.5.0 inside the list item\n\n"
        "> ## 0.4.0 in a quote\n\n"
        "text ## 0.3.0 in a paragraph\n\n"
        "## 1.0.0 - 2020-01-01\n\n- First.\n"
    )
    parsed = parse(text)
    assert [s.name for s in parsed.sections] == ["Unreleased", "1.0.0"]
    assert parsed.unreleased is not None
    assert parsed.unreleased.body == text.split("\n\n", 1)[1].split("\n\n## 1.0.0", maxsplit=1)[0]


def test_a_non_version_heading_after_the_last_release_ends_it() -> None:
    text = "## [1.0.0] - 2020-01-01\n\n- First.\n\n## Contributors\n\nThanks, all.\n"
    assert extract(text, "1.0.0").body == "- First."
    assert [str(p) for p in check(parse(text))] == [
        "warning: line 1: no [Unreleased] section: add `[Unreleased]` above the newest version, "
        "at the releases' heading level, to collect the notes of the next release"
    ]


def test_setext_headings_end_sections() -> None:
    text = "## [1.0.0] - 2020-01-01\n\n- First.\n\nOlder history\n-------------\n\nSee the wiki.\n"
    assert extract(text, "1.0.0").body == "- First."


# --- golden files: big real-world-like changelogs, in every byte encoding -----------------

GOLDEN = {
    "keep-a-changelog.md": [
        "Unreleased", "2.1.0", "2.0.0", "2.0.0-rc.2", "2.0.0-rc.1", "1.4.2", "1.4.1", "1.4.0",
        "1.0.0", "0.8.1", "0.6.2", "0.0.0",
    ],
    "en-dash.md": ["Unreleased", "0.12.0", "0.11.2", "0.11.1", "0.11.0", "0.10.0"],
    "release-please.md": ["3.4.0", "3.3.1", "3.2.0"],
    "towncrier.md": ["25.3.0", "25.2.1", "25.2.0", "25.1.0"],
}
VARIANTS: dict[str, Callable[[str], str]] = {
    "lf": lambda t: t,
    "crlf": crlf,
    "bom": lambda t: "\ufeff" + t,
    "bom-crlf": lambda t: "\ufeff" + crlf(t),
}
CASES = [(name, query) for name, queries in GOLDEN.items() for query in queries]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("name", "query"), CASES, ids=[f"{n}@{q}" for n, q in CASES])
def test_golden_sections(name: str, query: str, variant: str) -> None:
    golden = EXPECTED / f"{Path(name).stem}@{query}.md"
    text = VARIANTS[variant](read(name))
    found = extract(text, query, allow_empty=True)
    if REGENERATE and variant == "lf":
        golden.write_bytes(found.body.encode() + b"\n")
    expected = golden.read_bytes().decode("utf-8").removesuffix("\n")
    assert found.body == (crlf(expected) if "crlf" in variant else expected)
    # The section itself is a slice of the file, byte for byte.
    section = parse(text).find(query)
    assert text[section.body_start : section.body_end] == section.body
    assert section.body in text


@pytest.mark.parametrize("query", ["Unreleased", "1.1.0", "1.0.0"])
def test_a_windows_file_with_crlf_and_a_bom(query: str) -> None:
    raw = (DATA / "windows-crlf-bom.md").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    golden = EXPECTED / f"windows-crlf-bom@{query}.md"
    found = extract(raw.decode("utf-8"), query)
    if REGENERATE:
        golden.write_bytes(found.body.encode() + b"\r\n")
    assert found.body.encode() + b"\r\n" == golden.read_bytes()
    rolled = roll_forward(raw.decode("utf-8"), semver("1.2.0"), "2026-01-02")
    assert rolled.text.encode().count(b"\n") == rolled.text.encode().count(b"\r\n")
    assert rolled.text.startswith("\ufeff# Changelog\r\n")


def test_golden_files_use_what_they_claim() -> None:
    kac = read("keep-a-changelog.md")
    assert "## " in kac.split("## [Unreleased]")[1].split("## [2.1.0]")[0]  # a `## ` in a fence
    assert "<!--" in kac
    assert "   \n" in kac
    assert "\t\n" in kac
    assert len(parse(kac).link_refs) > 15


def test_body_keeps_bullets_emphasis_wrapping_and_trailing_spaces() -> None:
    found = extract(read("keep-a-changelog.md"), "Unreleased")
    assert "([#412])  \n  and exits 0." in found.body  # hard line break kept
    assert "* A crash when" in found.body  # `*` bullets are not rewritten to `-`
    assert "  ## a TOML comment that looks like a heading" in found.body


# --- notes: link definitions --------------------------------------------------------------


def test_notes_append_only_the_definitions_the_body_uses() -> None:
    text = read("keep-a-changelog.md")
    parsed = parse(text)
    body = notes(parsed, parsed.find("1.4.1"))
    assert body.endswith(
        "\n\n[GHSA-xxxx-yyyy-zzzz]: "
        "https://github.com/acme/widget/security/advisories/GHSA-xxxx-yyyy-zzzz"
    )
    assert "[#301]:" not in body
    assert "[1.4.1]:" not in body
    assert notes(parsed, parsed.find("1.0.0")) == parsed.find("1.0.0").body


def test_notes_do_not_repeat_definitions_inside_the_body() -> None:
    text = (
        "## [Unreleased]\n\n- See [docs].\n\n[docs]: https://e.org/docs\n\n- And [faq].\n\n"
        "## [1.0.0] - 2020-01-01\n\n- First.\n\n[faq]: https://e.org/faq 'FAQ'\n"
    )
    parsed = parse(text)
    assert parsed.unreleased is not None
    assert notes(parsed, parsed.unreleased) == (
        "- See [docs].\n\n[docs]: https://e.org/docs\n\n- And [faq].\n\n"
        "[faq]: https://e.org/faq 'FAQ'"
    )


def test_definitions_trailing_a_section_are_not_its_body_but_come_back_in_notes() -> None:
    text = "## [Unreleased]\n\n- See [docs].\n\n[docs]: https://e.org/docs\n\n## [1.0.0]\n"
    parsed = parse(text)
    assert parsed.unreleased is not None
    assert parsed.unreleased.body == "- See [docs]."
    assert notes(parsed, parsed.unreleased) == "- See [docs].\n\n[docs]: https://e.org/docs"


def test_notes_resolve_full_collapsed_and_case_folded_references() -> None:
    text = (
        "## [1.0.0] - 2020-01-01\n\n"
        "- [The docs][Docs Page], [GH-1][], [gh-2] and `[not-a-ref]`.\n\n"
        "[docs page]: https://e.org/d\n[gh-1]: https://e.org/1\n[GH-2]: https://e.org/2\n"
        "[not-a-ref]: https://e.org/x\n[unused]: https://e.org/u\n"
    )
    body = extract(text, "1.0.0").body
    assert body.splitlines()[2:] == [
        "[docs page]: https://e.org/d", "[gh-1]: https://e.org/1", "[GH-2]: https://e.org/2",
    ]


def test_notes_keep_crlf() -> None:
    text = crlf("## [1.0.0] - 2020-01-01\n\n- Fix [#1].\n\n[#1]: https://e.org/1\n")
    assert extract(text, "1.0.0").body == "- Fix [#1].\r\n\r\n[#1]: https://e.org/1"


# --- find: errors ---------------------------------------------------------------------------


def test_version_not_found_lists_what_exists() -> None:
    with pytest.raises(ChangelogError, match=r"no section for 9\.9\.9; sections that exist: "
                       r"Unreleased, 2\.1\.0, 2\.0\.0, 2\.0\.0-rc\.2"):
        extract(read("keep-a-changelog.md"), "v9.9.9")


def test_long_version_lists_are_cut_short() -> None:
    text = "".join(f"## 1.0.{n}\n\n- n\n\n" for n in range(50, 0, -1))
    with pytest.raises(ChangelogError) as info:
        extract(text, "2.0.0")
    assert "1.0.41, ... (50 sections in all)" in str(info.value)


def test_duplicate_sections_are_refused() -> None:
    text = "## [1.0.0] - 2020-01-01\n\n- a\n\n## 1.0.0 (2020-01-02)\n\n- b\n"
    with pytest.raises(ChangelogError, match=r"2 sections for 1\.0\.0 \(lines 1, 5\)"):
        extract(text, "v1.0.0")


@pytest.mark.parametrize("query", ["banana", "v1", "refs/heads/main", "", "1.2.3 and more"])
def test_queries_that_are_not_versions(query: str) -> None:
    with pytest.raises(ChangelogError, match="is not a version"):
        extract(styled("1.2.3"), query)


def test_latest_without_a_release() -> None:
    with pytest.raises(ChangelogError, match="no final release yet"):
        extract("## [Unreleased]\n\n- a\n", "latest")


def test_empty_section() -> None:
    text = "## [Unreleased]\n\n## [1.0.0] - 2020-01-01\n\n- a\n"
    with pytest.raises(ChangelogError, match=r"section for Unreleased \(line 1\) is empty"):
        extract(text, "Unreleased")
    assert extract(text, "Unreleased", allow_empty=True).body == ""


def test_latest_is_the_topmost_release() -> None:
    assert extract(read("keep-a-changelog.md"), "latest").version == "2.1.0"
    assert extract(read("release-please.md"), "latest").url == (
        "https://github.com/acme/gizmo/compare/v3.3.1...v3.4.0"
    )


# --- check ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["keep-a-changelog.md", "en-dash.md"])
def test_check_passes_good_files(name: str) -> None:
    assert check(parse(read(name))) == []


E, W = "error", "warning"
CHECKS = [
    ("## [1.0.0] - 2020-01-01\n\n- a\n", [(W, 1, "no [Unreleased] section")]),
    ("## [Unreleased]\n\n## [1.0.0] - 2020-01-01\n\n- a\n\n## [1.0.0] - 2020-01-01\n\n- b\n",
     [(E, 7, "version 1.0.0 has 2 sections (`[1.0.0] - 2020-01-01` on line 3")]),
    # `2.0` heading its patches and `2.0.0` are each found as written: no duplicate.
    ("## [Unreleased]\n\n## 2.0\n\n## 2.0.1\n\n- a\n\n## 2.0.0 - 2020-01-01\n\n- b\n", []),
    # npm's numeric prereleases are prereleases, not PEP 440 post-releases.
    ("## [Unreleased]\n\n## 4.0.0\n\n- a\n\n## 4.0.0-1\n\n- b\n", []),
    ("## [Unreleased]\n\n## [1.0.0] - 2020-01-01\n\n- a\n\n## [1.1.0] - 2020-02-01\n\n- b\n",
     [(W, 7, "1.1.0 (line 7) is below 1.0.0 (line 3) in the same release line")]),
    ("## [Unreleased]\n\n## [1.0.0-rc.1] - 2020-01-01\n\n## [1.0.0] - 2020-02-01\n",
     [(W, 5, "1.0.0 (line 5) is below 1.0.0-rc.1 (line 3)")]),
    # A backport below a newer major is in order.
    ("## [Unreleased]\n\n## [1.4.1] - 2020-03-01\n\n## [2.0.0] - 2020-02-01\n\n"
     "## [1.4.0] - 2020-01-01\n", []),
    ("## [Unreleased]\n\n## [1.1.0] - 02/01/2020\n\n## [1.0.0] - 1 March 2020\n",
     [(W, 3, "2 release dates are not ISO 8601 (`02/01/2020` in 1.1.0)")]),
    # Words in a heading are no date.
    ("## [Unreleased]\n\n## 5.15.7 / 4.15.7\n\n## 1.0.1 (reverted)\n\n## 1.0.0 - Yanked\n", []),
    ("## [Unreleased]\n\n## [1.1.0] - 2020-02-01\n\n## [1.0.0] - 2020-01-01\n\n"
     "[unreleased]: https://e.org/compare/v1.1.0...HEAD\n[1.0.0]: https://e.org/tag/v1.0.0\n"
     "[0.9.0]: https://e.org/tag/v0.9.0\n",
     [(E, 3, "heading `[1.1.0] - 2020-02-01` links [1.1.0], which is not defined")]),
    ("## [Unreleased]\n\n- See [the docs][docs] and `[x][y]`.\n",
     [(E, 1, "link [the docs][docs] in Unreleased points nowhere")]),
    # PEP 440, CalVer and two-part versions are versions.
    ("## [Unreleased]\n\n## [2.0] - 2020-03-01\n\n## 1.0.0rc1 - 2020-02-01\n\n"
     "## 2019.12.01 - 2019-12-01\n", []),
    ("## [1.0.0] - 2020-01-01\n\n## [Unreleased]\n",
     [(W, 3, "[Unreleased] is not the first section")]),
    ("## [Unreleased]\n\n## Unreleased\n", [(E, 3, "[Unreleased] has 2 sections")]),
    ("## [Unreleased]\n\n```\n[x][y]\n```\n\n    [a][b]\n\n<p>[c][d]</p>\n", []),
    ("## [Unreleased]\n\n## 1.1.0\n\n- a\n\n```sh\n$ make\n\n## 1.0.0\n\n- b\n",
     [(E, 7, "the block opened on line 7 never closes, so it hides the release headings on "
             "lines 10")]),
    ("## [Unreleased]\n\n## 1.1.0\n\n- a\n\n#### 1.0.0\n\n- b\n",
     [(E, 7, "`#### 1.0.0` is a level-4 heading: extract-notes reads release headings at levels "
             "1 to 3, so its notes stay inside 1.1.0's section")]),
    ("## [Unreleased]\n\n## 1.1.0\n\n#### 1.0 Migration guide\n\n- b\n", []),
    ("## [Unreleased]\n\n## 1.1.0\n\n<!-- draft\n\n## 1.0.0\n\n- b\n",
     [(E, 5, "the block opened on line 5 never closes, so it hides the release headings on "
             "lines 7")]),
    # A closed fence holding a heading hides nothing; history's "Unreleased changes in ..." is
    # no misplaced [Unreleased].
    ("## [Unreleased]\n\n## 1.1.0\n\n```\n## 1.0.0\n```\n\n### Unreleased changes in fork\n"
     "\n- c\n", []),
]


@pytest.mark.parametrize(("text", "problems"), CHECKS)
def test_check_finds_each_problem(text: str, problems: list[tuple[str, int, str]]) -> None:
    found = check(parse(text))
    assert len(found) == len(problems), found
    for problem, (severity, line, expected) in zip(found, problems, strict=True):
        assert (problem.severity.value, problem.line) == (severity, line)
        assert problem.message.startswith(expected), (problem.message, expected)


def test_missing_sections() -> None:
    parsed = parse(
        "## [Unreleased]\n\n## 1.1.0\n\n- a\n\n```\n## 1.0.0\n\n- hidden\n"
    )
    assert missing_sections(parsed, ["v1.1.0", "v1.0.0", "0.9.0"]) == ["v1.0.0", "0.9.0"]


# --- roll forward ---------------------------------------------------------------------------


def test_roll_forward_keep_a_changelog_with_compare_links() -> None:
    text = read("keep-a-changelog.md")
    before = parse(text)
    rolled = roll_forward(text, semver("2.2.0"), "2026-01-02", previous=semver("2.1.0"))
    assert rolled.warnings == ()
    after = parse(rolled.text)
    assert [s.name for s in after.sections[:3]] == ["Unreleased", "2.2.0", "2.1.0"]
    assert after.unreleased is not None
    assert after.unreleased.body == ""
    assert after.unreleased.title == "[Unreleased]"
    assert before.unreleased is not None
    assert extract(rolled.text, "2.2.0").body == notes(before, before.unreleased)
    lines = rolled.text.splitlines()
    assert "## [2.2.0] - 2026-01-02" in lines
    at = lines.index("[unreleased]: https://github.com/acme/widget/compare/v2.2.0...HEAD")
    assert lines[at + 1] == "[2.2.0]: https://github.com/acme/widget/compare/v2.1.0...v2.2.0"
    assert lines[at + 2] == "[2.1.0]: https://github.com/acme/widget/compare/v2.0.0...v2.1.0"
    assert check(after) == []
    # Everything else is unchanged: the old sections, and the text around them.
    for old in before.releases:
        assert after.find(str(old.version)).body == old.body
    assert rolled.text.startswith(text[: before.unreleased.heading_end])


def test_roll_forward_is_refused_twice() -> None:
    once = roll_forward(read("keep-a-changelog.md"), semver("2.2.0"), "2026-01-02")
    with pytest.raises(ChangelogError, match=r"already has a section for 2\.2\.0"):
        roll_forward(once.text, semver("2.2.0"), "2026-01-02", notes="- again")


def test_roll_forward_keeps_crlf_and_bom() -> None:
    text = "\ufeff" + crlf(read("keep-a-changelog.md"))
    rolled = roll_forward(text, semver("2.2.0"), "2026-01-02")
    assert rolled.text.startswith("\ufeff# Changelog\r\n")
    assert rolled.text.count("\n") == rolled.text.count("\r\n")
    assert "\r\n## [2.2.0] - 2026-01-02\r\n" in rolled.text
    assert extract(rolled.text, "2.2.0").body.startswith("### Added\r\n\r\n- `widget sync")


def test_roll_forward_en_dash_style_without_links() -> None:
    text = read("en-dash.md")
    rolled = roll_forward(text, semver("0.13.0"), "2026-01-02")
    assert "\n## Unreleased\n\n## v0.13.0 \u2013 2026-01-02\n\n- `fq split`" in rolled.text
    assert rolled.warnings == ()
    unreleased = "## Unreleased\n\n- `fq split` accepts `--by-barcode`.\n"
    assert rolled.text.endswith(text.split(unreleased)[1])


def test_roll_forward_with_notes_replaces_unreleased() -> None:
    text = read("en-dash.md")
    rolled = roll_forward(text, semver("0.13.0"), "2026-01-02",
                          notes="\n\n### Fixed\n\n- One.\n- Two.  \n\n")
    assert extract(rolled.text, "0.13.0").body == "### Fixed\n\n- One.\n- Two.  "
    # The old [Unreleased] content is replaced, not kept: the new one is empty.
    assert extract(rolled.text, "Unreleased", allow_empty=True).body == ""
    assert "--by-barcode" not in rolled.text


def test_roll_forward_first_release_uses_keep_a_changelog() -> None:
    text = "# Changelog\n\n## [Unreleased]\n\n- First!\n\n[unreleased]: https://github.com/o/r/compare/HEAD\n"
    rolled = roll_forward(text, semver("0.1.0"), "2026-01-02")
    assert rolled.text == (
        "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-02\n\n- First!\n\n"
        "[unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n"
        "[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n"
    )


def test_roll_forward_without_any_links() -> None:
    rolled = roll_forward("## Unreleased\n\n- x\n", semver("1.0.0"), "2026-01-02", repo_url=REPO)
    assert rolled.text == "## Unreleased\n\n## [1.0.0] - 2026-01-02\n\n- x\n"


def test_roll_forward_derives_links_from_repo_url_and_tag_style() -> None:
    text = (
        "## [Unreleased]\n\n- x\n\n## [1.0.0] - 2020-01-01\n\n- a\n\n"
        "[Unreleased]: https://gitlab.example/g/p/-/compare/1.0.0...HEAD\n"
        "[1.0.0]: https://gitlab.example/g/p/-/tags/1.0.0\n"
    )
    rolled = roll_forward(text, semver("1.1.0"), "2026-01-02", tag_format="{version}")
    assert rolled.text.endswith(
        "[Unreleased]: https://gitlab.example/g/p/-/compare/1.1.0...HEAD\n"
        "[1.1.0]: https://gitlab.example/g/p/-/compare/1.0.0...1.1.0\n"
        "[1.0.0]: https://gitlab.example/g/p/-/tags/1.0.0\n"
    )
    moved = roll_forward(text, semver("1.1.0"), "2026-01-02", repo_url="https://github.com/o/r.git",
                         tag_format="{version}")
    # the file's own base wins over the remote's (issue 15), and the difference is pointed out
    assert moved.text == rolled.text
    assert any("the remote at https://github.com/o/r" in w for w in moved.warnings)


def test_roll_forward_release_please_style_links_the_heading() -> None:
    text = "## Unreleased\n\n- New.\n\n" + read("release-please.md").split("\n", 2)[2]
    rolled = roll_forward(text, semver("3.5.0"), "2026-01-02")
    assert (
        "## [3.5.0](https://github.com/acme/gizmo/compare/v3.4.0...v3.5.0) (2026-01-02)"
        in rolled.text.splitlines()
    )


def test_roll_forward_updates_an_inline_unreleased_link() -> None:
    text = f"## [Unreleased]({REPO}/compare/v1.0.0...HEAD)\n\n- x\n\n## [1.0.0] - 2020-01-01\n"
    rolled = roll_forward(text, semver("1.1.0"), "2026-01-02")
    assert rolled.text.startswith(f"## [Unreleased]({REPO}/compare/v1.1.0...HEAD)\n\n## [1.1.0]")


def test_roll_forward_mixed_styles_warns_and_uses_the_newest() -> None:
    text = (
        "## [Unreleased]\n\n- x\n\n## v1.1.0 \u2013 2020-02-01\n\n- b\n\n"
        "## [1.0.0] - 2020-01-01\n"
    )
    rolled = roll_forward(text, semver("1.2.0"), "2026-01-02")
    assert "## v1.2.0 \u2013 2026-01-02" in rolled.text.splitlines()
    assert len(rolled.warnings) == 1
    assert "mixes heading styles" in rolled.warnings[0]
    assert "`## v1.2.0 \u2013 2026-01-02`" in rolled.warnings[0]


def test_roll_forward_replaces_a_stale_definition_without_an_unreleased_link() -> None:
    text = (
        "## [Unreleased]\n\n- x\n\n## [1.0.0] - 2020-01-01\n\n"
        "[1.1.0]: https://e.org/stale\n[1.0.0]: https://e.org/releases/tag/v1.0.0\n"
    )
    rolled = roll_forward(text, semver("1.1.0"), "2026-01-02")
    assert rolled.text.endswith(
        "\n\n[1.1.0]: https://e.org/compare/v1.0.0...v1.1.0\n"
        "[1.0.0]: https://e.org/releases/tag/v1.0.0\n"
    )


def test_roll_forward_adds_a_version_link_without_an_unreleased_link() -> None:
    text = "## [Unreleased]\n\n- x\n\n## [1.0.0] - 2020-01-01\n\n[1.0.0]: https://e.org/tag/v1.0.0\n"
    rolled = roll_forward(text, semver("1.1.0"), "2026-01-02")
    assert rolled.text.endswith(
        "\n\n[1.1.0]: https://e.org/compare/v1.0.0...v1.1.0\n[1.0.0]: https://e.org/tag/v1.0.0\n"
    )


def test_roll_forward_replaces_a_stale_definition() -> None:
    text = (
        "## [Unreleased]\n\n- x\n\n## [1.0.0] - 2020-01-01\n\n"
        "[unreleased]: https://e.org/compare/v1.0.0...HEAD\n[1.0.0]: https://e.org/releases/tag/v1.0.0\n"
        "[1.1.0]: https://e.org/stale\n"
    )
    rolled = roll_forward(text, semver("1.1.0"), "2026-01-02")
    assert "https://e.org/stale" not in rolled.text
    assert rolled.text.count("[1.1.0]: https://e.org/compare/v1.0.0...v1.1.0\n") == 1
    assert any("replaced the link definition [1.1.0]" in w for w in rolled.warnings)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("## [1.0.0] - 2020-01-01\n\n- a\n", {}, "no \\[Unreleased\\] section and no notes"),
        ("## [Unreleased]\n\n## [1.0.0] - 2020-01-01\n", {}, "nothing to release"),
        ("## [Unreleased]\n\n- a\n\n## [1.1.0] - 2020-01-01\n", {}, "already has a section"),
        ("## [Unreleased]\n\n- a\n", {"notes": "   \n"}, "nothing to release"),
        ("## [Unreleased]\n\n- a\n", {"notes": "## Added\n\n- b"}, "use `###` headings"),
        ("## [Unreleased]\n\n- a\n\n## Unreleased\n\n- b\n", {}, "2 \\[Unreleased\\] sections"),
    ],
)
def test_roll_forward_refuses(text: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ChangelogError, match=message):
        roll_forward(text, semver("1.1.0"), "2026-01-02", **kwargs)


# --- properties -----------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["fix", "add", "`code`", "**bold**", "_em_", "[link](https://e.org)", "#12", "crash",
     "na\u00efve", "\u2013", "[#7]", "x  ", "foo\\", "<br>", "&amp;", "##", "# not"]
)
# Sentences start with a plain word: a line starting `## ` would be a heading, rightly.
SENTENCE = st.lists(WORDS, min_size=0, max_size=6).map(lambda w: " ".join(["Fix", *w]))


def _bullets(items: list[str], marker: str) -> str:
    return "\n".join(f"{marker} {item}" for item in items)


BLOCKS = st.one_of(
    st.builds(_bullets, st.lists(SENTENCE, min_size=1, max_size=4), st.sampled_from("-*+")),
    st.builds(lambda a, b: f"- {a}\n  - {b}\n    - {b}", SENTENCE, SENTENCE),
    st.builds(lambda s: f"```sh\n## {s}\n# {s}\n```", SENTENCE),
    st.builds(lambda s: f"~~~\n## [9.9.9] - {s}\n~~~", SENTENCE),
    st.builds(lambda s: f"<!--\n## {s}\n-->", SENTENCE),
    st.builds(lambda s: f"    ## {s}", SENTENCE),
    st.builds(lambda s: f"> ## {s}\n> {s}", SENTENCE),
    st.builds(lambda s: f"### Added\n\n- {s}", SENTENCE),
    st.builds(lambda s: f"{s}   \n{s}", SENTENCE),
    st.builds(lambda s: f"1. {s}\n   1. {s}", SENTENCE),
    st.builds(lambda s: f"| a | b |\n|---|---|\n| {s} | 1 |", SENTENCE),
)
BODIES = st.lists(BLOCKS, min_size=0, max_size=4).map("\n\n".join)
TITLES = [
    lambda v, d: f"[{v}] - {d}", lambda v, d: f"v{v} \u2013 {d}", lambda v, d: f"{v} \u2014 {d}",
    lambda v, d: f"{v} ({d})", lambda v, d: f"[{v}](https://e.org/{v}) ({d})",
    lambda v, d: f"v{v} - {d}",
]
VERSIONS = st.builds(
    lambda *n: semver(".".join(map(str, n))),
    st.integers(0, 30), st.integers(0, 30), st.integers(0, 30),
)


@dataclass(frozen=True)
class Generated:
    text: str
    bodies: dict[str, str]  # section name -> body as written (with the file's line endings)


# How releases are leveled: all at one level, setext, or conventional-changelog's minors one
# level above patches.
LAYOUTS = ["2", "1", "3", "setext", "12", "23"]


def _level(layout: str, version: str) -> int:
    if layout in ("12", "23"):
        minor = version.endswith(".0")
        return int(layout[0]) if minor else int(layout[1])
    return 2 if layout == "setext" else int(layout)


def _heading(layout: str, level: int, title: str) -> str:
    if layout == "setext":
        return f"{title}\n{'-' * len(title)}"
    return f"{'#' * level} {title}"


@st.composite
def changelogs(draw: st.DrawFn, unreleased: bool = True) -> Generated:
    versions = sorted(draw(st.sets(VERSIONS, min_size=0, max_size=6)), reverse=True)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.booleans())
    title = draw(st.sampled_from(TITLES))
    layout = draw(st.sampled_from(LAYOUTS))
    gap = draw(st.sampled_from(["\n", "\n\n", "\n\n\n", "\n  \n"]))
    parts = ["# Changelog", "", "Intro text with a [link][unreleased].", ""]
    bodies: dict[str, str] = {}
    names = [str(v) for v in versions]
    levels = [_level(layout, name) for name in names]
    usual = min(levels, key=lambda lv: (-levels.count(lv), lv)) if levels else 2
    if unreleased:
        names, levels = ["Unreleased", *names], [levels[0] if levels else 2, *levels]
    for n, (name, level) in enumerate(zip(names, levels, strict=True)):
        body = draw(BODIES)
        if level == 3:  # a `###` category under a `###` release is its own level: below
            body = body.replace("### Added", "#### Added")
        if level == usual and n < len(names) - 1 and draw(st.booleans()):
            # A subsection written at the release's own level (`## Fixed` for `### Fixed`)
            # stays part of the release.
            body = (body + "\n\n" if body else "") + f"{'#' * level} Fixed\n\n- {draw(SENTENCE)}"
        text = "[Unreleased]" if name == "Unreleased" else title(name, "2025-12-02")
        parts.append(_heading(layout, level, text) + (gap if body else "\n"))
        if body:
            parts.append(body + gap)
        bodies[name] = body.replace("\n", eol)
    if draw(st.booleans()):
        parts.append("[unreleased]: https://e.org/compare/HEAD\n[#7]: https://e.org/7\n")
    text = "\n".join(parts).replace("\n", eol)
    return Generated(("\ufeff" if bom else "") + text, bodies)


@FAST
@given(changelogs())
def test_extracting_any_section_returns_exactly_what_was_written(gen: Generated) -> None:
    parsed = parse(gen.text)
    assert [s.name for s in parsed.sections] == list(gen.bodies)
    for name, body in gen.bodies.items():
        assert parsed.find(name).body == body
        assert extract(gen.text, name, allow_empty=True).body.startswith(body)


@FAST
@given(changelogs(), st.sampled_from(["2026-01-02", "2030-12-31"]))
def test_roll_forward_moves_exactly_the_unreleased_notes(gen: Generated, date: str) -> None:
    before = parse(gen.text)
    assert before.unreleased is not None
    found = [semver(s.version) for s in before.releases if s.version]
    new = max(found).bump(Bump.MINOR) if found else semver("0.1.0")
    if not gen.bodies["Unreleased"].strip():
        with pytest.raises(ChangelogError, match="nothing to release"):
            roll_forward(gen.text, new, date)
        return
    rolled = roll_forward(gen.text, new, date, repo_url="https://github.com/o/r")
    assert extract(rolled.text, str(new)).body == notes(before, before.unreleased)
    after = parse(rolled.text)
    assert [s.name for s in after.sections] == ["Unreleased", str(new), *list(gen.bodies)[1:]]
    assert after.unreleased is not None
    assert after.unreleased.body == ""
    for section in before.releases:
        assert after.find(section.name).body == section.body
    assert rolled.text.startswith("\ufeff") == gen.text.startswith("\ufeff")
    if "\r\n" in gen.text:
        assert rolled.text.count("\n") == rolled.text.count("\r\n")
    with pytest.raises(ChangelogError, match="already has a section"):
        roll_forward(rolled.text, new, date, notes="- more")


# mistletoe is the reference: the scan that skips plain regions must find exactly the headings
# and link definitions that a full parse of the document finds.
LINES = st.sampled_from(
    ["## 1.0.0", "# Title", "### [1.0.1](https://e.org) (2020-01-01)", "#### Fixed", "###### six",
     "  ## indented", "   ## three", "    ## four", "\t## tab", "```",
     "~~~", "  ```", "- ```", "- item", "  - nested", "1. one", "   text", "<!--", "-->",
     "<!-- one line -->", "<details>", "</details>", "<div>", "", "", "", "para text",
     "> quote", "> ## quoted", ">", "[a]: https://e.org/a", "  [b]: https://e.org/b 'B'",
     "[c]:", "  https://e.org/c", "---", "===", "***", "text ## not", "| a | b |", "|---|---|",
     "<pre>", "</pre>", "##", "## [1.0.0] - 2020-01-01", "- [f]: https://e.org/f",
     "  1. [g]: /g 'G'", "- [#12] not a definition", "> - [h]: /h", "- <!--", "* <div>",
     "> ```", "## C# 2.0", "## 1.0 ##", "# #"]
)


def _reference(text: str) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Top-level headings and link definitions of a full, plain mistletoe parse."""
    block_token, block_tokenizer = changelog_scan.block_token, changelog_scan.block_tokenizer
    span_token, token = changelog_scan.span_token, changelog_scan.token
    lines = changelog_lines.Lines.split(text)
    root = changelog_scan.Root()
    found = []
    block_token.add_token(block_token.HtmlBlock)
    span_token.add_token(span_token.HtmlSpan)
    token._root_node = root
    try:
        for kind, result, line in block_tokenizer.tokenize_block(
            lines.plines, block_token._token_types
        ):
            if kind is block_token.Heading:
                found.append((line - 1, result[0]))
            elif isinstance(result, block_token.SetextHeading) and result.level <= 2:
                found.append((line - 1, result.level))
    finally:
        token._root_node = None
        block_token.remove_token(block_token.HtmlBlock)
        span_token.remove_token(span_token.HtmlSpan)
    return found, root.footnotes


@settings(max_examples=int(os.environ.get("DOJO_SCAN_EXAMPLES", "300")), deadline=None)
@given(st.lists(LINES, max_size=40).map("\n".join))
def test_the_fast_scan_agrees_with_a_full_mistletoe_parse(text: str) -> None:
    headings, definitions = _reference(text)
    root = changelog_scan.Root()
    lines = changelog_lines.Lines.split(text)
    with changelog_scan.using_mistletoe(root):
        scan = changelog_scan.scan_lines(lines)
    assert [(h.index, h.level) for h in scan.headings] == headings
    assert root.footnotes == definitions


@pytest.mark.parametrize("line", [
    "## 1.0.0", "## [1.0.0] - 2020-01-01", "# Title", "###### six", "##", "## ", "##\ttab",
    "## trailing   ", "## \u00a0nbsp\u00a0", "## C# notes", "## 1.0 ##", "### x #", "## ##",
    "# #x", "###### six ######", "## a \\#", "## 2.0 #not closing", "#\t#", "##  # #",
])
def test_a_heading_is_read_as_mistletoes_pattern_reads_it(line: str) -> None:
    """The scan reads a heading without a `#` after its opening ones without the pattern."""
    scan = changelog_scan.scan_text(f"{line}\n\ntext\n")
    assert [(h.level, h.content) for h in scan.headings] == [changelog_scan._atx(line + "\n")]


@settings(max_examples=int(os.environ.get("DOJO_SCAN_EXAMPLES", "100")), deadline=None)
@given(st.lists(st.sampled_from(
    ["[a]: https://e.org/a", "[b]:", "  https://e.org/b", '  "title', '  more"', "[c]: /c 'x'",
     "[d]: <https://e.org/d> (paren title)", "not a definition", "[e]: /e trailing junk",
     # around the plain one-line definitions matched without mistletoe's loop
     "[f]:/f", "[g]: https://e.org/g  ", '"next line title"', "(next line title)", "'x'",
     "[h]: /h&amp;x", "[i\\]]: /i", "[ ]: /blank", "[J  K]: /jk", "[l]: /l\u00a0m", ""]
), min_size=10, max_size=80).map("\n".join))
def test_long_definition_runs_are_read_like_mistletoe_reads_them(text: str) -> None:
    parsed = parse("## [Unreleased]\n\n- x\n\n" + text)
    _, definitions = _reference("## [Unreleased]\n\n- x\n\n" + text)
    found: dict[str, tuple[str, str]] = {}
    for ref in parsed.link_refs:  # the first definition of a label wins, as in CommonMark
        found.setdefault(ref.key, (ref.dest, ref.title))
    assert found == definitions
    assert all(parsed.ref(key) is not None for key in definitions)


def test_generated_big_changelog_round_trip() -> None:
    # 400 sections with everything at once; exercises the fast path on a long file.
    parts = ["# Changelog\n\n## [Unreleased]\n\n- pending\n"]
    bodies = {}
    for n in range(400, 0, -1):
        version = f"{n // 100}.{n // 10 % 10}.{n % 10}"
        body = f"### Fixed\n\n- item {n} [#{n}]\n  - nested {n}"
        if n % 7 == 0:
            body += f"\n\n```\n## {version}\n```"
        if n % 11 == 0:
            body += f"\n\n<!--\n## [{version}] - 2020-01-01\n-->"
        bodies[version] = body
        parts.append(f"\n## [{version}] - 2020-01-{n % 28 + 1:02d}\n\n{body}\n")
    parts.append("\n" + "".join(f"[#{n}]: https://e.org/{n}\n" for n in range(1, 401)))
    text = "".join(parts)
    parsed = parse(text)
    assert len(parsed.releases) == 400
    for version, body in bodies.items():
        assert parsed.find(version).body == body
    n = 123
    assert extract(text, "1.2.3").body == bodies["1.2.3"] + f"\n\n[#{n}]: https://e.org/{n}"
