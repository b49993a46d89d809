"""`publish` and GitHub: the Release's repository, tag and commit, checked before anything is
pushed. A real registry, real git clones; only GitHub's API is the fake (tests.support.github_fake).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
import requests

from tests.support.containers import DOCKER_TOOLS, Daemon, Registry, unique_name
from tests.support.github_fake import FakeGitHub
from tests.support.tools import require_tool
from tests.test_publish import archive, github_env, local_argv, publish, steps, write_project

pytestmark = pytest.mark.docker

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool(*DOCKER_TOOLS)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def clone_with_tags(root: Path, version: str, tags: list[str], remote: str) -> list[str]:
    """A clone of `write_project(root, version)` with one commit per tag (annotated, as
    `release` makes them), the last at HEAD; returns the commits."""
    write_project(root, version, (version,))
    pygit2.init_repository(str(root), initial_head="master")
    _git(root, "remote", "add", "origin", remote)
    commits = []
    for tag in tags:
        (root / "notes.txt").write_text(tag)
        _git(root, "add", "-A")
        _git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", tag)
        _git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "tag", "-am", tag, tag)
        commits.append(_git(root, "rev-parse", "HEAD"))
    return commits


def copy_tag(registry: Registry, repository: str, source: str, target: str) -> None:
    base = f"{registry.url()}/v2/{repository}/manifests"
    got = requests.get(f"{base}/{source}", headers={"Accept": MANIFEST}, timeout=10)
    got.raise_for_status()
    put = requests.put(f"{base}/{target}", data=got.content,
                       headers={"Content-Type": MANIFEST}, timeout=10)
    put.raise_for_status()


def test_a_version_flag_in_a_project_with_plain_tags_publishes_the_plain_tag(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--version 2.4.0` with `2.3.0`-style tags: the image tag, `latest`, the Release's tag and
    commit all follow the project's own format; the GitHub repository comes from the remote,
    not from the image path."""
    root = tmp_path / "proj"
    old, head = clone_with_tags(root, "2.4.0", ["2.3.0", "2.4.0"],
                                f"git@github.com:{github_api.repository}.git")
    for tag, commit in (("2.3.0", old), ("2.4.0", head)):
        github_api.set_ref(f"tags/{tag}", commit)
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("plain"), "2.4.0")
    repo = f"{unique_name('me')}/dojo-image"  # the image path: not the GitHub repository
    # A stray `v9.0.0` from another era of the registry is no release in this format.
    code, _out, err = publish([*local_argv(image, oci_registry, repo), "--sha", old], capsys,
                              root, monkeypatch)
    assert code == 0, err
    copy_tag(oci_registry, repo, old[:12], "v9.0.0")

    code, _out, err = publish([*local_argv(image, oci_registry, repo), "--version", "2.4.0"],
                              capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([old[:12], head[:12], "2.4.0", "latest", "v9.0.0"])
    assert oci_registry.config_digest(repo, "latest") == image.image_id
    [created] = github_api.releases
    assert created["tag_name"] == "2.4.0"
    assert created["target_commitish"] == head
    assert steps(err, "release")[0]["status"] == "created"
    assert not github_api.find("v2.4.0")


@pytest.mark.parametrize("case", ["missing", "elsewhere"])
def test_a_release_tag_github_lacks_or_that_names_another_commit_stops_before_any_push(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    if case == "elsewhere":
        github_api.set_ref("tags/v1.2.3", "f" * 40, annotated=True)
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("notag"))
    repo = f"{unique_name('me')}/dojo"
    code, out, err = publish([*local_argv(image, oci_registry, repo), "--version", "1.2.3"],
                             capsys, root, monkeypatch)
    assert code == 1
    assert out == ""
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    if case == "missing":
        assert "tag v1.2.3 is not in octo-org/dojo on GitHub: push it first" in line
    else:
        assert f"names commit ffffffffffff, but this build is commit {head[:12]}" in line
    assert oci_registry.tags(repo) == []
    assert github_api.writes == []


def test_a_token_that_may_not_write_releases_stops_before_any_push(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`permissions: contents: read`: GitHub's repository answer says so (permissions.push is
    false), and publish stops before the first image tag, `latest` included, is pushed."""
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    github_api.contents_permission = "read"
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("perm"))
    repo = f"{unique_name('me')}/dojo"
    code, _out, err = publish([*local_argv(image, oci_registry, repo), "--version", "v1.2.3"],
                              capsys, root, monkeypatch)
    assert code == 1
    assert "permissions: contents: write" in err
    assert steps(err, "push") == []
    assert oci_registry.tags(repo) == []
    assert github_api.writes == []


def test_a_local_tag_that_names_another_commit_is_refused(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`publish --version 1.2.3` with HEAD past the tag: the image is not the release's."""
    root = tmp_path / "proj"
    [tagged] = clone_with_tags(root, "1.2.3", ["v1.2.3"], "https://example.com/o/r.git")
    (root / "later.txt").write_text("later")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "later")
    image = archive(tmp_path, unique_name("later"))
    repo = f"{unique_name('me')}/dojo"
    code, _out, err = publish([*local_argv(image, oci_registry, repo), "--version", "1.2.3"],
                              capsys, root, monkeypatch)
    assert code == 1
    assert f"tag v1.2.3 names commit {tagged[:12]}" in err
    assert oci_registry.tags(repo) == []


def test_the_github_repository_has_a_flag_of_its_own(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], "https://git.example.com/mirror.git")
    github_api.set_ref("tags/v1.2.3", head)
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("flag"))
    repo = f"{unique_name('me')}/dojo"
    argv = [*local_argv(image, oci_registry, repo), "--version", "1.2.3"]
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 1  # the remote names no owner/name: the Release has no repository
    assert "--github-repository" in err
    assert oci_registry.tags(repo) == []
    code, _out, err = publish([*argv, "--github-repository", github_api.repository], capsys,
                              root, monkeypatch)
    assert code == 0, err
    assert [r["tag_name"] for r in github_api.releases] == ["v1.2.3"]


def test_release_assets_go_up_through_a_draft_and_a_failed_upload_is_resumed(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--asset` and `--sbom` on a tag build: a draft, every asset uploaded, then published;
    an upload that fails leaves the draft, and the re-run uploads only what it lacks."""
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    github_env(monkeypatch, github_api)
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}\n')
    notes = tmp_path / "checksums.txt"
    notes.write_text("abc  dojo.tar\n")
    image = archive(tmp_path, unique_name("assets"))
    repo = f"{unique_name('me')}/dojo"
    argv = [*local_argv(image, oci_registry, repo), "--version", "1.2.3",
            "--asset", str(notes), "--sbom", str(sbom)]
    # The draft is made, the first upload lands, the second is refused: the run fails there.
    github_api.before_next("POST", lambda f: f.before_next(
        "POST", lambda g: g.before_next("POST", lambda h: h.fail_next(422, message="Bad asset"))))
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 1
    [draft] = github_api.find("v1.2.3")
    assert draft["draft"] is True
    assert [a["name"] for a in draft["assets"]] == ["checksums.txt"]

    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    [release] = github_api.find("v1.2.3")
    assert release["draft"] is False
    assert sorted(a["name"] for a in release["assets"]) == ["checksums.txt", "sbom.cdx.json"]
    uploads = [u for u in github_api.urls if u.startswith("/uploads/")]
    assert len(uploads) == 3  # checksums, the refused sbom, the sbom again; never checksums twice
    assert steps(err, "release")[0]["uploaded"] == "1"


def test_an_asset_that_is_not_a_file_stops_before_any_push(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("noasset"))
    repo = f"{unique_name('me')}/dojo"
    code, out, err = publish([*local_argv(image, oci_registry, repo), "--version", "1.2.3",
                              "--asset", str(tmp_path)], capsys, root, monkeypatch)
    assert code == 1
    assert out == ""
    assert "is not a regular file" in err
    assert oci_registry.tags(repo) == []
    assert github_api.writes == []


# -- the draft -> upload -> publish sequence, the real `publish` process killed at each step ------

# (the request held unanswered while the process is killed, the matching requests let through
# first, whether GitHub made the change before the kill, the draft state GitHub is left in:
# the number of assets and whether it is published).
CRASHES = {
    "while creating the draft, created": ("POST", "/repos/", 0, True, 0, False),
    "after the draft is made": ("POST", "/uploads/", 0, False, 0, False),
    "after the first upload": ("POST", "/uploads/", 1, False, 1, False),
    "with the second upload landed": ("POST", "/uploads/", 1, True, 2, False),
    "before the publish": ("PATCH", "/repos/", 0, False, 2, False),
    "after the publish": ("PATCH", "/repos/", 0, True, 2, True),
}


def publish_process(argv: list[str], cwd: Path, api: FakeGitHub) -> subprocess.Popen[str]:
    """`publish ARGV` as its own process (PYTHONPATH, hence this tree, is inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOCKER_"))}
    env |= {"GITHUB_TOKEN": api.token, "GITHUB_API_URL": api.url}
    return subprocess.Popen(
        [sys.executable, "-m", "release.apps.publish.cli", *argv], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_publish_killed_at_any_step_of_the_release_assets_is_finished_by_the_rerun(
    oci_registry: Registry, github_api: FakeGitHub, tmp_path: Path, crash: str
) -> None:
    """SIGKILL of the real process while GitHub holds one request of the sequence (answered
    nothing, the change made or not), then a rerun: one release, published, every asset once
    with its bytes, the changelog's body, the tag's commit as target."""
    method, path, skip, effect, assets_left, published = CRASHES[crash]
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    files = {}
    for name, data in (("checksums.txt", b"abc  dojo.tar\n"), ("dojo.cdx.json", b"{}\n" * 300)):
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    image = archive(tmp_path, unique_name("crash"))
    repo = f"{unique_name('me')}/dojo"
    argv = [*local_argv(image, oci_registry, repo), "--via", "registry", "--version", "1.2.3"]
    for file in files.values():
        argv += ["--asset", str(file)]

    hold = github_api.hold_next(method, path, effect=effect, skip=skip)
    first = publish_process(argv, root, github_api)
    try:
        arrived = hold.arrived.wait(timeout=90)
        first.kill()
        _out, err = first.communicate(timeout=30)
    finally:
        hold.release.set()
    assert arrived, err
    assert first.returncode == -signal.SIGKILL
    [left] = github_api.releases
    assert (len(left["assets"]), left["draft"]) == (assets_left, not published)

    second = publish_process(argv, root, github_api)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert out.strip().startswith(f"{oci_registry.address}/{repo}@sha256:")
    [release] = github_api.releases
    [create] = [c for c in github_api.writes if c.method == "POST" and c.path.endswith("/releases")]
    assert (release["draft"], release["tag_name"], release["name"]) == (False, "v1.2.3", "v1.2.3")
    assert release["body"] == create.body["body"]
    assert release["body"].strip()
    assert release["target_commitish"] == head
    got = sorted((a["name"], a["state"], a["digest"]) for a in release["assets"])
    assert got == sorted(
        (name, "uploaded", "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest())
        for name, file in files.items()
    )
    assert oci_registry.tags(repo) == sorted([head[:12], "v1.2.3", "latest"])
    [line] = steps(err, "release")
    assert line["status"] == ("unchanged" if published else "created")


def test_sbom_alone_attaches_the_flake_apps_sbom_to_the_image_and_the_release(
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--sbom` with no path (as the release workflow passes it) reads DOJO_SBOM, which the
    flake's publish apps set to `packages.<system>.sbom`: a store path, attached under its name
    without the store hash. Without DOJO_SBOM it is a usage error before anything is pushed."""
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    github_env(monkeypatch, github_api)
    image = archive(tmp_path, unique_name("sbomenv"))
    repo = f"{unique_name('me')}/dojo"
    argv = [*local_argv(image, oci_registry, repo), "--via", "registry", "--version", "1.2.3",
            "--sbom"]
    monkeypatch.delenv("DOJO_SBOM", raising=False)
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert (code, out) == (2, "")
    assert "DOJO_SBOM" in err
    assert "--sbom PATH" in err
    assert oci_registry.tags(repo) == []
    assert github_api.writes == []

    store = tmp_path / "nix" / "store"
    store.mkdir(parents=True)
    sbom = store / "0c6kzph7sbvbq9yxlbqfhrlpz4d4vn2a-dojo-1.2.3-x86_64-linux.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}\n')
    monkeypatch.setenv("DOJO_SBOM", str(sbom))
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    [attached] = steps(err, "sbom")
    assert attached["status"] == "ok"
    [release] = github_api.find("v1.2.3")
    assert [(a["name"], a["size"]) for a in release["assets"]] == [
        ("dojo-1.2.3-x86_64-linux.cdx.json", sbom.stat().st_size)]


def test_a_dry_run_against_a_leftover_draft_prints_what_the_run_would_do(
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A draft an earlier run left with one of two assets: `--dry-run` says it would publish
    that draft and upload the other asset, and changes nothing; the run then does exactly so."""
    root = tmp_path / "proj"
    [head] = clone_with_tags(root, "1.2.3", ["v1.2.3"], f"https://github.com/{github_api.repository}")
    github_api.set_ref("tags/v1.2.3", head)
    github_env(monkeypatch, github_api)
    notes, sums = tmp_path / "notes.txt", tmp_path / "SHA256SUMS"
    notes.write_text("notes\n")
    sums.write_text("abc  dojo.tar\n")
    draft = github_api.add_release("v1.2.3", draft=True, body="old")
    upload = draft["upload_url"].split("{")[0]
    requests.post(upload, params={"name": notes.name}, data=notes.read_bytes(), timeout=10,
                  headers={"Authorization": f"token {github_api.token}",
                           "Content-Type": "application/octet-stream"}).raise_for_status()
    before = len(github_api.writes)
    image = archive(tmp_path, unique_name("drydraft"))
    repo = f"{unique_name('me')}/dojo"
    argv = [*local_argv(image, oci_registry, repo), "--via", "registry", "--version", "1.2.3",
            "--asset", str(notes), "--asset", str(sums)]
    code, out, err = publish([*argv, "--dry-run"], capsys, root, monkeypatch)
    assert code == 0, err
    assert ("release   v1.2.3 would be created (publish the draft an earlier run left with "
            "this title and body; upload SHA256SUMS)") in out
    assert len(github_api.writes) == before
    assert oci_registry.tags(repo) == []

    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    [release] = github_api.find("v1.2.3")
    assert release["id"] == draft["id"]
    assert release["draft"] is False
    assert release["body"] != "old"
    assert sorted(a["name"] for a in release["assets"]) == ["SHA256SUMS", "notes.txt"]
    uploads = [c for c in github_api.writes[before:] if c.path.startswith("/uploads/")]
    assert len(uploads) == 1
