"""Which file is the changelog when pyproject.toml does not say: the file `[project.urls]`
links to, else the first of the names projects use (CHANGES.md, HISTORY.md, docs/changelog.md,
...), Markdown first; a changelog that is not Markdown is then refused with the reason. Checked
in the three apps: release (in HEAD), extract-notes and publish's gate (in the work tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import extract_notes_main, problems, release_in
from tests.support.gitrepo import CHANGELOG, make_repo
from tests.support.projects import project_at, project_of

PROJECT = "[project]\nname = 'demo'\nversion = '0.1.0'\n"


@pytest.mark.parametrize(
    ("pyproject", "files", "found"),
    [
        (PROJECT, ["CHANGELOG.md", "HISTORY.md"], "CHANGELOG.md"),
        (PROJECT, ["HISTORY.md", "CHANGES.md"], "CHANGES.md"),  # the list's order, not the tree's
        (PROJECT, ["docs/changelog.md", "CHANGES.rst"], "docs/changelog.md"),  # Markdown first
        (PROJECT, ["CHANGES.rst"], "CHANGES.rst"),  # refused later, with the reason
        (PROJECT, ["README.md"], "CHANGELOG.md"),  # none: the default, reported missing
        (
            PROJECT + "[project.urls]\nChangelog = "
            "'https://github.com/acme/demo/blob/main/docs/release-notes.md#latest'\n",
            ["docs/release-notes.md", "CHANGELOG.md"],
            "docs/release-notes.md",
        ),
        (
            PROJECT + "[project.urls]\n'Release Notes' = "
            "'https://gitlab.com/acme/demo/-/blob/main/NEWS.md'\n",
            ["NEWS.md", "CHANGELOG.md"],
            "NEWS.md",
        ),
        (  # a URL that names no file in the tree (the docs site) is no hint
            PROJECT + "[project.urls]\nChangelog = 'https://demo.readthedocs.io/en/latest/changes/'\n",
            ["HISTORY.md"],
            "HISTORY.md",
        ),
        (PROJECT + "[tool.release]\nchangelog = 'CHANGES.md'\n", ["HISTORY.md"], "CHANGES.md"),
        (
            PROJECT + "[tool.towncrier]\nfilename = 'docs/news.md'\n",
            ["CHANGELOG.md"],
            "docs/news.md",
        ),
    ],
)
def test_the_changelog_is_found(
    tmp_path: Path, pyproject: str, files: list[str], found: str
) -> None:
    assert project_of(pyproject, tmp_path, files=files).settings.changelog == found
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# x\n")
    assert project_at(tmp_path).settings.changelog_file == tmp_path.resolve() / found


def _project(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT)
    for path, text in files.items():
        (root / path).write_text(text)
    return root


def test_extract_notes_reads_the_history_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, "p", {"HISTORY.md": "## 0.1.0\n\n- First.\n"}))
    assert extract_notes_main(["0.1.0"]) == 0
    assert capsys.readouterr().out == "- First.\n"


def test_extract_notes_reads_a_found_rst_changelog_and_refuses_plain_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, "p", {"CHANGES.rst": "0.1.0\n=====\n\n- First.\n"}))
    assert extract_notes_main(["0.1.0", "--format", "rst"]) == 0
    assert capsys.readouterr().out == "- First.\n"
    monkeypatch.chdir(_project(tmp_path, "q", {"CHANGES.txt": "0.1.0\n=====\n\n- First.\n"}))
    assert extract_notes_main(["0.1.0"]) == 1
    err = capsys.readouterr().err
    assert problems(err, "extract-notes")[0].startswith(
        "extract-notes: CHANGES.txt is plain text, not Markdown or reStructuredText"
    )


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("HISTORY.md", None),
        ("docs/changelog.md", None),
        (
            "CHANGES.txt",
            "release: CHANGES.txt is plain text, not Markdown or reStructuredText: keep the "
            "changelog as CHANGELOG.md or CHANGES.rst, or point at one with [tool.release] "
            "changelog in pyproject.toml",
        ),
        ("ChangeLog.markdown", None),  # named like a changelog: found
        ("docs/Releases.md", None),
        (
            "HISTORY.adoc",
            "release: no changelog release reads, but HISTORY.adoc looks like one: name it in "
            "[tool.release] changelog (release reads Markdown and reStructuredText), or rename "
            "it to CHANGELOG.md",
        ),
    ],
)
def test_release_rolls_the_file_the_project_keeps(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str,
    expect: str | None,
) -> None:
    repo = make_repo(tmp_path / "p")
    text = repo.read("CHANGELOG.md")
    repo.git("rm", "-q", "CHANGELOG.md")
    repo.commit(f"docs: the changelog is {name}", {name: text})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = release_in(repo.work, capsys, "--bump", "patch")
    if expect is not None:
        assert code == 1
        assert problems(err)[0].startswith(expect), err
        return
    assert code == 0, err
    assert out == "v0.1.1\n"
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == sorted(
        [name, "pyproject.toml"]
    )
    assert "## [0.1.1] - 2026-03-04" in repo.read(name)
    assert not (repo.work / "CHANGELOG.md").exists()
    assert CHANGELOG.splitlines()[0] == repo.read(name).splitlines()[0]


# Documentation-site layouts: the tree (path -> text) and the changelog found in it.
_MKDOCS_LANG = "site_name: Demo\ndocs_dir: docs\nnav:\n  - Home: index.md\n"
_SPHINX_INDEX = "Demo\n====\n\n.. toctree::\n   :maxdepth: 2\n\n   usage\n   project/index\n"


@pytest.mark.parametrize(
    ("urls", "files", "found"),
    [
        (  # Read the Docs: /<lang>/<version>/ is dropped, the page's source is under docs/
            "Changelog = 'https://demo.readthedocs.io/en/latest/changelog.html'",
            {"docs/changelog.rst": "Changelog\n=========\n\n1.0\n---\n\n- One.\n"},
            "docs/changelog.rst",
        ),
        (  # an own domain, a directory URL, mkdocs' docs_dir beside a language's mkdocs.yml
            "'Release Notes' = 'https://demo.example.org/release-notes/'",
            {"docs/en/mkdocs.yml": _MKDOCS_LANG, "docs/en/docs/release-notes.md": "# Notes\n"},
            "docs/en/docs/release-notes.md",
        ),
        (  # the page only includes the file at the root: that file is the changelog
            "History = 'https://demo.example.org/en/stable/history.html#v1-0'",
            {
                "docs/history.rst": ".. _history:\n\n.. include:: ../HISTORY.rst\n",
                "HISTORY.rst": "History\n=======\n\n1.0\n---\n\n- One.\n",
            },
            "HISTORY.rst",
        ),
        (  # MyST include of a Markdown changelog
            "Changelog = 'https://demo.example.org/changes/'",
            {
                "docs/changes.md": "# Changes\n\n```{include} ../CHANGES.md\n```\n",
                "CHANGES.md": "# Changes\n\n## 1.0\n\n- One.\n",
            },
            "CHANGES.md",
        ),
        (  # the forge's releases page: the notes live there; the names still apply
            "Changelog = 'https://github.com/acme/demo/releases'",
            {"NEWS.md": "# News\n"},
            "NEWS.md",
        ),
    ],
)
def test_a_documentation_page_maps_onto_its_source(
    tmp_path: Path, urls: str, files: dict[str, str], found: str
) -> None:
    text = PROJECT + "[project.urls]\n" + urls + "\n"
    assert project_of(text, tmp_path, files=files).settings.changelog == found


@pytest.mark.parametrize(
    ("files", "found"),
    [
        (  # a mkdocs nav entry titled like a changelog, under a custom docs_dir
            {
                "mkdocs.yml": "site_name: x\ndocs_dir: site/src\nmarkdown_extensions:\n"
                "  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji\n"
                "nav:\n  - Home: index.md\n  - About:\n    - Version History: about/versions.md\n",
                "site/src/about/versions.md": "# Versions\n",
            },
            "site/src/about/versions.md",
        ),
        (  # a mkdocs snippet stub: the file it includes
            {
                "mkdocs.yml": "site_name: x\nnav:\n  - changelog.md\n",
                "docs/changelog.md": '--8<-- "NEWS.md"\n',
                "NEWS.md": "# News\n",
            },
            "NEWS.md",
        ),
        (  # a Sphinx toctree, one index deep
            {
                "docs/conf.py": "project = 'demo'\n",
                "docs/index.rst": _SPHINX_INDEX,
                "docs/project/index.rst":
                    "Project\n=======\n\n.. toctree::\n\n   Changes <changes>\n",
                "docs/project/changes.rst": "Changes\n=======\n",
            },
            "docs/project/changes.rst",
        ),
        (  # the documentation layouts, by name
            {"docs/history/demo.md": "# demo\n", "README.md": "# demo\n"},
            "docs/history/demo.md",
        ),
        ({"docs/versionhistory.rst": "Version history\n===============\n"},
         "docs/versionhistory.rst"),
        ({"docs/about/release-notes.md": "# Release notes\n"}, "docs/about/release-notes.md"),
        (  # any file named like a changelog, Markdown first
            {"docs/versions.rst": "Versions\n========\n", "doc/whatsnew.md": "# New\n"},
            "doc/whatsnew.md",
        ),
        ({"docs/versions.rst": "Versions\n========\n"}, "docs/versions.rst"),
        (  # a root changelog beats one a docs page names
            {"CHANGELOG.md": "# x\n", "mkdocs.yml": "nav:\n  - Changes: changes.md\n",
             "docs/changes.md": "# y\n"},
            "CHANGELOG.md",
        ),
        (  # garbage mkdocs.yml and a long page with an include are no hints, no crash
            {"mkdocs.yml": "nav: [unclosed\n", "docs/release-notes.md":
             "# Notes\n\n" + "".join(f"- item {i}\n" for i in range(20)) + '--8<-- "x.md"\n'},
            "docs/release-notes.md",
        ),
    ],
)
def test_documentation_layouts_name_the_changelog(
    tmp_path: Path, files: dict[str, str], found: str
) -> None:
    assert project_of(PROJECT, tmp_path, files=files).settings.changelog == found
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert project_at(tmp_path).settings.changelog_file == tmp_path.resolve() / found
