"""`publish` against a real Docker daemon and real registries on 127.0.0.1.

Only GitHub's API is faked (tests.support.github_fake). Every test uses its own image
repository in the session's registries.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
import pygit2
import pytest

from release.apps.publish.cli import main
from release.apps.publish.gate import Versions, consistency_problems
from release.core.version import parse
from release.shell.image import Engine
from tests.support.containers import (
    DOCKER_TOOLS,
    Archive,
    Daemon,
    FaultProxy,
    Registry,
    make_archive,
    tiny_layers,
    unique_name,
)
from tests.support.github_fake import FakeGitHub
from tests.support.tools import require_tool

LABEL = "org.opencontainers.image.version"
SHA_A = "0123456789abcdef0123456789abcdef01234567"
SHA_B = "fedcba9876543210fedcba9876543210fedcba98"

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool(*DOCKER_TOOLS)


def write_project(root: Path, version: str, sections: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "dojo"\nversion = "{version}"\n\n'
        '[tool.release]\nimage = "dojo"\nbranch = "master"\n'
    )
    body = "".join(
        f"## [{v}] - 2026-11-01\n\n### Added\n\n- Feature of {v}.\n\n" for v in sections
    )
    (root / "CHANGELOG.md").write_text(f"# Changelog\n\n## [Unreleased]\n\n{body}")
    return root


def archive(tmp_path: Path, seed: str, version: str = "1.2.3", *, gz: bool = False) -> Archive:
    return make_archive(
        tmp_path / f"{seed}.tar{'.gz' if gz else ''}",
        layers=tiny_layers(seed),
        labels={LABEL: version, "org.opencontainers.image.title": "dojo"},
        compress=gz,
    )


def actions_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    sha: str,
    ref_type: str,
    ref_name: str,
    repository: str = "Octo-Org/dojo",
    github: FakeGitHub | None = None,
) -> tuple[Path, Path]:
    """GitHub Actions' variables for a build of `sha`. With `github`, publish asks that fake
    GitHub (the workflow's token), where a branch build's commit is the branch's tip, as on a
    push."""
    output, summary = tmp_path / "gh_output", tmp_path / "gh_summary"
    output.touch()
    summary.touch()
    for key, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": sha,
        "GITHUB_REF_TYPE": ref_type,
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_REPOSITORY": repository,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }.items():
        monkeypatch.setenv(key, value)
    if github is not None:
        github_env(monkeypatch, github)
        if ref_type == "branch":
            github.set_ref(f"heads/{ref_name}", sha)
    return output, summary


def github_env(
    monkeypatch: pytest.MonkeyPatch, github_api: FakeGitHub, repository: str | None = None
) -> None:
    """Point publish at the fake GitHub (as the workflow's token and API URL do)."""
    if repository is not None:
        github_api.repository = repository
        monkeypatch.setenv("GITHUB_REPOSITORY", repository)
    monkeypatch.setenv("GITHUB_TOKEN", github_api.token)
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)


def publish(
    argv: list[str], capsys: pytest.CaptureFixture[str], cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def local_argv(
    image: Archive, registry: Registry | FaultProxy, repo: str, *extra: str
) -> list[str]:
    """`publish` flags for a local run: this archive, into this registry and repository."""
    return ["--image", str(image.path), "--registry", registry.address, "--repository", repo,
            *extra]


def steps(err: str, name: str) -> list[dict[str, str]]:
    """The logfmt lines of one step, as dicts."""
    found = []
    for line in err.splitlines():
        if line.startswith(f"step={name} "):
            found.append(dict(re.findall(r'(\w+)=("[^"]*"|\S*)', line)))
    return [{k: v.strip('"') for k, v in d.items()} for d in found]


def parse_outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            key, delim = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delim:
                    break
                block.append(inner)
            values[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


# --- pure: the consistency gate ------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "pyproject", "section", "expected"),
    [
        ("1.2.3", "1.2.3", None, []),
        ("v1.2.3", "1.2.3", None, []),
        ("1.2.2", "1.2.3", None, [f"image label {LABEL}=1.2.2"]),
        (None, "1.2.3", None, [f"image label {LABEL} is missing"]),
        ("1.2.3", "1.3.0", None, ["pyproject.toml version=1.3.0"]),
        ("1.2.3", "1.2.3", "no section for 1.2.3", ["no section for 1.2.3"]),
        ("0.1.0", "0.2.0", "no section for 1.2.3", [
            f"image label {LABEL}=0.1.0",
            "pyproject.toml version=0.2.0",
            "no section for 1.2.3",
        ]),
    ],
)
def test_consistency_problems_name_each_value(
    label: str | None, pyproject: str, section: str | None, expected: list[str]
) -> None:
    versions = Versions(parse("v1.2.3"), label, pyproject, section)
    assert consistency_problems(versions) == expected


# --- branch builds -------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_release_branch_pushes_sha_and_staging_then_rerun_changes_nothing(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gz: bool,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("seed"), gz=gz)
    owner = unique_name("owner")
    output, summary = actions_env(
        monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
        repository=f"{owner}/Dojo",
    )
    github_env(monkeypatch, github_api, f"{owner}/Dojo")
    github_api.set_ref("heads/master", SHA_A)
    argv = ["--image", str(image.path), "--registry", oci_registry.address]
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    repo = f"{owner}/dojo"
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "staging"])
    for tag in (SHA_A[:12], "staging"):
        assert oci_registry.config_digest(repo, tag) == image.image_id
    digest = oci_registry.digest(repo, SHA_A[:12])
    assert out.strip() == f"{oci_registry.address}/{repo}@{digest}"
    assert steps(err, "build") == [{"step": "build", "derivation": str(image.path),
                                    "status": "ok"}]
    assert steps(err, "load")[0]["id"] == image.image_id
    assert steps(err, "load")[0]["status"] in ("ok", "unchanged")
    pushes = steps(err, "push")
    assert [(p["tag"], p["status"], p["digest"]) for p in pushes] == [
        (SHA_A[:12], "ok", digest), ("staging", "ok", digest)
    ]
    outputs = parse_outputs(output.read_text())
    assert outputs["image"] == f"{oci_registry.address}/{repo}"
    assert outputs["digest"] == digest
    assert outputs["tags"].splitlines() == [
        f"{oci_registry.address}/{repo}:{SHA_A[:12]}", f"{oci_registry.address}/{repo}:staging"
    ]
    assert outputs["release_url"] == ""
    table = summary.read_text()
    assert f"| `{SHA_A[:12]}` | `{digest}` | ok |" in table
    assert f"| `staging` | `{digest}` | ok |" in table

    # Re-run: nothing changes, nothing is loaded or pushed.
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert [p["status"] for p in steps(err, "push")] == ["unchanged", "unchanged"]
    assert steps(err, "load")[0]["status"] == "skipped"
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "staging"])
    assert oci_registry.digest(repo, "staging") == digest


def test_other_branch_pushes_only_the_sha_tag_and_staging_moves(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    first, second = archive(tmp_path, unique_name("a")), archive(tmp_path, unique_name("b"))
    repo = f"{unique_name('owner')}/dojo"
    args = ["--registry", oci_registry.address, "--repository", repo]
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="feature/x",
                repository=github_api.repository)
    github_env(monkeypatch, github_api)
    github_api.set_ref("heads/master", SHA_A)
    code, _, err = publish(["--image", str(first.path), *args], capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == [SHA_A[:12]]

    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                repository=github_api.repository)
    code, _, err = publish(["--image", str(first.path), *args], capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.config_digest(repo, "staging") == first.image_id
    # A later commit on master moves `staging` (a movable tag).
    github_api.set_ref("heads/master", SHA_B)
    actions_env(monkeypatch, tmp_path, sha=SHA_B, ref_type="branch", ref_name="master",
                repository=github_api.repository)
    code, _, err = publish(["--image", str(second.path), *args], capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.config_digest(repo, "staging") == second.image_id
    assert oci_registry.config_digest(repo, SHA_A[:12]) == first.image_id
    moved = [p for p in steps(err, "push") if p["tag"] == "staging"]
    assert moved[0]["moved_from"] == oci_registry.digest(repo, SHA_A[:12])

    # Re-running the older master run (its SHA is no longer the tip) leaves `staging` alone.
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                repository=github_api.repository)
    code, _, err = publish(["--image", str(first.path), *args], capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.config_digest(repo, "staging") == second.image_id
    assert [p["tag"] for p in steps(err, "push")] == [SHA_A[:12]]
    [staging] = steps(err, "staging")
    assert staging["status"] == "stays"
    assert f"not the tip of master ({SHA_B[:12]} is" in staging["reason"]


def test_staging_moves_only_to_the_tip_of_the_clones_remote(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a token, the tip comes from the clone's remote (git ls-remote), not the clone."""
    remote = tmp_path / "remote.git"
    pygit2.init_repository(str(remote), bare=True, initial_head="master")
    root = write_project(tmp_path / "proj", "1.2.3")
    clone = pygit2.init_repository(str(root), initial_head="master")
    clone.remotes.create("origin", str(remote))
    sig = pygit2.Signature("T", "t@example.com")
    clone.index.add_all()
    clone.index.write()
    old = clone.create_commit("HEAD", sig, sig, "one", clone.index.write_tree(), [])
    new = clone.create_commit("HEAD", sig, sig, "two", clone.index.write_tree(), [old])
    subprocess.run(["git", "push", "-q", "origin", "master"], cwd=root, check=True)
    images = {sha: archive(tmp_path, unique_name("tip")) for sha in (str(old), str(new))}
    repo = f"{unique_name('me')}/dojo"
    for sha in (str(new), str(old)):  # the newer build first, then a re-run of the older one
        code, _out, err = publish(
            [*local_argv(images[sha], oci_registry, repo), "--sha", sha], capsys, root,
            monkeypatch,
        )
        assert code == 0, err
    assert oci_registry.config_digest(repo, "staging") == images[str(new)].image_id
    assert oci_registry.tags(repo) == sorted([str(old)[:12], str(new)[:12], "staging"])
    assert "the remote origin" in steps(err, "staging")[0]["reason"]


def test_dry_run_prints_the_plan_and_changes_nothing(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("dry"))
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                repository=github_api.repository)
    github_env(monkeypatch, github_api)
    github_api.set_ref("heads/master", SHA_A)
    code, out, err = publish(
        local_argv(image, oci_registry, repo, "--dry-run"), capsys, root, monkeypatch,
    )
    assert code == 0, err
    assert f"push      {SHA_A[:12]}" in out
    assert "push      staging" in out
    assert oci_registry.tags(repo) == []
    client = docker.DockerClient(base_url=docker_env.host)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(image.image_id)
    assert (tmp_path / "gh_output").read_text() == ""


def test_local_clone_and_flags(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    repo = pygit2.init_repository(str(root), initial_head="master")
    index = repo.index
    index.add_all()
    index.write()
    sig = pygit2.Signature("T", "t@example.com")
    commit = repo.create_commit("HEAD", sig, sig, "init", index.write_tree(), [])
    image = archive(tmp_path, unique_name("local"))
    name = f"{unique_name('me')}/dojo"
    code, _out, err = publish(
        local_argv(image, oci_registry, name), capsys, root / ".", monkeypatch,
    )
    assert code == 0, err
    assert oci_registry.tags(name) == sorted([str(commit)[:12], "staging"])


def test_no_image_is_a_one_line_usage_error(
    docker_env: Daemon,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master")
    code, out, err = publish([], capsys, root, monkeypatch)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "nix run .#publish" in err
    assert "--image" in err


def test_anonymous_pushes_send_no_credentials_from_the_docker_config(
    docker_env: Daemon,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`step=credentials source=anonymous` is what the push uses: a `docker login` left in the
    Docker config is not sent along. The registry asks for Basic auth, so the anonymous push is
    refused at once, in one line that names the credentials publish does use."""
    login = base64.b64encode(f"someone:{unique_name('login')}".encode()).decode()
    config = tmp_path / "docker-config"
    config.mkdir()
    auths = {"auths": {fault_proxy.address: {"auth": login}}}
    (config / "config.json").write_text(json.dumps(auths))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    fault_proxy.answer_next(
        401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        match=r"^GET /v2/ ", headers={"WWW-Authenticate": 'Basic realm="registry"'}, times=50,
    )
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("anon"))
    repo = f"{unique_name('me')}/dojo"
    code, _out, err = publish([*local_argv(image, fault_proxy, repo), "--sha", SHA_A], capsys,
                              root, monkeypatch)
    assert code == 1, err
    assert steps(err, "credentials")[0]["source"] == "anonymous"
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "no basic auth credentials" in line
    assert "DOJO_REGISTRY_USER/DOJO_REGISTRY_PASSWORD" in line
    assert steps(err, "retry") == []  # refused credentials are not a transient fault
    heads = b"\n".join(fault_proxy.heads_seen).lower()
    assert b"get /v2/ " in heads  # the daemon did ask this registry
    assert login.lower().encode() not in heads
    assert b"authorization:" not in heads


# --- tag builds ----------------------------------------------------------------------------


def tag_build(
    version: str,
    sha: str,
    image: Archive,
    registry: Registry,
    repo: str,
    root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
) -> tuple[int, str, str]:
    """A local tag build (no GITHUB_TOKEN: the Release is skipped)."""
    return publish(
        local_argv(image, registry, repo, "--sha", sha, "--version", version, *extra),
        capsys, root, monkeypatch,
    )


def test_full_tag_build_with_github_release(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3", "1.2.2"))
    image = archive(tmp_path, unique_name("rel"), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    output, summary = actions_env(
        monkeypatch, tmp_path, sha=SHA_A, ref_type="tag", ref_name="v1.2.3",
        repository=github_api.repository,
    )
    github_env(monkeypatch, github_api)
    github_api.set_ref("tags/v1.2.3", SHA_A, annotated=True)  # as `release` tags
    argv = local_argv(image, oci_registry, repo)
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "latest", "v1.2.3"])
    digest = oci_registry.digest(repo, "v1.2.3")
    assert {oci_registry.digest(repo, t) for t in (SHA_A[:12], "latest")} == {digest}
    assert len(github_api.releases) == 1
    created = github_api.releases[0]
    assert created["tag_name"] == "v1.2.3"
    assert created["name"] == "v1.2.3"
    assert "Feature of 1.2.3." in created["body"]
    assert "1.2.2" not in created["body"]
    assert created["prerelease"] is False
    assert created["target_commitish"] == SHA_A  # never the default branch's head
    [rel] = steps(err, "release")
    assert rel["status"] == "created"
    assert rel["url"] == created["html_url"]
    outputs = parse_outputs(output.read_text())
    assert outputs["release_url"] == created["html_url"]
    assert "| `latest` |" in summary.read_text()
    assert github_api.token not in err + out + output.read_text() + summary.read_text()

    # Re-run: registry and Release unchanged, no write to GitHub.
    writes_before = [c for c in github_api.requests if c.method != "GET"]
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert {p["status"] for p in steps(err, "push")} == {"unchanged"}
    assert steps(err, "release")[0]["status"] == "unchanged"
    assert [c for c in github_api.requests if c.method != "GET"] == writes_before
    assert len(github_api.releases) == 1

    # Someone edited the Release body by hand: a re-run puts the changelog section back.
    github_api.releases[0]["body"] = "edited"
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert steps(err, "release")[0]["status"] == "updated"
    assert "Feature of 1.2.3." in github_api.releases[0]["body"]
    assert github_api.releases[0]["id"] == created["id"]


def test_version_tag_pointing_elsewhere_is_refused_and_nothing_is_pushed(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    first, second = archive(tmp_path, unique_name("a")), archive(tmp_path, unique_name("b"))
    repo = f"{unique_name('owner')}/dojo"
    code, _, err = tag_build("v1.2.3", SHA_A, first, oci_registry, repo, root, capsys,
                             monkeypatch)
    assert code == 0, err
    # Locally, without GITHUB_TOKEN, the Release is skipped, and said so after the pushes.
    last = err.strip().splitlines()[-1]
    assert last.startswith("step=release tag=v1.2.3 status=skipped"), err
    before = {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)}
    old = before["v1.2.3"]
    assert old is not None

    code, _out, err = tag_build("v1.2.3", SHA_B, second, oci_registry, repo, root, capsys,
                               monkeypatch)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "v1.2.3" in line
    assert old in line
    assert first.image_id in line
    assert second.image_id in line
    assert "--force" in line
    assert steps(err, "push") == []
    after = {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)}
    assert after == before  # not even the new SHA tag

    # A human may overwrite with --force.
    code, _, err = tag_build("v1.2.3", SHA_B, second, oci_registry, repo, root, capsys,
                             monkeypatch, "--force")
    assert code == 0, err
    assert oci_registry.config_digest(repo, "v1.2.3") == second.image_id
    forced = [p for p in steps(err, "push") if p["tag"] == "v1.2.3"]
    assert forced[0]["forced"] == "true"
    assert forced[0]["moved_from"] == old


def test_latest_ignores_backports_and_prereleases(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    images = {}
    for version in ("2.0.0", "1.4.1", "2.1.0-rc.1", "2.0.1"):
        root = write_project(tmp_path / f"p{version}", version, (version,))
        images[version] = archive(tmp_path, unique_name(version), version)
        sha = f"{abs(hash(version)):012x}"[:12].ljust(12, "0")
        code, _out, err = tag_build(f"v{version}", sha, images[version], oci_registry, repo,
                                   root, capsys, monkeypatch)
        assert code == 0, err
        expected_latest = "2.0.1" if version == "2.0.1" else "2.0.0"
        assert oci_registry.config_digest(repo, "latest") == images[expected_latest].image_id
        # The image tag is the normalised PEP 440 version: v2.1.0-rc.1 is pushed as v2.1.0rc1.
        assert oci_registry.config_digest(repo, f"v{parse(version)}") == images[version].image_id


def test_consistency_gate_refuses_before_anything_is_pushed(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.4", ("1.2.2",))
    image = archive(tmp_path, unique_name("gate"), "1.2.2")
    repo = f"{unique_name('owner')}/dojo"
    code, _out, err = tag_build("v1.2.3", SHA_A, image, oci_registry, repo, root, capsys,
                               monkeypatch)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert f"{LABEL}=1.2.2" in line
    assert "pyproject.toml version=1.2.4" in line
    assert "CHANGELOG.md: no section for 1.2.3; sections that exist: Unreleased, 1.2.2" in line
    assert oci_registry.tags(repo) == []


# --- credentials and faults ----------------------------------------------------------------


def test_wrong_credentials_fail_with_a_clear_message(
    docker_env: Daemon,
    auth_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("auth"))
    repo = f"{unique_name('owner')}/dojo"
    argv = local_argv(image, auth_registry, repo, "--sha", SHA_A)
    assert auth_registry.user
    assert auth_registry.password
    monkeypatch.setenv("DOJO_REGISTRY_USER", auth_registry.user)
    monkeypatch.setenv("DOJO_REGISTRY_PASSWORD", "wrong-password-123")
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "rejected the credentials" in line
    assert "DOJO_REGISTRY_PASSWORD" in line
    assert "wrong-password-123" not in err + out

    monkeypatch.setenv("DOJO_REGISTRY_PASSWORD", auth_registry.password)
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert auth_registry.tags(repo) == [SHA_A[:12]]
    assert auth_registry.password not in err + out


def test_transient_registry_faults_are_retried(
    docker_env: Daemon,
    fault_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("flaky"))
    repo = f"{unique_name('owner')}/dojo"
    fault_proxy.fail_next(503, times=1, match=r"^GET /v2/.*/manifests/")  # planning read
    fault_proxy.fail_next(0, times=1, match=r"^GET /v2/.*/manifests/")  # reset
    fault_proxy.fail_next(503, times=1, match=r"^PUT /v2/.*/manifests/")  # the daemon's push
    code, _out, err = publish(
        local_argv(image, fault_proxy, repo, "--sha", SHA_A), capsys, root, monkeypatch,
    )
    assert code == 0, err
    assert fault_proxy.pending_faults() == 0
    assert fault_proxy.faults_served == 3
    retried = steps(err, "retry")
    assert len(retried) == 3
    assert any("pushing" in r["what"] for r in retried)
    assert oci_registry.config_digest(repo, SHA_A[:12]) == image.image_id


def test_persistent_registry_faults_give_up_after_bounded_attempts(
    docker_env: Daemon,
    fault_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("down"))
    repo = f"{unique_name('owner')}/dojo"
    fault_proxy.fail_next(502, times=50)
    code, _out, err = publish(
        local_argv(image, fault_proxy, repo, "--sha", SHA_A), capsys, root, monkeypatch,
    )
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "failed 4 times in a row" in line
    assert "HTTP 502" in line
    assert fault_proxy.faults_served == 4
    assert oci_registry.tags(repo) == []


# --- secrets -------------------------------------------------------------------------------


def test_token_and_password_never_in_argv_or_output(
    docker_env: Daemon,
    auth_registry: Registry,
    github_api: Any,
    tmp_path: Path,
) -> None:
    """Run publish as its own process and watch every process's argv while it runs."""
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    image = archive(tmp_path, unique_name("secret"), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    assert auth_registry.user
    assert auth_registry.password
    secrets = [github_api.token, auth_registry.password]
    github_api.set_ref("tags/v1.2.3", SHA_A)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOJO_"))}
    env.update(docker_env.env())
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA_A, "GITHUB_REF_TYPE": "tag",
        "GITHUB_REF_NAME": "v1.2.3", "GITHUB_REPOSITORY": github_api.repository,
        "GITHUB_TOKEN": github_api.token, "GITHUB_API_URL": github_api.url,
        "GITHUB_ACTOR": "someone", "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "DOJO_REGISTRY_USER": auth_registry.user,
        "DOJO_REGISTRY_PASSWORD": auth_registry.password,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    })
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if any(s in text for s in secrets):
                    seen.append(text)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    argv = [sys.executable, "-m", "release.apps.publish.cli", "--image", str(image.path),
            "--registry", auth_registry.address, "--repository", repo]
    try:
        ok = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
        # A failing run must not leak either: the wrong password is echoed nowhere.
        bad_env = dict(env, DOJO_REGISTRY_PASSWORD=auth_registry.password + "-wrong")
        secrets.append(auth_registry.password + "-wrong")
        bad = subprocess.run(argv, cwd=root, env=bad_env, capture_output=True, text=True,
                             timeout=300, check=False)
    finally:
        done.set()
        watcher.join()
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1
    assert seen == []
    logs = ok.stdout + ok.stderr + bad.stdout + bad.stderr
    logs += (tmp_path / "out").read_text() + (tmp_path / "summary").read_text()
    for secret in secrets:
        assert secret not in logs
    assert "step=release" in ok.stderr
    assert "step=push" in ok.stderr


def test_prerelease_gets_a_prerelease_and_leaves_latest(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "2.0.0-rc.1", ("2.0.0-rc.1",))
    image = archive(tmp_path, unique_name("rc"), "2.0.0-rc.1")
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="tag", ref_name="v2.0.0-rc.1",
                repository=github_api.repository)
    github_env(monkeypatch, github_api)
    github_api.set_ref("tags/v2.0.0-rc.1", SHA_A)
    code, _out, err = publish(
        local_argv(image, oci_registry, repo), capsys, root, monkeypatch,
    )
    assert code == 0, err
    # The image tag is the normalised version; the Release stays on the tag as pushed.
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "v2.0.0rc1"])
    [created] = github_api.releases
    assert created["tag_name"] == "v2.0.0-rc.1"
    assert created["prerelease"] is True


def test_tag_build_in_actions_needs_the_token_before_pushing(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    image = archive(tmp_path, unique_name("notoken"))
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="tag", ref_name="v1.2.3")
    code, _out, err = publish(
        local_argv(image, oci_registry, repo), capsys, root, monkeypatch,
    )
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "GITHUB_TOKEN" in line
    assert "contents: write" in line
    assert oci_registry.tags(repo) == []


@pytest.mark.parametrize("content", [b"not a tar at all", b"\x1f\x8b\x08garbage"])
def test_a_file_that_is_not_a_docker_archive_is_refused(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(content)
    code, _out, err = publish(
        ["--image", str(bogus), "--registry", oci_registry.address, "--repository", "o/dojo",
         "--sha", SHA_A], capsys, root, monkeypatch,
    )
    assert code == 1
    [line] = err.strip().splitlines()
    assert "not a docker-archive" in line
    assert str(bogus) in line


def _sharing_images(tmp_path: Path, gz: bool) -> tuple[Archive, Archive]:
    """Two images of four layers, the second's top layer changed."""
    seed = unique_name("seed")
    base = [{f"l{i}/data": f"{seed} layer {i}\n".encode() * 200} for i in range(4)]
    suffix = ".tar.gz" if gz else ".tar"
    labels = {LABEL: "1.2.3"}
    first = make_archive(tmp_path / f"first{suffix}", layers=base, labels=labels, compress=gz)
    second = make_archive(tmp_path / f"second{suffix}", layers=[*base[:3], {"top": seed.encode()}],
                          labels=labels, compress=gz)
    return first, second


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_the_daemon_is_sent_only_the_layers_it_lacks(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gz: bool,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    first, second = _sharing_images(tmp_path, gz)
    repo = f"{unique_name('owner')}/dojo"
    code, _, err = publish([*local_argv(first, oci_registry, repo), "--sha", SHA_A], capsys,
                           root, monkeypatch)
    assert code == 0, err
    [preload] = steps(err, "preload")  # no image of the repository: the file, while it is read
    assert (preload["daemon_has"], preload["reason"]) == ("0", "no image of the repository")
    code, _, err = publish([*local_argv(second, oci_registry, repo), "--sha", SHA_B], capsys,
                           root, monkeypatch)
    assert code == 0, err
    [preload] = steps(err, "preload")
    assert (preload["daemon_has"], preload["sent"], preload["status"]) == ("3", "1", "ok")
    assert oci_registry.config_digest(repo, SHA_B[:12]) == second.image_id
    # The daemon holds the whole image: the three layers it had, and the one it was sent.
    client = docker.DockerClient(base_url=docker_env.host)
    try:
        assert client.images.get(second.image_id).attrs["RootFS"]["Layers"] == list(
            second.diff_ids)
    finally:
        client.close()


def test_a_daemon_that_lost_the_layers_it_named_gets_the_whole_archive(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An image pruned between the daemon's answer and the load: the short archive is refused,
    the whole one loaded, and the push goes on."""
    root = write_project(tmp_path / "proj", "1.2.3")
    _first, second = _sharing_images(tmp_path, gz=True)
    monkeypatch.setattr(Engine, "layer_chains", lambda self, repo: [second.diff_ids[:3]])
    repo = f"{unique_name('owner')}/dojo"
    code, _, err = publish([*local_argv(second, oci_registry, repo), "--sha", SHA_B], capsys,
                           root, monkeypatch)
    assert code == 0, err
    refused, whole = steps(err, "preload")
    assert (refused["daemon_has"], refused["status"]) == ("3", "refused")
    assert refused["then"] == "loading the whole archive"
    assert (whole["sent"], whole["status"]) == ("4", "ok")
    assert oci_registry.config_digest(repo, SHA_B[:12]) == second.image_id
