"""`release` on projects shaped like real Python projects: every common version source, by the
project's tag format, by the kind of bump, each a real repository with a bare remote.

The fixtures are written here in the shapes real sdists have (pyproject.toml tables, quoting,
`__version__ = version = '...'` files, `VERSION` files, generated files that git ignores); no
project's text is copied.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from release.core.tagformat import TagFormat
from release.core.version import parse
from tests.support.apps import release_in
from tests.support.gitrepo import WEB_URL, GitRepo, make_repo

CURRENT = "1.4.2"


@dataclass(frozen=True)
class Source:
    """A project's version source: its pyproject.toml, the files beside it, and which file
    `release` must edit (None: the tag is the version, only the changelog changes)."""

    name: str
    pyproject: str
    files: dict[str, str] = field(default_factory=dict)
    edited: str | None = "pyproject.toml"
    # The version's line as it must read after the release, `{v}` standing for the version.
    line: str = 'version = "{v}"'


def _toml(text: str) -> str:
    return textwrap.dedent(text).lstrip()


SOURCES = [
    Source(
        "static",
        _toml(f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "demo"
            version = "{CURRENT}"  # written by release
            requires-python = ">=3.9"
            """),
        line='version = "{v}"  # written by release',
    ),
    Source(
        "poetry1",
        _toml(f"""
            [tool.poetry]
            name = "demo"
            version = "{CURRENT}"
            description = "A demo"
            authors = ["Ada <ada@example.org>"]

            [tool.poetry.dependencies]
            python = "^3.9"

            [build-system]
            requires = ["poetry-core>=1.0.0"]
            build-backend = "poetry.core.masonry.api"
            """),
    ),
    Source(
        "poetry2",
        _toml(f"""
            [project]
            name = "demo"
            dynamic = ["version", "classifiers"]
            requires-python = ">=3.9,<4.0"

            [tool.poetry]
            version = '{CURRENT}'
            requires-poetry = ">=2.0"

            [build-system]
            requires = ["poetry-core>=2.0"]
            build-backend = "poetry.core.masonry.api"
            """),
        line="version = '{v}'",
    ),
    Source(
        "hatch-path",
        _toml("""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "demo"
            dynamic = ["version"]

            [tool.hatch.version]
            path = "src/demo/__about__.py"
            """),
        files={
            "src/demo/__about__.py": f"# SPDX-License-Identifier: MIT\n__version__ = '{CURRENT}'\n"
        },
        edited="src/demo/__about__.py",
        line="__version__ = '{v}'",
    ),
    Source(
        "setuptools-attr",
        _toml("""
            [build-system]
            requires = ["setuptools>=61.0.0"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "demo"
            dynamic = ["version"]

            [tool.setuptools.dynamic]
            version = {attr = "demo.__version__"}
            """),
        files={
            "src/demo/__init__.py": (
                f'"""The demo package."""\n\nfrom typing import List\n\n__version__ = "{CURRENT}"\n'
                '__all__: List[str] = []\n'
            )
        },
        edited="src/demo/__init__.py",
        line='__version__ = "{v}"',
    ),
    Source(
        "setuptools-file",
        _toml("""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "demo"
            dynamic = ["version", "readme"]

            [tool.setuptools.dynamic]
            readme = {file = "README.md"}
            version = {file = "VERSION"}
            """),
        files={"VERSION": f"{CURRENT}\n", "README.md": "# demo\n"},
        edited="VERSION",
        line="{v}",
    ),
    Source(
        "pdm-file",
        _toml("""
            [project]
            name = "demo"
            dynamic = ["version"]

            [build-system]
            requires = ["pdm-backend"]
            build-backend = "pdm.backend"

            [tool.pdm.version]
            source = "file"
            path = "demo/__init__.py"
            """),
        files={"demo/__init__.py": f'__version__ = "{CURRENT}"\n'},
        edited="demo/__init__.py",
        line='__version__ = "{v}"',
    ),
    Source(
        "flit",
        _toml("""
            [build-system]
            requires = ["flit_core >=3.2,<4"]
            build-backend = "flit_core.buildapi"

            [project]
            name = "demo"
            dynamic = ["version", "description"]
            """),
        files={"src/demo/__init__.py": f'"""A demo."""\n\n__version__ = "{CURRENT}"\n'},
        edited="src/demo/__init__.py",
        line='__version__ = "{v}"',
    ),
    Source(
        "hatch-vcs",
        _toml("""
            [build-system]
            requires = ["hatchling", "hatch-vcs"]
            build-backend = "hatchling.build"

            [project]
            name = "demo"
            dynamic = ["version"]

            [tool.hatch]
            version.source = "vcs"
            build.hooks.vcs.version-file = "src/demo/_version.py"
            """),
        # The generated file is ignored by git, as hatch-vcs projects do.
        files={".gitignore": "build/\nsrc/demo/_version.py\n"},
        edited=None,
    ),
    Source(
        "setuptools_scm",
        _toml("""
            [build-system]
            requires = ["setuptools>=64", "setuptools-scm>=8"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "demo"
            dynamic = ["version"]

            [tool.setuptools_scm]
            version_file = "src/demo/_version.py"
            """),
        files={".gitignore": "build/\nsrc/demo/_version.py\n"},
        edited=None,
    ),
    Source(
        "pdm-scm",
        _toml("""
            [project]
            name = "demo"
            dynamic = ["version"]

            [build-system]
            requires = ["pdm-backend"]
            build-backend = "pdm.backend"

            [tool.pdm.version]
            source = "scm"
            """),
        edited=None,
    ),
    Source(
        "poetry-dynamic-versioning",
        _toml("""
            [tool.poetry]
            name = "demo"
            version = "0.0.0"  # replaced at build time from the tag
            description = "A demo"
            authors = ["Ada <ada@example.org>"]

            [tool.poetry-dynamic-versioning]
            enable = true
            vcs = "git"

            [build-system]
            requires = ["poetry-core>=1.0.0", "poetry-dynamic-versioning>=1.0.0,<2.0.0"]
            build-backend = "poetry_dynamic_versioning.backend"
            """),
        edited=None,
    ),
]

# (tag format of the existing tags, [tool.release] tag-format or None to infer it)
FORMATS = [("v{version}", None), ("{version}", None), ("demo-v{version}", "demo-v{version}")]

# (arguments, the version they make from CURRENT)
BUMPS = [
    (("--bump", "patch"), "1.4.3"),
    (("--bump", "minor", "--pre", "rc"), "1.5.0rc1"),
    (("--version", "2026.1.0"), "2026.1.0"),
]

RELEASED = textwrap.dedent(
    f"""\
    # Changelog

    ## [Unreleased]

    ## [{CURRENT}] - 2026-01-10

    ### Added

    - First public release

    [unreleased]: {WEB_URL}/compare/{{tag}}...HEAD
    [{CURRENT}]: {WEB_URL}/releases/tag/{{tag}}
    """
)


def build(base: Path, source: Source, tag: str, configured: str | None) -> GitRepo:
    """A released project: `source`'s files at `tag`, then a fix with its notes."""
    pyproject = source.pyproject
    if configured is not None:
        pyproject += f'\n[tool.release]\ntag-format = "{configured}"\n'
    released = RELEASED.replace("{tag}", tag)
    repo = make_repo(base, pyproject=pyproject, changelog=released, tag=None, extra_commits=(),
                     name="demo")
    if source.files:
        repo.commit("chore: package files", source.files)
    repo.git("tag", "-a", "-m", f"{tag}\n\nFirst public release", tag)
    notes = released.replace(
        "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Handle empty input (#31)\n"
    )
    repo.commit("fix: handle empty input (#31)", {"src/fix.txt": "fixed\n", "CHANGELOG.md": notes})
    repo.git("push", "--quiet", "origin", "master", tag)
    return repo


def run(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return release_in(repo.work, capsys, *args)


def changed_files(repo: GitRepo) -> set[str]:
    return set(repo.git("diff", "--name-only", "HEAD~1", "HEAD").split())


@pytest.mark.parametrize(("args", "new"), BUMPS, ids=[" ".join(a) for a, _ in BUMPS])
@pytest.mark.parametrize(("existing", "configured"), FORMATS, ids=[f for f, _ in FORMATS])
@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_release_matrix(
    tmp_path: Path,
    git_env: Path,
    capsys: pytest.CaptureFixture[str],
    source: Source,
    existing: str,
    configured: str | None,
    args: tuple[str, ...],
    new: str,
) -> None:
    fmt = TagFormat(existing)
    old_tag, new_tag = fmt.render(parse(CURRENT)), fmt.render(parse(new))
    repo = build(tmp_path / "p", source, old_tag, configured)
    before = {path: repo.read(path) for path in [*source.files, "pyproject.toml"]}

    code, out, err = run(repo, capsys, *args)
    assert code == 0, err
    assert out == f"{new_tag}\n"
    # The tag in the project's own format, pushed with the branch; no second format appears.
    head = repo.head()
    assert repo.remote_ref(f"refs/tags/{new_tag}") == head
    assert repo.remote_ref("refs/heads/master") == head
    assert set(repo.git("ls-remote", "--tags", "--refs", "origin").split()[1::2]) == {
        f"refs/tags/{old_tag}", f"refs/tags/{new_tag}"
    }
    assert repo.git("log", "-1", "--format=%s") == f"Release {new_tag}"
    # Exactly the version's file (if any) and the changelog changed, the version's
    # characters only.
    assert changed_files(repo) == {"CHANGELOG.md"} | ({source.edited} if source.edited else set())
    for path, text in before.items():
        if path == source.edited:
            old_line, new_line = source.line.format(v=CURRENT), source.line.format(v=new)
            assert old_line in text
            assert repo.read(path) == text.replace(old_line, new_line, 1)
        else:
            assert repo.read(path) == text
    # The changelog's new section and its compare link name the tags as they are.
    changelog = repo.read("CHANGELOG.md")
    assert f"## [{new}] - 2026-03-04" in changelog
    assert f"[{new}]: {WEB_URL}/compare/{old_tag}...{new_tag}" in changelog
    assert f"[unreleased]: {WEB_URL}/compare/{new_tag}...HEAD" in changelog


@pytest.mark.parametrize("source", [SOURCES[0], SOURCES[3], SOURCES[8]],
                         ids=["static", "hatch-path", "hatch-vcs"])
def test_a_pre_release_series_then_the_final_release(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], source: Source
) -> None:
    repo = build(tmp_path / "p", source, CURRENT, None)  # plain tags: {version}
    steps = [
        (("--bump", "minor", "--pre", "a"), "1.5.0a1"),
        (("--bump", "minor", "--pre", "b"), "1.5.0b1"),
        (("--pre", "rc"), "1.5.0rc1"),
        (("--pre", "rc"), "1.5.0rc2"),
        (("--bump", "release"), "1.5.0"),
        (("--bump", "post"), "1.5.0.post1"),
        (("--bump", "dev"), "1.5.1.dev1"),
    ]
    for args, new in steps:
        notes = repo.read("CHANGELOG.md").replace(
            "## [Unreleased]\n", f"## [Unreleased]\n\n### Fixed\n\n- Fixed for {new}\n", 1
        )
        repo.commit(f"fix: for {new}", {"CHANGELOG.md": notes})
        repo.git("push", "--quiet", "origin", "master")
        code, out, err = run(repo, capsys, *args)
        assert code == 0, (args, err)
        assert out == f"{new}\n"
        assert repo.remote_ref(f"refs/tags/{new}") == repo.head()
        if source.edited:
            assert source.line.format(v=new) in repo.read(source.edited)


def test_dry_run_says_the_version_why_the_source_and_the_tag_format(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build(tmp_path / "p", SOURCES[8], CURRENT, None)
    code, out, err = run(repo, capsys, "--bump", "minor", "--pre", "rc", "--dry-run")
    assert code == 0, err
    assert (
        "version: 1.4.2 -> 1.5.0rc1 (minor --pre rc bump of 1.4.2); previous release: 1.4.2" in out
    )
    assert "version source: the git tag (hatch-vcs)" in out
    assert "tag: 1.5.0rc1 (format {version}, from 1 existing tag)" in out
    assert "--- a/CHANGELOG.md" in out
    assert "pyproject.toml" not in out.split("== commit")[0]


def test_the_dry_run_names_the_file_the_version_is_in(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # setuptools attr: the module could be at four places; it is under src/ here.
    source = next(s for s in SOURCES if s.name == "setuptools-attr")
    repo = build(tmp_path / "p", source, CURRENT, None)
    code, out, err = run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert "version source: __version__ in src/demo/__init__.py (setuptools attr)" in out
    assert "previous release: 1.4.2; 1 commit since\n" in out


def _refused(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    head, tags = repo.head(), repo.git("tag")
    code, out, err = run(repo, capsys, *args)
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert repo.head() == head
    assert repo.git("tag") == tags
    assert repo.git("status", "--porcelain") == ""
    return [line.removeprefix("release: ") for line in err.splitlines()
            if line.startswith("release: ")]


@pytest.mark.parametrize(
    ("module", "needle"),
    [
        # A tuple and a function of no known convention that builds the string from it: no
        # `version-source = "vcs"` advice (the build would still compute its own version).
        (
            'VERSION = (1, 4, 2, "final", 0)\n\n__version__ = make_version(VERSION)\n',
            "src/demo/__init__.py line 3 computes the version (`__version__ = "
            "make_version(VERSION)`), which release cannot follow: write the version there as "
            'a string literal (`__version__ = "1.2.3"`), or as Django\'s `VERSION = (4, 2, 0, '
            '"final", 0)` tuple',
        ),
        # The installed distribution's metadata, read at import time.
        (
            'import importlib.metadata\n\n__version__ = importlib.metadata.version("demo")\n',
            "src/demo/__init__.py line 3 computes the version",
        ),
        # No assignment at all (a module __getattr__ answers it).
        (
            'def __getattr__(name):\n    import importlib.metadata\n'
            '    return importlib.metadata.version("demo")\n',
            'src/demo/__init__.py has no `__version__ = "1.2.3"` line: write one there',
        ),
    ],
    ids=["tuple", "importlib-metadata", "getattr"],
)
def test_a_computed_version_is_refused_naming_the_file_and_what_to_write(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], module: str, needle: str
) -> None:
    source = Source("computed", SOURCES[4].pyproject, {"src/demo/__init__.py": module})
    repo = build(tmp_path / "p", source, f"v{CURRENT}", None)
    problems = _refused(repo, capsys, "--bump", "patch")
    assert any(needle in line for line in problems), problems


def test_a_stray_tag_in_another_format_is_ignored_with_a_note(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build(tmp_path / "p", SOURCES[0], "v1.4.2", None)
    repo.git("tag", "1.3.0", "HEAD~2")
    code, out, err = run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert "ignoring tags that are not releases in v{version}: 1.3.0" in err
    assert "tag: v1.4.3 (format v{version}, from the tag v1.4.2 of the current version)" in out


def test_newest_tags_in_two_formats_are_a_preflight_problem_and_nothing_else(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build(tmp_path / "p", SOURCES[0], "v1.4.2", None)
    for tag in ("1.4.2", "1.4.1", "v1.4.1"):
        repo.git("tag", tag, "HEAD~2")
    problems = _refused(repo, capsys, "--bump", "patch", "--no-fetch")
    # One line about the format; the version is compared with no tag of a guessed format.
    assert problems == [
        "the newest release tags use more than one format ({version}: 2 tags such as "
        "1.4.2; v{version}: 2 tags such as v1.4.2): set [tool.release] tag-format to the one "
        'new releases continue ("{version}" or "v{version}")'
    ]
    # Configured, the other format's tags are only ignored (with a note) and the release goes on.
    repo.commit("chore: tag format", {"pyproject.toml": SOURCES[0].pyproject
                                     + '\n[tool.release]\ntag-format = "v{version}"\n'})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert "ignoring tags that are not releases in v{version}: 1.4.1, 1.4.2" in err
    assert "tag: v1.4.3 (format v{version}, from [tool.release] tag-format)" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--version", "1.4.2"), "--version 1.4.2 is not greater than the current version 1.4.2"),
        (("--version", "1.5.0+local"), "a local version (+local) is never released"),
        (("--bump", "release"), "1.4.2 is not a pre-release or dev release"),
        (("--pre", "rc"), "--pre rc alone continues a pre-release, and 1.4.2 is final"),
    ],
)
def test_versions_that_cannot_be_released_say_why(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...], needle: str,
) -> None:
    repo = build(tmp_path / "p", SOURCES[0], f"v{CURRENT}", None)
    problems = _refused(repo, capsys, *args)
    assert any(needle in line for line in problems), problems


def test_the_first_release_of_a_vcs_project_starts_from_nothing(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changelog = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- Everything\n"
    repo = make_repo(tmp_path / "p", pyproject=SOURCES[8].pyproject, changelog=changelog,
                     tag=None)
    code, out, err = run(repo, capsys, "--bump", "minor")
    assert code == 0, err
    assert out == "v0.1.0\n"
    assert repo.remote_ref("refs/tags/v0.1.0") == repo.head()
