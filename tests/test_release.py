"""`release` end to end, on real temporary repositories with a bare remote.

The fault matrix makes git itself fail or stop at the right point: a remote `pre-receive` or
`update` hook that rejects, another clone pushing while the release runs, and hooks that SIGKILL
the running `release` process at each boundary between its steps (files written, committed,
tagged, pushed). No test seam exists in the production code; the kill is a real one (no
cleanup code can run), the way a closed terminal or a power cut would stop it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from release.apps.extract_notes import main as extract_notes
from release.apps.release.cli import main
from release.core import changelog
from tests.support.gitrepo import (
    CHANGELOG,
    PYPROJECT,
    WEB_URL,
    GitRepo,
    make_repo,
    release_argv,
    release_env,
)
from tests.support.tools import require_tool

EMPTY_UNRELEASED = re.sub(
    r"## \[Unreleased\]\n.*?(?=## \[0\.1\.0\])", "## [Unreleased]\n\n", CHANGELOG, flags=re.DOTALL
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def problems(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("release: ")]

    def steps(self, name: str) -> list[dict[str, str]]:
        found = []
        for line in self.err.splitlines():
            if line.startswith(f"step={name} "):
                found.append(dict(part.split("=", 1) for part in shlex.split(line)))
        return found

    @property
    def step_names(self) -> list[str]:
        return [
            line.split()[0].removeprefix("step=")
            for line in self.err.splitlines()
            if line.startswith("step=") and not line.startswith("step=exec ")
        ]


Release = Callable[..., Run]


@pytest.fixture
def release(git_repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> Release:
    """Run `release ARGS` in-process against `git_repo` (or the repo given as `repo=`)."""

    def run(*args: str, repo: GitRepo | None = None) -> Run:
        code = main(["-C", str((repo or git_repo).work), *args])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def refs(repo: GitRepo) -> str:
    return (
        repo.git("for-each-ref", "--format=%(refname) %(objectname)")
        + "\n"
        + repo.git(
            "--git-dir", str(repo.remote), "for-each-ref", "--format=%(refname) %(objectname)"
        )
    )


def tree(repo: GitRepo) -> dict[str, bytes]:
    """Work tree files and the index (not .git internals that fetch may legitimately touch)."""
    snap = repo.snapshot()
    return {k: v for k, v in snap.items() if not k.startswith(".git/") or k == ".git/index"}


def assert_released(repo: GitRepo, base: str, version: str = "0.1.1") -> None:
    """One release commit on top of `base`, tagged, pushed with the branch, tree clean."""
    head = repo.head()
    assert repo.git("rev-parse", "HEAD^") == base
    assert repo.git("log", "-1", "--format=%s") == f"Release v{version}"
    assert repo.local_ref(f"refs/tags/v{version}") == head
    assert repo.git("cat-file", "-t", f"v{version}") == "tag"  # annotated
    assert repo.remote_ref("refs/heads/master") == head
    assert repo.remote_ref(f"refs/tags/v{version}") == head
    assert repo.git("status", "--porcelain") == ""
    assert f"version = '{version}'" in repo.read("pyproject.toml")


# --- the happy path -------------------------------------------------------------------------


def test_release_cuts_commits_tags_and_pushes(
    git_repo: GitRepo, release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git_repo.head()
    before_pyproject = git_repo.read("pyproject.toml")
    before_changelog = git_repo.read("CHANGELOG.md")
    unreleased = changelog.parse(before_changelog).unreleased
    assert unreleased is not None

    run = release("--bump", "patch")

    assert run.code == 0, run.err
    assert run.out == "v0.1.1\n"
    assert_released(git_repo, base)
    # Only the version line of pyproject.toml changed.
    diff = [
        (a, b)
        for a, b in zip(
            before_pyproject.splitlines(), git_repo.read("pyproject.toml").splitlines(), strict=True
        )
        if a != b
    ]
    assert diff == [
        ("version = '0.1.0'  # bumped by `release`", "version = '0.1.1'  # bumped by `release`")
    ]
    # The commit holds exactly the files release changed, with the user's identity.
    assert git_repo.git("show", "--format=", "--name-only", "HEAD").split() == [
        "CHANGELOG.md",
        "pyproject.toml",
    ]
    assert git_repo.git("log", "-1", "--format=%an <%ae>") == "Ada Maintainer <ada@example.org>"
    body = git_repo.git("log", "-1", "--format=%b")
    assert "adds 1 feature and fixes 1 bug" in " ".join(body.split())
    # The changelog rolled forward: new dated section, empty [Unreleased], compare links.
    text = git_repo.read("CHANGELOG.md")
    assert "## [0.1.1] - 2026-03-04" in text
    parsed = changelog.parse(text)
    assert parsed.unreleased is not None
    assert parsed.unreleased.body.strip() == ""
    held = changelog.notes(changelog.parse(before_changelog), unreleased)
    assert changelog.extract(text, "0.1.1").body == held
    # ...and `extract-notes v0.1.1` prints exactly that.
    capsys.readouterr()
    assert extract_notes(["--changelog", str(git_repo.work / "CHANGELOG.md"), "v0.1.1"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == held
    assert f"[unreleased]: {WEB_URL}/compare/v0.1.1...HEAD" in text
    assert f"[0.1.1]: {WEB_URL}/compare/v0.1.0...v0.1.1" in text
    # The tag message is the version and the notes.
    tag_body = git_repo.git("tag", "-l", "--format=%(contents)", "v0.1.1")
    assert tag_body.startswith("v0.1.1\n\n### Added\n\n- A frobnicator (#12)")
    # One logfmt line per step, in order.
    names = run.step_names
    for earlier, later in [
        ("preflight", "notes"),
        ("notes", "version"),
        ("version", "changelog"),
        ("changelog", "commit"),
        ("commit", "tag"),
        ("tag", "push"),
    ]:
        assert names.index(earlier) < names.index(later)
    assert run.steps("preflight")[0]["branch"] == "master"
    assert run.steps("version")[0] == {
        "step": "version",
        "old": "0.1.0",
        "new": "0.1.1",
        "why": "patch bump of 0.1.0",
        "tag": "v0.1.1",
        "source": "[project] version",
    }
    assert run.steps("notes")[0]["source"] == "unreleased"
    assert run.steps("tag")[0]["name"] == "v0.1.1"
    assert run.steps("push")[0]["status"] == "ok"
    assert ["git", "push", "--atomic", "origin", "master", "v0.1.1"] in [
        shlex.split(s["cmd"]) for s in run.steps("exec")
    ]
    before_unchanged = before_changelog.split("## [0.1.0]")[1]
    assert (
        text.split("## [0.1.0]")[1].split("[unreleased]")[0]
        == before_unchanged.split("[unreleased]")[0]
    )


def test_identity_comes_from_the_users_git_config(
    git_repo: GitRepo, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    git_repo.git("config", "--global", "user.name", "Grace Hopper")
    git_repo.git("config", "--global", "user.email", "grace@example.org")
    run = release("--bump", "minor")
    assert run.code == 0, run.err
    assert (
        git_repo.git("log", "-1", "--format=%an <%ae>|%cn")
        == "Grace Hopper <grace@example.org>|Grace Hopper"
    )
    assert git_repo.git("tag", "-l", "--format=%(taggername)", "v0.2.0") == "Grace Hopper"


def test_dry_run_prints_the_plan_and_writes_nothing(git_repo: GitRepo, release: Release) -> None:
    before = git_repo.snapshot()  # every byte of the work tree and .git
    remote_before = refs(git_repo)

    run = release("--bump", "minor", "--dry-run")

    assert run.code == 0, run.err
    assert git_repo.snapshot() == before
    assert refs(git_repo) == remote_before
    out = run.out
    assert "--- a/pyproject.toml\n+++ b/pyproject.toml" in out
    assert (
        "-version = '0.1.0'  # bumped by `release`\n+version = '0.2.0'  # bumped by `release`"
        in out
    )
    assert "--- a/CHANGELOG.md\n+++ b/CHANGELOG.md" in out
    assert "+## [0.2.0] - 2026-03-04" in out
    assert "Release v0.2.0\n\n" in out
    assert "== tag v0.2.0, annotated ==\nv0.2.0\n\n### Added" in out
    assert "== notes (source: unreleased" in out
    assert "git push --atomic origin master v0.2.0" in out
    assert run.steps("dry-run")[0]["written"] == "nothing"
    # A dry run does not fetch (that writes refs): it asks the remote read-only.
    cmds = [s["cmd"] for s in run.steps("exec")]
    assert not any(c.startswith("git fetch") for c in cmds)
    assert any(c.startswith("git ls-remote origin") for c in cmds)


def test_version_files_are_bumped_too(tmp_path: Path, git_env: Path, release: Release) -> None:
    pyproject = PYPROJECT + 'version-files = ["src/demo/__init__.py"]\n'
    repo = make_repo(tmp_path / "vf", pyproject=pyproject, name="vf")
    repo.commit("chore: version module", {"src/demo/__init__.py": '__version__ = "0.1.0"\n'})
    repo.git("push", "--quiet", "origin", "master")
    run = release("--bump", "patch", repo=repo)
    assert run.code == 0, run.err
    assert repo.read("src/demo/__init__.py") == '__version__ = "0.1.1"\n'
    assert sorted(repo.git("show", "--format=", "--name-only", "HEAD").split()) == [
        "CHANGELOG.md",
        "pyproject.toml",
        "src/demo/__init__.py",
    ]


def test_ahead_is_allowed_and_reported(git_repo: GitRepo, release: Release) -> None:
    git_repo.commit("fix: unpushed local fix")
    base = git_repo.head()
    run = release("--bump", "patch")
    assert run.code == 0, run.err
    assert run.steps("preflight")[-1]["ahead"] == "1"
    assert_released(git_repo, base)


def test_no_fetch_skips_the_remote_with_a_warning(git_repo: GitRepo, release: Release) -> None:
    run = release("--bump", "patch", "--dry-run", "--no-fetch")
    assert run.code == 0, run.err
    assert "--no-fetch" in run.steps("fetch")[0]["warning"]
    assert not any(s["cmd"].startswith(("git fetch", "git ls-remote")) for s in run.steps("exec"))


def test_tags_that_are_not_versions_are_ignored_with_a_note(
    git_repo: GitRepo, release: Release
) -> None:
    git_repo.git("tag", "vnext")
    git_repo.git("tag", "v2")
    run = release("--bump", "patch", "--dry-run")
    assert run.code == 0, run.err
    notes = [s["note"] for s in run.steps("preflight") if "note" in s]
    assert notes
    assert "v2" in notes[0]
    assert "vnext" in notes[0]
    assert "0.1.0 -> 0.1.1" in run.out


# --- notes sources --------------------------------------------------------------------------


def test_notes_file_becomes_the_section_and_the_tag(
    tmp_path: Path, git_env: Path, release: Release
) -> None:
    empty = CHANGELOG.replace(
        "### Added\n\n- A frobnicator (#12)\n\n### Fixed\n\n- Crash on empty input\n\n", ""
    )
    git_repo = make_repo(tmp_path / "notes", changelog=empty, name="notes")
    notes_file = tmp_path / "notes.md"
    notes_file.write_text("### Changed\n\n- Hand-written note (#40)\n")
    run = release("--bump", "patch", "--notes-file", str(notes_file), repo=git_repo)
    assert run.code == 0, run.err
    (chosen,) = run.steps("notes")
    assert chosen["source"] == "file"
    text = git_repo.read("CHANGELOG.md")
    assert (
        changelog.extract(text, "0.1.1").body.strip() == "### Changed\n\n- Hand-written note (#40)"
    )
    assert "Hand-written note (#40)" in git_repo.git("tag", "-l", "--format=%(contents)", "v0.1.1")


def test_commits_are_the_fallback_notes(tmp_path: Path, git_env: Path, release: Release) -> None:
    repo = make_repo(
        tmp_path / "c",
        changelog=EMPTY_UNRELEASED,
        name="c",
        extra_commits=(
            "feat: widgets (#21)",
            "chore: tidy",
            "feat(api)!: drop the v1 API (#22)",
            "fix: off by one (#23)",
        ),
    )
    repo.git("checkout", "--quiet", "-b", "topic", "HEAD~2")
    repo.commit("fix: on a branch (#24)")
    repo.git("checkout", "--quiet", "master")
    repo.git("merge", "--quiet", "--no-ff", "-m", "Merge branch 'topic'", "topic")
    repo.git("push", "--quiet", "origin", "master")
    run = release("--bump", "major", repo=repo)
    assert run.code == 0, run.err
    assert run.steps("notes")[0]["source"] == "commits"
    body = changelog.extract(repo.read("CHANGELOG.md"), "1.0.0").body
    assert body.strip() == (
        "### Breaking\n\n- **api:** drop the v1 API (#22)\n\n"
        "### Added\n\n- widgets (#21)\n\n"
        "### Fixed\n\n- on a branch (#24)\n- off by one (#23)"
    ) or body.strip() == (
        "### Breaking\n\n- **api:** drop the v1 API (#22)\n\n"
        "### Added\n\n- widgets (#21)\n\n"
        "### Fixed\n\n- off by one (#23)\n- on a branch (#24)"
    )
    message = " ".join(repo.git("log", "-1", "--format=%b").split())
    assert "breaks compatibility in 1 place (api: drop the v1 API (#22))" in message


def fake_llm(bin_dir: Path, name: str, behaviour: str) -> Path:
    """An executable `name` on PATH that records its argv and stdin, then behaves as told."""
    bin_dir.mkdir(exist_ok=True)
    record = bin_dir / f"{name}.record"
    actions = {
        "good": "printf '### Added\\n\\n- Written by the model (#99)\\n'",
        "garbage": "printf '# Release notes\\n\\n\\033[31mSure! Here you go\\n'",
        "timeout": "exec sleep 30",
        "fail": "echo 'quota exceeded' >&2; exit 3",
    }
    script = bin_dir / name
    script.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        printf '%s\\n' "$@" > {record}.argv
        cat > {record}.stdin
        {actions[behaviour]}
        """)
    )
    script.chmod(0o755)
    return record


@pytest.fixture
def llm_repo(tmp_path: Path, git_env: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return make_repo(tmp_path / "llm", changelog=EMPTY_UNRELEASED, name="llm")


@pytest.mark.parametrize("tool", ["codex", "gemini"])
def test_llm_notes_when_opted_in(
    llm_repo: GitRepo, release: Release, tool: str, tmp_path: Path
) -> None:
    record = fake_llm(tmp_path / "bin", tool, "good")
    run = release("--bump", "patch", "--notes-llm", tool, repo=llm_repo)
    assert run.code == 0, run.err
    assert run.steps("notes")[0] == {"step": "notes", "source": "llm", "detail": tool}
    assert changelog.extract(llm_repo.read("CHANGELOG.md"), "0.1.1").body.strip() == (
        "### Added\n\n- Written by the model (#99)"
    )
    argv = Path(f"{record}.argv").read_text().splitlines()
    stdin = Path(f"{record}.stdin").read_text()
    if tool == "codex":
        assert argv == ["exec", "--sandbox", "read-only", "-"]
        assert "release notes" in stdin.lower()
    else:
        assert argv[0] == "-p"
        assert "release notes" in argv[1].lower()
    assert "feat: a frobnicator (#12)" in stdin
    assert "fix: crash on empty input" in stdin


def test_notes_command_from_pyproject(
    tmp_path: Path, git_env: Path, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    record = fake_llm(tmp_path / "bin", "my-llm", "good")
    repo = make_repo(
        tmp_path / "nc",
        changelog=EMPTY_UNRELEASED,
        name="nc",
        pyproject=PYPROJECT + "notes-command = \"my-llm --model 'small one'\"\n",
    )
    # A dry run runs no program the repository names: it says what a real run would ask.
    dry = release("--bump", "patch", "--dry-run", repo=repo)
    assert dry.code == 0, dry.err
    assert dry.steps("notes")[0]["source"] == "commits"
    assert "my-llm --model 'small one'" in dry.steps("notes")[0]["detail"]
    assert not Path(f"{record}.argv").exists()
    run = release("--bump", "patch", repo=repo)
    assert run.code == 0, run.err
    assert run.steps("notes")[0]["source"] == "llm"
    assert Path(f"{record}.argv").read_text().splitlines() == ["--model", "small one"]
    assert "- Written by the model (#99)" in repo.read("CHANGELOG.md")


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("garbage", "top-level heading|control characters"),
        ("timeout", "timed out"),
        ("fail", "exit code 3"),
    ],
)
def test_unusable_llm_output_falls_back_to_commits(
    llm_repo: GitRepo, release: Release, tmp_path: Path, behaviour: str, reason: str
) -> None:
    fake_llm(tmp_path / "bin", "codex", behaviour)
    before = llm_repo.snapshot()
    run = release(
        "--bump", "patch", "--dry-run", "--notes-llm", "codex", "--llm-timeout", "1", repo=llm_repo
    )
    assert run.code == 0, run.err
    rejected, chosen = run.steps("notes")
    assert rejected["status"] == "rejected"
    assert re.search(reason, rejected["reason"])
    assert chosen["source"] == "commits"
    assert "- a frobnicator (#12)" in run.out
    assert "Written by the model" not in run.out
    assert llm_repo.snapshot() == before


# --- bad input: one line, exit 1 (2 for usage), nothing changed ----------------------------


def _break(repo: GitRepo, how: str, tmp_path: Path) -> list[str]:
    """Put `repo` in the state `how` names; returns extra CLI arguments."""
    if how == "not a repository":
        (tmp_path / "plain").mkdir()
        return ["-C", str(tmp_path / "plain")]
    if how == "no pyproject":
        repo.git("rm", "--quiet", "pyproject.toml")
        repo.commit("chore: drop pyproject")
    elif how == "dynamic version":
        repo.commit(
            "chore: dynamic",
            {
                "pyproject.toml": PYPROJECT.replace(
                    "version = '0.1.0'  # bumped by `release`", 'dynamic = ["version"]'
                )
            },
        )
    elif how == "version not pep 440":
        repo.commit("chore: bad", {"pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.1.x'")})
    elif how in ("no unreleased", "empty notes"):  # and no commit since the previous release
        text = CHANGELOG.replace("## [Unreleased]", "") if how == "no unreleased" else (
            EMPTY_UNRELEASED
        )
        repo.commit("docs: x", {"CHANGELOG.md": text})
        repo.git("tag", "-d", "v0.1.0")
        repo.git("tag", "-a", "-m", "v0.1.0", "v0.1.0")
        repo.git("push", "--quiet", "--force", "origin", "v0.1.0")
        repo.commit("chore: only housekeeping since the tag")
    elif how == "notes file missing":
        return ["--notes-file", str(tmp_path / "nope.md")]
    elif how == "notes file empty":
        (tmp_path / "empty.md").write_text("\n  \n")
        return ["--notes-file", str(tmp_path / "empty.md")]
    elif how == "detached head":
        repo.git("checkout", "--quiet", "--detach", "HEAD")
    elif how == "no remote":
        repo.git("remote", "remove", "origin")
    elif how == "tag exists locally":
        elsewhere = repo.git("commit-tree", "HEAD^{tree}", "-m", "not on master")
        repo.git("tag", "v0.1.1", elsewhere)
    elif how == "release file edited":
        repo.write("CHANGELOG.md", repo.read("CHANGELOG.md") + "\n- an uncommitted note\n")
        return []
    elif how == "behind":
        other = repo.other_clone()
        repo.git("commit", "--allow-empty", "-q", "-m", "fix: theirs", cwd=other)
        repo.git("push", "-q", "origin", "master", cwd=other)
    repo.git("push", "--quiet", "origin", "master", check=False)
    return []


@pytest.mark.parametrize(
    ("how", "needle"),
    [
        ("not a repository", "not inside a git repository"),
        ("no pyproject", "no pyproject.toml"),
        ("dynamic version", "project.version is dynamic"),
        ("version not pep 440", "not a PEP 440 version"),
        ("no unreleased", "no release notes: [Unreleased] is not in CHANGELOG.md"),
        ("empty notes", "no release notes"),
        ("notes file missing", "no such file"),
        ("notes file empty", "is empty"),
        ("detached head", "HEAD is detached"),
        ("no remote", "no remote 'origin'"),
        ("tag exists locally", "tag v0.1.1 already exists locally"),
        ("behind", "behind origin/master"),
        ("release file edited", "not clean (CHANGELOG.md)"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    git_repo: GitRepo, release: Release, tmp_path: Path, how: str, needle: str
) -> None:
    extra = _break(git_repo, how, tmp_path)
    before, remote_before = tree(git_repo), refs(git_repo)
    run = release("--bump", "patch", *extra)
    assert run.code == 1, run.err
    assert len(run.problems) == 1, run.err
    assert needle in run.problems[0]
    assert run.out == ""
    assert tree(git_repo) == before
    assert [r for r in refs(git_repo).splitlines() if "refs/remotes/" not in r] == [
        r for r in remote_before.splitlines() if "refs/remotes/" not in r
    ]


def test_invalid_bump_is_a_usage_error(git_repo: GitRepo, release: Release) -> None:
    run = release("--bump", "huge")
    assert run.code == 2
    assert len(run.problems) == 1
    assert "--bump" in run.problems[0]
    assert release().code == 2


def test_preflight_reports_every_problem_at_once(
    git_repo: GitRepo, release: Release, tmp_path: Path
) -> None:
    other = git_repo.other_clone()
    git_repo.git("commit", "--allow-empty", "-q", "-m", "fix: theirs", cwd=other)
    git_repo.git("tag", "v0.2.1", cwd=other)
    git_repo.git("push", "-q", "origin", "master", "v0.2.1", cwd=other)
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.commit(
        "chore: wrong version, a missing version file",
        {
            "pyproject.toml": PYPROJECT.replace("'0.1.0'", "'0.2.0'")
            + 'version-files = ["VERSION"]\n',
            "CHANGELOG.md": CHANGELOG.replace("## [Unreleased]", ""),
        },
    )
    git_repo.write("src/file0.txt", "modified\n")
    git_repo.write("scratch.txt", "untracked\n")
    git_repo.write("build/ignored.o", "ignored by .gitignore\n")
    before, before_refs = tree(git_repo), git_repo.git("for-each-ref")

    run = release("--bump", "patch", "--notes-file", str(tmp_path / "missing.md"))

    assert run.code == 1
    joined = "\n".join(run.problems)
    for needle in [
        "not the release branch 'master'",
        "not clean (scratch.txt, src/file0.txt)",
        "says version 0.2.0 but the previous release is v0.1.0",
        "master is 1 commit(s) behind origin/master",  # the release branch itself
        "tag v0.2.1 already exists on origin",
        "VERSION is not committed",
        "no such file",
    ]:
        assert needle in joined, joined
    assert "build/ignored.o" not in joined
    assert len(run.problems) == 7
    assert tree(git_repo) == before
    assert [r for r in git_repo.git("for-each-ref").splitlines() if "refs/remotes" not in r] == [
        r for r in before_refs.splitlines() if "refs/remotes" not in r
    ]
    assert run.steps("commit") == []
    assert git_repo.local_ref("refs/tags/v0.2.1") is None


# --- signing --------------------------------------------------------------------------------


def _ssh_signing(repo: GitRepo, key: Path) -> None:
    repo.git("config", "--global", "gpg.format", "ssh")
    repo.git("config", "--global", "user.signingkey", str(key))
    repo.git("config", "--global", "commit.gpgsign", "true")
    repo.git("config", "--global", "tag.gpgsign", "true")


def test_signing_config_is_honoured(git_repo: GitRepo, release: Release) -> None:
    require_tool("ssh-keygen")
    key = git_repo.home / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada", "-f", str(key)], check=True
    )
    _ssh_signing(git_repo, Path(f"{key}.pub"))
    allowed = git_repo.home / "allowed_signers"
    allowed.write_text(f"ada@example.org {Path(f'{key}.pub').read_text()}")
    git_repo.git("config", "--global", "gpg.ssh.allowedSignersFile", str(allowed))
    base = git_repo.head()
    run = release("--bump", "patch")
    assert run.code == 0, run.err
    assert_released(git_repo, base)
    assert run.steps("commit")[0]["signed"] == "true"
    assert run.steps("tag")[0]["signed"] == "true"
    git_repo.git("verify-commit", "HEAD")
    git_repo.git("verify-tag", "v0.1.1")


def test_signing_that_fails_stops_cleanly(git_repo: GitRepo, release: Release) -> None:
    _ssh_signing(git_repo, git_repo.home / "no-such-key.pub")
    base, before = git_repo.head(), tree(git_repo)
    run = release("--bump", "patch")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "commit.gpgsign is set" in run.problems[0]
    assert "files were restored" in run.problems[0]
    assert git_repo.head() == base
    assert tree(git_repo) == before
    assert git_repo.local_ref("refs/tags/v0.1.1") is None
    git_repo.git("config", "--global", "--unset", "commit.gpgsign")
    git_repo.git("config", "--global", "--unset", "tag.gpgsign")
    assert release("--bump", "patch").code == 0
    assert_released(git_repo, base)


# --- the fault matrix -----------------------------------------------------------------------


def test_commit_failure_restores_the_files(git_repo: GitRepo, release: Release) -> None:
    hook = git_repo.hook("pre-commit", "echo 'lint failed' >&2; exit 1\n")
    base, before = git_repo.head(), tree(git_repo)
    run = release("--bump", "patch")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "committing the release failed" in run.problems[0]
    assert "files were restored" in run.problems[0]
    assert tree(git_repo) == before
    assert git_repo.head() == base
    hook.unlink()
    assert release("--bump", "patch").code == 0
    assert_released(git_repo, base)


def test_rejected_push_keeps_commit_and_tag_and_the_rerun_finishes(
    git_repo: GitRepo, release: Release
) -> None:
    hook = git_repo.hook("pre-receive", "echo 'pushes are frozen today' >&2; exit 1\n", remote=True)
    base, remote_before = git_repo.head(), refs(git_repo).split("\n")[-1]
    run = release("--bump", "patch")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "origin refused the push" in run.problems[0]
    # The remote's own reason is kept (GitHub's protected-branch text comes the same way).
    assert "pushes are frozen today" in run.problems[0]
    assert "release --resume" in run.problems[0]
    assert "nothing was pushed" in run.problems[0]
    # Nothing half-pushed; the release commit and its tag stay local.
    assert git_repo.remote_ref("refs/heads/master") == base
    assert git_repo.remote_ref("refs/tags/v0.1.1") is None
    assert git_repo.local_ref("refs/tags/v0.1.1") == git_repo.head()
    assert refs(git_repo).split("\n")[-1] == remote_before
    hook.unlink()
    # The same command again recognises the unpushed release and only pushes it.
    again = release("--bump", "patch")
    assert again.code == 0, again.err
    assert again.steps("resume")[0]["version"] == "v0.1.1"
    assert [s["status"] for s in again.steps("commit")] == ["skipped"]
    assert_released(git_repo, base)
    assert git_repo.local_ref("refs/tags/v0.1.2") is None
    # And once more: nothing left to do.
    done = release("--resume")
    assert done.code == 0
    assert done.steps("resume")[0]["status"] == "done"


def test_push_is_atomic_when_only_the_tag_is_refused(git_repo: GitRepo, release: Release) -> None:
    # An `update` hook runs per ref: the branch would pass, the tag is refused.
    git_repo.hook(
        "update", 'case "$1" in refs/tags/*) echo "no tags" >&2; exit 1;; esac\n', remote=True
    )
    base = git_repo.head()
    run = release("--bump", "patch")
    assert run.code == 1
    assert git_repo.remote_ref("refs/heads/master") == base  # the branch did not move alone
    assert git_repo.remote_ref("refs/tags/v0.1.1") is None
    (git_repo.remote / "hooks" / "update").unlink()
    assert release("--resume").code == 0
    assert_released(git_repo, base)


def test_remote_that_moved_on_meanwhile(git_repo: GitRepo, release: Release) -> None:
    other = git_repo.other_clone()
    # While release commits, another maintainer pushes to master (hooks run mid-release).
    hook = git_repo.hook(
        "pre-commit",
        f"""\
        unset GIT_INDEX_FILE GIT_DIR GIT_WORK_TREE GIT_PREFIX
        git -C {other} commit -q --allow-empty -m 'fix: pushed meanwhile' &&
        git -C {other} push -q origin master
        """,
    )
    base = git_repo.head()
    run = release("--bump", "patch")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "moved on meanwhile" in run.problems[0], run.problems
    assert git_repo.remote_ref("refs/tags/v0.1.1") is None
    theirs = git_repo.remote_ref("refs/heads/master")
    assert theirs not in (base, git_repo.head())
    hook.unlink()
    # A re-run refuses too (clear message), then the advice in the message works.
    again = release("--bump", "patch")
    assert again.code == 1
    assert "moved on since the release commit" in again.problems[0]
    git_repo.git("tag", "-d", "v0.1.1")
    git_repo.git("reset", "-q", "--keep", "HEAD~1")
    git_repo.git("pull", "-q", "--ff-only", "origin", "master")
    final = release("--bump", "patch")
    assert final.code == 0, final.err
    assert_released(git_repo, theirs or "")


def test_tag_already_on_the_remote(git_repo: GitRepo, release: Release) -> None:
    other = git_repo.other_clone()
    git_repo.git("tag", "v0.1.1", "HEAD~1", cwd=other)
    git_repo.git("push", "-q", "origin", "v0.1.1", cwd=other)
    base, before = git_repo.head(), tree(git_repo)
    run = release("--bump", "patch")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "tag v0.1.1 already exists on origin" in run.problems[0]
    assert tree(git_repo) == before
    assert git_repo.head() == base
    # The advice in the message (delete the wrong remote tag) leads to a release that completes.
    git_repo.git("push", "-q", "origin", ":refs/tags/v0.1.1")
    assert release("--bump", "patch").code == 0
    assert_released(git_repo, base)


def _wait_for_group(pgid: int, timeout: float = 20.0) -> None:
    """Wait until no live process of the killed run's process group remains (git may still be
    finishing a command whose parent was killed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                alive = True
                break
        if not alive:
            return
        time.sleep(0.05)


KILL_POINTS = [
    # (hook, in the remote?, the state the kill leaves)
    ("pre-commit", False, "files written, not committed"),
    ("post-commit", False, "committed, not tagged"),
    ("pre-push", False, "tagged, not pushed"),
    ("post-receive", True, "pushed"),
]


@pytest.mark.parametrize(("hook", "remote", "state"), KILL_POINTS, ids=[k[2] for k in KILL_POINTS])
def test_interrupted_run_is_consistent_and_the_rerun_completes(
    git_repo: GitRepo, release: Release, hook: str, remote: bool, state: str
) -> None:
    pidfile = git_repo.work.parent / "release.pid"
    # The hook SIGKILLs the release process itself, then makes git stop where it is.
    path = git_repo.hook(
        hook,
        f"""\
        while [ ! -s {pidfile} ]; do sleep 0.02; done
        kill -9 "$(cat {pidfile})"
        exit 1
        """,
        remote=remote,
    )
    base = git_repo.head()
    child = subprocess.Popen(
        release_argv("--bump", "patch"),
        cwd=git_repo.work,
        env=release_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    pidfile.write_text(str(child.pid))
    _, err = child.communicate(timeout=60)
    assert child.returncode == -9, err
    _wait_for_group(child.pid)
    path.unlink()

    # Consistent: no tag without its release commit, nothing half-pushed.
    head = git_repo.head()
    subject = git_repo.git("log", "-1", "--format=%s")
    assert head == base or (
        subject == "Release v0.1.1" and git_repo.git("rev-parse", "HEAD^") == base
    )
    tag = git_repo.local_ref("refs/tags/v0.1.1")
    assert tag in (None, head)
    assert tag is None or subject == "Release v0.1.1"
    remote_tag = git_repo.remote_ref("refs/tags/v0.1.1")
    assert (remote_tag is None) == (git_repo.remote_ref("refs/heads/master") == base)
    dirty = {line.split()[-1] for line in git_repo.git("status", "--porcelain").splitlines()}
    assert dirty <= {"pyproject.toml", "CHANGELOG.md"}
    expected = {
        "files written, not committed": (base, None, None),
        "committed, not tagged": ("release", None, None),
        "tagged, not pushed": ("release", "release", None),
        "pushed": ("release", "release", "release"),
    }[state]
    seen = tuple(
        None if v is None else ("release" if v != base else base) for v in (head, tag, remote_tag)
    )
    assert seen == expected

    # The same command again finishes the release, exactly once.
    again = release("--bump", "patch")
    assert again.code == 0, again.err
    assert_released(git_repo, base)
    assert git_repo.local_ref("refs/tags/v0.1.2") is None
    assert changelog.parse(git_repo.read("CHANGELOG.md")).find("0.1.1") is not None
    assert git_repo.read("CHANGELOG.md").count("## [0.1.1]") == 1


# --- changelog heading styles ---------------------------------------------------------------

V_STYLE = """\
# Changelog

## [Unreleased]

- Faster start-up (#50)

## v0.1.0 \N{EN DASH} 2026-01-01

- First release
"""


def test_the_changelogs_heading_style_is_kept(
    tmp_path: Path, git_env: Path, release: Release
) -> None:
    repo = make_repo(tmp_path / "style", changelog=V_STYLE, name="style")
    run = release("--bump", "patch", repo=repo)
    assert run.code == 0, run.err
    text = repo.read("CHANGELOG.md")
    assert "## v0.1.1 \N{EN DASH} 2026-03-04\n\n- Faster start-up (#50)\n" in text
    assert text.index("## [Unreleased]") < text.index("## v0.1.1") < text.index("## v0.1.0")
    assert run.steps("changelog")[0]["status"] == "ok"


# Changelogs that keep no [Unreleased]: the notes are written at release time.
NO_UNRELEASED = {
    "release word, prose date": (
        "# Changelog\n\n# Release 0.1.0 (January 1, 2026)\n\n- First release\n",
        "# Release 0.1.1 (March 4, 2026)\n\n",
    ),
    "name and version": (
        "demo 0.1.0 (2026-01-01)\n=======================\n\n- First release\n",
        "demo 0.1.1 (2026-03-04)\n=======================\n\n",
    ),
}


@pytest.mark.parametrize("shape", list(NO_UNRELEASED))
@pytest.mark.parametrize("notes", ["commits", "file"])
def test_a_changelog_without_unreleased_gets_the_section_above_the_newest(
    tmp_path: Path, git_env: Path, release: Release, shape: str, notes: str
) -> None:
    text, heading = NO_UNRELEASED[shape]
    repo = make_repo(tmp_path / "plain", changelog=text, name="plain")
    (tmp_path / "notes.md").write_text("- Written at release time (#77)\n")
    extra = ("--notes-file", str(tmp_path / "notes.md")) if notes == "file" else ()
    run = release("--bump", "patch", *extra, repo=repo)
    assert run.code == 0, run.err
    warnings = [s["warning"] for s in run.steps("preflight") if s.get("status") == "warning"]
    assert warnings == [
        "CHANGELOG.md has no [Unreleased] section: the notes come from --notes-file, the LLM or "
        "the commits, and the new section goes above the newest release"
    ]
    new = repo.read("CHANGELOG.md")
    body = (
        "- Written at release time (#77)\n" if notes == "file"
        else "### Added\n\n- a frobnicator (#12)\n\n### Fixed\n\n- crash on empty input\n"
    )
    assert heading + body in new
    assert new.index(heading) < new.index("0.1.0")
    assert "Unreleased" not in new  # the file's own way: it keeps none
    assert new.replace(heading + body + "\n", "", 1) == text  # nothing else changes
    parsed = changelog.parse(new)
    assert changelog.notes(parsed, parsed.find("0.1.1")) == body.rstrip("\n")


def test_mixed_heading_styles_use_the_newest_and_say_so(
    tmp_path: Path, git_env: Path, release: Release
) -> None:
    mixed = V_STYLE + "\n## [0.0.9] - 2025-12-01\n\n- A preview\n"
    repo = make_repo(tmp_path / "mixed", changelog=mixed, name="mixed")
    run = release("--bump", "patch", "--dry-run", repo=repo)
    assert run.code == 0, run.err
    warnings = [s["warning"] for s in run.steps("changelog") if s.get("status") == "warning"]
    assert len(warnings) == 1
    assert "mixes heading styles" in warnings[0]
    assert "+## v0.1.1 \N{EN DASH} 2026-03-04" in run.out
    assert "== warnings ==" in run.out


def test_resume_without_a_pending_release(git_repo: GitRepo, release: Release) -> None:
    run = release("--resume")
    assert run.code == 1
    assert len(run.problems) == 1
    assert "nothing to resume" in run.problems[0]


def test_a_pushed_untagged_release_commit_is_not_resumed(
    git_repo: GitRepo, release: Release
) -> None:
    # Someone else's `Release v0.1.1` commit, pushed without a tag: not an interrupted run.
    git_repo.commit("Release v0.1.1")
    git_repo.git("push", "-q", "origin", "master")
    run = release("--bump", "patch", "--resume")
    assert run.code == 1
    assert "nothing to resume" in run.problems[0]
    assert git_repo.local_ref("refs/tags/v0.1.1") is None
    assert git_repo.remote_ref("refs/tags/v0.1.1") is None


def test_missing_identity_is_a_preflight_problem(
    git_repo: GitRepo, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL", "")
    git_repo.git("config", "--global", "user.useConfigOnly", "true")
    before = tree(git_repo)
    run = release("--bump", "patch")
    assert run.code == 1
    assert run.problems == [
        "release: git does not know who you are: set `git config --global user.name` and "
        "`user.email` (the release commit and tag carry your identity)"
    ]
    assert tree(git_repo) == before


def test_a_prerelease_is_released_for_real(tmp_path: Path, git_env: Path, release: Release) -> None:
    repo = make_repo(
        tmp_path / "rc",
        name="rc",
        tag="v1.0.0-rc.1",
        pyproject=PYPROJECT.replace("'0.1.0'", "'1.0.0-rc.1'"),
        changelog=CHANGELOG.replace("[0.1.0]", "[1.0.0-rc.1]").replace("v0.1.0", "v1.0.0-rc.1"),
    )
    repo.git("tag", "v0.9.0", "HEAD~3")  # older, also reachable: the highest version wins
    base = repo.head()
    run = release("--bump", "patch", repo=repo)
    assert run.code == 0, run.err
    assert run.steps("preflight")[-1]["previous"] == "v1.0.0-rc.1"
    assert_released(repo, base, "1.0.0")
    assert "## [1.0.0] - 2026-03-04" in repo.read("CHANGELOG.md")
