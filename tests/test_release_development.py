"""The next version in development on the branch (Pallets' `8.5.0.dev`, zest.releaser's
`3.14.4.dev0`, `3.3.6-dev0`): the release commit holds the final version and is the tagged
one, a back-to-development commit follows, and one atomic push carries both. Real
repositories with a bare remote; the shapes are written here, after real projects'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release.core.development import next_development
from release.core.version import parse
from tests.support.apps import problems, release_in
from tests.support.gitrepo import PYPROJECT, GitRepo, make_repo

HATCH = (
    '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
    '[project]\nname = "demo"\ndynamic = ["version"]\n\n[tool.hatch.version]\n'
    'path = "src/demo/__about__.py"\n\n[tool.release]\nbranch = "master"\n'
)


@pytest.mark.parametrize(
    ("released", "like", "version", "spelled"),
    [
        ("8.5.0", "8.5.0.dev", "8.5.1.dev0", "8.5.1.dev"),
        ("3.3.6", "3.3.6-dev0", "3.3.7.dev0", "3.3.7-dev0"),
        ("3.14.4", "3.14.4.dev0", "3.14.5.dev0", "3.14.5.dev0"),
        ("2.0", "2.0.dev1", "2.0.1.dev0", "2.0.1.dev0"),
        ("1.2.3", None, "1.2.4.dev0", "1.2.4.dev0"),
        ("1!2.0.0", "1!2.0.0.dev3", "1!2.0.1.dev0", "1!2.0.1.dev0"),
    ],
)
def test_the_next_development_version_is_spelled_like_the_last(
    released: str, like: str | None, version: str, spelled: str
) -> None:
    got, text = next_development(parse(released), like)
    assert (str(got), text) == (version, spelled)
    assert parse(text) == got


def _developing(base: Path, files: dict[str, str], name: str = "demo") -> GitRepo:
    """v0.1.0 released and pushed, then the branch went back to development."""
    repo = make_repo(base, name=name)
    repo.commit("Back to development: 0.1.1", files)
    repo.git("push", "--quiet", "origin", "master")
    return repo


SHAPES = {
    "pallets": ({"pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.1.1.dev'")},
                "pyproject.toml", "version = '{}'"),
    "zest": ({"pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.1.1.dev0'")},
             "pyproject.toml", "version = '{}'"),
    "dash": ({"pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.1.1-dev0'")},
             "pyproject.toml", "version = '{}'"),
    "hatch path": ({"pyproject.toml": HATCH,
                    "src/demo/__about__.py": '__version__ = "0.1.1.dev0"\n'},
                   "src/demo/__about__.py", '__version__ = "{}"'),
}
NEXT = {"pallets": "0.1.2.dev", "zest": "0.1.2.dev0", "dash": "0.1.2-dev0",
        "hatch path": "0.1.2.dev0"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_development_version_is_released_then_development_goes_on(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    files, path, line = SHAPES[shape]
    repo = _developing(tmp_path / "p", files)
    before = repo.snapshot()
    # No --bump: a development version is released as its final version.
    code, out, err = release_in(repo.work, capsys, "--dry-run")
    assert code == 0, err
    assert repo.snapshot() == before
    assert "finishing the development version 0.1.1.dev0" in out
    assert f"then: back to development at {NEXT[shape]}" in out
    release_diff, _, follow = out.partition("== back to development: files")
    assert f"+{line.format('0.1.1')}" in release_diff
    assert f"-{line.format('0.1.1')}" in follow
    assert f"+{line.format(NEXT[shape])}" in follow
    assert f"Back to development: {NEXT[shape]}" in follow
    assert "git push --atomic origin master v0.1.1" in follow

    code, out, err = release_in(repo.work, capsys)
    assert code == 0, err
    assert out == "v0.1.1\n"
    # The tag is on the release commit, which holds the final version; HEAD goes on.
    tagged = repo.git("rev-parse", "v0.1.1^{commit}")
    assert repo.git("rev-parse", "HEAD~1") == tagged
    assert repo.git("log", "-1", "--format=%s", tagged) == "Release v0.1.1"
    assert line.format("0.1.1") in repo.git("show", f"{tagged}:{path}")
    assert line.format(NEXT[shape]) in repo.read(path)
    assert repo.git("log", "-1", "--format=%s") == f"Back to development: {NEXT[shape]}"
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [path]
    # One push carried both.
    assert repo.remote_ref("refs/heads/master") == repo.head()
    assert repo.remote_ref("refs/tags/v0.1.1") == tagged
    # The same command again: nothing to do, nothing changes.
    after = repo.snapshot()
    code, out, err = release_in(repo.work, capsys)
    assert code == 0, err
    assert repo.snapshot() == after
    assert "already on origin" in err


def test_next_dev_is_opt_in_on_a_final_version_and_opt_out_on_a_dev_one(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    final = make_repo(tmp_path / "final")
    code, _, err = release_in(final.work, capsys, "--bump", "patch", "--next-dev")
    assert code == 0, err
    assert final.git("log", "-2", "--format=%s").splitlines() == [
        "Back to development: 0.1.2.dev0", "Release v0.1.1"]
    assert "version = '0.1.2.dev0'" in final.read("pyproject.toml")

    dev = _developing(tmp_path / "dev", SHAPES["zest"][0], name="other")
    code, _out, err = release_in(dev.work, capsys, "--no-next-dev")
    assert code == 0, err
    assert dev.git("log", "-1", "--format=%s") == "Release v0.1.1"
    assert dev.remote_ref("refs/tags/v0.1.1") == dev.head()


def test_a_failed_push_is_resumed_with_both_commits(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _developing(tmp_path / "p", SHAPES["pallets"][0])
    hook = repo.hook("pre-receive", "echo 'pushes are frozen today' >&2; exit 1\n", remote=True)
    code, _, err = release_in(repo.work, capsys)
    assert code == 1
    assert "pushes are frozen today" in err
    assert repo.remote_ref("refs/tags/v0.1.1") is None
    hook.unlink()
    head = repo.head()
    code, out, err = release_in(repo.work, capsys, "--resume", "--dry-run")
    assert code == 0, err
    assert "skip develop: the back-to-development commit exists" in out
    code, out, err = release_in(repo.work, capsys, "--resume")
    assert code == 0, err
    assert repo.head() == head
    assert repo.remote_ref("refs/heads/master") == head
    assert repo.remote_ref("refs/tags/v0.1.1") == repo.git("rev-parse", "HEAD~1")


@pytest.mark.parametrize("pallets", [False, True], ids=["keep a changelog", "pallets"])
def test_a_run_stopped_before_going_back_to_development_is_finished_by_resume(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], pallets: bool
) -> None:
    files = dict(SHAPES["zest"][0])
    if pallets:
        files["CHANGELOG.md"] = PALLETS
    repo = _developing(tmp_path / "p", files)
    hook = repo.hook("commit-msg", 'grep -q "^Back to development" "$1" && exit 1\nexit 0\n')
    code, _, err = release_in(repo.work, capsys)
    assert code == 1
    assert "committing the back-to-development commit failed" in problems(err)[0]
    assert "run `release --resume`" in problems(err)[0]
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("log", "-1", "--format=%s") == "Release v0.1.1"
    assert repo.local_ref("refs/tags/v0.1.1") == repo.head()
    assert repo.remote_ref("refs/tags/v0.1.1") is None
    hook.unlink()
    code, _out, err = release_in(repo.work, capsys, "--resume")
    assert code == 0, err
    assert repo.git("log", "-1", "--format=%s") == "Back to development: 0.1.2.dev0"
    assert "version = '0.1.2.dev0'" in repo.read("pyproject.toml")
    assert ("## Version 0.1.2\n\nUnreleased\n" in repo.read("CHANGELOG.md")) is pallets
    assert repo.remote_ref("refs/heads/master") == repo.head()
    assert repo.remote_ref("refs/tags/v0.1.1") == repo.git("rev-parse", "HEAD~1")


@pytest.mark.parametrize(
    ("version", "args", "needle"),
    [
        # below the last release: not the next version
        ("0.0.9.dev0", (), "says version 0.0.9.dev0 but the previous release is v0.1.0"),
        # a final version needs a bump to be named
        ("0.1.0", (), "pass --bump patch|minor|major"),
    ],
)
def test_what_is_not_a_development_version_is_refused(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], version: str,
    args: tuple[str, ...], needle: str,
) -> None:
    repo = _developing(tmp_path / "p",
                       {"pyproject.toml": PYPROJECT.replace("'0.1.0'", f"'{version}'")})
    before = repo.snapshot()
    code, _, err = release_in(repo.work, capsys, "--dry-run", *args)
    assert code in (1, 2)
    assert any(needle in line for line in problems(err)), err
    assert repo.snapshot() == before


PALLETS = """\
# Changes

## Version 0.1.1

Unreleased

- A frobnicator (#12)

## Version 0.1.0

Released 2026-01-01

- First release
"""
ZEST = """\
# Changelog

## 0.1.1 (unreleased)

- A frobnicator (#12)

## 0.1.0 (2026-01-01)

- First release
"""


PALLETS_RST = """\
Version 0.1.1
-------------

Unreleased

-   A frobnicator (#12)


Version 0.1.0
-------------

Released 2026-01-01

-   First release
"""


@pytest.mark.parametrize(
    ("name", "text", "released", "opened"),
    [
        ("CHANGELOG.md", PALLETS, "## Version 0.1.1\n\nReleased 2026-03-04\n",
         "## Version 0.1.2\n\nUnreleased\n\n## Version 0.1.1\n"),
        ("CHANGELOG.md", ZEST, "## 0.1.1 (2026-03-04)\n",
         "## 0.1.2 (unreleased)\n\n## 0.1.1 (2026-03-04)\n"),
        ("CHANGES.rst", PALLETS_RST, "Version 0.1.1\n-------------\n\nReleased 2026-03-04\n",
         "Version 0.1.2\n-------------\n\nUnreleased\n"),
    ],
    ids=["pallets", "zest.releaser", "pallets rst"],
)
def test_going_back_to_development_opens_the_next_section_in_the_files_shape(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str, text: str,
    released: str, opened: str,
) -> None:
    repo = make_repo(tmp_path / "p")
    repo.git("rm", "-q", "CHANGELOG.md")
    repo.commit("Back to development: 0.1.1", {
        "pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.1.1.dev0'"), name: text})
    repo.git("push", "--quiet", "origin", "master")
    code, _, err = release_in(repo.work, capsys)
    assert code == 0, err
    at_tag = repo.git("show", f"v0.1.1:{name}")
    assert released in at_tag
    assert "0.1.2" not in at_tag
    assert opened in repo.read(name)
    assert sorted(repo.git("show", "--name-only", "--format=", "HEAD").split()) == sorted([
        name, "pyproject.toml"])


def _advice(line: str) -> list[str]:
    """The git commands a refusal advises, in order, as written in its backticks."""
    return [part for quoted in re.findall(r"`([^`]+)`", line) for part in quoted.split(" && ")
            if part.startswith("git ")]


def test_the_advice_to_drop_a_two_commit_release_drops_both_commits(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _developing(tmp_path / "p", SHAPES["pallets"][0])
    other = repo.other_clone()
    start = repo.head()
    # Another maintainer pushes while the release is being made: the push is refused.
    hook = repo.hook(
        "pre-commit",
        f"unset GIT_INDEX_FILE GIT_DIR GIT_WORK_TREE GIT_PREFIX\n"
        f"test -e {tmp_path}/pushed || {{ touch {tmp_path}/pushed &&\n"
        f"git -C {other} commit -q --allow-empty -m 'fix: pushed meanwhile' &&\n"
        f"git -C {other} push -q origin master; }}\n",
    )
    code, _, err = release_in(repo.work, capsys)
    assert code == 1
    (line,) = problems(err)
    assert "moved on meanwhile" in line, line
    assert repo.git("rev-parse", "HEAD~2") == start  # the release and back-to-development commits
    hook.unlink()
    # The re-run and other options say the same, and the advice, run as written, drops both.
    for args in ((), ("--version", "9.0.0")):
        code, _, err = release_in(repo.work, capsys, *args)
        assert code == 1
        (again,) = problems(err)
        assert "git reset --keep HEAD~2" in again, again
    commands = _advice(line)
    assert commands[:2] == ["git tag -d v0.1.1", "git reset --keep HEAD~2"], line
    for command in commands[:2]:
        repo.git(*command.split()[1:])
    assert repo.head() == start
    assert repo.git("tag", "--list", "v0.1.1") == ""
