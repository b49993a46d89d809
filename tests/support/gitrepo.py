"""Real git repositories for tests: a work clone and its bare remote in a temporary directory.

Everything is pinned and isolated: HOME, XDG_CONFIG_HOME and GIT_CONFIG_GLOBAL point into the
temporary directory (no system config), identities and dates come from the environment, and
signing is off unless a test turns it on. The remote's URL looks like GitHub
(`git@github.com:acme/demo.git`); an `insteadOf` in the isolated global config sends it to the
local bare repository, so compare links are derived from a realistic URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

GITHUB_URL = "git@github.com:acme/demo.git"
WEB_URL = "https://github.com/acme/demo"
DATE = "2026-03-04T05:06:07Z"
EPOCH = "1772600767"  # 2026-03-04, the release date the changelog gets

PYPROJECT = textwrap.dedent(
    """\
    # The demo project.
    [project]
    name = "demo"
    version = '0.1.0'  # bumped by `release`
    description = "A demo"
    dependencies = ["tomlkit>=0.1.0"]

    [tool.release]
    branch = "master"
    """
)

CHANGELOG = textwrap.dedent(
    f"""\
    # Changelog

    All notable changes to this project are documented here.

    ## [Unreleased]

    ### Added

    - A frobnicator (#12)

    ### Fixed

    - Crash on empty input

    ## [0.1.0] - 2026-01-01

    ### Added

    - First release

    [unreleased]: {WEB_URL}/compare/v0.1.0...HEAD
    [0.1.0]: {WEB_URL}/releases/tag/v0.1.0
    """
)

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Maintainer",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Maintainer",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": DATE,
    "GIT_COMMITTER_DATE": DATE,
}


def isolated_env(home: Path) -> dict[str, str]:
    """Variables that cut git off from the user's own configuration (and pin identity/dates)."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ADVICE": "0",
        "SOURCE_DATE_EPOCH": EPOCH,
        "TZ": "UTC",
        **IDENTITY,
    }


@dataclass
class GitRepo:
    """A work clone (`work`) on branch master with a bare remote (`remote`) named origin."""

    work: Path
    remote: Path
    home: Path

    def git(
        self, *args: str, cwd: Path | None = None, input: str | None = None, check: bool = True
    ) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.work,
            input=input,
            text=True,
            capture_output=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def write(self, path: str, text: str) -> Path:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def read(self, path: str) -> str:
        return (self.work / path).read_text(encoding="utf-8")

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        for path, text in (files or {}).items():
            self.write(path, text)
            self.git("add", "--", path)
        self.git("commit", "--allow-empty", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def remote_ref(self, ref: str) -> str | None:
        out = self.git(
            "--git-dir",
            str(self.remote),
            "rev-parse",
            "--verify",
            "--quiet",
            f"{ref}^{{commit}}",
            check=False,
        )
        return out or None

    def local_ref(self, ref: str) -> str | None:
        out = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return out or None

    def hook(self, name: str, script: str, *, remote: bool = False) -> Path:
        """Install an executable hook (shell script body) in the work clone or the remote."""
        hooks = (self.remote if remote else self.work / ".git") / "hooks"
        hooks.mkdir(exist_ok=True)
        path = hooks / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(script), encoding="utf-8")
        path.chmod(0o755)
        return path

    def other_clone(self, name: str = "other") -> Path:
        """A second maintainer's clone of the remote."""
        path = self.work.parent / name
        if not path.exists():
            self.git("clone", "--quiet", str(self.remote), str(path), cwd=self.work.parent)
        return path

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the work tree and of .git (index, refs, config, objects), as bytes."""
        files: dict[str, bytes] = {}
        for path in sorted(self.work.rglob("*")):
            if path.is_file():
                files[path.relative_to(self.work).as_posix()] = path.read_bytes()
        return files

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`release ARGS` as a real process, the way a maintainer runs it."""
        return subprocess.run(
            release_argv(*args),
            cwd=self.work,
            text=True,
            env=release_env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )


ROOT = Path(__file__).resolve().parents[2]
RUN_RELEASE = "import sys; from release.apps.release.cli import main; sys.exit(main())"


def release_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", RUN_RELEASE, *args]


def release_env() -> dict[str, str]:
    """The current environment, with this checkout importable (installed or not)."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def interruptible_argv(*args: str) -> list[str]:
    """`release_argv` for a run the test interrupts with SIGINT: it takes it as a terminal's
    foreground process does. A test run started with SIGINT ignored (a background job of a
    script, `nohup`) passes that on, and Python, like any program, keeps it ignored."""
    take = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    return [sys.executable, "-c", take + RUN_RELEASE, *args]


DEFAULT_COMMITS = ("feat: a frobnicator (#12)", "fix: crash on empty input")


def make_repo(
    base: Path,
    *,
    changelog: str = CHANGELOG,
    pyproject: str = PYPROJECT,
    tag: str | None = "v0.1.0",
    extra_commits: tuple[str, ...] = DEFAULT_COMMITS,
    name: str = "demo",
) -> GitRepo:
    """A released project (v0.1.0 tagged and pushed) with commits and notes since.

    Needs the isolated environment (`git_env`); its remote is `git@github.com:acme/NAME.git`.
    """
    home = Path(os.environ["HOME"])
    remote = base / "remote.git"
    work = base / "work"
    base.mkdir(parents=True, exist_ok=True)
    url = GITHUB_URL.replace("/demo.git", f"/{name}.git")
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as handle:
        handle.write(
            textwrap.dedent(
                f"""\
            [init]
            \tdefaultBranch = master
            [commit]
            \tgpgsign = false
            [tag]
            \tgpgsign = false
            [url "{remote}"]
            \tinsteadOf = {url}
            """
            )
        )
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "master", str(remote)], check=True)
    subprocess.run(["git", "init", "--quiet", "-b", "master", str(work)], check=True)
    repo = GitRepo(work=work, remote=remote, home=home)
    repo.git("remote", "add", "origin", url)
    first = (
        changelog.split("## [Unreleased]", maxsplit=1)[0]
        + "## [Unreleased]\n\n"
        + ("## [0.1.0]" + changelog.split("## [0.1.0]", 1)[1] if "## [0.1.0]" in changelog else "")
    )
    repo.commit(
        "chore: start",
        {"pyproject.toml": pyproject, "CHANGELOG.md": first, ".gitignore": "build/\n"},
    )
    if tag:
        repo.git("tag", "-a", "-m", f"{tag}\n\nFirst release", tag)
    for index, message in enumerate(extra_commits):
        repo.commit(message, {f"src/file{index}.txt": message + "\n"})
    repo.commit("docs: notes for the next release", {"CHANGELOG.md": changelog})
    repo.git("push", "--quiet", "origin", "master", *([tag] if tag else []))
    repo.git("branch", "--quiet", "--set-upstream-to=origin/master")
    return repo


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Isolate git (and pygit2) from the user's configuration; yields the fake HOME."""
    home = tmp_path / "home"
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    for key, value in isolated_env(home).items():
        monkeypatch.setenv(key, value)
    # libgit2 ignores GIT_CONFIG_GLOBAL and caches HOME at start-up: point it at the fake HOME.
    levels = (
        pygit2.enums.ConfigLevel.GLOBAL,
        pygit2.enums.ConfigLevel.XDG,
        pygit2.enums.ConfigLevel.SYSTEM,
    )
    saved = [pygit2.settings.search_path[level] for level in levels]
    for level in levels:
        pygit2.settings.search_path[level] = str(home)
    yield home
    for level, value in zip(levels, saved, strict=True):
        pygit2.settings.search_path[level] = value


@pytest.fixture
def git_repo(tmp_path: Path, git_env: Path) -> GitRepo:
    """A released project with notes under [Unreleased] and two commits since v0.1.0."""
    return make_repo(tmp_path / "demo")
