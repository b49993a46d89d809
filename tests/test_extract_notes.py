"""`extract-notes` end to end: the real CLI through `main([...])`, and as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.apps.extract_notes import main
from tests.support.tools import require_tool

DATA = Path(__file__).parent / "data" / "changelogs"
EXPECTED = DATA / "expected"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory holding the Keep a Changelog fixture as CHANGELOG.md (the cwd)."""
    shutil.copyfile(DATA / "keep-a-changelog.md", tmp_path / "CHANGELOG.md")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def golden(name: str) -> str:
    return (EXPECTED / name).read_text(encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("v2.1.0", "keep-a-changelog@2.1.0.md"),
        ("2.1.0", "keep-a-changelog@2.1.0.md"),
        ("refs/tags/v2.0.0-rc.1", "keep-a-changelog@2.0.0-rc.1.md"),
        ("latest", "keep-a-changelog@2.1.0.md"),
        ("Unreleased", "keep-a-changelog@Unreleased.md"),
    ],
)
def test_prints_the_section(
    project: Path, capsys: pytest.CaptureFixture[str], query: str, expected: str
) -> None:
    assert run(capsys, query) == (0, golden(expected), "")


def test_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "v1.4.1", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "version": "1.4.1",
        "date": "2025-06-29",
        "title": "[1.4.1] - 2025-06-29",
        "body": golden("keep-a-changelog@1.4.1.md").removesuffix("\n"),
        "url": "https://github.com/acme/widget/compare/v1.4.0...v1.4.1",
    }
    code, out, _ = run(capsys, "Unreleased", "--format", "json")
    assert json.loads(out)["version"] is None


def test_output_file_is_written_and_stdout_stays_empty(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "notes.md"
    target.write_text("old notes\n")
    code, out, err = run(capsys, "2.0.0", "--output", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8") == golden("keep-a-changelog@2.0.0.md")
    assert err.startswith("step=write path=")
    assert "status=ok" in err
    assert sorted(p.name for p in project.iterdir()) == ["CHANGELOG.md", "notes.md"]  # no temp


def test_output_into_a_missing_directory_fails_cleanly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "2.0.0", "--output", str(project / "nope" / "notes.md"))
    assert (code, out) == (1, "")
    assert err.startswith("extract-notes: cannot write ")
    assert err.count("\n") == 1
    assert not (project / "nope").exists()


def test_crlf_and_bom_are_kept_byte_for_byte(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DATA / "en-dash.md").read_text(encoding="utf-8")
    (project / "CHANGELOG.md").write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode())
    target = project / "notes.md"
    assert run(capsys, "v0.11.1", "--output", str(target))[0] == 0
    expected = golden("en-dash@0.11.1.md").replace("\n", "\r\n")
    assert target.read_bytes().decode() == expected


def test_changelog_path_from_pyproject(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "docs").mkdir()
    (project / "CHANGELOG.md").rename(project / "docs" / "CHANGES.md")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "2.1.0"\n\n'
        '[tool.release]\nchangelog = "docs/CHANGES.md"\n'
    )
    assert run(capsys, "latest") == (0, golden("keep-a-changelog@2.1.0.md"), "")
    (project / "docs" / "CHANGES.md").unlink()
    code, out, err = run(capsys, "latest")
    assert (code, out) == (1, "")
    assert err == (
        "extract-notes: changelog docs/CHANGES.md does not exist: create it, or point at another "
        "file with --changelog PATH (or set [tool.release] changelog in pyproject.toml)\n"
    )


def test_explicit_changelog_option(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = project / "towncrier.md"
    shutil.copyfile(DATA / "towncrier.md", other)
    assert run(capsys, "25.2.1", "--changelog", str(other)) == (
        0, golden("towncrier@25.2.1.md"), ""
    )


def test_missing_changelog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "v1.0.0") == (
        1, "",
        "extract-notes: changelog CHANGELOG.md does not exist: create it, or point at another "
        "file with --changelog PATH\n",
    )


def test_unreadable_changelogs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "1.0.0", "--changelog", str(project))
    assert (code, out) == (1, "")
    assert err == f"extract-notes: changelog {project} is a directory: pass the right one with " \
        "--changelog PATH\n"
    (project / "latin1.md").write_bytes("## [1.0.0] - 2020-01-01\n\n- caf\xe9\n".encode("latin-1"))
    code, out, err = run(capsys, "1.0.0", "--changelog", "latin1.md")
    assert (code, out) == (1, "")
    assert err == "extract-notes: changelog latin1.md is not UTF-8 (byte 30): save it as UTF-8\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["v9.9.9"], "extract-notes: CHANGELOG.md: no section for 9.9.9; sections that exist: "
                     "Unreleased, 2.1.0, 2.0.0, 2.0.0-rc.2, 2.0.0-rc.1, 1.4.2, 1.4.1, 1.4.0, "
                     "1.3.0, 1.2.0, ... (40 sections in all)"),
        (["not-a-version"], "extract-notes: CHANGELOG.md: 'not-a-version' is not a version: ask "
                            "for vX.Y.Z, X.Y.Z, refs/tags/vX.Y.Z, Unreleased or latest"),
    ],
)
def test_version_errors(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(capsys, *argv) == (1, "", message + "\n")


def test_duplicate_and_empty_sections(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "CHANGELOG.md").write_text(
        "## [Unreleased]\n\n## [1.0.0] - 2020-01-02\n\n- b\n\n## [1.0.0] - 2020-01-01\n\n- a\n"
    )
    code, out, err = run(capsys, "1.0.0")
    assert (code, out) == (1, "")
    assert err == (
        "extract-notes: CHANGELOG.md: the changelog has 2 sections for 1.0.0 (lines 3, 7): "
        "merge them into one\n"
    )
    code, out, err = run(capsys, "Unreleased")
    assert (code, out) == (1, "")
    assert "section for Unreleased (line 1) is empty" in err
    assert err.count("\n") == 1
    assert run(capsys, "Unreleased", "--allow-empty") == (0, "", "")
    code, out, _ = run(capsys, "Unreleased", "--allow-empty", "--format", "json")
    assert json.loads(out)["body"] == ""


def test_check_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--check") == (0, "", "step=check changelog=CHANGELOG.md status=ok\n")
    code, out, _err = run(capsys, "--check", "v1.0.0")
    assert (code, out) == (0, golden("keep-a-changelog@1.0.0.md"))


def test_check_reports_every_problem_one_per_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "CHANGELOG.md").write_text(
        "## [1.0.0] - 2020-01-01\n\n- a\n\n## [1.1.0] - 01/02/2020\n\n- b\n\n"
        "## [1.0.0] - 2020-01-01\n\n- c\n"
    )
    code, out, err = run(capsys, "--check", "1.1.0")
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("extract-notes: CHANGELOG.md:1: warning: no [Unreleased] section")
    assert lines[1] == (
        "extract-notes: CHANGELOG.md:5: warning: 1 release date is not ISO 8601 (`01/02/2020` in "
        "1.1.0): write dates as YYYY-MM-DD"
    )
    assert lines[2].startswith(
        "extract-notes: CHANGELOG.md:5: warning: 1.1.0 (line 5) is below 1.0.0 (line 1)"
    )
    assert lines[3].startswith(
        "extract-notes: CHANGELOG.md:9: error: version 1.0.0 has 2 sections"
    )


def test_check_warnings_pass_unless_strict(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "CHANGELOG.md").write_text("## 1.1.0 (March 3, 2021)\n\n- b\n")
    code, out, err = run(capsys, "--check")
    assert (code, out) == (0, "")
    assert err.splitlines() == [
        "extract-notes: CHANGELOG.md:1: warning: no [Unreleased] section: add `[Unreleased]` "
        "above the newest version, at the releases' heading level, to collect the notes of the "
        "next release",
        "extract-notes: CHANGELOG.md:1: warning: 1 release date is not ISO 8601 (`March 3, 2021` "
        "in 1.1.0): write dates as YYYY-MM-DD",
        "step=check changelog=CHANGELOG.md warnings=2 status=ok",
    ]
    code, out, err = run(capsys, "--check", "--strict")
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 2
    code, out, err = run(capsys, "--check", "--strict", "--format", "json")
    assert code == 1
    assert err == "extract-notes: CHANGELOG.md: the check failed with 2 warning(s) (--strict)\n"
    report = json.loads(out)
    assert (report["ok"], report["errors"], report["warnings"]) == (False, 0, 2)
    assert report["problems"][1] == {
        "severity": "warning", "line": 1,
        "message": "1 release date is not ISO 8601 (`March 3, 2021` in 1.1.0): write dates as "
                   "YYYY-MM-DD",
    }
    code, out, _ = run(capsys, "--check", "--format", "json")
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_a_changelog_that_is_not_markdown_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "CHANGES.txt").write_text("1.0.0\n=====\n\n* a\n")
    assert run(capsys, "1.0.0", "--changelog", "CHANGES.txt") == (1, "", (
        "extract-notes: CHANGES.txt is plain text, not Markdown or reStructuredText: keep the "
        "changelog as CHANGELOG.md or CHANGES.rst, or point at one with --changelog PATH "
        "([tool.release] changelog)\n"
    ))


def test_latest_skips_prereleases_unless_asked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "CHANGELOG.md").write_text(
        "# Release 2.0.0rc1 (May 2, 2026)\n\n- rc\n\n# Release 1.9.0 (May 1, 2026)\n\n- final\n"
    )
    assert run(capsys, "latest") == (0, "- final\n", "")
    assert run(capsys, "latest", "--include-prereleases") == (0, "- rc\n", "")
    assert run(capsys, "2.0.0-rc.1") == (0, "- rc\n", "")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "VERSION is required unless --check is given"),
        (["1.0.0", "--strict"], "--strict goes with --check"),
        (["1.0.0", "--check", "--format", "json"], "--check --format json prints the check's"),
        (["1.0.0", "--format", "yaml"], "argument --format: invalid choice: 'yaml'"),
        (["1.0.0", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_usage_exits_2(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("extract-notes: ")
    assert fragment in err
    assert err.count("\n") == 1


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "extract-notes v1.2.3" in out
    assert "--check" in out


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def test_real_process_python_m(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "release.apps.extract_notes", "refs/tags/v2.1.0"],
        cwd=project, env=_env(), capture_output=True, check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode() == golden("keep-a-changelog@2.1.0.md")
    missing = subprocess.run(
        [sys.executable, "-m", "release.apps.extract_notes", "v7.7.7", "--changelog", "x.md"],
        cwd=project, env=_env(), capture_output=True, text=True, check=False,
    )
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr.startswith("extract-notes: changelog x.md does not exist")
    assert "Traceback" not in missing.stderr


def test_real_process_console_script(project: Path) -> None:
    require_tool("extract-notes")  # installed by `pip install -e .` (CI does)
    done = subprocess.run(
        ["extract-notes", "latest", "--format", "json"],
        cwd=project, capture_output=True, text=True, check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["version"] == "2.1.0"
