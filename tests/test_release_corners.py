"""Corners a line-by-line review of `release` found (issue 15), each reproduced against a real
repository with a bare remote, through the real CLI: what was asked is what is released, no
notes are lost, an interrupt never reverts a release, the configuration is checked first, a
first release to an empty remote works, and the project's own first command runs."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from release.core.version import parse, spell
from release.core.version_reading import reading
from tests.support.apps import problems, release_in
from tests.support.gitrepo import (
    CHANGELOG,
    GitRepo,
    interruptible_argv,
    make_repo,
    release_argv,
    release_env,
)
from tests.test_release_interrupts import _wait_for

ROOT = Path(__file__).resolve().parents[1]


def _run(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return release_in(repo.work, capsys, *args)


def _refs(repo: GitRepo) -> str:
    local = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
    remote = repo.git("--git-dir", str(repo.remote), "for-each-ref",
                      "--format=%(refname) %(objectname)")
    return local + "\n--\n" + remote


def _work_tree(repo: GitRepo) -> dict[str, bytes]:
    return {k: v for k, v in repo.snapshot().items() if not k.startswith(".git/")}


# --- item 2: --notes-file and [Unreleased] ---------------------------------------------------


def test_notes_file_is_refused_while_unreleased_holds_notes(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("- Written elsewhere\n")
    before, refs = _work_tree(git_repo), _refs(git_repo)
    code, _out, err = _run(git_repo, capsys, "--bump", "patch", "--notes-file", str(notes))
    assert code == 1
    (line,) = problems(err)
    assert "[Unreleased] in CHANGELOG.md holds notes" in line
    assert "--notes-file" in line
    assert _work_tree(git_repo) == before
    assert _refs(git_repo) == refs
    # With [Unreleased] empty, the file's notes are the section.
    git_repo.commit("docs: notes move out", {
        "CHANGELOG.md": CHANGELOG.replace(
            "### Added\n\n- A frobnicator (#12)\n\n### Fixed\n\n- Crash on empty input\n\n", ""
        ),
    })
    git_repo.git("push", "-q", "origin", "master")
    code, _out, err = _run(git_repo, capsys, "--bump", "patch", "--notes-file", str(notes))
    assert code == 0, err
    assert "## [0.1.1] - 2026-03-04\n\n- Written elsewhere\n" in git_repo.read("CHANGELOG.md")


# --- item 11: an interrupt as `git commit` completes -------------------------------------------


def test_an_interrupt_after_the_commit_keeps_the_release_commits_files(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    entered = tmp_path / "entered"
    # The commit is made; the hook runs after it, and the interrupt arrives then.
    hook = git_repo.hook("post-commit", f"touch {entered}; exec sleep 30\n")
    base = git_repo.head()
    run = subprocess.Popen(
        interruptible_argv("-C", str(git_repo.work), "--bump", "patch"), env=release_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for(entered)
    os.kill(run.pid, signal.SIGINT)
    run.wait(timeout=30)
    assert run.returncode == 130
    assert git_repo.git("log", "-1", "--format=%s") == "Release v0.1.1"
    assert git_repo.git("rev-parse", "HEAD^") == base
    # The work tree is the release commit's: nothing would revert it.
    assert git_repo.git("status", "--porcelain") == ""
    hook.unlink()
    again = git_repo.cli("--bump", "patch")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "v0.1.1\n"
    assert git_repo.remote_ref("refs/tags/v0.1.1") == git_repo.head()
    assert "version = '0.1.1'" in git_repo.git("show", "HEAD:pyproject.toml")


# --- item 12: an invalid tag-format ----------------------------------------------------------


@pytest.mark.parametrize("args", [("--bump", "patch"), ("--resume",)], ids=["bump", "resume"])
def test_an_invalid_tag_format_is_a_configuration_error_before_the_remote(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    # A pending release (its push refused) must not be pushed either.
    git_repo.hook("pre-receive", "exit 1\n", remote=True)
    code, _out, _err = _run(git_repo, capsys, "--bump", "patch")
    assert code == 1
    (git_repo.remote / "hooks" / "pre-receive").unlink()
    # The remote is unreachable now: a configuration error must come first.
    git_repo.git("remote", "set-url", "origin", str(git_repo.work.parent / "nowhere.git"))
    text = git_repo.read("pyproject.toml") + 'tag-format = "release"\n'
    git_repo.write("pyproject.toml", text)
    git_repo.git("commit", "-q", "--amend", "--no-edit", "-a")
    git_repo.git("tag", "-f", "v0.1.1")  # still the pending release's tag
    pending, refs = git_repo.head(), _refs(git_repo)
    code, _out, err = _run(git_repo, capsys, *args)
    assert code == 1
    (line,) = problems(err)
    assert "tag-format 'release' must contain {version} exactly once" in line
    assert "cannot reach" not in err
    assert _refs(git_repo) == refs
    assert git_repo.head() == pending


# --- item 13: a first release to an empty remote ----------------------------------------------


@pytest.mark.parametrize("remote_state", ["empty", "other-branch"])
def test_a_first_release_to_a_remote_without_the_branch(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], remote_state: str
) -> None:
    repo = make_repo(tmp_path / "fresh", tag=None, name="fresh")
    # Start over: the remote lacks master (it is empty, or has only another branch).
    subprocess.run(["rm", "-rf", str(repo.remote)], check=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(repo.remote)], check=True)
    if remote_state == "other-branch":
        repo.git("push", "-q", "origin", "HEAD~1:refs/heads/gh-pages")
    repo.git("update-ref", "-d", "refs/remotes/origin/master")
    dry, _out, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    real, out, err_real = _run(repo, capsys, "--bump", "patch")
    assert (dry, real) == (0, 0), err + err_real
    assert out == "v0.1.1\n"
    assert repo.remote_ref("refs/heads/master") == repo.head()
    assert repo.remote_ref("refs/tags/v0.1.1") == repo.head()


# --- item 18: this repository's own first command --------------------------------------------


def test_the_readmes_first_command_runs_in_a_fresh_clone_whose_default_is_main(
    tmp_path: Path, git_env: Path
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "release --bump patch --dry-run" in readme
    remote, work = tmp_path / "dojo.git", tmp_path / "dojo"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    # This commit as the remote's main (uncommitted edits of a developer's tree play no part).
    subprocess.run(["git", "-C", str(ROOT), "push", "-q", str(remote), "HEAD:refs/heads/main"],
                   check=True, capture_output=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True)
    run = subprocess.run(
        release_argv("-C", str(work), "--bump", "patch", "--dry-run"), env=release_env(),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Release plan for dojo (dry run: nothing was written)")
    assert "branch: main on origin" in run.stdout
    assert "git push --atomic origin main" in run.stdout


def test_this_projects_changelog_url_names_the_release_branch() -> None:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as handle:
        document = tomllib.load(handle)
    assert "branch" not in document["tool"]["release"]
    url = document["project"]["urls"]["Changelog"]
    assert url.endswith("/blob/main/CHANGELOG.md"), url



# --- item 1: a pending release finishes only for what was asked ------------------------------


def test_a_pending_release_is_not_finished_for_other_options(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.hook("pre-receive", "exit 1\n", remote=True)
    code, _out, _err = _run(git_repo, capsys, "--bump", "patch")
    assert code == 1  # v0.1.1: committed and tagged, not pushed
    (git_repo.remote / "hooks" / "pre-receive").unlink()
    refs = _refs(git_repo)
    for args in (("--version", "2.0.0"), ("--bump", "minor"), ("--bump", "patch", "--pre", "rc")):
        code, out, err = _run(git_repo, capsys, *args)
        assert code == 1, (args, err)
        assert out == ""
        (line,) = problems(err)
        assert "unpushed release commit of v0.1.1" in line
        assert "release --resume" in line
        assert "git reset --keep HEAD~1" in line
        assert _refs(git_repo) == refs
    # The same options, --version 0.1.1 or --resume finish it.
    code, out, err = _run(git_repo, capsys, "--version", "0.1.1")
    assert (code, out) == (0, "v0.1.1\n"), err
    assert git_repo.remote_ref("refs/tags/v0.1.1") == git_repo.head()


def test_a_published_release_commit_does_not_answer_for_another_bump(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = _run(git_repo, capsys, "--bump", "patch")
    assert (code, out) == (0, "v0.1.1\n")
    code, out, err = _run(git_repo, capsys, "--bump", "minor")
    assert code == 1
    assert out == ""  # `TAG=$(release --bump minor)` gets no wrong tag
    (line,) = problems(err)
    assert "release commit of v0.1.1, already on origin" in line
    # The same command again is done, and says which tag.
    code, out, err = _run(git_repo, capsys, "--bump", "patch")
    assert (code, out) == (0, "v0.1.1\n"), err


# --- item 15: the current version as the first release ---------------------------------------

FIRST = """\
# Changelog

## [Unreleased]

- First public release
"""


@pytest.mark.parametrize(
    ("args", "tag"),
    [(("--version", "0.1.0"), "v0.1.0"), ((), "v0.1.0"), (("--bump", "patch"), "v0.1.1")],
    ids=["version", "no-option", "bump"],
)
def test_the_current_version_can_be_the_first_release(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    tag: str,
) -> None:
    repo = make_repo(tmp_path / "first", changelog=FIRST, tag=None, name="first")
    pyproject = repo.read("pyproject.toml")
    code, out, err = _run(repo, capsys, *args)
    assert (code, out) == (0, f"{tag}\n"), err
    assert repo.remote_ref(f"refs/tags/{tag}") == repo.head()
    version = tag.removeprefix("v")
    assert f"## [{version}] - 2026-03-04\n\n- First public release\n" in repo.read("CHANGELOG.md")
    if version == "0.1.0":
        assert repo.read("pyproject.toml") == pyproject  # already says 0.1.0
    # Once tagged, the same version cannot be released again.
    repo.commit("fix: later", {"src/later.txt": "later\n"})
    code, _out, err = _run(repo, capsys, "--version", version)
    assert code == 1
    assert f"--version {version} is not greater than the current version {version}" in err


# --- item 14: version-files in the version source's spelling ---------------------------------


@pytest.mark.parametrize(
    ("written", "tag", "args", "new"),
    [
        ("2026.08.17", "v2026.8.17", ("--version", "2026.8.18"), "2026.08.18"),
        ("1.2.0-rc.1", "v1.2.0rc1", ("--pre", "rc"), "1.2.0-rc.2"),
    ],
    ids=["padded-calver", "semver-pre"],
)
def test_version_files_match_and_keep_the_spelling_of_the_version_source(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], written: str, tag: str,
    args: tuple[str, ...], new: str,
) -> None:
    pyproject = (
        f'[project]\nname = "chart"\nversion = "{written}"\n\n'
        '[tool.release]\nbranch = "master"\nversion-files = ["chart/Chart.yaml"]\n'
    )
    changelog = (
        f"# Changelog\n\n## [Unreleased]\n\n- Faster\n\n## [{written}] - 2026-01-01\n\n- First\n"
    )
    repo = make_repo(tmp_path / "chart", pyproject=pyproject, changelog=changelog, tag=tag,
                     name="chart")
    chart = f'apiVersion: v2\nname: chart\nversion: {written}\nappVersion: "{written}"\n'
    repo.commit("chore: a chart", {"chart/Chart.yaml": chart})
    repo.git("push", "-q", "origin", "master")
    code, out, err = _run(repo, capsys, *args)
    assert code == 0, err
    assert repo.read("chart/Chart.yaml") == chart.replace(written, new)
    assert f'version = "{new}"' in repo.read("pyproject.toml")
    assert out == f"v{parse(new)}\n"  # release tags are normalised


def test_a_spelling_is_kept_only_when_it_names_the_new_version() -> None:
    for new, like in [("2026.10.1", "2026.08.07"), ("1.3.0b1", "1.3.0-alpha.2"),
                      ("2.0.0", "1.2.0-rc.1"), ("1.2.3.post1", "1.2.3"), ("1!2.0", "1.0")]:
        spelled = spell(parse(new), like)
        assert reading(spelled) == parse(new).value, (new, like, spelled)
    assert spell(parse("2026.10.1"), "2026.08.07") == "2026.10.01"
    assert spell(parse("1.3.0b1"), "1.3.0-alpha.2") == "1.3.0-beta.1"


# --- the plan checks its own result ------------------------------------------------------------

ROLLED_FROM = CHANGELOG


def _rolled(body: str = "- A frobnicator (#12)\n") -> str:
    return CHANGELOG.replace(
        "## [Unreleased]\n\n### Added\n\n- A frobnicator (#12)\n\n### Fixed\n\n- Crash on empty "
        "input\n\n",
        f"## [Unreleased]\n\n## [0.1.1] - 2026-03-04\n\n{body}\n",
    )


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (_rolled(), None),
        # the first heading glued onto the title (no final newline before the roll)
        (CHANGELOG.replace("## [Unreleased]", "## [Unreleased]## [0.1.1] - 2026-03-04"),
         "does not read back"),
        # the notes dropped out of the section
        (_rolled("- something else\n"), "does not hold exactly the notes"),
        # a released version's section gone
        (_rolled().replace("## [0.1.0] - 2026-01-01", "0.1.0, 2026-01-01"),
         "loses the section of 0.1.0"),
        # the model heading's text copied: the previous version, or its date
        (_rolled().replace("## [0.1.1] - 2026-03-04", "## [0.1.1] - 0.1.0 - 2026-03-04"),
         "names the previous version 0.1.0"),
        (_rolled().replace("## [0.1.1] - 2026-03-04", "## [0.1.1] - 2026-01-01"),
         "carries the previous release's date 2026-01-01"),
    ],
    ids=["good", "glued", "notes", "lost", "previous-version", "previous-date"],
)
def test_the_rolled_changelog_is_read_back_before_anything_is_written(
    new: str, expected: str | None
) -> None:
    from release.apps.release import verify

    found = verify.changelog_problems(
        "CHANGELOG.md", CHANGELOG, new, version=parse("0.1.1"),
        notes_text="- A frobnicator (#12)\n", date="2026-03-04",
        previous=verify.Previous("0.1.0", "2026-01-01"),
    )
    if expected is None:
        assert found == []
    else:
        assert any(expected in line for line in found), found
        assert all("a bug in release: nothing was written" in line for line in found)


def test_notes_that_name_the_unreleased_link_read_back_after_the_roll_rewrote_it() -> None:
    """A bare `[Unreleased]` reference in the notes: they carry its definition as it was, the
    rolled file compares from the new tag. The section still holds [Unreleased]'s text, so
    nothing is refused; text that is not [Unreleased]'s still is."""
    from release.apps.release import verify
    from release.core import changelog

    old = (
        "# Changelog\n\n## [Unreleased]\n\n- Fixed; see [Unreleased] for what is next.\n\n"
        "## [0.1.0] - 2026-01-01\n\n- First.\n\n"
        "[Unreleased]: https://github.com/o/p/compare/v0.1.0...HEAD\n"
        "[0.1.0]: https://github.com/o/p/releases/tag/v0.1.0\n"
    )
    before = changelog.read(old, "CHANGELOG.md")
    assert before.unreleased is not None
    notes_text = changelog.notes(before, before.unreleased)
    assert "compare/v0.1.0...HEAD" in notes_text  # the definition as it was
    new = changelog.roll_forward(before, parse("0.1.1"), "2026-03-04").text
    assert "compare/v0.1.1...HEAD" in new

    def problems(rolled: str) -> list[str]:
        return verify.changelog_problems(
            "CHANGELOG.md", old, rolled, version=parse("0.1.1"), notes_text=notes_text,
            date="2026-03-04", previous=verify.Previous("0.1.0", "2026-01-01"), before=before,
        )

    assert problems(new) == []
    (line,) = problems(new.replace("- Fixed; see", "- Broke; see"))
    assert "does not hold exactly the notes" in line


def test_the_version_source_and_version_files_are_read_back() -> None:
    from release.apps.release import verify
    from release.core.pyproject import SourceKind, VersionSource
    from release.core.versionfile import VersionFile

    project = VersionSource(SourceKind.PROJECT, "[project] version")
    good = '[project]\nname = "d"\nversion = "0.1.1"\n'
    assert verify.version_source_problems(project, None, {"pyproject.toml": good},
                                          parse("0.1.1")) == []
    (line,) = verify.version_source_problems(
        project, None, {"pyproject.toml": good.replace("0.1.1", "0.1.0")}, parse("0.1.1")
    )
    assert "reads back as 0.1.0, not 0.1.1" in line
    spec = VersionFile("src/d/__init__.py")
    (line,) = verify.version_source_problems(
        VersionSource(SourceKind.FILE, "hatch path", (spec,)), spec,
        {"src/d/__init__.py": "__version__ = get()\n"}, parse("0.1.1"),
    )
    assert "does not read back" in line
    assert verify.version_file_problems(
        "chart.yaml", "v: 0.1.0\nw: 0.1.0\n", "v: 0.1.1\nw: 0.1.1\n",
        current=parse("0.1.0"), version=parse("0.1.1"),
    ) == []
    (line,) = verify.version_file_problems(
        "chart.yaml", "v: 0.1.0\nw: 0.1.0\n", "v: 0.1.1\nw: 0.1.0\n",
        current=parse("0.1.0"), version=parse("0.1.1"),
    )
    assert "does not hold 0.1.1 where it held 0.1.0" in line


def test_a_plan_that_fails_its_own_check_is_a_preflight_line_and_writes_nothing(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: a roll that drops every released section (the family of roll bugs).
    from release.core import changelog
    from release.core.changelog.roll import Rolled

    real = changelog.roll_forward

    def broken(*args: object, **kwargs: object) -> Rolled:
        rolled = real(*args, **kwargs)  # type: ignore[arg-type]
        return Rolled(rolled.text.replace("## [0.1.0]", "0.1.0"), rolled.warnings)

    monkeypatch.setattr(changelog, "roll_forward", broken)
    before, refs = _work_tree(git_repo), _refs(git_repo)
    for args in (("--dry-run",), ()):
        code, out, err = _run(git_repo, capsys, "--bump", "patch", *args)
        assert code == 1
        assert out == ""
        found = problems(err)
        assert any("loses the section of 0.1.0" in line for line in found), err
        assert _work_tree(git_repo) == before
        assert _refs(git_repo) == refs


# --- item 8: one version-source detection for release and publish -----------------------------


@pytest.mark.parametrize(
    ("files", "where", "written"),
    [
        ({"setup.cfg": "[metadata]\nname = legacy\nversion = 1.2.3\n"}, "setup.cfg", "1.2.3"),
        (
            {
                "setup.cfg": "[metadata]\nname = legacy\nversion = attr: legacy.__version__\n"
                "[options]\npackage_dir =\n    = src\n",
                "src/legacy/__init__.py": '__version__ = "2026.08.17"\n',
            },
            "src/legacy/__init__.py",
            "2026.08.17",
        ),
        ({"setup.py": "from setuptools import setup\nsetup(name='legacy', version='0.4.0')\n"},
         "setup.py", "0.4.0"),
    ],
    ids=["setup.cfg", "setup.cfg-attr", "setup.py"],
)
def test_publish_finds_a_setuptools_version_as_release_does(
    tmp_path: Path, files: dict[str, str], where: str, written: str
) -> None:
    from release.apps.publish.gate import project_version
    from release.apps.release.versions import read_current
    from release.config import project_in_work_tree

    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    # No pyproject.toml: publish starts, and its gate reads the version where release does.
    project = project_in_work_tree(tmp_path, default_branch=lambda _remote: None)
    assert project_version(project) == (where, written, None)
    problems: list[str] = []
    found = read_current(files.get, project, problems)
    assert problems == []
    assert found.version == parse(written)
