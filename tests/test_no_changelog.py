"""Projects that keep no changelog file (their notes live in GitHub Releases): `release` makes
the notes from the commits, leaving out merges, release-tool commits, changelog upkeep, the
maintainer's own set-up of the release and dependency bots, and keeps them in the annotated tag;
nothing is created in the repository unless `--init-changelog` asks. `extract-notes` and
`publish` read a release's notes back from its annotated tag (fetching it when a CI checkout
left a lightweight one)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from release.core.commit_noise import is_noise
from tests.support.apps import extract_notes_main, problems, release_in
from tests.support.containers import Daemon, Registry, unique_name
from tests.support.gitrepo import GitRepo, make_repo

# The subjects real histories carry besides the changes themselves (this suite's own texts).
NOISE = (
    "Merge pull request #41 from someone/topic",
    "Merge branch 'main' into feature",
    "Release v0.0.9",
    "Bump version: 0.0.8 \u2192 0.0.9",
    "Preparing release 0.0.9",
    "Back to development: 0.1.0",
    "0.0.9 (#40)",
    "Update CHANGELOG.md",
    "docs: update changelog for 0.0.9",
    "Update release notes",
    "Configure release",
    "Add [tool.release] to pyproject.toml",
    "[pre-commit.ci] pre-commit autoupdate",
    "Bump actions/checkout from 4 to 5",
    "Update dependency ruff to v0.9.1",
    "chore(deps): bump urllib3",
)
CHANGES = (
    "Add the --color option (#12)",
    "Fix a crash on empty input",
    "Release the GIL while hashing",
    "Changes to the retry policy",
    "Update the parser for Python 3.14",
    "Add history navigation to the shell",
)


@pytest.mark.parametrize("subject", NOISE)
def test_noise_is_left_out(subject: str) -> None:
    assert is_noise(subject)


@pytest.mark.parametrize("subject", CHANGES)
def test_changes_are_kept(subject: str) -> None:
    assert not is_noise(subject)


def _without_changelog(base: Path, *, pyproject: str | None = None) -> GitRepo:
    """A released project (v0.1.0) whose history holds no changelog file, then a change and
    the noise around it."""
    repo = make_repo(base, extra_commits=())
    repo.git("rm", "-q", "CHANGELOG.md")
    if pyproject is not None:
        repo.write("pyproject.toml", pyproject)
        repo.git("add", "pyproject.toml")
    repo.git("commit", "-q", "--amend", "--no-edit")
    repo.git("tag", "-f", "-a", "-m", "v0.1.0\n\nFirst release", "v0.1.0", "HEAD~1")
    repo.commit("Configure release")
    repo.commit("Add the --color option (#12)", {"src/color.py": "COLOR = True\n"})
    repo.commit("Update release notes")
    repo.commit("[pre-commit.ci] pre-commit autoupdate", {".pre-commit.yaml": "repos: []\n"})
    repo.git("push", "-q", "--force", "origin", "master", "v0.1.0")
    return repo


def _state(repo: GitRepo) -> tuple[str, ...]:
    return (repo.git("rev-parse", "HEAD"), repo.git("status", "--porcelain"),
            repo.git("for-each-ref"), repo.git("--git-dir", str(repo.remote), "for-each-ref"))


def test_release_keeps_the_notes_in_the_tag_and_creates_no_file(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = _without_changelog(tmp_path / "p")
    before = _state(repo)
    code, out, err = release_in(repo.work, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert "- Add the --color option (#12)" in out
    assert _state(repo) == before

    code, out, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 0, err
    assert out == "v0.1.1\n"
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["pyproject.toml"]
    assert not (repo.work / "CHANGELOG.md").exists()
    assert repo.git("cat-file", "-t", "v0.1.1") == "tag"
    message = repo.git("tag", "-l", "--format=%(contents)", "v0.1.1")
    assert "- Add the --color option (#12)" in message
    for noise in ("Configure release", "release notes", "pre-commit"):
        assert noise not in message
    assert repo.remote_ref("refs/tags/v0.1.1") is not None

    # extract-notes reads the release's notes back from its tag, as written.
    monkeypatch.chdir(repo.work)
    assert extract_notes_main(["0.1.1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("### ")
    assert "- Add the --color option (#12)\n" in printed
    assert extract_notes_main(["v0.1.0"]) == 0
    assert capsys.readouterr().out == "First release\n"
    assert extract_notes_main(["0.9.0"]) == 1
    assert "no tag names 0.9.0" in problems(capsys.readouterr().err, "extract-notes")[0]

    # Re-run: nothing new to release, nothing changed.
    released = _state(repo)
    code, _, err = release_in(repo.work, capsys, "--bump", "patch")
    assert _state(repo) == released


def test_only_noise_since_the_release_is_refused(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "p", extra_commits=())
    repo.git("rm", "-q", "CHANGELOG.md")
    repo.git("commit", "-q", "--amend", "--no-edit")
    repo.commit("Merge branch 'main' into dev")
    repo.commit("Update CHANGELOG.md")
    repo.git("push", "-q", "--force", "origin", "master")
    before = _state(repo)
    code, _, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 1
    assert problems(err)[0].startswith(
        "release: no release notes: the project keeps no changelog and no commit since v0.1.0"
    )
    assert _state(repo) == before


def test_init_changelog_starts_one_with_this_release(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _without_changelog(tmp_path / "p")
    before = _state(repo)
    code, out, err = release_in(repo.work, capsys, "--bump", "patch", "--init-changelog",
                                "--dry-run")
    assert code == 0, err
    assert "+## [0.1.1] - 2026-03-04" in out
    assert _state(repo) == before
    code, _, err = release_in(repo.work, capsys, "--bump", "patch", "--init-changelog")
    assert code == 0, err
    assert sorted(repo.git("show", "--name-only", "--format=", "HEAD").split()) == [
        "CHANGELOG.md", "pyproject.toml"]
    text = repo.read("CHANGELOG.md")
    assert text.startswith("# Changelog\n")
    assert text.index("## [Unreleased]") < text.index("## [0.1.1] - 2026-03-04")
    assert "- Add the --color option (#12)" in text
    # Once kept, the changelog is the changelog: asking again is refused.
    repo.commit("Fix a crash on empty input", {"src/fix.py": "FIXED = True\n"})
    repo.git("push", "-q", "origin", "master")
    before = _state(repo)
    code, _, err = release_in(repo.work, capsys, "--bump", "patch", "--init-changelog")
    assert code == 1
    assert "--init-changelog: CHANGELOG.md exists already" in err
    assert _state(repo) == before


VCS = """\
[project]
name = "demo"
dynamic = ["version"]

[tool.hatch.version]
source = "vcs"
"""


def test_a_vcs_versioned_project_gets_an_empty_release_commit_and_its_tag(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _without_changelog(tmp_path / "p", pyproject=VCS)
    head = repo.head()
    code, out, err = release_in(repo.work, capsys, "--bump", "minor")
    assert code == 0, err
    assert out == "v0.2.0\n"
    assert repo.git("rev-parse", "HEAD~1") == head
    assert repo.git("show", "--name-only", "--format=", "HEAD") == ""
    assert "Add the --color option" in repo.git("tag", "-l", "--format=%(contents)", "v0.2.0")
    assert repo.remote_ref("refs/tags/v0.2.0") is not None


@pytest.mark.docker
def test_publish_takes_the_release_notes_from_the_annotated_tag(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    git_env: Path,
) -> None:
    from tests.test_publish import actions_env, archive, github_env, local_argv, publish

    upstream = _without_changelog(tmp_path / "p")
    code, _, err = release_in(upstream.work, capsys, "--bump", "patch")
    assert code == 0, err
    # The CI checkout: the tag's commit, with the tag lightweight (as actions/checkout leaves
    # it), and the remote holding the annotated one.
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(upstream.remote), str(ci)], check=True)
    subprocess.run(["git", "-C", str(ci), "tag", "v0.1.1", upstream.head()], check=True)
    image = archive(tmp_path, unique_name("rel"), version="0.1.1")
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=upstream.head(), ref_type="tag", ref_name="v0.1.1",
                repository=github_api.repository)
    github_env(monkeypatch, github_api)
    github_api.set_ref("tags/v0.1.1", upstream.head(), annotated=True)  # as pushed by `release`
    code, _, err = publish(local_argv(image, oci_registry, repo), capsys, ci, monkeypatch)
    assert code == 0, err
    [created] = github_api.releases
    assert "- Add the --color option (#12)" in created["body"]
    assert "v0.1.1\n" not in created["body"]
    assert not (ci / "CHANGELOG.md").exists()


def test_resume_rebuilds_the_tag_notes_from_the_commits(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _without_changelog(tmp_path / "p")
    hook = repo.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    code, _, err = release_in(repo.work, capsys, "--bump", "patch")
    assert code == 1, err  # the push was refused: commit and tag stay local
    repo.git("tag", "-d", "v0.1.1")  # as if the run had stopped before tagging
    hook.unlink()
    code, out, err = release_in(repo.work, capsys, "--resume")
    assert code == 0, err
    assert out == "v0.1.1\n"
    message = repo.git("tag", "-l", "--format=%(contents)", "v0.1.1")
    assert "- Add the --color option (#12)" in message
    assert "Release v0.1.1" not in message
    assert repo.remote_ref("refs/tags/v0.1.1") is not None
