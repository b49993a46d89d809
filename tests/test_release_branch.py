"""The release branch when `[tool.release] branch` is not set: the remote's default branch as
the clone knows it (`refs/remotes/origin/HEAD`), else whichever of main and master exists, in
real repositories; and `release` on such a project, end to end."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from release.shell.git import Repository
from tests.support.apps import problems, release_in
from tests.support.gitrepo import CHANGELOG, PYPROJECT
from tests.support.projects import project_of

UNSET = PYPROJECT.replace('[tool.release]\nbranch = "master"\n', "")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def _origin(tmp_path: Path, default: str, branches: tuple[str, ...]) -> Path:
    """A bare remote whose HEAD (default branch) is `default`, with `branches`."""
    seed = tmp_path / "seed"
    seed.mkdir()
    _git(seed, "init", "-q", "-b", branches[0])
    (seed / "pyproject.toml").write_text(UNSET)
    (seed / "CHANGELOG.md").write_text(CHANGELOG)
    _git(seed, "add", "-A")
    _git(seed, "commit", "-qm", "chore: start")
    _git(seed, "tag", "-a", "-m", "v0.1.0", "v0.1.0")
    _git(seed, "commit", "-q", "--allow-empty", "-m", "feat: more")
    for name in branches[1:]:
        _git(seed, "branch", name)
    remote = tmp_path / "remote.git"
    _git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    _git(remote, "symbolic-ref", "HEAD", f"refs/heads/{default}")
    return remote


@pytest.mark.parametrize(
    ("default", "branches", "expected"),
    [
        ("main", ("main",), "main"),
        ("master", ("master",), "master"),
        ("trunk", ("trunk", "main"), "trunk"),  # the remote says so, whatever the names
        ("develop", ("develop", "main", "master"), "develop"),
    ],
)
def test_a_clone_knows_the_remotes_default_branch(
    tmp_path: Path, git_env: Path, default: str, branches: tuple[str, ...], expected: str
) -> None:
    remote = _origin(tmp_path, default, branches)
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(remote), str(work))
    repo = Repository.open(work)
    assert repo.default_branch("origin") == expected
    assert project_of(UNSET, work, default_branch=expected).settings.branch == expected


@pytest.mark.parametrize(
    ("local", "checked_out", "expected"),
    [
        (("master",), "master", "master"),  # `git init` + `git remote add`: no origin/HEAD
        (("main", "feature"), "feature", "main"),
        (("main", "master"), "master", "master"),  # both: the checked-out one
        (("main", "master"), "feature", None),  # both, and neither checked out: undecided
        (("trunk",), "trunk", None),
    ],
)
def test_without_the_remotes_word_main_or_master_decides(
    tmp_path: Path, git_env: Path, local: tuple[str, ...], checked_out: str,
    expected: str | None,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", local[0])
    _git(work, "commit", "-q", "--allow-empty", "-m", "start")
    for name in local[1:]:
        _git(work, "branch", name)
    _git(work, "checkout", "-q", "-B", checked_out)
    repo = Repository.open(work)
    assert repo.default_branch("origin") == expected
    settings = project_of(UNSET, work, default_branch=expected).settings
    assert settings.branch == (expected or "main")


def test_a_configured_branch_wins(tmp_path: Path, git_env: Path) -> None:
    assert project_of(PYPROJECT, tmp_path, default_branch="main").settings.branch == "master"


def test_release_on_main_needs_no_configuration(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = _origin(tmp_path, "main", ("main",))
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(remote), str(work))
    _git(work, "fetch", "-q", "--tags")
    code, out, err = release_in(work, capsys, "--bump", "patch")
    assert code == 0, err
    assert out == "v0.1.1\n"
    assert _git(remote, "rev-parse", "refs/heads/main") == _git(work, "rev-parse", "HEAD")

    _git(work, "switch", "-q", "-c", "feature")
    code, out, err = release_in(work, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert "release: on branch 'feature', not the release branch 'main': `git switch main`, " \
        'or, to release from feature, set [tool.release] branch = "feature"' in problems(err)


def test_a_maintenance_branch_is_one_problem_then_released_when_configured(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # master moved on past the maintenance branch 3.14 (both on the remote, master up to date).
    remote = _origin(tmp_path, "master", ("master", "3.14"))
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(remote), str(work))
    _git(work, "fetch", "-q", "--tags")
    _git(work, "commit", "-q", "--allow-empty", "-m", "feat: next minor")
    _git(work, "push", "-q", "origin", "master")
    _git(work, "switch", "-q", "3.14")
    _git(work, "commit", "-q", "--allow-empty", "-m", "fix: a backport")
    for args in (("--dry-run",), ()):
        code, out, err = release_in(work, capsys, "--bump", "patch", *args)
        assert code == 1
        # master and origin/master are equal: only the branch is a problem, not "diverged".
        assert problems(err) == [
            "release: on branch '3.14', not the release branch 'master': `git switch master`, "
            'or, to release from 3.14, set [tool.release] branch = "3.14"'
        ]
    (work / "pyproject.toml").write_text(UNSET + '\n[tool.release]\nbranch = "3.14"\n')
    _git(work, "commit", "-qam", "chore: release from 3.14")
    code, out, err = release_in(work, capsys, "--bump", "patch")
    assert code == 0, err
    assert out == "v0.1.1\n"
    assert _git(remote, "rev-parse", "refs/heads/3.14") == _git(work, "rev-parse", "HEAD")
    assert _git(remote, "rev-parse", "refs/heads/master") != _git(work, "rev-parse", "HEAD")
