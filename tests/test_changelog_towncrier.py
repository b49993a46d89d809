"""towncrier: detecting `[tool.towncrier]` (the changelog it writes is every app's changelog),
and a real `towncrier build` in a throwaway clone of a real git repository."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from release.apps.extract_notes import main as extract_notes
from release.core.changelog import extract
from release.errors import ConfigError, DojoError
from release.shell import towncrier
from tests.support.projects import project_of

PYPROJECT = """\
[project]
name = "widget"
version = "1.2.0"

[tool.towncrier]
filename = "CHANGELOG.md"
directory = "changelog.d"
"""


@pytest.mark.parametrize(
    ("text", "writes", "changelog"),
    [
        (PYPROJECT, True, "CHANGELOG.md"),
        ("[tool.towncrier]\ndirectory = 'news'\n", True, "NEWS.rst"),  # towncrier's default
        ("[tool.towncrier]\nfilename = 'docs/changes.md'\n", True, "docs/changes.md"),
        (
            "[tool.towncrier]\nfilename = 'CHANGELOG.md'\n[tool.release]\n"
            "changelog = 'CHANGELOG.md'\n",
            True,
            "CHANGELOG.md",
        ),
        ("[project]\nname = 'x'\n", False, "CHANGELOG.md"),
        ("# [tool.towncrier] in a comment\n", False, "CHANGELOG.md"),
        ("[tool]\nrelease = {changelog = 'HISTORY.md'}\n", False, "HISTORY.md"),
    ],
)
def test_towncrier_names_the_changelog(text: str, writes: bool, changelog: str) -> None:
    settings = project_of(text, Path("/p")).settings
    assert settings.towncrier is writes
    assert settings.changelog == changelog


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool]\ntowncrier = 7\n", "[tool.towncrier] in pyproject.toml must be a table"),
        ("[tool.towncrier]\nfilename = 7\n", "whose `filename` is a non-empty string"),
        (
            "[tool.towncrier]\nfilename = '{version}.md'\nsingle_file = false\n",
            "[tool.towncrier] single_file = false in pyproject.toml writes a file per release",
        ),
        (
            "[tool.towncrier]\nfilename = 'CHANGELOG.md'\n"
            "[tool.release]\nchangelog = 'NEWS.md'\n",
            "[tool.release] changelog is NEWS.md but towncrier writes CHANGELOG.md",
        ),
    ],
)
def test_a_bad_towncrier_table_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        project_of(text, Path("/p"))
    assert message in str(raised.value)


def _setup(pyproject: str) -> towncrier.Setup:
    return project_of(pyproject, Path("/p")).tool("towncrier")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=dev@example.org", "-c", "user.name=Dev", *args],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "widget"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "CHANGELOG.md").write_text(
        "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
        "## 1.1.0 - 2025-01-01\n\n### Fixed\n\n- An older fix.\n"
    )
    news = root / "changelog.d"
    news.mkdir()
    (news / "12.feature.md").write_text("Sync works offline.\n")
    (news / "13.bugfix.md").write_text("No crash on an empty input file.\n")
    _git(root, "init", "-q", ".")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start")
    return root


def _everything(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_build_reports_what_towncrier_wrote_and_touches_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A caller's GIT_DIR (a hook's) must not send towncrier's `git rm` elsewhere.
    decoy = tmp_path / "decoy.git"
    _git(tmp_path, "init", "-q", "--bare", str(decoy))
    monkeypatch.setenv("GIT_DIR", str(decoy))
    before, decoy_before = _everything(project), _everything(decoy)
    sha = _git(project, "--git-dir", str(project / ".git"), "rev-parse", "HEAD").strip()
    # Uncommitted work is not the release: the build starts from the commit.
    (project / "changelog.d" / "14.feature.md").write_text("Not committed.\n")

    built = towncrier.build(project, sha, "1.2.0", "2026-02-03", _setup(PYPROJECT))

    (project / "changelog.d" / "14.feature.md").unlink()
    assert _everything(project) == before
    assert _everything(decoy) == decoy_before
    assert built.removed == ("changelog.d/12.feature.md", "changelog.d/13.bugfix.md")
    assert set(built.written) == {"CHANGELOG.md"}
    text = built.written["CHANGELOG.md"].decode()
    section = extract(text, "1.2.0")
    assert section.date == "2026-02-03"
    assert "- Sync works offline. (#12)" in section.body
    assert "- No crash on an empty input file. (#13)" in section.body
    assert "Not committed" not in text
    assert extract(text, "1.1.0").body == "### Fixed\n\n- An older fix."


def test_a_towncrier_failure_is_one_error_with_towncriers_words(project: Path) -> None:
    text = PYPROJECT + 'template = "missing.jinja"\n'
    (project / "pyproject.toml").write_text(text)
    _git(project, "commit", "-qam", "a template that does not exist")
    sha = _git(project, "rev-parse", "HEAD").strip()
    with pytest.raises(DojoError, match=r"^towncrier build failed \(.*missing\.jinja.*\): fix"):
        towncrier.build(project, sha, "1.2.0", "2026-02-03", _setup(text))


@pytest.mark.parametrize(
    ("table", "folders"),
    [
        ("", []),  # NEWS.rst at the top, fragments found through `package` (none set)
        ('directory = "changelog.d"\nfilename = "CHANGELOG.md"\n', ["changelog.d"]),
        (
            'filename = "docs/changes.md"\ndirectory = "docs/news/"\n'
            'template = "docs/news/template.md"\n',
            ["docs", "docs/news"],
        ),
        ('package = "widget.core"\npackage_dir = "src"\n', ["src/widget"]),
        ('template = "towncrier:default"\n', []),  # towncrier's own template
        ('directory = "../shared-news"\n', None),  # outside the clone: check everything out
        ("filename = 7\n", []),  # not towncrier's shape: ignored here, refused elsewhere
    ],
)
def test_the_sparse_clone_holds_what_towncrier_reads(table: str, folders: list[str] | None) -> None:
    assert towncrier.folders(tomllib.loads(table)) == folders


def test_what_the_sparse_clone_lacks_is_built_from_a_full_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # towncrier imports `package` for the project's name; this one imports a folder that the
    # set-up does not name: the sparse build fails, the full one succeeds.
    src = project / "src"
    (src / "widget_skills").mkdir(parents=True)
    (src / "widget_skills" / "__init__.py").write_text("NAME = 'Widget Pro'\n")
    (src / "dojo_fixture_widget").mkdir()
    (src / "dojo_fixture_widget" / "__init__.py").write_text(
        "import widget_skills\n\n\nclass _V:\n    package = widget_skills.NAME\n\n\n"
        "__version__ = _V()\n"
    )
    text = PYPROJECT.replace('name = "widget"\n', "") + (
        'package = "dojo_fixture_widget"\npackage_dir = "src"\n'
    )
    (project / "pyproject.toml").write_text(text)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "the project's name comes from its package")
    sha = _git(project, "rev-parse", "HEAD").strip()
    built = towncrier.build(project, sha, "1.2.0", "2026-02-03", _setup(text))
    assert "Widget Pro 1.2.0" in built.written["CHANGELOG.md"].decode()
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "towncrier build" in line]) == 3
    assert "step=towncrier status=retry checkout=full" in err  # sparse, then full


def test_extract_notes_reads_the_file_towncrier_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'widget'\n\n[tool.towncrier]\nfilename = 'docs/changes.md'\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "changes.md").write_text(
        "# widget 1.2.0 (2026-02-03)\n\n## Features\n\n- Sync works offline. (#12)\n"
    )
    (tmp_path / "CHANGELOG.md").write_text("## 1.2.0\n\n- The wrong file.\n")
    monkeypatch.chdir(tmp_path)
    assert extract_notes(["1.2.0"]) == 0
    assert capsys.readouterr().out == "## Features\n\n- Sync works offline. (#12)\n"


def test_towncrier_is_found_through_our_own_import_path(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As Nix wraps a program: its packages are on sys.path, not in the environment, and the
    # interpreter alone does not know them. Here: a bare interpreter that knows no towncrier.
    installed = importlib.util.find_spec("towncrier")
    assert installed is not None
    assert installed.origin is not None
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    site = str(Path(installed.origin).parents[1])
    monkeypatch.setattr(towncrier, "TOWNCRIER", (str(bare / "bin" / "python"), "-m", "towncrier"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setattr(sys, "path", [*sys.path] if site in sys.path else [*sys.path, site])
    sha = _git(project, "rev-parse", "HEAD").strip()
    built = towncrier.build(project, sha, "1.2.0", "2026-02-03", _setup(PYPROJECT))
    assert "Sync works offline." in built.written["CHANGELOG.md"].decode()
