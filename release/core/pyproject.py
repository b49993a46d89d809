"""Where a project writes its version, and the version in `pyproject.toml` and in
`[tool.release] version-files`. Pure: text in, text out.

`detect` reads the build backend's configuration (or `[tool.release] version-source`) into a
`VersionSource`: static `[project] version`, `[tool.poetry] version`, a file (hatch `path`,
setuptools `attr:`/`file:`, pdm `source = "file"`, flit's `__version__`; see
`release.core.versionfile`), or the VCS tag (hatch-vcs, setuptools_scm, pdm `scm`,
poetry-dynamic-versioning), where the tag is the version and no file holds it.

tomlkit keeps the rest of the document byte for byte: only the version value changes, in the
quoting style it already had, with its comment and spacing.
"""

from __future__ import annotations

import copy
import enum
import re
from typing import TYPE_CHECKING, Any, NamedTuple

import tomlkit
from tomlkit.items import String, StringType

from release.core.version import Version, VersionError, parse, spell
from release.core.version_reading import WRITTEN, reading
from release.core.versionfile import VersionFile
from release.errors import ConfigError

if TYPE_CHECKING:
    from configparser import ConfigParser


def _project(doc: tomlkit.TOMLDocument, name: str) -> Any:
    project = doc.get("project")
    if not isinstance(project, dict):
        raise ConfigError(f"{name} has no [project] table: add one with name and version")
    return project


def read_version(doc: tomlkit.TOMLDocument, name: str = "pyproject.toml") -> Version:
    """The static `project.version`; an error that says so when it is dynamic, missing or bad."""
    project = _project(doc, name)
    dynamic = project.get("dynamic", [])
    if "version" in dynamic or "version" not in project:
        what = "dynamic" if "version" in dynamic else "missing"
        raise ConfigError(
            f"{name}: project.version is {what}; release needs a static version: "
            'set `version = "X.Y.Z"` in [project] (and drop "version" from dynamic)'
        )
    return _version_value(project["version"], f"{name}: project.version")


def _version_value(value: object, where: str) -> Version:
    """A version as pyproject.toml writes it: a string holding a PEP 440 version."""
    if not isinstance(value, str):
        raise ConfigError(f'{where} must be a string such as "1.2.3"')
    try:
        return parse(str(value))
    except VersionError:
        raise VersionError(
            f"{where} {str(value)!r} is not a PEP 440 version (such as 1.2.3 or 1.3.0rc1): fix it"
        ) from None


def bump_pyproject(
    doc: tomlkit.TOMLDocument, new: Version | str, name: str = "pyproject.toml"
) -> str:
    """The document with `project.version` set to `new`; every other byte stays as it was.

    `doc` itself is not changed (the edit is made on a copy)."""
    read_version(doc, name)
    edited = copy.deepcopy(doc)
    project = _project(edited, name)
    old = project["version"]
    assert isinstance(old, String)
    # Same quoting as before; tomlkit carries the comment and spacing (trivia) over.
    project["version"] = String.from_raw(spell(new, str(old)), _quoting(old))
    return tomlkit.dumps(edited)


class NoVersionSource(ConfigError):
    """pyproject.toml says nothing of the version (setup.cfg or setup.py may)."""


class SourceKind(enum.Enum):
    PROJECT = "project"  # [project] version
    POETRY = "poetry"  # [tool.poetry] version
    FILE = "file"  # a version string in a file the backend reads
    VCS = "vcs"  # the git tag: no file holds the version


class VersionSource(NamedTuple):
    """Where the project keeps its version, as its build backend reads it."""

    kind: SourceKind
    via: str  # how it was found, for the dry run: "hatch-vcs", "setuptools attr", ...
    # FILE: the files the backend may read, first existing one wins (setuptools `attr:` and
    # flit name a module, which may live under src/)
    files: tuple[VersionFile, ...] = ()

    def describe(self, found: VersionFile | None = None) -> str:
        """For the dry run and messages; `found`: the file that holds it, of `files`."""
        if self.kind is SourceKind.PROJECT:
            return "[project] version in pyproject.toml"
        if self.kind is SourceKind.POETRY:
            return "[tool.poetry] version in pyproject.toml"
        if self.kind is SourceKind.VCS:
            return f"the git tag ({self.via})"
        if self.via in _LITERALS:
            return _LITERALS[self.via]
        spec = found or (self.files[0] if self.files else None)
        return f"{spec.describe()} ({self.via})" if spec else self.via


# Legacy setuptools sources whose file is found by a pattern, as the dry run names them.
_LITERALS = {"setup.cfg": "[metadata] version in setup.cfg", "setup.py": "version= in setup.py"}


def _get(table: Any, *keys: str) -> Any:
    """`table[k1][k2]...`, or None where a level is missing or not a table."""
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


def _module_files(
    module: str, variable: str, via: str, roots: tuple[str, ...] = ()
) -> tuple[VersionFile, ...]:
    """Where the module `a.b` may be: `a/b.py`, `a/b/__init__.py`, at the top, under `src/` or
    under one of `roots` (setuptools' `package-dir` and `packages.find` `where`)."""
    parts = module.split(".")
    if not module or not all(p.isidentifier() for p in parts):
        raise ConfigError(f"pyproject.toml: {via} names {module!r}, which is not a module")
    base = "/".join(parts)
    tops = dict.fromkeys([*(r.strip("/") + "/" for r in roots if r.strip("/. ")), "", "src/"])
    return tuple(
        VersionFile(f"{top}{path}", (variable,))
        for path in (f"{base}/__init__.py", f"{base}.py")
        for top in tops
    )


def _setuptools_roots(doc: tomlkit.TOMLDocument) -> tuple[str, ...]:
    """The folders setuptools finds packages in: `package-dir = {"" = "lib"}`, `where`."""
    roots: list[str] = []
    package_dir = _get(doc, "tool", "setuptools", "package-dir")
    if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
        roots.append(str(package_dir[""]))
    where = _get(doc, "tool", "setuptools", "packages", "find", "where")
    if isinstance(where, list):
        roots += [str(w) for w in where if isinstance(w, str)]
    return tuple(roots)


def _hatch(doc: tomlkit.TOMLDocument) -> VersionSource | None:
    table = _get(doc, "tool", "hatch", "version")
    if not isinstance(table, dict):
        return None
    source = table.get("source", "regex")
    if source == "vcs":
        return VersionSource(SourceKind.VCS, "hatch-vcs")
    if source == "nodejs":  # hatch-nodejs-version: package.json's "version"
        path = table.get("path", "package.json")
        spec = VersionFile(str(path), (), json_key="version")
        return VersionSource(SourceKind.FILE, "hatch-nodejs-version", (spec,))
    path = table.get("path")
    if source in ("regex", "code") and isinstance(path, str):
        if source == "code":
            raise ConfigError(
                f"[tool.hatch.version] source = \"code\" computes the version in {path}, which "
                "release cannot edit: use the default regex source (a `__version__ = \"1.2.3\"` "
                'line in the file), or set [tool.release] version-source = "vcs"'
            )
        pattern = table.get("pattern")
        custom = pattern if isinstance(pattern, str) else None
        spec = VersionFile(path, ("__version__", "VERSION"), custom)
        return VersionSource(SourceKind.FILE, "hatch path", (spec,))
    return None


def _pdm(doc: tomlkit.TOMLDocument) -> VersionSource | None:
    table = _get(doc, "tool", "pdm", "version")
    if not isinstance(table, dict):
        return None
    source = table.get("source")
    if source == "scm":
        return VersionSource(SourceKind.VCS, "pdm scm")
    path = table.get("path")
    if source == "file" and isinstance(path, str):
        return VersionSource(SourceKind.FILE, "pdm file", (VersionFile(path),))
    if source == "call":
        raise ConfigError(
            '[tool.pdm.version] source = "call" computes the version, which release cannot '
            'edit: use source = "file" or "scm", or set [tool.release] version-source'
        )
    return None


def _setuptools(doc: tomlkit.TOMLDocument) -> VersionSource | None:
    spec = _get(doc, "tool", "setuptools", "dynamic", "version")
    if isinstance(spec, dict):
        attr, file = spec.get("attr"), spec.get("file")
        if isinstance(attr, str) and "." in attr:
            module, _, variable = attr.strip().rpartition(".")
            return VersionSource(
                SourceKind.FILE, "setuptools attr",
                _module_files(module, variable, "attr", _setuptools_roots(doc)),
            )
        if isinstance(file, list) and len(file) == 1:
            file = file[0]
        if isinstance(file, str):
            return VersionSource(SourceKind.FILE, "setuptools file", (VersionFile(file, ()),))
    tool = _get(doc, "tool")
    if isinstance(tool, dict) and ("setuptools_scm" in tool or "setuptools-scm" in tool):
        return VersionSource(SourceKind.VCS, "setuptools_scm")
    return None


def build_backend(doc: tomlkit.TOMLDocument) -> str:
    backend = _get(doc, "build-system", "build-backend")
    return str(backend) if isinstance(backend, str) else ""


def _poetry_dynamic(doc: tomlkit.TOMLDocument) -> bool:
    table = _get(doc, "tool", "poetry-dynamic-versioning")
    enabled = isinstance(table, dict) and table.get("enable") is True
    return enabled or build_backend(doc).startswith("poetry_dynamic_versioning")


def _flit(doc: tomlkit.TOMLDocument, project: Any) -> VersionSource | None:
    if not build_backend(doc).startswith("flit"):
        return None
    module = _get(doc, "tool", "flit", "module", "name")
    if not isinstance(module, str):
        name = project.get("name") if isinstance(project, dict) else None
        module = re.sub(r"[-.]+", "_", str(name)) if name else ""
    return VersionSource(SourceKind.FILE, "flit", _module_files(module, "__version__", "flit"))


_CONFIGURABLE = '"project", "poetry", "vcs" or "file:PATH"'


def _configured(value: str) -> VersionSource:
    if value.startswith("file:") and value[5:].strip():
        path = value[5:].strip()
        variables = ("__version__", "VERSION") if path.endswith(".py") else ()
        return VersionSource(
            SourceKind.FILE, "[tool.release] version-source", (VersionFile(path, variables),)
        )
    try:
        kind = SourceKind(value)
    except ValueError:
        raise ConfigError(f"[tool.release] version-source must be {_CONFIGURABLE}") from None
    if kind is SourceKind.FILE:
        raise ConfigError('[tool.release] version-source = "file:PATH" needs the file: name it')
    return VersionSource(kind, "[tool.release] version-source")


def detect(doc: tomlkit.TOMLDocument, configured: str | None = None) -> VersionSource:
    """Where the project's version is written; `ConfigError` saying what to configure when
    no known build backend tells."""
    if configured is not None:
        return _configured(configured)
    project = doc.get("project")
    dynamic = project.get("dynamic", []) if isinstance(project, dict) else []
    if isinstance(project, dict) and "version" in project and "version" not in dynamic:
        return VersionSource(SourceKind.PROJECT, "[project] version")
    if _poetry_dynamic(doc):
        return VersionSource(SourceKind.VCS, "poetry-dynamic-versioning")
    for found in (_hatch(doc), _pdm(doc), _setuptools(doc)):
        if found is not None:
            return found
    if isinstance(project, dict) and "version" in dynamic:
        flit = _flit(doc, project)
        if flit is not None:
            return flit
    if isinstance(_get(doc, "tool", "poetry", "version"), str):
        return VersionSource(SourceKind.POETRY, "[tool.poetry] version")
    if not isinstance(project, dict):
        raise NoVersionSource(
            "pyproject.toml has neither a [project] table nor [tool.poetry] version: add "
            '[project] with name and version (or set [tool.release] version-source)'
        )
    what = "dynamic" if "version" in dynamic else "missing"
    raise NoVersionSource(
        f"pyproject.toml: project.version is {what} and no build backend setting says where "
        f'the version is: set `version = "X.Y.Z"` in [project], or [tool.release] '
        f"version-source = {_CONFIGURABLE}"
    )


# setup.py's `version="1.2.3"`, or `version=pkg.__version__` (a module it imports).
_SETUP_PY_LITERAL = r"""\bversion\s*=\s*(?P<q>['"])(?P<version>[^'"\n]+)(?P=q)"""
_SETUP_PY_MODULE = re.compile(
    r"\bversion\s*=\s*(?P<module>[A-Za-z_][\w.]*)\.(?P<var>__version__|VERSION)\b"
)
# setup.cfg's `[metadata] version = 1.2.3`: the line, whatever surrounds it.
_SETUP_CFG_LITERAL = r"(?m)^version[ \t]*[=:][ \t]*(?P<version>[^\s#;]+)[ \t]*$"


def _read_setup_cfg(text: str) -> ConfigParser | None:
    """setup.cfg as setuptools reads it (no interpolation, repeated keys allowed); None when it
    cannot be parsed."""
    import configparser  # noqa: PLC0415 (a setuptools project's alone)

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser


def _setup_cfg(text: str) -> VersionSource | None:
    parser = _read_setup_cfg(text)
    if parser is None:
        raise ConfigError("setup.cfg cannot be parsed: fix it")
    value = parser.get("metadata", "version", fallback="").strip()
    if not value:
        return None
    if value.startswith("attr:"):
        module, _, variable = value[5:].strip().rpartition(".")
        roots = [
            line.partition("=")[2].strip()
            for line in parser.get("options", "package_dir", fallback="").splitlines()
            if line.strip().startswith("=")
        ]
        files = _module_files(module, variable, "setup.cfg attr", tuple(roots))
        return VersionSource(SourceKind.FILE, "setup.cfg attr", files)
    if value.startswith("file:"):
        path = value[5:].strip().split(",")[0].strip()
        return VersionSource(SourceKind.FILE, "setup.cfg file", (VersionFile(path, ()),))
    return VersionSource(
        SourceKind.FILE, "setup.cfg", (VersionFile("setup.cfg", (), _SETUP_CFG_LITERAL),)
    )


def detect_setuptools_legacy(setup_cfg: str | None, setup_py: str | None) -> VersionSource | None:
    """Where a project with no version in pyproject.toml keeps it for setuptools: setup.cfg's
    `[metadata] version` (a literal, `attr:` or `file:`), else a literal `version="..."` in
    setup.py, or the module setup.py takes it from (`version=six.__version__`)."""
    if setup_cfg is not None:
        found = _setup_cfg(setup_cfg)
        if found is not None:
            return found
    if setup_py is None:
        return None
    if re.search(_SETUP_PY_LITERAL, setup_py):
        spec = VersionFile("setup.py", (), _SETUP_PY_LITERAL)
        return VersionSource(SourceKind.FILE, "setup.py", (spec,))
    module = _SETUP_PY_MODULE.search(setup_py)
    if module is not None:
        files = _module_files(module["module"], module["var"], "setup.py")
        return VersionSource(SourceKind.FILE, "setup.py import", files)
    if re.search(r"\bpbr\s*=\s*True\b", setup_py) or (
        setup_cfg is not None and re.search(r"(?m)^\[pbr\]", setup_cfg)
    ):
        return VersionSource(SourceKind.VCS, "pbr")  # pbr versions from the git tags
    name = _SETUP_PY_NAMED.search(setup_py)
    if name is not None and re.search(
        rf"(?m)^{name['var']}[ \t]*=[ \t]*['\"][^'\"\n]+['\"][ \t]*(?:#.*)?$", setup_py
    ):  # `VERSION = '6.0.1'` at the top of setup.py, then `version=VERSION`
        spec = VersionFile("setup.py", (name["var"],))
        return VersionSource(SourceKind.FILE, "setup.py variable", (spec,))
    read_from = _read_module(setup_py)
    if name is not None and read_from is not None:  # the `__version__` of a module it reads
        return VersionSource(SourceKind.FILE, "setup.py reads", (VersionFile(read_from),))
    return None


# setup.py's `version=NAME` (a variable it sets, or one a module it reads sets).
_SETUP_PY_NAMED = re.compile(r"\bversion\s*=\s*(?P<var>[A-Za-z_]\w*)\s*[,)]")


def _read_module(setup_py: str) -> str | None:
    """The one module setup.py opens to find `__version__` in (`open("pkg/__init__.py")`,
    `os.path.join(here, "pkg", "_version.py")`, `exec(open("pkg/_version.py").read())`)."""
    if "__version__" not in setup_py:
        return None
    paths = set(re.findall(r"""open\(\s*['"]([\w./-]+\.py)['"]""", setup_py))
    for joined in re.findall(r"os\.path\.join\(([^()]*(?:\([^()]*\)[^()]*)*)\)", setup_py):
        parts = re.findall(r"""['"]([\w.-]+)['"]""", joined)
        if parts and parts[-1].endswith(".py"):
            paths.add("/".join(parts))
    return paths.pop() if len(paths) == 1 else None


_SETUP_PY_NAME = re.compile(
    r"""\bname\s*=\s*(?P<q>['"])(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P=q)"""
)


def setuptools_name(setup_cfg: str | None, setup_py: str | None) -> str | None:
    """The project's name as setuptools reads it: setup.cfg's `[metadata] name`, else a
    literal `name="..."` in setup.py; None when neither says."""
    parser = _read_setup_cfg(setup_cfg) if setup_cfg is not None else None
    if parser is not None:
        name = parser.get("metadata", "name", fallback="").strip()
        if name and not name.startswith(("attr:", "file:")):
            return name
    found = _SETUP_PY_NAME.search(setup_py) if setup_py is not None else None
    return found["name"] if found else None


def read_poetry_version(doc: tomlkit.TOMLDocument, name: str = "pyproject.toml") -> Version:
    return _version_value(_get(doc, "tool", "poetry", "version"), f"{name}: [tool.poetry] version")


def bump_poetry(
    doc: tomlkit.TOMLDocument, new: Version | str, name: str = "pyproject.toml"
) -> str:
    """The document with `[tool.poetry] version` set to `new`, every other byte as it was."""
    read_poetry_version(doc, name)
    edited = copy.deepcopy(doc)
    table = _get(edited, "tool", "poetry")
    old = table["version"]
    assert isinstance(old, String)
    table["version"] = String.from_raw(spell(new, str(old)), _quoting(old))
    return tomlkit.dumps(edited)
def _quoting(value: String) -> StringType:
    # Read from the value as written: `String.type` only exists from tomlkit 0.14 on, and
    # pyproject.toml allows older releases.
    raw = value.as_string()
    return StringType(raw[:3]) if raw[:3] in ('"""', "'''") else StringType(raw[:1])


# A whole written version: 0.1.0 must not match inside 10.1.0, 0.1.0.dev1 or 0.1.0-rc.1.
_WRITTEN = re.compile(rf"(?:(?<![\w.+-])|(?<=\bv))(?:{WRITTEN})(?![\w+-]|\.\w)")


def _spans(text: str, old: Version) -> list[tuple[int, int]]:
    """Where `text` writes `old`, in any spelling (`2026.08.17` is 2026.8.17, `1.2.0-rc.1` is
    1.2.0rc1), as the version source may spell it."""
    exact = re.compile(rf"(?:(?<![\w.+-])|(?<=\bv)){re.escape(str(old))}(?![\w+-]|\.\w)")
    found = {m.span() for m in exact.finditer(text)}
    found.update(m.span() for m in _WRITTEN.finditer(text) if reading(m.group()) == old.value)
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return spans


def count_version(text: str, old: Version) -> int:
    return len(_spans(text, old))


def bump_text(text: str, old: Version, new: Version | str) -> str:
    """Every whole occurrence of `old`, in any spelling, replaced with `new` in that spelling."""
    parts: list[str] = []
    last = 0
    for start, end in _spans(text, old):
        parts += [text[last:start], spell(new, text[start:end])]
        last = end
    return "".join([*parts, text[last:]])
