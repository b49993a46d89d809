"""The layering rules of `release/`, checked on the source so a change that breaks them fails.

core/ is pure (text and values in and out), shell/ holds every side effect, apps/ composes
them; package `__init__`s stay empty so start-up imports only what a command uses.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "release"
# What core/ may not import: our own side-effect layers and every I/O library.
CORE_FORBIDDEN = (
    "release.shell", "release.apps", "pygit2", "subprocess", "requests", "urllib3",
    "docker", "github", "socket", "http", "shutil", "tempfile",
)
MAX_LINES = 500


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.name} imports {name}"
        for path in paths
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_core_is_pure() -> None:
    assert _modules("core"), "release/core/ is missing"
    assert _violations(_modules("core"), CORE_FORBIDDEN) == []


def test_shell_never_imports_apps() -> None:
    assert _violations(_modules("shell"), ("release.apps",)) == []


def test_mistletoe_is_imported_through_the_fast_import_only() -> None:
    """release/core/markdown.py imports mistletoe without its 0.5 s table; a module importing
    mistletoe itself could be the first, and slow, import."""
    others = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "core" / "markdown.py"]
    assert _violations(others, ("mistletoe",)) == []


def test_pygit2_is_imported_through_the_lean_import_only() -> None:
    """release/shell/pygit2_import.py imports pygit2 without OpenSSL parsing the CA bundle; a
    module importing pygit2 itself could be the first, and slow, import."""
    others = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "shell" / "pygit2_import.py"]
    assert _violations(others, ("pygit2",)) == []


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import pygit2\nfrom release.shell import git\n", encoding="utf-8")
    assert len(_violations([bad], CORE_FORBIDDEN)) == 3  # pygit2, release.shell, ….git


@pytest.mark.parametrize(
    "init",
    sorted(
        p for p in PACKAGE.rglob("__init__.py")
        if p.parent.name != "changelog" and p != PACKAGE / "__init__.py"
    ),
    ids=lambda p: str(p.relative_to(PACKAGE.parent)),
)
def test_package_inits_are_empty(init: Path) -> None:
    assert init.read_text(encoding="utf-8").strip() == ""


def test_the_top_package_imports_the_dataclasses_patch_alone() -> None:
    """`release/__init__.py` runs first in every process of ours: it holds the import of
    dataclasses without `inspect` (release/core/fast_dataclasses.py), and nothing else."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assert [ast.unparse(node) for node in tree.body] == [
        "from release.core import fast_dataclasses"
    ]


@pytest.mark.parametrize(
    "module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE.parent))
)
def test_no_module_is_over_the_size_limit(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.name} has {lines} lines: split it by concern"


def test_every_dataclass_has_a_docstring() -> None:
    """A dataclass without one makes `dataclasses` import `inspect` to write its `__doc__`
    (25 M instructions, every run that makes it): `release/core/fast_dataclasses.py` keeps
    `inspect` out only while no dataclass needs it."""
    missing = []
    for module in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and ast.get_docstring(node) is None and any(
                "dataclass" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                missing.append(f"{module.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}")
    assert not missing, f"dataclasses without a docstring: {missing}"
