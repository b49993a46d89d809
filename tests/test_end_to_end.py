"""The whole way a maintainer and CI go, on one fresh repository, and every re-run of it.

One released project (v0.1.0, notes under [Unreleased]) with a bare remote, a real Docker
daemon, a real OCI registry on 127.0.0.1 and the fake GitHub API:

1. the maintainer runs `release --bump minor` (a real process): v0.2.0 is committed, tagged
   and pushed;
2. CI publishes the branch build of the release commit: the SHA tag and `staging`;
3. CI publishes the tag build: the version tag, `latest` and the GitHub Release;
4. `extract-notes v0.2.0` prints the notes the Release carries;
5. each command runs a second time and changes nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.apps import extract_notes_main, publish_main
from tests.support.containers import (
    DOCKER_TOOLS,
    Daemon,
    Registry,
    make_archive,
    tiny_layers,
    unique_name,
)
from tests.support.github_fake import FakeGitHub
from tests.support.gitrepo import DATE, GitRepo, make_repo
from tests.support.tools import require_tool

LABEL = "org.opencontainers.image.version"

pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def remote_refs(repo: GitRepo) -> dict[str, str]:
    """Every ref of the bare remote and the object it names."""
    lines = repo.git("--git-dir", str(repo.remote), "for-each-ref",
                     "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in lines.splitlines())


def registry_state(registry: Registry, repository: str) -> dict[str, str | None]:
    """Every tag of `repository` and the manifest digest it names, as the registry says."""
    return {tag: registry.digest(repository, tag) for tag in registry.tags(repository)}


def test_release_publish_and_notes_then_every_rerun_changes_nothing(
    git_env: Path,
    github_api: FakeGitHub,  # before docker_env, which clears DOJO_* (DOJO_GITHUB_OPENAPI too)
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_tool(*DOCKER_TOOLS)
    repo = make_repo(tmp_path / "demo")
    image_repository = f"{unique_name('owner')}/demo"
    monkeypatch.chdir(repo.work)  # publish and extract-notes run from the clone's work tree

    def run(main: Callable[[Sequence[str]], int], *argv: str) -> Run:
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    # 1. The maintainer cuts the release.
    base = repo.head()
    released = repo.cli("--bump", "minor")
    assert released.returncode == 0, released.stderr
    assert released.stdout == "v0.2.0\n"
    sha = repo.head()
    assert repo.git("rev-parse", "HEAD^") == base
    assert repo.git("log", "-1", "--format=%s") == "Release v0.2.0"
    assert repo.git("status", "--porcelain") == ""
    assert repo.remote_ref("refs/heads/master") == sha
    assert repo.remote_ref("refs/tags/v0.2.0") == sha
    remote_git = ("--git-dir", str(repo.remote))
    assert repo.git(*remote_git, "cat-file", "-t", "refs/tags/v0.2.0") == "tag"  # annotated
    pushed_pyproject = repo.git(*remote_git, "show", "v0.2.0:pyproject.toml")
    assert tomllib.loads(pushed_pyproject)["project"]["version"] == "0.2.0"
    assert repo.read("pyproject.toml") == pushed_pyproject + "\n"
    changelog = repo.read("CHANGELOG.md")
    assert f"\n## [0.2.0] - {DATE[:10]}\n" in changelog
    assert changelog.index("## [Unreleased]") < changelog.index("## [0.2.0]")
    assert changelog.index("## [0.2.0]") < changelog.index("## [0.1.0]")
    assert repo.git(*remote_git, "show", "v0.2.0:CHANGELOG.md") + "\n" == changelog
    clone_after_release = repo.snapshot()
    refs_after_release = remote_refs(repo)

    # 2. CI publishes the branch build of the release commit.
    image = make_archive(
        tmp_path / "dojo.tar",
        layers=tiny_layers(unique_name("e2e")),
        labels={LABEL: "0.2.0", "org.opencontainers.image.title": "demo"},
    )
    local = ["--image", str(image.path), "--registry", oci_registry.address,
             "--repository", image_repository, "--sha", sha]
    branch = run(publish_main, *local)
    assert branch.code == 0, branch.err
    digest = oci_registry.digest(image_repository, sha[:12])
    assert digest is not None
    assert registry_state(oci_registry, image_repository) == {
        sha[:12]: digest, "staging": digest,
    }
    assert oci_registry.config_digest(image_repository, "staging") == image.image_id
    reference = f"{oci_registry.address}/{image_repository}@{digest}\n"
    assert branch.out == reference
    assert github_api.requests == []  # a branch build has no Release

    # 3. CI publishes the tag build, with the GitHub Release.
    monkeypatch.setenv("GITHUB_REPOSITORY", github_api.repository)
    monkeypatch.setenv("GITHUB_TOKEN", github_api.token)
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    github_api.mirror(repo.remote)  # GitHub holds what `release` pushed
    tagged = run(publish_main, *local, "--version", "v0.2.0")
    assert tagged.code == 0, tagged.err
    assert tagged.out == reference
    assert registry_state(oci_registry, image_repository) == {
        sha[:12]: digest, "staging": digest, "v0.2.0": digest, "latest": digest,
    }
    [github_release] = github_api.releases
    assert github_release["tag_name"] == "v0.2.0"
    assert github_release["name"] == "v0.2.0"
    assert github_release["draft"] is False
    assert github_release["prerelease"] is False
    assert [(c.method, c.body["tag_name"]) for c in github_api.writes] == [("POST", "v0.2.0")]

    # 4. The notes of v0.2.0, as extract-notes prints them, are the Release's body.
    notes = run(extract_notes_main, "v0.2.0")
    assert notes.code == 0, notes.err
    assert "### Added\n\n- A frobnicator (#12)" in notes.out
    assert "### Fixed\n\n- Crash on empty input" in notes.out
    assert "First release" not in notes.out  # only the 0.2.0 section
    # stdout ends the text with one newline, as a text stream does; the body is that text.
    assert notes.out == github_release["body"] + "\n"

    # 5. Every command again: nothing changes anywhere.
    registry_before = registry_state(oci_registry, image_repository)
    writes_before = list(github_api.writes)

    again = repo.cli("--bump", "minor")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "v0.2.0\n"
    assert "step=resume version=v0.2.0 status=done" in again.stderr
    assert remote_refs(repo) == refs_after_release
    assert repo.snapshot() == clone_after_release  # nor did steps 2-4 write into the clone

    branch_again = run(publish_main, *local)
    assert branch_again.code == 0, branch_again.err
    assert branch_again.out == reference
    tagged_again = run(publish_main, *local, "--version", "v0.2.0")
    assert tagged_again.code == 0, tagged_again.err
    assert tagged_again.out == reference
    assert registry_state(oci_registry, image_repository) == registry_before
    assert github_api.writes == writes_before
    assert [r["id"] for r in github_api.releases] == [github_release["id"]]
    assert github_api.releases[0]["body"] == github_release["body"]

    notes_again = run(extract_notes_main, "v0.2.0")
    assert notes_again == notes
    assert remote_refs(repo) == refs_after_release
    assert repo.snapshot() == clone_after_release
