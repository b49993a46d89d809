"""What a command loads before it reads a byte: only what that command uses.

A maintainer runs `release` by hand and CI runs `extract-notes` on every tag, so start-up is
most of their time on a small repository. These tests pin the property, not a time: importing a
command's module in a fresh interpreter leaves the heavy libraries it does not need unloaded, and
mistletoe is imported without building its Unicode table (release/core/markdown.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from release.core import markdown

# What none of these commands needs at start-up (publish loads the clients it uses; PyYAML
# is for a mkdocs.yml, when there is one).
HEAVY = ("docker", "github", "requests", "urllib3", "towncrier", "yaml")


def _loaded(module: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after importing `module`."""
    code = (
        f"import sys, json, {module}; "
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", ["release.apps.release.cli", "release.apps.extract_notes"])
def test_commands_do_not_load_what_they_do_not_use(module: str) -> None:
    loaded = _loaded(module)
    assert "release" in loaded  # the probe works
    assert sorted(loaded & set(HEAVY)) == []


def test_publish_loads_neither_the_docker_sdk_nor_pygithub_at_start_up() -> None:
    """The Docker SDK is for the Docker path's pushes, PyGithub for a tag build's Release:
    `--via registry`, a branch build and a re-run with nothing to push load neither."""
    loaded = _loaded("release.apps.publish.cli")
    assert "release" in loaded
    assert sorted(loaded & {"docker", "github", "towncrier", "yaml", "mistletoe"}) == []


def test_extract_notes_does_not_load_git() -> None:
    assert "pygit2" not in _loaded("release.apps.extract_notes")


def test_extract_notes_of_a_version_reads_no_pep_440_version(tmp_path: Path) -> None:
    """A section asked for by its version is found by how its heading spells it: `packaging`
    loads only for what compares versions (`latest`, a spelling no heading writes as asked)."""
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n## [1.1.0] - 2026-02-01\n\n- Two\n\n## [1.0.0] - 2026-01-01\n\n- One\n",
        encoding="utf-8",
    )
    code = (
        "import sys, io, contextlib; from release.apps.extract_notes import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main([sys.argv[1], '--changelog', sys.argv[2]])\n"
        "print(code, out.getvalue().strip(), 'packaging' in sys.modules)\n"
    )
    for query, loaded in (("v1.0.0", False), ("1.0", True), ("latest", True)):
        done = subprocess.run(
            [sys.executable, "-c", code, query, str(changelog)],
            capture_output=True, text=True, check=True,
        )
        expected = "- Two" if query == "latest" else "- One"
        assert done.stdout.split() == ["0", *expected.split(), str(loaded)]


def test_extract_notes_loads_the_config_reader_and_roll_forward_only_when_used() -> None:
    """Given its changelog (as CI and the bench give it), extract-notes reads no pyproject.toml
    and rolls nothing forward."""
    code = (
        "import sys, json, release.apps.extract_notes; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert "release.apps.extract_notes" in loaded  # the probe works
    unused = {"tomlkit", "release.config", "release.core.changelog.roll"}
    assert sorted(loaded & unused) == []


def test_the_pyproject_name_is_the_configs() -> None:
    from release import config
    from release.apps import extract_notes

    assert extract_notes.PYPROJECT == config.PYPROJECT


def test_only_the_fast_import_imports_mistletoe() -> None:
    """Every module that uses mistletoe goes through release/core/markdown.py, so the first
    import of mistletoe in a process is the fast one."""
    code = (
        "import sys, release.apps.extract_notes, release.apps.release.cli; "
        "from release.core import markdown; "
        "print(type(sys.modules['mistletoe.core_tokens'].punctuation).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "Punctuation"


def test_the_punctuation_set_answers_as_mistletoes_own() -> None:
    full = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") | {
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")
    }
    ours = markdown.Punctuation()
    assert [chr(c) for c in range(sys.maxunicode + 1) if (chr(c) in ours) != (chr(c) in full)] == []
    assert "ab" not in ours
    assert sys.maxunicode == 0x10FFFF  # the import put it back


@pytest.mark.parametrize(
    ("text", "html"),
    [
        # CommonMark: `**` after Unicode punctuation and before a letter cannot close.
        ("**你好世界。**Hello\n", "<p>**你好世界。**Hello</p>\n"),
        ("*«quoted»*\n", "<p><em>«quoted»</em></p>\n"),
        ("a**“b”**c\n", "<p>a**“b”**c</p>\n"),
    ],
)
def test_emphasis_next_to_unicode_punctuation_follows_commonmark(text: str, html: str) -> None:
    import mistletoe  # after release.core.markdown

    assert mistletoe.markdown(text) == html


def test_a_command_run_as_the_process_freezes_the_collector_at_exit(tmp_path: Path) -> None:
    """Run as the process's command, a command leaves what it made to the operating system:
    its objects are frozen at exit, before the interpreter's last collections (an atexit hook
    registered before the command runs after its own, and sees them frozen); its output and
    exit code are whole. Called with an argv (tests, in-process), the collector is left alone."""
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [1.0.0] - 2026-01-01\n\n- One\n", encoding="utf-8")
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "from release.apps.extract_notes import main\n"
        "if sys.argv[1] == 'argv':\n"
        "    sys.exit(main(sys.argv[2:]))\n"
        "del sys.argv[1]\n"
        "sys.exit(main())\n"
    )
    for how, frozen in (("process", True), ("argv", False)):
        done = subprocess.run(
            [sys.executable, "-c", code, how, "1.0.0", "--changelog", str(changelog)],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == "- One\n"
        assert f"frozen {frozen}" in done.stderr
