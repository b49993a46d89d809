"""Versions that are not a string literal: a tuple turned into the version by the module
(Django's `VERSION = (4, 2, 0, "alpha", 0)` with `get_version`, numbers joined with dots), and
package.json's `version` (hatch-nodejs-version). Edited in their own form; what the form cannot
hold, or a computation of no known convention, is refused, so the tag never disagrees with the
version the build produces (checked by evaluating the fixture's module at the tag)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from release.core import versiontuple
from release.core.version import parse
from release.errors import ConfigError
from tests.support.apps import problems, release_in
from tests.support.gitrepo import GitRepo, make_repo

DJANGO = 'VERSION = (4, 2, 0, "alpha", 0)\n\n__version__ = get_version(VERSION)\n'


@pytest.mark.parametrize(
    ("level", "serial", "micro", "version"),
    [
        ("alpha", 0, 0, "4.2.dev0"),  # pre-alpha: in development
        ("alpha", 1, 0, "4.2a1"),
        ("beta", 2, 0, "4.2b2"),
        ("rc", 1, 3, "4.2.3rc1"),
        ("final", 0, 0, "4.2"),  # Django drops a .0 micro
        ("final", 0, 1, "4.2.1"),
    ],
)
def test_a_django_tuple_reads_as_its_get_version_does(
    level: str, serial: int, micro: int, version: str
) -> None:
    text = f'VERSION = (4, 2, {micro}, "{level}", {serial})\n__version__ = get_version(VERSION)\n'
    found = versiontuple.find(text, "get_version(VERSION)")
    assert found is not None
    assert str(found.version) == version


@pytest.mark.parametrize(
    ("new", "tuple_text"),
    [
        ("4.2", '(4, 2, 0, "final", 0)'),
        ("4.2.1", '(4, 2, 1, "final", 0)'),
        ("4.2.1.dev0", '(4, 2, 1, "alpha", 0)'),
        ("4.3rc2", '(4, 3, 0, "rc", 2)'),
        ("5.0b1", '(5, 0, 0, "beta", 1)'),
    ],
)
def test_a_django_tuple_is_written_in_its_own_form(new: str, tuple_text: str) -> None:
    found = versiontuple.find(DJANGO, "get_version(VERSION)")
    assert found is not None
    written = found.write(DJANGO, parse(new), "demo/__init__.py")
    assert written == DJANGO.replace('(4, 2, 0, "alpha", 0)', tuple_text)
    again = versiontuple.find(written, "get_version(VERSION)")
    assert again is not None
    assert again.version == parse(new)


@pytest.mark.parametrize(
    "expression",
    [
        '".".join(map(str, version_info))',
        "'.'.join(str(part) for part in version_info)",
        '".".join([str(n) for n in version_info])',
        '"%d.%d.%d" % version_info',
        '"{}.{}.{}".format(*version_info)',
    ],
)
def test_numbers_joined_with_dots_keep_their_spacing(expression: str) -> None:
    text = f"version_info = ( 7,11 , 4 ,)  # the version\n__version__ = {expression}\n"
    found = versiontuple.find(text, expression)
    assert found is not None
    assert str(found.version) == "7.11.4"
    assert found.write(text, parse("7.12"), "v.py").splitlines()[0] == (
        "version_info = ( 7,12 , 0 ,)  # the version"
    )


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ('VERSION = (1, 2, 3, "alpha", 0)\n__version__ = build(VERSION)\n', "build(VERSION)"),
        ("V = (1, 2, 3)\n__version__ = '.'.join(map(str, V[:2]))\n", "'.'.join(map(str, V[:2]))"),
        ("V = (1, 2, 3)\n__version__ = '%d.%d' % V\n", "'%d.%d' % V"),
        ('V = (1, 2, 3, "x", 0)\n__version__ = get_version(V)\n', "get_version(V)"),
        ("V = version_info_t(5, 3, 0)\n__version__ = get_version(V)\n", "get_version(V)"),
    ],
    ids=["unknown function", "slice", "too few fields", "unknown level", "not a literal"],
)
def test_computations_of_no_known_convention_are_not_followed(text: str, expression: str) -> None:
    assert versiontuple.find(text, expression) is None


@pytest.mark.parametrize(
    ("text", "expression", "new"),
    [
        (DJANGO, "get_version(VERSION)", "4.2.post1"),
        (DJANGO, "get_version(VERSION)", "4.2.0.1"),
        ("V = (1, 2, 3)\n__version__ = '.'.join(map(str, V))\n", "'.'.join(map(str, V))",
         "1.3.0rc1"),
    ],
)
def test_what_the_form_cannot_hold_is_refused(text: str, expression: str, new: str) -> None:
    found = versiontuple.find(text, expression)
    assert found is not None
    with pytest.raises(ConfigError, match="cannot hold"):
        found.write(text, parse(new), "demo/__init__.py")


# A Django-style project, written here: setuptools reads `demo.__version__`, which the module
# computes from VERSION with its own get_version (Django's rules).
SETUP_CFG = "[metadata]\nname = demo\nversion = attr: demo.__version__\n"
MODULE = '''\
"""The demo package."""

from demo.version import get_version

VERSION = ({version})

__version__ = get_version(VERSION)
'''
GET_VERSION = '''\
def get_version(version):
    major, minor, micro, level, serial = version
    main = ".".join(str(n) for n in (version[:2] if micro == 0 else version[:3]))
    if level == "final":
        return main
    if level == "alpha" and serial == 0:
        return main + ".dev0"
    return main + {"alpha": "a", "beta": "b", "rc": "rc"}[level] + str(serial)
'''


def _built(repo: GitRepo, ref: str) -> str:
    """The version the module computes at `ref`, as the build reads it (by importing it)."""
    sha = repo.git("rev-parse", f"{ref}^{{commit}}")
    where = repo.work.parent / f"at-{sha[:12]}"
    if not where.exists():
        repo.git("worktree", "add", "--quiet", "--detach", str(where), sha)
    done = subprocess.run([sys.executable, "-c", "import demo; print(demo.__version__)"],
                          cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _django_project(base: Path, version: str) -> GitRepo:
    repo = make_repo(base, tag="0.1")
    repo.git("rm", "-q", "pyproject.toml")
    repo.commit("build: setuptools, VERSION tuple", {
        "setup.cfg": SETUP_CFG, "demo/__init__.py": MODULE.format(version=version),
        "demo/version.py": GET_VERSION,
    })
    repo.git("push", "--quiet", "origin", "master")
    return repo


def test_a_django_style_project_is_released_as_its_build_reads_it(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _django_project(tmp_path / "p", '0, 1, 1, "alpha", 0')
    assert _built(repo, "HEAD") == "0.1.1.dev0"
    code, out, err = release_in(repo.work, capsys, "--dry-run")
    assert code == 0, err
    assert '+VERSION = (0, 1, 1, "final", 0)' in out
    assert '+VERSION = (0, 1, 2, "alpha", 0)' in out  # back to development
    code, out, err = release_in(repo.work, capsys)
    assert code == 0, err
    assert out == "0.1.1\n"
    # The tag names exactly what the build produces at it; development goes on after it.
    assert _built(repo, "0.1.1") == "0.1.1"
    assert _built(repo, "HEAD") == "0.1.2.dev0"
    assert repo.git("show", "--name-only", "--format=", "0.1.1^{commit}").split() == [
        "CHANGELOG.md", "demo/__init__.py"]


def test_a_tuple_that_cannot_hold_the_version_is_refused_and_nothing_changes(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _django_project(tmp_path / "p", '0, 1, 0, "final", 0')
    before = repo.snapshot()
    code, _, err = release_in(repo.work, capsys, "--bump", "post", "--dry-run")
    assert code == 1
    assert problems(err) == [
        "release: demo/__init__.py: VERSION = (...) cannot hold 0.1.post1 in its form (the build "
        "would produce another version than the tag): choose a version it can hold, or write "
        "the version there as a string literal"
    ]
    assert repo.snapshot() == before


def test_version_source_vcs_is_refused_where_the_build_reads_another_version(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "p")
    repo.commit("chore: vcs", {"pyproject.toml": repo.read("pyproject.toml")
                               + 'version-source = "vcs"\n'})
    repo.git("push", "--quiet", "origin", "master")
    code, _, err = release_in(repo.work, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert problems(err) == [
        'release: [tool.release] version-source = "vcs", but the build reads its version from '
        "[project] version in pyproject.toml (0.1.0): the tag would disagree with what it "
        "builds; drop version-source (release then edits the version there), or make the "
        "build take it from the tag"
    ]


NODE_PYPROJECT = (
    '[build-system]\nrequires = ["hatchling", "hatch-nodejs-version"]\n'
    'build-backend = "hatchling.build"\n\n[project]\nname = "demo"\ndynamic = ["version"]\n\n'
    '[tool.hatch.version]\nsource = "nodejs"\n\n[tool.release]\nbranch = "master"\n'
)
PACKAGE_JSON = (
    '{\n  "name": "demo",\n  "engines": {"node": ">=18", "version": "9.9.9"},\n'
    '  "version": "0.1.0",\n  "scripts": {"build": "tsc"}\n}\n'
)


def test_package_json_version_is_edited_in_place(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "p")
    repo.commit("build: hatch-nodejs-version", {"pyproject.toml": NODE_PYPROJECT,
                                                "package.json": PACKAGE_JSON})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = release_in(repo.work, capsys, "--bump", "minor", "--dry-run")
    assert code == 0, err
    assert 'version source: "version" in package.json (hatch-nodejs-version)' in out
    code, out, err = release_in(repo.work, capsys, "--bump", "minor")
    assert code == 0, err
    assert repo.read("package.json") == PACKAGE_JSON.replace('"0.1.0"', '"0.2.0"')
