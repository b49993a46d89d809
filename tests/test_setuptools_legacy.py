"""Projects whose version setuptools reads from setup.cfg or setup.py (pyproject.toml says
nothing of it, or there is none): where `release` finds the version, and a real release of each
shape in a real repository with a bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.core.pyproject import detect_setuptools_legacy
from tests.support.apps import problems, release_in
from tests.support.gitrepo import make_repo

SETUP_CFG = "[metadata]\nname = demo\nversion = {v}\ndescription = A demo\n\n[options]\n" \
    "packages = find:\n"


@pytest.mark.parametrize(
    ("setup_cfg", "setup_py", "via", "paths"),
    [
        (SETUP_CFG.format(v="0.1.0"), None, "setup.cfg", ["setup.cfg"]),
        (
            "[metadata]\nname = demo\nversion = attr: demo.__version__\n\n[options]\n"
            "package_dir =\n    =src\n",
            None,
            "setup.cfg attr",
            ["src/demo/__init__.py", "demo/__init__.py", "src/demo.py", "demo.py"],
        ),
        ("[metadata]\nversion = file: VERSION.txt\n", None, "setup.cfg file", ["VERSION.txt"]),
        ("[metadata]\nname = demo\n", "setup(name='demo', version='0.1.0')\n", "setup.py",
         ["setup.py"]),
        (None, "import six\nsetup(\n    version=six.__version__,\n)\n", "setup.py import",
         ["six/__init__.py", "src/six/__init__.py", "six.py", "src/six.py"]),
        (None, "VERSION = '7.0.0.dev0'\n\nsetup(\n    version=VERSION,\n)\n",
         "setup.py variable", ["setup.py"]),
        ("[metadata]\nname = demo\n", "setup(pbr=True)\n", "pbr", []),
        (None, "import os, re\nwith open(os.path.join(os.path.dirname(__file__), 'demo', "
         "'__init__.py')) as f:\n    version = re.search('__version__ = (.*)', f.read())[1]\n"
         "setup(version=version)\n", "setup.py reads", ["demo/__init__.py"]),
        (None, 'exec(open("demo/_version.py").read())\nsetup(version=__version__)\n',
         "setup.py reads", ["demo/_version.py"]),
        (None, "setup(version=get_version())\n", None, []),
        ("[metadata]\nname = demo\n", None, None, []),
    ],
)
def test_where_setuptools_reads_the_version(
    setup_cfg: str | None, setup_py: str | None, via: str | None, paths: list[str]
) -> None:
    found = detect_setuptools_legacy(setup_cfg, setup_py)
    assert (found.via if found else None) == via
    assert ([f.path for f in found.files] if found else []) == paths


SHAPES = {
    "setup.cfg, no pyproject.toml": (
        {"setup.cfg": SETUP_CFG.format(v="0.1.0")},
        "setup.cfg",
        "version = 0.1.1\n",
    ),
    "setup.cfg attr under src/": (
        {
            "setup.cfg": "[metadata]\nname = demo\nversion = attr: demo.__version__\n\n"
            "[options]\npackage_dir =\n    =src\n",
            "src/demo/__init__.py": '"""Demo."""\n\n__version__ = "0.1.0"\n',
        },
        "src/demo/__init__.py",
        '__version__ = "0.1.1"\n',
    ),
    "setup.py literal": (
        {"setup.py": "from setuptools import setup\n\nsetup(\n    name='demo',\n"
         "    version='0.1.0',\n)\n"},
        "setup.py",
        "    version='0.1.1',\n",
    ),
    "setup.py variable": (
        {"setup.py": "from setuptools import setup\n\nVERSION = '0.1.0'\n\n"
         "setup(name='demo', version=VERSION)\n"},
        "setup.py",
        "VERSION = '0.1.1'\n",
    ),
    "setup.py reads the module": (
        {"setup.py": "import re\nfrom setuptools import setup\n\n"
         "with open('demo/__init__.py') as f:\n"
         "    VERSION = re.search(r'__version__ = \"(.*)\"', f.read())[1]\n\n"
         "setup(name='demo', version=VERSION)\n",
         "demo/__init__.py": '__version__ = "0.1.0"\n'},
        "demo/__init__.py",
        '__version__ = "0.1.1"\n',
    ),
    "setup.py imports the module": (
        {"setup.py": "import demo\nfrom setuptools import setup\n\n"
         "setup(name='demo', version=demo.__version__)\n",
         "demo.py": '__version__ = "0.1.0"\n'},
        "demo.py",
        '__version__ = "0.1.1"\n',
    ),
}


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("pyproject", [False, True], ids=["no pyproject.toml", "build-system only"])
def test_a_setuptools_project_is_released(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str, pyproject: bool
) -> None:
    files, edited, line = SHAPES[name]
    repo = make_repo(tmp_path / "p")
    if pyproject:
        files = {**files, "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
                 'build-backend = "setuptools.build_meta"\n\n[tool.release]\nbranch = "master"\n'}
    else:
        repo.git("rm", "-q", "pyproject.toml")
    repo.commit("build: setuptools metadata", files)
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = release_in(repo.work, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert f"--- a/{edited}" in out
    code, out, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 0, err
    assert out == "v0.1.1\n"
    assert line in repo.read(edited)
    # Named as setup.cfg or setup.py name it, not after the clone's folder (`work`).
    assert repo.git("log", "-1", "--format=%B").split("\n")[2].startswith("Cut demo v0.1.1 ")
    changed = repo.git("show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == sorted(["CHANGELOG.md", edited])


def test_no_project_files_at_all_is_one_line(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "p")
    repo.git("rm", "-q", "pyproject.toml")
    repo.commit("chore: no metadata")
    code, _, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 1
    assert problems(err) == [
        f"release: no pyproject.toml, setup.cfg or setup.py committed in {repo.work.resolve()}: "
        "release reads the project's version and settings there; run it in the project's root"
    ]


def test_a_setup_py_that_computes_the_version_is_named_as_such(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "p")
    repo.commit("build: setup.py", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n\n'
                          '[tool.release]\nbranch = "master"\n',
        "setup.py": "from setuptools import setup\n\nsetup(name='demo', version=compute())\n"})
    repo.git("push", "--quiet", "origin", "master")
    code, _, err = release_in(repo.work, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert problems(err) == [
        "release: no version release can read: pyproject.toml names none, and setup.cfg or "
        "setup.py computes it: write it as `version = X.Y.Z` in setup.cfg's [metadata] (or "
        '`version="X.Y.Z"` in setup.py), or set [tool.release] version-source'
    ]
