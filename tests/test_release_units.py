"""The pure parts of `release`: pyproject edits, notes from commits, LLM output checks, the commit
message, remote URLs. Table-driven; no repository needed."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from release.apps.release.edits import FileChange
from release.core import commitmsg, notes
from release.core.commits import Commit
from release.core.notes import NotesRejected
from release.core.pyproject import bump_pyproject, bump_text, count_version, read_version
from release.core.version import Bump, VersionError, parse
from release.errors import ConfigError, UsageError
from release.shell import files, git
from tests.support.projects import project_of


@pytest.mark.parametrize(
    "line",
    [
        'version = "0.1.0"',
        "version = '0.1.0'",
        'version   =   "0.1.0"   # keep me',
        "version='0.1.0'#tight",
    ],
)
def test_pyproject_bump_changes_only_the_version_line(line: str) -> None:
    text = (
        f'# top comment\n[project]\nname = "demo"\n{line}\ndescription = "d"  # c\n\n'
        "[tool.x]\na = 1\n"
    )
    document = tomlkit.parse(text)
    new = bump_pyproject(document, parse("0.2.0"))
    assert tomlkit.dumps(document) == text  # the parsed document itself is left alone
    old_lines, new_lines = text.splitlines(), new.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert changed == [(line, line.replace("0.1.0", "0.2.0"))]
    assert read_version(tomlkit.parse(new)) == parse("0.2.0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nname = "d"\ndynamic = ["version"]\n', "dynamic"),
        ('[project]\nname = "d"\n', "missing"),
        ("[tool.x]\na = 1\n", "no [project] table"),
        ("[project\n", "not valid TOML"),
    ],
)
def test_pyproject_without_a_static_version_is_an_error(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        read_version(project_of(text, Path(".")).document)


def test_pyproject_version_must_be_pep440() -> None:
    with pytest.raises(VersionError, match="not a PEP 440 version"):
        read_version(tomlkit.parse('[project]\nname = "d"\nversion = "1.2.x"\n'))


def test_version_files_replace_whole_versions_only() -> None:
    text = '__version__ = "0.1.0"\nurl = "v0.1.0"\nother = "10.1.0", "0.1.0-rc.1", "0.1.0.dev1"\n'
    old, new = parse("0.1.0"), parse("0.1.1")
    assert count_version(text, old) == 2
    assert bump_text(text, old, new) == (
        '__version__ = "0.1.1"\nurl = "v0.1.1"\nother = "10.1.0", "0.1.0-rc.1", "0.1.0.dev1"\n'
    )


def _c(message: str, parents: int = 1) -> Commit:
    return Commit(sha="0123456789abcdef", message=message, parents=parents)


@pytest.mark.parametrize(
    ("message", "parents", "expected"),
    [
        ("feat: add a frobnicator (#12)", 1, [("Added", "add a frobnicator (#12)")]),
        ("fix(cli): exit 2 on bad usage", 1, [("Fixed", "**cli:** exit 2 on bad usage")]),
        ("feat(api)!: drop v1 (#9)", 1, [("Breaking", "**api:** drop v1 (#9)")]),
        (
            "refactor: split\n\nBREAKING CHANGE: config moved",
            1,
            [("Breaking", "split (config moved)")],
        ),
        ("perf: faster walk", 1, [("Changed", "faster walk")]),
        ("revert: the frobnicator", 1, [("Removed", "the frobnicator")]),
        ("security: escape input", 1, [("Security", "escape input")]),
        ("chore: bump deps", 1, []),
        ("ci: cache", 1, []),
        ("Merge pull request #7 from x/y", 2, []),
        ("Release v1.2.3", 1, []),
        ("Tidy the README", 1, [("Changed", "Tidy the README")]),
    ],
)
def test_commits_are_classified_by_conventional_type(
    message: str, parents: int, expected: list[tuple[str, str]]
) -> None:
    entries = notes.classify(_c(message, parents))
    assert [(e.kind, e.text) for e in entries] == expected


def test_grouped_notes_put_breaking_first_and_keep_references() -> None:
    commits = [  # newest first, as git walks them
        _c("fix: second fix (#31)"),
        _c("Merge branch 'x'", parents=2),
        _c("feat!: new config format (#30)"),
        _c("feat: widgets (#29)"),
        _c("fix: first fix"),
    ]
    text = notes.group_commits(commits)
    assert text == (
        "### Breaking\n\n- new config format (#30)\n\n"
        "### Added\n\n- widgets (#29)\n\n"
        "### Fixed\n\n- first fix\n- second fix (#31)\n"
    )
    assert notes.group_commits([_c("chore: x"), _c("Merge", parents=2)]) == ""


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("# Release notes\n\n- a\n", "top-level heading"),
        ("Release notes\n=============\n\n- a\n", "top-level heading"),
        ("- ok\x1b[31m red\n", "control characters"),
        ("\x00\x01binary", "control characters"),
        ("Highlights\n----------\n\n- a\n", "setext heading"),
    ],
)
def test_llm_output_is_checked(output: str, reason: str) -> None:
    with pytest.raises(NotesRejected, match=reason):
        notes.check_markdown(output)


def test_llm_output_is_cleaned() -> None:
    assert notes.check_markdown("\n```markdown\n### Added\n\n- a\n```\n\n") == "### Added\n\n- a\n"
    # A level-2 heading would start a new changelog section: it moves one level down.
    assert notes.check_markdown("## Highlights\n\nFaster.") == "### Highlights\n\nFaster.\n"
    assert notes.check_markdown("## Added\n\n- a\n\n```\n## kept\n```\n") == (
        "### Added\n\n- a\n\n```\n## kept\n```\n"
    )


def test_llm_commands_are_non_interactive() -> None:
    log = notes.commit_log([_c("feat: a"), _c("Merge", parents=2)])
    assert log == "0123456 feat: a\n"
    codex = notes.llm_command("codex", log, version="1.0.0", project="demo")
    assert codex.argv == ("codex", "exec", "--sandbox", "read-only", "-")
    assert codex.stdin.endswith(log)
    assert "1.0.0" in codex.stdin
    gemini = notes.llm_command("gemini", log, version="1.0.0", project="demo")
    assert gemini.argv[:2] == ("gemini", "-p")
    assert "1.0.0" in gemini.argv[2]
    assert gemini.stdin == log
    custom = notes.llm_command("llm -m 'my model'", log, version="1.0.0", project="demo")
    assert custom.argv == ("llm", "-m", "my model")
    with pytest.raises(ConfigError):
        notes.llm_command("'unbalanced", log, version="1.0.0", project="demo")


def _notes_file(path: Path, limit: int = 1024) -> str:
    text = files.read_text(path, what="--notes-file", limit=limit)
    return notes.check_notes_file(text, str(path))


def test_notes_file_must_exist_and_say_something(tmp_path: Path) -> None:
    base = tmp_path
    with pytest.raises(UsageError, match="no such file"):
        _notes_file(base / "missing.md")
    with pytest.raises(UsageError, match="is a directory"):
        _notes_file(base)
    (base / "empty.md").write_text(" \n\n")
    with pytest.raises(UsageError, match="empty"):
        _notes_file(base / "empty.md")
    (base / "big.md").write_text("- a\n" * 1000)
    with pytest.raises(UsageError, match="larger than 1 KiB"):
        _notes_file(base / "big.md")
    (base / "latin.md").write_bytes("- caf\u00e9\n".encode("latin-1"))
    with pytest.raises(UsageError, match=r"not UTF-8 \(byte 5\)"):
        _notes_file(base / "latin.md")
    (base / "heading.md").write_text("- a\n\n## 2.0.0\n\n- b\n")
    with pytest.raises(UsageError, match=r"level-2 heading \(line 3\)"):
        _notes_file(base / "heading.md")
    (base / "ok.md").write_text("\n\n- a\n\n")
    assert _notes_file(base / "ok.md") == "- a\n"


def test_notes_file_may_be_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("### Fixed\n\n- piped\n",))
    writer.start()
    assert _notes_file(fifo) == "### Fixed\n\n- piped\n"
    writer.join()


def _sentences(body: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", body))


@pytest.mark.parametrize(
    ("text", "bump", "needles"),
    [
        (
            "### Added\n\n- a\n- b\n\n### Fixed\n\n- c\n",
            Bump.MINOR,
            ["3 changes", "adds 2 features and fixes 1 bug", "No breaking change"],
        ),
        (
            "### Breaking\n\n- drop the v1 API (#9)\n\n### Added\n\n- x\n",
            Bump.MAJOR,
            ["2 changes", "breaks compatibility in 1 place (drop the v1 API (#9))"],
        ),
        ("Just faster.\n", Bump.PATCH, ["1 change", "changes 1 behaviour"]),
    ],
)
def test_commit_message_is_derived_from_the_notes(
    text: str, bump: Bump, needles: list[str]
) -> None:
    summary = notes.summarise(text)
    new = f"v{parse('1.0.0').bump(bump)}"
    how = f"{bump.value} bump of 1.0.0"
    major = bump is Bump.MAJOR
    message = commitmsg.render("demo", "v1.0.0", new, how, summary, major=major)
    subject, blank, *body = message.split("\n")
    assert subject == f"Release {new}"
    assert blank == ""
    flat = " ".join(body)
    for needle in needles:
        assert needle in flat
    assert 2 <= _sentences(flat) <= 5
    assert message == commitmsg.render(
        "demo", "v1.0.0", new, how, notes.summarise(text), major=major
    )  # deterministic


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("git@github.com:acme/demo.git", "https://github.com/acme/demo"),
        ("https://github.com/acme/demo.git", "https://github.com/acme/demo"),
        ("https://token@github.com/acme/demo", "https://github.com/acme/demo"),
        ("ssh://git@github.com:22/acme/demo.git", "https://github.com/acme/demo"),
        ("gitlab.example.org:group/sub/proj.git", "https://gitlab.example.org/group/sub/proj"),
        ("https://git.example.com:8443/acme/demo.git", "https://git.example.com:8443/acme/demo"),
        ("http://10.0.0.7:3000/acme/demo", "http://10.0.0.7:3000/acme/demo"),
        # SSH host aliases (two accounts on one machine): the web host is not in the URL
        ("git@github-work:acme/demo.git", None),
        ("git@github.com-work:acme/demo.git", None),
        ("/srv/git/demo.git", None),
        ("file:///srv/git/demo.git", None),
        (None, None),
    ],
)
def test_web_url_from_remote(url: str | None, web: str | None) -> None:
    assert git.web_url(url) == web


def test_version_bumps_used_by_release() -> None:
    assert parse("0.1.0").bump(Bump.PATCH) == parse("0.1.1")


@settings(max_examples=40, deadline=None)
@given(
    base=st.lists(
        st.sampled_from(["", "### Added", "- a", "- b", "x", "y", "## [1.0.0]"]),
        min_size=0,
        max_size=40,
    ),
    edits=st.lists(
        st.tuples(st.integers(0, 3000), st.sampled_from(["ins", "del", "mod"])), max_size=6
    ),
    big=st.booleans(),
)
def test_dry_run_diff_is_a_patch_git_applies(
    base: list[str], edits: list[tuple[int, str]], big: bool
) -> None:
    lines = [f"{line} {i}" if i % 3 else line for i, line in enumerate(base * (60 if big else 1))]
    new = list(lines)
    for where, what in edits:
        at = where % (len(new) + 1)
        if what == "ins":
            new.insert(at, f"inserted {where}")
        elif new and what == "del":
            new.pop(min(at, len(new) - 1))
        elif new:
            new[min(at, len(new) - 1)] = f"changed {where}"
    old_text, new_text = "\n".join(lines), "\n".join(new) + ("\n" if big else "")
    diff = FileChange("f.md", old_text, new_text).diff()
    assert (diff == "") == (old_text == new_text)
    if not diff:
        return
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f.md").write_text(old_text)
        done = subprocess.run(
            ["git", "apply", "-"], cwd=tmp, input=diff, text=True, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr + diff
        assert (Path(tmp) / "f.md").read_text() == new_text


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Added", "Added"),
        ("Features", "Added"),  # towncrier
        ("🚀 New Features", "Added"),
        ("Bugfixes", "Fixed"),  # towncrier
        ("Bug Fixes", "Fixed"),  # conventional-changelog
        ("Deprecations and Removals", "Deprecated"),  # towncrier: deprecation comes first
        ("Removed", "Removed"),
        ("Backwards-incompatible Changes", "Breaking"),
        ("BREAKING CHANGES", "Breaking"),
        ("Security", "Security"),
        ("Improved Documentation", "Changed"),
        ("Misc", "Changed"),
    ],
)
def test_section_headings_of_other_tools_name_their_kind(title: str, kind: str) -> None:
    assert notes.kind_of(title) == kind
    summary = notes.summarise(f"## {title}\n\n- one\n- two\n")
    assert summary.counts == ((kind, 2),)
    assert summary.breaking == (("one", "two") if kind == "Breaking" else ())


def _committed(tmp: Path, data: bytes) -> tuple[git.Repository, str]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", str(tmp)], check=True, env=env)
    (tmp / "CHANGELOG.md").write_bytes(data)
    subprocess.run(["git", "add", "CHANGELOG.md"], cwd=tmp, check=True, env=env)
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@e.org", "commit", "-qm", "one"],
        cwd=tmp, check=True, env=env,
    )
    repo = git.Repository.open(tmp)
    head = repo.head_commit()
    assert head is not None
    return repo, head.sha


@pytest.mark.parametrize(
    "worktree",
    ["as committed", "edited, same size", "crlf", "missing", "symlink", "symlink, same bytes",
     "link to a device", "fifo", "directory"],
)
def test_a_committed_file_reads_as_committed_whatever_the_work_tree_holds(
    tmp_path: Path, worktree: str
) -> None:
    """`read_blob` may answer from the work tree only when git's hash of its bytes is the blob:
    an edit of the same size, line endings a filter would write, a link (even to the same bytes:
    the file opened is the file checked, never a link's target), a link to an endless device, a
    FIFO (opened without blocking, never read) or a directory in its place all give the
    committed bytes."""
    data = b"# Changelog\n\n## [1.0.0] - 2026-01-01\n\n- One\n" * 50
    repo, sha = _committed(tmp_path, data)
    path = tmp_path / "CHANGELOG.md"
    if worktree == "edited, same size":
        path.write_bytes(data.replace(b"One", b"Two"))
    elif worktree == "crlf":
        path.write_bytes(data.replace(b"\n", b"\r\n"))
    elif worktree == "missing":
        path.unlink()
    elif worktree == "symlink":
        (tmp_path / "elsewhere.md").write_bytes(data.replace(b"One", b"Two"))
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere.md")
    elif worktree == "symlink, same bytes":
        (tmp_path / "elsewhere.md").write_bytes(data)
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere.md")
    elif worktree == "link to a device":
        path.unlink()
        path.symlink_to("/dev/zero")
    elif worktree == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif worktree == "directory":
        path.unlink()
        path.mkdir()
    assert repo.read_blob(sha, "CHANGELOG.md") == data
    assert repo.read_blob(sha, "absent.md") is None
