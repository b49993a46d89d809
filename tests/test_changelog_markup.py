"""A changelog that is not Markdown (named `CHANGES`, `HISTORY`, `NEWS`, `CHANGELOG.txt`, which
say nothing about their markup) is told apart by its content: its releases are plain-text lines
or reStructuredText titles, not Markdown headings. release and extract-notes then say so, in one
line, instead of suspecting an unclosed code fence."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.core.changelog.markup import not_markdown
from tests.support.apps import extract_notes_main, problems, release_in
from tests.support.gitrepo import make_repo

# Shapes seen in real projects' files; the texts are this suite's own.
PLAIN_LINES = "Changes\n\nSee the commits for more.\n\n2.1.0 (2025-03-01)\n\n* Faster.\n\n" \
    "2.0.0 (2024-11-02)\n\n* New API.\n"
PLAIN_ITEMS = "- 1.4.0: Support Python 3.14.\n  Drop 3.8.\n- 1.3.0: Add the color option.\n"
PLAIN_VERSION_WORD = "Release history\n\nVersion 0.9 - May 2024\n  * Fix.\n\n" \
    "Version 0.8 - Jan 2024\n  * Add.\n"
GNU = "2024-05-02  Jane Doe  <jane@example.org>\n\n\t* demo.py: Fix 3.1.\n"
RST_TILDE = "History\n=======\n\n3.2.0\n~~~~~\n\n- Fix.\n\n3.1.0\n~~~~~\n\n- Add.\n"
RST_OVERLINE = "=====\n3.2.0\n=====\n\n- Fix.\n"
RST_DIRECTIVES = (
    ".. _changelog:\n\nChangelog\n=========\n\n.. include:: ../NEWS\n\n3.1 came first.\n"
)
MD_ATX = "# Changelog\n\n## 3.2.0\n\n- Fix.\n\n- 3.1.0: mentioned in a list\n"
MD_SETEXT = "Changelog\n=========\n\n3.2.0 (2025-01-01)\n------------------\n\n- Fix.\n"


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        (PLAIN_LINES, "plain text", 5),
        (PLAIN_ITEMS, "plain text", 1),
        (PLAIN_VERSION_WORD, "plain text", 3),
        (GNU, "plain text", 1),
        (RST_TILDE, "reStructuredText", 4),
        (RST_OVERLINE, "reStructuredText", 2),
        (RST_DIRECTIVES, "reStructuredText", 1),
        (MD_ATX, None, None),
        (MD_SETEXT, None, None),
        ("", None, None),
    ],
)
def test_the_markup_is_told_by_the_content(text: str, kind: str | None, line: int | None) -> None:
    found = not_markdown(text)
    assert (found and found.kind, found and found.line) == (kind, line)


def test_the_explanation_names_the_line_and_the_markdown_heading() -> None:
    found = not_markdown(PLAIN_LINES)
    assert found is not None
    assert found.explain("CHANGES") == (
        "CHANGES is plain text, not Markdown: its releases are plain-text lines (line 5: "
        "`2.1.0 (2025-03-01)`), not headings; keep the changelog as Markdown "
        "(`## 2.1.0 (2025-03-01)`), or point at a Markdown one with [tool.release] changelog"
    )
    rst = not_markdown(RST_TILDE)
    assert rst is not None
    assert rst.explain("HISTORY") == (
        "HISTORY is reStructuredText, not Markdown: its releases are section titles (line 4: "
        "`3.2.0`); reStructuredText changelogs are read by their .rst name: rename it to "
        "HISTORY.rst, or point at another one with [tool.release] changelog"
    )


# A `.md` file that is plain text: its own (stale) releases, none of them the last tag's.
STALE_MD = "Unreleased\n\n- Fix the parser.\n\nv0.0.1\n\n- First.\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CHANGES", PLAIN_LINES.replace("2.1.0", "0.1.0")),
        ("CHANGES", PLAIN_ITEMS.replace("1.4.0", "0.1.0")),
        ("CHANGELOG.md", STALE_MD),  # else a Markdown section would be appended at its end
    ],
)
def test_release_says_a_plain_text_changelog_is_not_markdown(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    repo = make_repo(tmp_path / "p")  # released 0.1.0 as v0.1.0
    repo.git("rm", "-q", "CHANGELOG.md")
    repo.commit(f"docs: the changelog is {name}", {name: text})
    before = repo.git("rev-parse", "HEAD"), repo.git("status", "--porcelain")
    code, _, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 1
    lines = problems(err)
    assert any(line.startswith(f"release: {name} is plain text, not Markdown") for line in lines)
    assert not any("code fence" in line for line in lines), err
    assert (repo.git("rev-parse", "HEAD"), repo.git("status", "--porcelain")) == before


def test_extract_notes_says_a_plain_text_changelog_is_not_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '2.1.0'\n")
    (tmp_path / "HISTORY").write_text(PLAIN_LINES)
    monkeypatch.chdir(tmp_path)
    assert extract_notes_main(["2.1.0"]) == 1
    assert problems(capsys.readouterr().err, "extract-notes")[0].startswith(
        "extract-notes: HISTORY is plain text, not Markdown: its releases are plain-text lines "
        "(line 5"
    )
