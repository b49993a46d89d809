"""`release` under interruption and contention, as real processes on a real repository:
two runs at once, Ctrl-C during `git commit`, a stale `index.lock`, a file changed under a
failing run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.apps import problems as release_problems
from tests.support.gitrepo import GitRepo, interruptible_argv, release_env


def _work_tree(repo: GitRepo) -> dict[str, bytes]:
    snap = repo.snapshot()
    return {k: v for k, v in snap.items() if not k.startswith(".git/") or k == ".git/index"}


def _start(repo: GitRepo, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        interruptible_argv("-C", str(repo.work), *args),
        env=release_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def test_two_runs_exclude_each_other(git_repo: GitRepo, tmp_path: Path) -> None:
    entered, go = tmp_path / "entered", tmp_path / "go"
    # The first run stops inside `git commit` until the test lets it go on.
    git_repo.hook("pre-commit", f"touch {entered}; while [ ! -e {go} ]; do sleep 0.05; done\n")
    first = _start(git_repo, "--bump", "patch")
    try:
        _wait_for(entered)
        before = _work_tree(git_repo)
        second = git_repo.cli("--bump", "patch")
        assert second.returncode == 1
        problems = release_problems(second.stderr)
        assert len(problems) == 1, second.stderr
        assert "another release is running in this repository" in problems[0]
        assert f"pid {first.pid}" in problems[0]
        assert "dojo-release.lock" in problems[0]
        assert _work_tree(git_repo) == before  # the loser wrote and restored nothing
    finally:
        go.touch()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert out == "v0.1.1\n"
    assert git_repo.remote_ref("refs/tags/v0.1.1") == git_repo.head()
    assert not (git_repo.work / ".git" / "dojo-release.lock").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_during_commit_leaves_nothing_behind(
    git_repo: GitRepo, tmp_path: Path, sig: signal.Signals
) -> None:
    entered = tmp_path / "entered"
    hook = git_repo.hook("pre-commit", f"touch {entered}; exec sleep 30\n")
    before, base = _work_tree(git_repo), git_repo.head()
    run = _start(git_repo, "--bump", "patch")
    _wait_for(entered)
    os.kill(run.pid, sig)  # the release process alone, as a CI runner or `kill` would
    run.wait(timeout=30)
    err = run.stderr.read() if run.stderr else ""
    assert run.returncode == 130
    assert release_problems(err) == ["release: interrupted: run the same command again to finish"]
    assert "Traceback" not in err
    assert not (git_repo.work / ".git" / "index.lock").exists()  # git was interrupted, not killed
    assert git_repo.head() == base
    assert _work_tree(git_repo) == before  # the release files were put back
    hook.unlink()
    again = git_repo.cli("--bump", "patch")
    assert again.returncode == 0, again.stderr
    assert git_repo.remote_ref("refs/tags/v0.1.1") == git_repo.head()


def test_a_stale_index_lock_is_named_with_the_fix(git_repo: GitRepo) -> None:
    lock = git_repo.work / ".git" / "index.lock"
    lock.write_text("")
    before = _work_tree(git_repo)
    run = git_repo.cli("--bump", "patch")
    assert run.returncode == 1
    problems = release_problems(run.stderr)
    assert len(problems) == 1, run.stderr
    assert f"{lock} exists, left by an interrupted git" in problems[0]
    assert f"rm {lock}" in problems[0]
    assert _work_tree(git_repo) == before
    lock.unlink()
    assert git_repo.cli("--bump", "patch").returncode == 0


def test_a_failing_run_restores_only_its_own_writes(git_repo: GitRepo) -> None:
    # While the run commits, someone edits CHANGELOG.md; then the commit fails.
    git_repo.hook("pre-commit", "echo '- edited meanwhile' >> CHANGELOG.md; exit 1\n")
    pyproject = git_repo.read("pyproject.toml")
    run = git_repo.cli("--bump", "patch")
    assert run.returncode == 1
    problems = release_problems(run.stderr)
    assert len(problems) == 1, run.stderr
    assert "except CHANGELOG.md, changed by someone else meanwhile" in problems[0]
    assert git_repo.read("pyproject.toml") == pyproject  # ours: restored
    assert git_repo.read("CHANGELOG.md").endswith("- edited meanwhile\n")  # theirs: kept
