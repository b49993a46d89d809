"""`publish` under races and misconfiguration, against the real daemon and registry:
the credential scope, registry values, tags that cannot be OCI tags, tags pushed by another run
between planning and pushing, and `latest` converging on the highest release."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from release.apps.publish.context import Options, detect, registry_credentials
from release.apps.publish.execute import execute
from release.apps.publish.plan import plan_publish
from release.errors import DojoError
from release.shell.image import Engine
from release.shell.oci.archive import read_archive
from release.shell.registry import Credentials, RegistryClient
from tests.support.containers import Daemon, FaultProxy, Registry, unique_name
from tests.support.projects import project_at
from tests.test_publish import (
    SHA_A,
    SHA_B,
    actions_env,
    archive,
    local_argv,
    publish,
    steps,
    tag_build,
    write_project,
)

pytestmark = pytest.mark.docker


@pytest.fixture
def recording_proxy(oci_registry: Registry) -> Iterator[FaultProxy]:
    host, port = oci_registry.address.split(":")
    proxy = FaultProxy(upstream=(host, int(port))).start()
    yield proxy
    proxy.stop()


@pytest.mark.parametrize(
    ("env", "registry", "expected"),
    [
        ({"GITHUB_ACTOR": "bot", "GITHUB_TOKEN": "ghs_x"}, "ghcr.io",
         (Credentials("bot", "ghs_x"), "GITHUB_TOKEN")),
        ({"GITHUB_ACTOR": "bot", "GITHUB_TOKEN": "ghs_x"}, "registry.example", (None, "anonymous")),
        ({"GITHUB_ACTOR": "bot", "GITHUB_TOKEN": "ghs_x", "DOJO_REGISTRY_USER": "me",
          "DOJO_REGISTRY_PASSWORD": "pw"}, "registry.example",
         (Credentials("me", "pw"), "DOJO_REGISTRY_USER")),
        ({}, "ghcr.io", (None, "anonymous")),
    ],
    ids=["ghcr-gets-the-token", "elsewhere-anonymous", "own-credentials", "none"],
)
def test_the_github_token_goes_to_ghcr_only(
    env: dict[str, str], registry: str, expected: tuple[Credentials | None, str]
) -> None:
    assert registry_credentials(env, registry) == expected


def test_a_workflow_token_never_reaches_another_registry(
    docker_env: Daemon,
    recording_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("scope"))
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master")
    token = "ghs_" + "t0ken" * 8
    monkeypatch.setenv("GITHUB_ACTOR", "someone")
    monkeypatch.setenv("GITHUB_TOKEN", token)
    repo = f"{unique_name('owner')}/dojo"
    code, out, err = publish(local_argv(image, recording_proxy, repo), capsys, root, monkeypatch)
    assert code == 0, err
    assert steps(err, "credentials") == [
        {"step": "credentials", "registry": recording_proxy.address, "source": "anonymous"}
    ]
    heads = b"\n".join(recording_proxy.heads_seen)
    assert b"PUT /v2/" in heads  # the daemon's pushes went through the proxy too
    assert b"authorization:" not in heads.lower()
    assert token not in out + err


@pytest.mark.parametrize(
    ("flag", "where", "needle"),
    [
        ("--registry", "bob:s3cr3t-pass@127.0.0.1:5000", "holds credentials"),
        ("--registry", "", "is empty"),
        ("--registry", "https://127.0.0.1:5000/v2", "is not a registry host"),
        ("config", "bob:s3cr3t-pass@127.0.0.1:5000", "[tool.release] registry holds credentials"),
        ("--version", "v1.2.3+build.1", "cannot be an image tag"),
    ],
    ids=["userinfo", "empty", "url", "userinfo-in-pyproject", "build-metadata"],
)
def test_bad_registry_values_and_tags_are_refused_before_anything(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    where: str,
    needle: str,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    image = archive(tmp_path, unique_name("bad"))
    repo = f"{unique_name('owner')}/dojo"
    argv = ["--image", str(image.path), "--repository", repo, "--sha", SHA_A]
    if flag == "config":
        with (root / "pyproject.toml").open("a") as handle:
            handle.write(f'registry = "{where}"\n')
    elif flag == "--version":
        argv += ["--registry", oci_registry.address, "--version", where]
    else:
        argv += [flag, where]
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert needle in line
    assert "s3cr3t" not in line
    assert oci_registry.tags(repo) == []


def test_a_sha_tag_pushed_by_another_run_after_planning_is_not_moved(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    mine = archive(tmp_path, unique_name("mine"))
    theirs = archive(tmp_path, unique_name("theirs"))
    repo = f"{unique_name('owner')}/dojo"
    monkeypatch.chdir(root)
    options = Options(image=mine.path, sha=SHA_A, registry=oci_registry.address, repository=repo)
    ctx = detect(options, {}, root, project_at(root).settings)
    registry = RegistryClient(ctx.registry, ctx.repository, None)
    plan = plan_publish(ctx, read_archive(mine.path), registry, None)
    # Another run publishes a different image for the same commit meanwhile.
    code, _out, err = publish(local_argv(theirs, oci_registry, repo, "--sha", SHA_A), capsys,
                              root, monkeypatch)
    assert code == 0, err
    with pytest.raises(DojoError, match="appeared while publishing") as caught:
        execute(plan, Engine, registry)
    registry.close()
    assert "pushed so far: nothing" in str(caught.value)
    assert oci_registry.config_digest(repo, SHA_A[:12]) == theirs.image_id


def test_latest_converges_on_the_highest_release_whatever_the_order(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    new_root = write_project(tmp_path / "new", "2.0.0", ("2.0.0",))
    old_root = write_project(tmp_path / "old", "1.4.1", ("1.4.1",))
    new = archive(tmp_path, unique_name("new"), "2.0.0")
    old = archive(tmp_path, unique_name("old"), "1.4.1")
    # The backport planned while 2.0.0 was not out yet: it means to move `latest`.
    monkeypatch.chdir(old_root)
    options = Options(image=old.path, sha=SHA_B, version="v1.4.1",
                      registry=oci_registry.address, repository=repo)
    ctx = detect(options, {}, old_root, project_at(old_root).settings)
    registry = RegistryClient(ctx.registry, ctx.repository, None)
    backport = plan_publish(ctx, read_archive(old.path), registry, None)
    assert "latest" in [step.tag for step in backport.tags]
    # 2.0.0 is published meanwhile, then the backport's push runs.
    code, _out, err = tag_build("v2.0.0", SHA_A, new, oci_registry, repo, new_root, capsys,
                                monkeypatch)
    assert code == 0, err
    execute(backport, Engine, registry)
    assert oci_registry.config_digest(repo, "latest") == new.image_id
    assert "was published meanwhile" in capsys.readouterr().err
    # A `latest` left on the backport by a run that lost the race is moved back by the next run.
    found = registry.manifest("v1.4.1")
    assert found is not None
    registry.put_manifest("latest", *found)
    assert oci_registry.config_digest(repo, "latest") == old.image_id
    code, _out, err = tag_build("v1.4.1", SHA_B, old, oci_registry, repo, old_root, capsys,
                                monkeypatch)
    registry.close()
    assert code == 0, err
    assert oci_registry.config_digest(repo, "latest") == new.image_id
    [moved] = steps(err, "latest")
    assert (moved["status"], moved["release"]) == ("moved", "v2.0.0")
    assert os.environ.get("GITHUB_TOKEN") is None
