"""Detecting where a project keeps its version, and editing it there: pure, table-driven, on
pyproject.toml and version files written in the shapes real projects use."""

from __future__ import annotations

import re
import textwrap

import pytest
import tomlkit

from release.core import versionfile
from release.core.pyproject import SourceKind, bump_poetry, detect, read_poetry_version
from release.core.version import parse
from release.core.versionfile import VersionFile
from release.errors import ConfigError, DojoError


def _doc(text: str) -> tomlkit.TOMLDocument:
    return tomlkit.parse(textwrap.dedent(text))


@pytest.mark.parametrize(
    ("pyproject", "kind", "via", "paths"),
    [
        ('[project]\nname = "a"\nversion = "1.0"\n', "project", "[project] version", []),
        ('[tool.poetry]\nname = "a"\nversion = "1.0"\n', "poetry", "[tool.poetry] version", []),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.poetry]\nversion = "1.0"\n',
         "poetry", "[tool.poetry] version", []),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch.version]\nsource = "vcs"\n',
         "vcs", "hatch-vcs", []),
        # dotted keys under [tool.hatch], as some projects write them
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch]\nversion.source = "vcs"\n',
         "vcs", "hatch-vcs", []),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch.version]\npath = "a/v.py"\n',
         "file", "hatch path", ["a/v.py"]),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.setuptools_scm]\n',
         "vcs", "setuptools_scm", []),
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.setuptools.dynamic]\nversion = {attr = "a.b.__version__"}\n',
         "file", "setuptools attr",
         ["a/b/__init__.py", "src/a/b/__init__.py", "a/b.py", "src/a/b.py"]),
        # packages under lib/ (SQLAlchemy's shape), and `package-dir`
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.setuptools.packages.find]\nwhere = ["lib"]\n'
         '[tool.setuptools.dynamic]\nversion = {attr = "a.__version__"}\n',
         "file", "setuptools attr",
         ["lib/a/__init__.py", "a/__init__.py", "src/a/__init__.py", "lib/a.py", "a.py",
          "src/a.py"]),
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.setuptools]\npackage-dir = {"" = "python/"}\n'
         '[tool.setuptools.dynamic]\nversion = {attr = "a.__version__"}\n',
         "file", "setuptools attr",
         ["python/a/__init__.py", "a/__init__.py", "src/a/__init__.py", "python/a.py", "a.py",
          "src/a.py"]),
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.setuptools.dynamic]\nversion = {file = ["VERSION.txt"]}\n',
         "file", "setuptools file", ["VERSION.txt"]),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.pdm.version]\nsource = "scm"\n',
         "vcs", "pdm scm", []),
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.pdm.version]\nsource = "file"\npath = "src/a/__init__.py"\n',
         "file", "pdm file", ["src/a/__init__.py"]),
        ('[build-system]\nbuild-backend = "flit_core.buildapi"\n'
         '[project]\nname = "my-pkg"\ndynamic = ["version", "description"]\n',
         "file", "flit",
         ["my_pkg/__init__.py", "src/my_pkg/__init__.py", "my_pkg.py", "src/my_pkg.py"]),
        ('[tool.poetry]\nname = "a"\nversion = "0.0.0"\n'
         '[tool.poetry-dynamic-versioning]\nenable = true\n',
         "vcs", "poetry-dynamic-versioning", []),
        ('[build-system]\nbuild-backend = "poetry_dynamic_versioning.backend"\n'
         '[tool.poetry]\nname = "a"\nversion = "0.0.0"\n',
         "vcs", "poetry-dynamic-versioning", []),
    ],
)
def test_detect(pyproject: str, kind: str, via: str, paths: list[str]) -> None:
    source = detect(tomlkit.parse(pyproject))
    assert (source.kind.value, source.via) == (kind, via)
    assert [spec.path for spec in source.files] == paths


@pytest.mark.parametrize(
    ("configured", "kind", "paths"),
    [("vcs", "vcs", []), ("project", "project", []), ("poetry", "poetry", []),
     ("file:src/a/_v.py", "file", ["src/a/_v.py"]), ("file:VERSION", "file", ["VERSION"])],
)
def test_configured_source_wins(configured: str, kind: str, paths: list[str]) -> None:
    source = detect(_doc('[project]\nname = "a"\nversion = "1.0"\n'), configured)
    assert source.kind is SourceKind(kind)
    assert [spec.path for spec in source.files] == paths


@pytest.mark.parametrize(
    ("pyproject", "configured", "needle"),
    [
        ('[project]\nname = "a"\ndynamic = ["version"]\n', None,
         "project.version is dynamic and no build backend setting says where the version is"),
        ('[tool.black]\nline-length = 99\n', None, "neither a [project] table nor"),
        ('[project]\nname = "a"\ndynamic = ["version"]\n'
         '[tool.hatch.version]\nsource = "code"\npath = "a.py"\n', None,
         'source = "code" computes the version in a.py'),
        ('[project]\nname = "a"\ndynamic = ["version"]\n[tool.pdm.version]\nsource = "call"\n',
         None, 'source = "call" computes the version'),
        ('[project]\nname = "a"\nversion = "1"\n', "git", "version-source must be"),
        ('[project]\nname = "a"\nversion = "1"\n', "file", 'needs the file'),
    ],
)
def test_what_cannot_be_detected_says_what_to_configure(
    pyproject: str, configured: str | None, needle: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        detect(tomlkit.parse(pyproject), configured)


def test_poetry_version_is_edited_in_place() -> None:
    text = "[tool.poetry]\nname = 'a'\nversion = '1.4.2'  # keep\n\n[tool.poetry.dependencies]\n"
    doc = tomlkit.parse(text)
    assert read_poetry_version(doc) == parse("1.4.2")
    assert bump_poetry(doc, parse("1.5.0rc1")) == text.replace("1.4.2", "1.5.0rc1")


@pytest.mark.parametrize(
    ("spec", "text", "line"),
    [
        (VersionFile("v.py"), '__version__ = "1.4.2"\n', '__version__ = "{v}"'),
        (VersionFile("v.py"), "__version__ = version = '1.4.2'\n", "__version__ = version = '{v}'"),
        (VersionFile("v.py"), '__version__: str = "1.4.2"\n', '__version__: str = "{v}"'),
        (VersionFile("v.py", ("__version__", "VERSION")), 'VERSION = "1.4.2"\n',
         'VERSION = "{v}"'),
        (VersionFile("v.py"), '"""Doc."""\n__version__ = "v1.4.2"  # x\n',
         '__version__ = "v{v}"  # x'),
        (VersionFile("VERSION", ()), "1.4.2\n", "{v}"),
        (VersionFile("v.py", ("__version__",), r'^VER = \((?P<version>[^)]+)\)'),
         "VER = (1.4.2)\n", "VER = ({v})"),
    ],
)
def test_version_files_change_only_the_version(spec: VersionFile, text: str, line: str) -> None:
    assert versionfile.read(spec, text) == parse("1.4.2")
    new = versionfile.write(spec, text, parse("1.5.0"))
    assert new == text.replace(line.format(v="1.4.2"), line.format(v="1.5.0"))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('__version__ = "1.0"\nif X:\n    pass\n__version__ = "2.0"\n',
         "assigns __version__ a string 2 times (lines 1, 4)"),
        ("from ._v import __version__\n",
         'has no `__version__ = "1.2.3"` line: write one there'),
        ('__version__ = ".".join(map(str, VERSION))\n', "line 1 computes the version"),
        ('__version__ = "one"\n', "is 'one', not a PEP 440 version"),
    ],
)
def test_version_files_that_cannot_be_edited_say_why(text: str, needle: str) -> None:
    with pytest.raises(DojoError, match=re.escape(needle)):
        versionfile.write(VersionFile("a/__init__.py"), text, parse("1.0.1"))
