"""`release`, `extract-notes` and the notes of a project whose changelog is reStructuredText,
end to end: real git repositories with a bare remote, the real CLI, and for towncrier a real
`towncrier build` writing reST (its default).

Shapes: Pallets' `Version X` over an `Unreleased` line, zest.releaser's `X (unreleased)`, a
marker `Unreleased` section with labels before the titles, and towncrier's `NEWS.rst`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from release.core import changelog
from tests.support.apps import extract_notes_main, release_in
from tests.support.gitrepo import PYPROJECT, GitRepo, make_repo

DATE = "2026-03-04"  # SOURCE_DATE_EPOCH in the isolated environment


def _project(base: Path, name: str, text: str, towncrier: str = "") -> GitRepo:
    pyproject = PYPROJECT + f'changelog = "{name}"\n' if not towncrier else (
        PYPROJECT + "\n[tool.towncrier]\n" + towncrier
    )
    repo = make_repo(base, pyproject=pyproject)
    repo.git("rm", "-q", "CHANGELOG.md")
    repo.commit(f"docs: the changelog is {name}", {name: textwrap.dedent(text)})
    repo.git("push", "--quiet", "origin", "master")
    return repo


SHAPES = {
    "pallets": (
        "CHANGES.rst",
        """\
        Version 0.1.1
        -------------

        Unreleased

        -   Frobnicate faster. :issue:`12`

        Version 0.1.0
        -------------

        Released 2026-01-02

        -   First release.
        """,
        """\
        Version 0.1.1
        -------------

        Released 2026-03-04

        -   Frobnicate faster. :issue:`12`

        Version 0.1.0
        -------------
        """,
    ),
    "zest.releaser": (
        "CHANGES.rst",
        """\
        Changelog
        =========

        0.1.1 (unreleased)
        ------------------

        - Frobnicate faster.
          [octo]


        0.1.0 (2026-01-02)
        ------------------

        - First release.
        """,
        """\
        0.1.1 (2026-03-04)
        ------------------

        - Frobnicate faster.
          [octo]


        0.1.0 (2026-01-02)
        """,
    ),
    "marker section, labels, overlines": (
        "docs/changelog.rst",
        """\
        =========
        Changelog
        =========

        .. _unreleased:

        **Unreleased**
        ==============

        * Frobnicate faster.

        .. _v0-1-0:

        v0.1.0 (January 2, 2026)
        ========================

        * First release.
        """,
        """\
        .. _unreleased:

        **Unreleased**
        ==============

        .. _v0-1-1:

        v0.1.1 (March 4, 2026)
        ======================

        * Frobnicate faster.

        .. _v0-1-0:
        """,
    ),
}


def _invariants(repo: GitRepo, name: str, version: str) -> str:
    """What holds after any release: a clean tree, the tag on the pushed commit, a file that
    still parses without docutils complaints, and the tag's notes = the section's."""
    assert repo.git("status", "--porcelain") == ""
    tag = f"v{version}"
    assert repo.remote_ref(f"refs/tags/{tag}") == repo.head()
    assert repo.remote_ref("refs/heads/master") == repo.head()
    text = repo.read(name)
    parsed = changelog.read(text, name)
    assert getattr(parsed, "messages", ()) == ()
    section = parsed.find(version)
    message = repo.git("tag", "-l", "--format=%(contents)", tag)
    assert message.strip() == f"{tag}\n\n{section.body.strip()}"
    return text


@pytest.mark.parametrize("shape", list(SHAPES))
def test_release_rolls_an_rst_changelog_in_its_own_style(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, shape: str,
) -> None:
    name, before, expected = SHAPES[shape]
    repo = _project(tmp_path / "p", name, before)
    snapshot = repo.snapshot()
    code, plan, err = release_in(repo.work, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert repo.snapshot() == snapshot
    assert "Frobnicate faster." in plan

    code, out, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 0, err
    assert out == "v0.1.1\n"
    text = _invariants(repo, name, "0.1.1")
    assert textwrap.dedent(expected) in text
    assert "First release." in text

    # extract-notes reads the new section back, as written and as Markdown.
    monkeypatch.chdir(repo.work)
    assert extract_notes_main(["v0.1.1", "--format", "rst"]) == 0
    rst_out = capsys.readouterr().out
    assert "Frobnicate faster." in rst_out
    assert extract_notes_main(["v0.1.1"]) == 0
    markdown = capsys.readouterr().out
    assert "Frobnicate faster." in markdown
    if ":issue:" in rst_out:  # the remote is github.com/acme/demo
        assert "[#12](https://github.com/acme/demo/issues/12)" in markdown


def test_towncrier_writing_rst_is_released(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = _project(tmp_path / "p", "NEWS.rst", """\
        Release notes
        =============

        .. towncrier release notes start

        demo 0.1.0 (2026-01-02)
        =======================

        Features
        --------

        - The first frobnicator. (#1)
        """, towncrier='directory = "changelog.d"\n')
    repo.commit("docs: news", {"changelog.d/12.feature.rst": "Frobnicate in ``parallel``.\n"})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = release_in(repo.work, capsys, "--bump", "minor")
    assert code == 0, err
    assert out == "v0.2.0\n"
    text = _invariants(repo, "NEWS.rst", "0.2.0")
    assert text.index(".. towncrier release notes start") < text.index("demo 0.2.0")
    assert text.index("demo 0.2.0") < text.index("demo 0.1.0")
    assert not (repo.work / "changelog.d" / "12.feature.rst").exists()
    monkeypatch.chdir(repo.work)
    assert extract_notes_main(["0.2.0"]) == 0
    assert capsys.readouterr().out == (
        "### Features\n\n- Frobnicate in `parallel`. (#12)\n"
    )
