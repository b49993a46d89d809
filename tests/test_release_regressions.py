"""Regression tests for bugs found by reading `release` (issue 8), each against a real
repository with a bare remote, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import problems, release_in
from tests.support.gitrepo import CHANGELOG, PYPROJECT, GitRepo, make_repo


def _run(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return release_in(repo.work, capsys, *args)


def _commit_bytes(repo: GitRepo, path: str, data: bytes, message: str) -> None:
    target = repo.work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    repo.git("add", "--", path)
    repo.git("commit", "--quiet", "-m", message)
    repo.git("push", "--quiet", "origin", "master")


@pytest.mark.parametrize(
    ("path", "data", "pyproject_extra"),
    [
        # A Latin-1 version module listed in version-files: "é" is byte 0xe9.
        (
            "src/demo/version.py",
            '# Auteur: Andr\u00e9\n__version__ = "0.1.0"\n'.encode("latin-1"),
            'version-files = ["src/demo/version.py"]\n',
        ),
        # A Latin-1 changelog.
        ("CHANGELOG.md", CHANGELOG.replace("frob", "fr\u00e9b").encode("latin-1"), ""),
    ],
    ids=["version-file", "changelog"],
)
def test_a_release_file_that_is_not_utf8_is_a_preflight_problem(
    tmp_path: Path,
    git_env: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    data: bytes,
    pyproject_extra: str,
) -> None:
    repo = make_repo(tmp_path / "latin", pyproject=PYPROJECT + pyproject_extra, name="latin")
    _commit_bytes(repo, path, data, "chore: a file in Latin-1")
    before, head = repo.snapshot(), repo.head()
    for _ in range(2):  # a re-run says the same, and still writes nothing
        code, _out, err = _run(repo, capsys, "--bump", "patch")
        assert code == 1
        assert "Traceback" not in err
        offset = data.index(b"\xe9")
        assert f"release: {path} is not UTF-8 (byte {offset}): save it as UTF-8" in problems(err)
        assert repo.head() == head
        assert {k: v for k, v in repo.snapshot().items() if not k.startswith(".git/")} == {
            k: v for k, v in before.items() if not k.startswith(".git/")
        }
    assert repo.git("status", "--porcelain") == ""


def test_a_published_release_is_done_even_after_a_colleague_pushed(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(git_repo, capsys, "--bump", "patch")
    assert code == 0, err
    released = git_repo.head()
    # A colleague pushes to master; the maintainer has not pulled yet.
    other = git_repo.other_clone()
    git_repo.git("-C", str(other), "pull", "--quiet", "origin", "master")
    git_repo.git("-C", str(other), "commit", "--quiet", "--allow-empty", "-m", "fix: later")
    git_repo.git("-C", str(other), "push", "--quiet", "origin", "master")
    remote_head = git_repo.remote_ref("refs/heads/master")

    code, out, err = _run(git_repo, capsys, "--bump", "patch")
    assert code == 0, err
    assert "step=resume version=v0.1.1 status=done" in err
    assert out == "v0.1.1\n"
    assert not any("git tag -d" in line or "reset" in line for line in problems(err))
    # Nothing moved, locally or on the remote.
    assert git_repo.head() == released
    assert git_repo.local_ref("refs/tags/v0.1.1") == released
    assert git_repo.remote_ref("refs/heads/master") == remote_head
    assert "version = '0.1.1'" in git_repo.read("pyproject.toml")


def test_a_configuration_error_stops_before_any_remote_is_touched(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # remote = "upstream" (which does not exist) plus one invalid key: the run must not fall
    # back to defaults and push to origin.
    pyproject = PYPROJECT + 'remote = "upstream"\nbrnach = "main"\n'
    repo = make_repo(tmp_path / "cfg", pyproject=pyproject, name="cfg")
    remote_before = repo.remote_ref("refs/heads/master")
    # An unpushed release commit, the state --resume would push.
    repo.commit("Release v0.1.1")
    for args in (("--resume",), ("--bump", "patch"), ("--bump", "patch", "--dry-run")):
        code, out, err = _run(repo, capsys, *args)
        assert code == 1, args
        assert out == ""
        assert problems(err) == [
            "release: [tool.release] in pyproject.toml has unknown key(s) brnach: the known "
            "keys are changelog, branch, remote, image, registry, version-files, notes-command, "
            "tag-format, version-source"
        ]
        assert "git ls-remote" not in err
        assert "git push" not in err
        assert repo.remote_ref("refs/heads/master") == remote_before
        assert repo.remote_ref("refs/tags/v0.1.1") is None


def test_a_shallow_clone_is_refused_with_the_fix(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    shallow = git_repo.work.parent / "shallow"
    git_repo.git(
        "clone", "--quiet", "--depth", "1", f"file://{git_repo.remote}", str(shallow),
        cwd=git_repo.work.parent,
    )
    code, _, err = release_in(shallow, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert any("shallow" in p and "git fetch --unshallow origin" in p for p in problems(err))


def test_an_unclosed_fence_hiding_the_previous_release_is_refused(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    text = git_repo.read("CHANGELOG.md").replace(
        "- Crash on empty input\n", "- Crash on empty input\n\n```sh\nrelease --bump patch\n"
    )
    git_repo.commit("docs: an example", {"CHANGELOG.md": text})
    git_repo.git("push", "--quiet", "origin", "master")
    code, out, err = _run(git_repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert out == ""
    assert any("mentions 0.1.0" in p and "unclosed code fence" in p for p in problems(err))


def test_a_changelog_that_is_not_markdown_is_refused(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        tmp_path / "txt", pyproject=PYPROJECT + 'changelog = "CHANGES.txt"\n', name="txt"
    )
    repo.commit("docs: a text changelog", {"CHANGES.txt": "Changes\n=======\n\n0.1.0\n-----\n"})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert out == ""
    assert any("CHANGES.txt is" in p and "not Markdown or reStructuredText" in p
               for p in problems(err))


def test_a_changelog_link_inside_the_repository_is_followed(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "linked", name="linked")
    (repo.work / "docs").mkdir()
    (repo.work / "CHANGELOG.md").rename(repo.work / "docs" / "CHANGES.md")
    (repo.work / "CHANGELOG.md").symlink_to("docs/CHANGES.md")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "docs: the changelog lives in docs/")
    repo.git("push", "--quiet", "origin", "master")
    code, _, err = _run(repo, capsys, "--bump", "patch")
    assert code == 0, err
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [
        "docs/CHANGES.md", "pyproject.toml"
    ]
    assert (repo.work / "CHANGELOG.md").is_symlink()
    assert "## [0.1.1] - 2026-03-04" in repo.read("docs/CHANGES.md")


def test_releases_tagged_in_another_shape_are_pointed_out(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLAlchemy tags 2.1.9 as rel_2_1_9: no tag format reads that, so it looks like a project
    # never released; the run says so instead of silently starting from nothing.
    repo = make_repo(tmp_path / "rel", tag="rel_0_1_0", name="rel")
    code, out, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    assert (
        'warning="no release tag in v{version} for the current version 0.1.0, but 1 other '
        "tag(s) such as rel_0_1_0: if releases are tagged differently, set [tool.release] "
        'tag-format; else this is the first release"'
    ) in err
    assert "previous release: none" in out


@pytest.mark.parametrize("listed", [False, True])
def test_a_maturin_projects_cargo_version_is_pointed_out_until_listed(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], listed: bool
) -> None:
    extra = 'version-files = ["Cargo.toml"]\n' if listed else ""
    pyproject = (
        '[build-system]\nrequires = ["maturin>=1.5"]\nbuild-backend = "maturin"\n\n' + PYPROJECT
        + extra
    )
    repo = make_repo(tmp_path / "rust", pyproject=pyproject, name="rust")
    repo.commit("build: the crate", {"Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\n'})
    repo.git("push", "--quiet", "origin", "master")
    code, out, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    warned = "Cargo.toml holds 0.1.0 too and is not bumped" in err
    assert warned is not listed
    assert ('+version = "0.1.1"' in out) is listed
