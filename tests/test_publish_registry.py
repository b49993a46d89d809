"""`publish --via registry`: the daemonless executor, against the real registry (CNCF
distribution) on 127.0.0.1, with no Docker daemon reachable.

The same plan, gate, read-back and retries as the Docker path (tests/test_publish*.py); here
what only this path does: layers the registry already has are found with no local cache
(uploads counted at a loopback proxy in front of the registry), whoever pushed them (this path,
`docker push`, skopeo), and the faults of its own requests (chunk uploads) are survived.
Images it pushes are pulled back by the Docker daemon and by skopeo, both independent readers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from release.apps.publish.context import Options, detect
from release.apps.publish.daemonless import registry_pusher
from release.apps.publish.execute import execute
from release.apps.publish.plan import plan_publish
from release.errors import DojoError
from release.shell.image import Engine
from release.shell.oci.archive import read_image
from release.shell.registry import RegistryClient
from tests.support.containers import (
    Archive,
    Daemon,
    FaultProxy,
    Registry,
    make_archive,
    tiny_layers,
    unique_name,
)
from tests.support.github_fake import FakeGitHub
from tests.support.projects import project_at
from tests.support.tools import require_tool
from tests.test_publish import (
    LABEL,
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
VIA = ("--via", "registry")


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GitHub or registry variables, and a DOCKER_HOST nobody listens on."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "DOJO_", "DOCKER_")) and name != "DOJO_REQUIRE_TOOLS":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")


@pytest.fixture
def counting_proxy(oci_registry: Registry) -> Iterator[FaultProxy]:
    """A loopback proxy in front of the registry: it sees (and may fail) every request."""
    host, port = oci_registry.address.split(":")
    proxy = FaultProxy(upstream=(host, int(port))).start()
    yield proxy
    proxy.stop()


def committed_blobs(proxy: FaultProxy, since: int = 0) -> list[str]:
    """The digests of the blobs committed through the proxy (the PUT ending each upload)."""
    return [
        line.split("digest=", 1)[1].split()[0]
        for line in proxy.requests_seen[since:]
        if line.startswith("PUT ") and "/blobs/uploads/" in line
    ]


def layered(tmp_path: Path, name: str, layers: list[dict[str, bytes]], *, gz: bool) -> Archive:
    return make_archive(
        tmp_path / f"{name}.tar{'.gz' if gz else ''}", layers=layers, compress=gz,
        labels={LABEL: "1.2.3"},
    )


def five_layers(seed: str) -> list[dict[str, bytes]]:
    return [{f"l{i}/f": os.urandom(200_000) + seed.encode() * 1000} for i in range(5)]


def manifest_of(registry: Registry, repo: str, ref: str) -> dict[str, object]:
    resp = requests.get(
        f"{registry.url()}/v2/{repo}/manifests/{ref}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.oci.image.index.v1+json"},
        timeout=10,
    )
    resp.raise_for_status()
    value = resp.json()
    assert isinstance(value, dict)
    return value


# --- the daemonless push -------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_pushes_without_a_daemon_and_docker_pulls_the_same_image(
    no_daemon: None,
    dockerd: Daemon,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gz: bool,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = layered(tmp_path, "img", five_layers(unique_name()), gz=gz)
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                github=github_api)
    argv = local_argv(image, oci_registry, repo, *VIA)
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "staging"])
    digest = oci_registry.digest(repo, SHA_A[:12])
    assert out.strip() == f"{oci_registry.address}/{repo}@{digest}"
    assert oci_registry.config_digest(repo, "staging") == image.image_id
    [blobs] = steps(err, "blobs")
    assert (blobs["layers"], blobs["reused"], blobs["uploaded"]) == ("5", "0", "5")
    manifest = manifest_of(oci_registry, repo, SHA_A[:12])
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    # Each layer blob is a gzip of exactly the archive's layer (its diff_id).
    for layer, diff_id in zip(manifest["layers"], image.diff_ids, strict=True):  # type: ignore[call-overload]
        blob = requests.get(f"{oci_registry.url()}/v2/{repo}/blobs/{layer['digest']}",
                            timeout=10).content
        assert "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest() == diff_id

    # An independent reader: the Docker daemon pulls it and finds the archive's image.
    client = docker.DockerClient(base_url=dockerd.host)
    try:
        pulled = client.images.pull(f"{oci_registry.address}/{repo}", tag=SHA_A[:12])
        assert pulled.id == image.image_id
    finally:
        client.close()

    # Re-run: every tag already names the image; nothing is uploaded.
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert [p["status"] for p in steps(err, "push")] == ["unchanged", "unchanged"]
    assert steps(err, "blobs") == []


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_one_layer_change_uploads_one_layer_with_no_local_cache(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gz: bool,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    base = five_layers(unique_name())
    first = layered(tmp_path, "first", base, gz=gz)
    second = layered(tmp_path, "second", [*base[:3], {"changed": os.urandom(50_000)}, base[4]],
                     gz=gz)
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                github=github_api)
    code, _, err = publish(local_argv(first, counting_proxy, repo, *VIA), capsys, root,
                           monkeypatch)
    assert code == 0, err
    assert len(committed_blobs(counting_proxy)) == 6  # five layers and the config

    # The next commit, from a fresh process with nothing remembered: one layer, one config.
    actions_env(monkeypatch, tmp_path, sha=SHA_B, ref_type="branch", ref_name="master",
                github=github_api)
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(local_argv(second, counting_proxy, repo, *VIA), capsys, root,
                           monkeypatch)
    assert code == 0, err
    layers = manifest_of(oci_registry, repo, SHA_B[:12])["layers"]
    changed = layers[3]["digest"]  # type: ignore[index]
    assert sorted(committed_blobs(counting_proxy, seen)) == sorted([changed, second.image_id])
    [blobs] = steps(err, "blobs")
    assert (blobs["reused"], blobs["uploaded"]) == ("4", "1")
    assert oci_registry.config_digest(repo, "staging") == second.image_id
    first_layers = manifest_of(oci_registry, repo, SHA_A[:12])["layers"]
    assert isinstance(layers, list)
    assert isinstance(first_layers, list)
    assert [x["digest"] for i, x in enumerate(layers) if i != 3] == [
        x["digest"] for i, x in enumerate(first_layers) if i != 3
    ]


@pytest.mark.parametrize("pusher", ["docker", "skopeo"])
def test_layers_pushed_by_other_tools_are_reused(
    dockerd: Daemon,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pusher: str,
) -> None:
    """Blobs compressed by someone else (other digests than ours) are found through their
    manifest and config, never compressed or sent again."""
    require_tool("skopeo")
    root = write_project(tmp_path / "proj", "1.2.3")
    base = five_layers(unique_name())
    first = layered(tmp_path, "first", base, gz=False)
    second = layered(tmp_path, "second", [*base[:4], {"changed": os.urandom(50_000)}], gz=True)
    repo = f"{unique_name('owner')}/dojo"
    ref = f"{oci_registry.address}/{repo}:staging"
    if pusher == "docker":
        env = {**os.environ, **dockerd.env()}
        subprocess.run(["docker", "load", "-q", "-i", str(first.path)], env=env, check=True,
                       capture_output=True)
        subprocess.run(["docker", "tag", first.image_id, ref], env=env, check=True)
        subprocess.run(["docker", "push", "-q", ref], env=env, check=True, capture_output=True)
    else:
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false",
                        f"docker-archive:{first.path}", f"docker://{ref}"],
                       check=True, capture_output=True)
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "DOJO_", "DOCKER_")) and name != "DOJO_REQUIRE_TOOLS":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    actions_env(monkeypatch, tmp_path, sha=SHA_B, ref_type="branch", ref_name="master",
                github=github_api)
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(local_argv(second, counting_proxy, repo, *VIA), capsys, root,
                           monkeypatch)
    assert code == 0, err
    [blobs] = steps(err, "blobs")
    assert (blobs["reused"], blobs["uploaded"]) == ("4", "1")
    assert len(committed_blobs(counting_proxy, seen)) == 2  # the changed layer, the config
    inspected = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"],
        check=True, capture_output=True, text=True,
    )
    assert json.loads(inspected.stdout)["Digest"] == oci_registry.digest(repo, "staging")
    assert oci_registry.config_digest(repo, "staging") == second.image_id


def test_the_docker_path_and_this_one_agree_on_what_is_unchanged(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The plan compares images (config digests), not manifests: a tag pushed by either
    executor is `unchanged` for the other, and an immutable tag elsewhere is refused."""
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    first, second = archive(tmp_path, unique_name("a")), archive(tmp_path, unique_name("b"))
    repo = f"{unique_name('owner')}/dojo"
    code, _, err = tag_build("v1.2.3", SHA_A, first, oci_registry, repo, root, capsys,
                             monkeypatch, *VIA)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "latest", "v1.2.3"])
    before = {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)}
    code, _, err = tag_build("v1.2.3", SHA_B, second, oci_registry, repo, root, capsys,
                             monkeypatch, *VIA)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "--force" in line
    assert second.image_id in line
    assert {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)} == before
    code, _, err = tag_build("v1.2.3", SHA_B, second, oci_registry, repo, root, capsys,
                             monkeypatch, *VIA, "--force")
    assert code == 0, err
    assert oci_registry.config_digest(repo, "v1.2.3") == second.image_id


def test_dry_run_uploads_nothing(
    no_daemon: None,
    counting_proxy: FaultProxy,
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
                github=github_api)
    code, out, err = publish(local_argv(image, counting_proxy, repo, *VIA, "--dry-run"), capsys,
                             root, monkeypatch)
    assert code == 0, err
    assert f"push      {SHA_A[:12]}" in out
    assert not [r for r in counting_proxy.requests_seen if not r.startswith(("GET", "HEAD"))]
    assert oci_registry.tags(repo) == []


def test_a_layer_that_does_not_match_its_diff_id_is_never_committed(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A damaged archive (or one rewritten while publishing): the upload is cancelled before
    its commit, no tag is pushed, the message says what to do."""
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("bad"))
    data = image.path.read_bytes()
    marker = data.find(b" layer 1\n")
    assert marker > 0
    image.path.write_bytes(data[:marker] + b" LAYER 1\n" + data[marker + 9:])
    repo = f"{unique_name('owner')}/dojo"
    code, _out, err = publish(local_argv(image, counting_proxy, repo, *VIA, "--sha", SHA_A),
                              capsys, root, monkeypatch)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "the archive changed while publishing (or is damaged)" in line
    assert str(image.path) in line
    assert oci_registry.tags(repo) == []
    bad_layer = image.diff_ids[1]
    assert not any(bad_layer in r for r in committed_blobs(counting_proxy))
    assert any(r.startswith("DELETE ") for r in counting_proxy.requests_seen)


# --- the fault families of the Docker path, on this one ------------------------------------

@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """64 KiB chunks: a layer of the tests' images takes several PATCH requests."""
    monkeypatch.setattr("release.shell.oci.blobs.CHUNK", 64 << 10)


def test_transient_faults_are_retried_and_uploads_resume(
    no_daemon: None,
    small_chunks: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = layered(tmp_path, "flaky", five_layers(unique_name()), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    proxy = counting_proxy
    proxy.fail_next(503, times=1, match=r"^GET /v2/.*/manifests/")  # the planning read
    proxy.fail_next(0, times=1, match=r"^GET /v2/.*/tags/list")  # a reset
    proxy.fail_next(503, times=1, match=r"^POST /v2/.*/blobs/uploads/")
    proxy.fail_next(503, times=2, match=r"^PATCH ")  # a chunk, resumed
    proxy.fail_next(0, times=1, match=r"^PATCH ")  # a reset mid-upload, resumed
    proxy.fail_next(503, times=1, match=r"^PUT /v2/.*/blobs/uploads/")  # a commit
    proxy.fail_next(503, times=1, match=r"^PUT /v2/.*/manifests/")  # the tag
    code, _out, err = publish(local_argv(image, proxy, repo, *VIA, "--sha", SHA_A), capsys,
                              root, monkeypatch)
    assert code == 0, err
    assert proxy.pending_faults() == 0
    assert proxy.faults_served == 8
    resumed = [r for r in steps(err, "retry") if r.get("resume")]
    assert len(resumed) == 3
    assert any("pushing" in r["what"] for r in steps(err, "retry"))
    assert oci_registry.config_digest(repo, SHA_A[:12]) == image.image_id
    check_pullable(oci_registry, repo, SHA_A[:12], image)


def test_an_upload_session_lost_half_way_starts_the_blob_again(
    no_daemon: None,
    small_chunks: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    for gz in (False, True):
        image = layered(tmp_path, f"lost{gz}", five_layers(unique_name()), gz=gz)
        repo = f"{unique_name('owner')}/dojo"
        counting_proxy.answer_next(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}',
                                   times=1, match=r"^PATCH ")
        code, _out, err = publish(local_argv(image, counting_proxy, repo, *VIA, "--sha", SHA_A),
                                  capsys, root, monkeypatch)
        assert code == 0, err
        [again] = [r for r in steps(err, "retry") if "sending the blob again" in r["reason"]]
        assert "gone" in again["reason"]
        check_pullable(oci_registry, repo, SHA_A[:12], image)


def test_persistent_faults_give_up_after_bounded_attempts(
    no_daemon: None,
    small_chunks: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("down"))
    repo = f"{unique_name('owner')}/dojo"
    counting_proxy.fail_next(502, times=50, match=r"^(PATCH|POST) ")
    code, _out, err = publish(local_argv(image, counting_proxy, repo, *VIA, "--sha", SHA_A),
                              capsys, root, monkeypatch)
    assert code == 1
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "failed 4 times in a row" in line
    assert "HTTP 502" in line
    assert oci_registry.tags(repo) == []


def test_wrong_credentials_fail_with_a_clear_message_and_never_leak(
    no_daemon: None,
    auth_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("auth"), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    argv = local_argv(image, auth_registry, repo, *VIA, "--sha", SHA_A)
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

    # Right ones, in a process of its own: the password is in no argv and no output.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOJO_"))}
    env.update({"DOJO_REGISTRY_USER": auth_registry.user,
                "DOJO_REGISTRY_PASSWORD": auth_registry.password,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    proc = subprocess.Popen([sys.executable, "-m", "release.apps.publish.cli", *argv], cwd=root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    argvs = []
    while proc.poll() is None:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argvs.append(cmdline.read_bytes().decode(errors="replace"))
            except OSError:
                continue
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert not [a for a in argvs if auth_registry.password in a]
    assert auth_registry.password not in out + err
    assert auth_registry.tags(repo) == [SHA_A[:12]]


def test_not_a_docker_archive_and_the_gate_refuse_before_anything_is_sent(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.4", ("1.2.2",))
    repo = f"{unique_name('owner')}/dojo"
    for content in (b"not a tar at all", b"\x1f\x8b\x08garbage"):
        bogus = tmp_path / "bogus.tar"
        bogus.write_bytes(content)
        code, _out, err = publish(
            ["--image", str(bogus), "--registry", counting_proxy.address, "--repository", repo,
             "--sha", SHA_A, *VIA], capsys, root, monkeypatch,
        )
        assert code == 1
        [line] = err.strip().splitlines()
        assert "not a docker-archive" in line
    image = archive(tmp_path, unique_name("gate"), "1.2.2")
    code, _out, err = tag_build("v1.2.3", SHA_A, image, counting_proxy, repo, root, capsys,  # type: ignore[arg-type]
                                monkeypatch, *VIA)
    assert code == 1
    assert "pyproject.toml version=1.2.4" in err
    assert not [r for r in counting_proxy.requests_seen if not r.startswith(("GET", "HEAD"))]


def test_a_sha_tag_pushed_by_another_run_after_planning_is_not_moved(
    no_daemon: None,
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
    image = read_image(mine.path)
    plan = plan_publish(ctx, image.summary, registry, None)
    code, _out, err = publish(local_argv(theirs, oci_registry, repo, "--sha", SHA_A, *VIA),
                              capsys, root, monkeypatch)
    assert code == 0, err
    with pytest.raises(DojoError, match="appeared while publishing") as caught:
        execute(plan, Engine, registry, via=registry_pusher(plan, [image], registry))
    registry.close()
    assert "pushed so far: nothing" in str(caught.value)
    assert oci_registry.config_digest(repo, SHA_A[:12]) == theirs.image_id


def check_pullable(registry: Registry, repo: str, tag: str, image: Archive) -> None:
    """skopeo, an independent client, copies the pushed image back to a docker-archive with
    the archive's config and layers."""
    require_tool("skopeo")
    out = registry.root / f"pulled-{unique_name()}.tar"
    subprocess.run(["skopeo", "copy", "--src-tls-verify=false",
                    f"docker://{registry.address}/{repo}:{tag}", f"docker-archive:{out}"],
                   check=True, capture_output=True)
    pulled = read_image(out)
    assert pulled.image_id == image.image_id
    assert [layer.diff_id for layer in pulled.layers] == list(image.diff_ids)


# --- several platforms: one OCI index ------------------------------------------------------

SOURCE = "org.opencontainers.image.source"


def platform_archive(tmp_path: Path, arch: str, seed: str, *, gz: bool,
                     version: str = "1.2.3") -> Archive:
    return make_archive(
        tmp_path / f"{arch}-{seed}.tar{'.gz' if gz else ''}", layers=tiny_layers(seed + arch),
        compress=gz, architecture=arch,
        labels={LABEL: version, SOURCE: "https://github.com/octo-org/dojo",
                "org.opencontainers.image.revision": SHA_A,
                "org.opencontainers.image.description": "Dojo's release pipeline",
                "org.opencontainers.image.title": "dojo"},
    )


def skopeo_inspect(*args: str) -> dict[str, object]:
    require_tool("skopeo")
    done = subprocess.run(["skopeo", "inspect", "--tls-verify=false", *args], check=True,
                          capture_output=True, text=True)
    value = json.loads(done.stdout)
    assert isinstance(value, dict)
    return value


def check_index(
    registry: Registry, repo: str, tag: str, images: dict[str, Archive]
) -> dict[str, str]:
    """skopeo reads an OCI index under `tag` with the annotations and, per architecture, the
    archive's own image; returns architecture -> manifest digest."""
    ref = f"docker://{registry.address}/{repo}:{tag}"
    index = skopeo_inspect("--raw", ref)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert index["annotations"] == {
        LABEL: "1.2.3", SOURCE: "https://github.com/octo-org/dojo",
        "org.opencontainers.image.revision": SHA_A,
        "org.opencontainers.image.description": "Dojo's release pipeline",
    }
    for arch, image in images.items():
        one = skopeo_inspect("--override-arch", arch, "--override-os", "linux", ref)
        assert one["Architecture"] == arch
        config = skopeo_inspect("--config", "--override-arch", arch, "--override-os", "linux",
                                ref)
        assert config["rootfs"]["diff_ids"] == list(image.diff_ids)  # type: ignore[index]
    entries: Any = index["manifests"]
    return {e["platform"]["architecture"]: e["digest"] for e in entries}


def test_two_platforms_make_one_index_with_annotations(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    seed = unique_name()
    amd64 = platform_archive(tmp_path, "amd64", seed, gz=False)
    arm64 = platform_archive(tmp_path, "arm64", seed, gz=True)
    repo = f"{unique_name('owner')}/dojo"
    argv = ["--image", str(amd64.path), "--image", str(arm64.path), "--registry",
            oci_registry.address, "--repository", repo, "--sha", SHA_A, "--version", "v1.2.3",
            *VIA]
    code, out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "latest", "v1.2.3"])
    entries = check_index(oci_registry, repo, "v1.2.3", {"amd64": amd64, "arm64": arm64})
    assert sorted(entries) == ["amd64", "arm64"]
    digest = oci_registry.digest(repo, "v1.2.3")
    assert out.strip() == f"{oci_registry.address}/{repo}@{digest}"
    assert {oci_registry.digest(repo, t) for t in (SHA_A[:12], "latest")} == {digest}
    assert [m["platform"] for m in steps(err, "manifest")] == ["linux/amd64", "linux/arm64"]

    # Re-run: the index under each tag is recognised as this build's; nothing is pushed.
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert {p["status"] for p in steps(err, "push")} == {"unchanged"}
    # Another build's index under the version tag is refused like another image.
    other = platform_archive(tmp_path, "arm64", unique_name(), gz=False)
    code, _out, err = publish([*argv[:2], "--image", str(other.path), *argv[4:]], capsys, root,
                              monkeypatch)
    assert code == 1
    assert "refusing to move immutable tags" in err
    assert oci_registry.digest(repo, "v1.2.3") == digest


def test_several_archives_are_refused_unless_they_make_one_index(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    seed = unique_name()
    amd64 = platform_archive(tmp_path, "amd64", seed, gz=False)
    again = platform_archive(tmp_path, "amd64", seed + "x", gz=False)
    older = platform_archive(tmp_path, "arm64", seed, gz=False, version="1.2.2")
    repo = f"{unique_name('owner')}/dojo"
    base = ["--registry", oci_registry.address, "--repository", repo, "--sha", SHA_A]
    cases = [
        ([str(amd64.path), str(older.path)], (), 2, "only --via registry"),
        ([str(amd64.path), str(again.path)], VIA, 2, "are both linux/amd64 images"),
        ([str(amd64.path), str(older.path)], VIA, 1, "disagree on " + LABEL),
    ]
    for paths, via, expected, needle in cases:
        images = [x for p in paths for x in ("--image", p)]
        code, out, err = publish([*images, *base, *via], capsys, root, monkeypatch)
        assert (code, out) == (expected, ""), err
        [line] = [x for x in err.splitlines() if not x.startswith("step=")]
        assert needle in line
    assert oci_registry.tags(repo) == []


# --- the SBOM, attached to the image -------------------------------------------------------


def test_the_sbom_is_attached_to_the_pushed_image(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CNCF distribution has no referrers API: the artifact is listed under the fallback tag
    `sha256-<hex>`, which a re-run leaves as it is and another artifact's push extends."""
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("sbom"), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    sbom = tmp_path / "dojo.cdx.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}))
    argv = local_argv(image, oci_registry, repo, *VIA, "--sha", SHA_A, "--sbom", str(sbom))
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    digest = oci_registry.digest(repo, SHA_A[:12])
    assert digest is not None
    fallback = digest.replace(":", "-")
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], fallback])
    [attached] = steps(err, "sbom")
    assert (attached["subject"], attached["via"]) == (digest, fallback)
    index = skopeo_inspect("--raw", f"docker://{oci_registry.address}/{repo}:{fallback}")
    entries: Any = index["manifests"]
    [entry] = entries
    assert entry["artifactType"] == "application/vnd.cyclonedx+json"
    assert entry["digest"] == attached["digest"]
    artifact: Any = manifest_of(oci_registry, repo, entry["digest"])
    assert artifact["subject"]["digest"] == digest
    [layer] = artifact["layers"]
    blob = requests.get(f"{oci_registry.url()}/v2/{repo}/blobs/{layer['digest']}", timeout=10)
    assert blob.content == sbom.read_bytes()

    # Re-run: nothing changes; an artifact another tool attached meanwhile stays listed.
    code, _out, err = publish(argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert steps(err, "referrers")[0]["status"] == "unchanged"
    other = tmp_path / "other.cdx.json"
    other.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 2}))
    code, _out, err = publish([*argv[:-1], str(other)], capsys, root, monkeypatch)
    assert code == 0, err
    index = skopeo_inspect("--raw", f"docker://{oci_registry.address}/{repo}:{fallback}")
    assert len(index["manifests"]) == 2  # type: ignore[arg-type]
    assert oci_registry.digest(repo, SHA_A[:12]) == digest  # the image itself never moved


def test_an_sbom_that_is_not_cyclonedx_is_refused_before_anything_is_pushed(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = archive(tmp_path, unique_name("nosbom"))
    repo = f"{unique_name('owner')}/dojo"
    for content in (b"{}", b"\xff\xfe not text", b'{"spdxVersion": "SPDX-2.3"}'):
        bad = tmp_path / "bad.json"
        bad.write_bytes(content)
        code, out, err = publish(
            local_argv(image, oci_registry, repo, *VIA, "--sha", SHA_A, "--sbom", str(bad)),
            capsys, root, monkeypatch,
        )
        assert (code, out) == (2, "")
        [line] = err.strip().splitlines()
        assert "--sbom" in line
    assert oci_registry.tags(repo) == []


# --- one runner per platform: --platform-only, then --from-platform-tags -------------------


def test_each_platform_pushes_its_own_tag_and_the_last_job_publishes_the_index(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    seed = unique_name()
    amd64 = platform_archive(tmp_path, "amd64", seed, gz=False)
    arm64 = platform_archive(tmp_path, "arm64", seed, gz=True)
    repo = f"{unique_name('owner')}/dojo"
    base = ["--registry", oci_registry.address, "--repository", repo, "--sha", SHA_A,
            "--version", "v1.2.3", *VIA]
    per_platform = {}
    for arch, image in (("amd64", amd64), ("arm64", arm64)):
        code, out, err = publish(["--image", str(image.path), "--platform-only", *base], capsys,
                                 root, monkeypatch)
        assert code == 0, err
        tag = f"{SHA_A[:12]}-linux-{arch}"
        per_platform[arch] = oci_registry.digest(repo, tag)
        assert out.strip() == f"{oci_registry.address}/{repo}@{per_platform[arch]}"
        assert oci_registry.config_digest(repo, tag) == image.image_id
        assert [p["tag"] for p in steps(err, "push")] == [tag]
        assert not steps(err, "release")
    # No release tag, no `latest`, no Release: only the two per-platform tags.
    assert oci_registry.tags(repo) == sorted(f"{SHA_A[:12]}-linux-{a}" for a in per_platform)

    index_argv = ["--from-platform-tags", "linux/amd64,linux/arm64", *base]
    code, out, err = publish(index_argv, capsys, root, monkeypatch)
    assert code == 0, err
    assert set(oci_registry.tags(repo)) == {
        SHA_A[:12], "v1.2.3", "latest", *(f"{SHA_A[:12]}-linux-{a}" for a in per_platform)
    }
    entries = check_index(oci_registry, repo, "v1.2.3", {"amd64": amd64, "arm64": arm64})
    assert entries == per_platform  # the index names the per-platform images themselves
    digest = oci_registry.digest(repo, "v1.2.3")
    assert out.strip() == f"{oci_registry.address}/{repo}@{digest}"
    assert {oci_registry.digest(repo, t) for t in (SHA_A[:12], "latest")} == {digest}

    # The same index as `--image amd64 --image arm64` in one run would give: a re-run of
    # either path is unchanged, and so is a re-run of every job.
    code, _out, err = publish(["--image", str(amd64.path), "--image", str(arm64.path), *base],
                              capsys, root, monkeypatch)
    assert code == 0, err
    assert {p["status"] for p in steps(err, "push")} == {"unchanged"}
    for argv in (["--image", str(arm64.path), "--platform-only", *base], index_argv):
        code, _out, err = publish(argv, capsys, root, monkeypatch)
        assert code == 0, err
        assert {p["status"] for p in steps(err, "push")} == {"unchanged"}
    assert oci_registry.digest(repo, "v1.2.3") == digest


def test_the_index_job_refuses_a_missing_or_foreign_platform_image_and_tags_never_move(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    seed = unique_name()
    amd64 = platform_archive(tmp_path, "amd64", seed, gz=False)
    repo = f"{unique_name('owner')}/dojo"
    base = ["--registry", oci_registry.address, "--repository", repo, "--sha", SHA_A, *VIA]
    code, _out, err = publish(["--image", str(amd64.path), "--platform-only", *base], capsys,
                              root, monkeypatch)
    assert code == 0, err
    amd64_tag = f"{SHA_A[:12]}-linux-amd64"
    pushed = oci_registry.digest(repo, amd64_tag)

    def refused(argv: list[str], needle: str, expected: int = 1) -> None:
        before = {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)}
        code, out, err = publish(argv, capsys, root, monkeypatch)
        assert (code, out) == (expected, ""), err
        [line] = [x for x in err.splitlines() if not x.startswith("step=")]
        assert needle in line
        assert {t: oci_registry.digest(repo, t) for t in oci_registry.tags(repo)} == before

    index = ["--from-platform-tags", "linux/amd64,linux/arm64", *base]
    refused(index, f"{repo}:{SHA_A[:12]}-linux-arm64 is missing")
    # An arm64 image of another commit under this commit's arm64 tag.
    foreign = make_archive(
        tmp_path / "foreign.tar", layers=tiny_layers(seed + "foreign"), architecture="arm64",
        labels={LABEL: "1.2.3", "org.opencontainers.image.revision": SHA_B},
    )
    code, _out, err = publish(["--image", str(foreign.path), "--platform-only", *base], capsys,
                              root, monkeypatch)
    assert code == 0, err
    refused(index, f"is an image of revision {SHA_B}, not of this commit {SHA_A}")
    # A per-platform tag is immutable: another amd64 image for the same commit is refused.
    other = platform_archive(tmp_path, "amd64", seed + "other", gz=False)
    refused(["--image", str(other.path), "--platform-only", *base],
            "refusing to move immutable tags")
    assert oci_registry.digest(repo, amd64_tag) == pushed
    assert "latest" not in oci_registry.tags(repo)


def test_the_per_platform_flags_refuse_what_makes_no_sense(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    amd64 = platform_archive(tmp_path, "amd64", unique_name(), gz=False)
    repo = f"{unique_name('owner')}/dojo"
    base = ["--registry", oci_registry.address, "--repository", repo, "--sha", SHA_A]
    image = ["--image", str(amd64.path)]
    both = "linux/amd64,linux/arm64"
    cases = [
        ([*image, "--platform-only"], "--platform-only talks to the registry's API"),
        (["--from-platform-tags", both], "--from-platform-tags talks to the registry's API"),
        ([*image, "--platform-only", "--from-platform-tags", both, *VIA], "pass one"),
        ([*image, "--from-platform-tags", both, *VIA], "drop --image"),
        ([*image, *image, "--platform-only", *VIA], "pushes one archive"),
        (["--from-platform-tags", "linux", *VIA], "is not a platform"),
        (["--from-platform-tags", "Linux/AMD64", *VIA], "is not a platform"),
        (["--from-platform-tags", "linux/amd64,linux/amd64", *VIA], "twice"),
    ]
    for argv, needle in cases:
        code, out, err = publish([*argv, *base], capsys, root, monkeypatch)
        assert (code, out) == (2, ""), (argv, err)
        assert needle in err.strip().splitlines()[-1], (argv, err)
    assert oci_registry.tags(repo) == []


# --- cross-repository mounts (--mount-from) ------------------------------------------------


def _mount_requests(proxy: FaultProxy, since: int) -> list[str]:
    return [line for line in proxy.requests_seen[since:]
            if line.startswith("POST ") and "mount=" in line]


def _patches(proxy: FaultProxy, since: int) -> int:
    return sum(line.startswith("PATCH ") for line in proxy.requests_seen[since:])


def _base_image(
    proxy: FaultProxy, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], github_api: FakeGitHub,
) -> tuple[str, Archive, Archive]:
    """A base image published to its own repository, and an app image sharing four of its
    five layers (a changed top layer): (base repository, base, app)."""
    layers = five_layers(unique_name())
    base = layered(tmp_path, "base", layers, gz=False)
    app = layered(tmp_path, "app", [*layers[:4], {"app": os.urandom(60_000)}], gz=True)
    base_repo = f"{unique_name('owner')}/base"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="branch", ref_name="master",
                github=github_api)
    code, _, err = publish(local_argv(base, proxy, base_repo, *VIA), capsys, root, monkeypatch)
    assert code == 0, err
    actions_env(monkeypatch, tmp_path, sha=SHA_B, ref_type="branch", ref_name="master",
                github=github_api)
    return base_repo, base, app


def _pulls_whole(registry: Registry, repo: str, ref: str, diff_ids: tuple[str, ...]) -> None:
    """Every layer blob of `repo:ref` is in `repo` and inflates to its diff_id."""
    layers = manifest_of(registry, repo, ref)["layers"]
    assert isinstance(layers, list)
    for layer, diff_id in zip(layers, diff_ids, strict=True):
        blob = requests.get(f"{registry.url()}/v2/{repo}/blobs/{layer['digest']}", timeout=10)
        assert blob.status_code == 200
        assert "sha256:" + hashlib.sha256(gzip.decompress(blob.content)).hexdigest() == diff_id


def test_layers_of_another_repository_are_mounted_and_send_no_bytes(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    base_repo, base, app = _base_image(counting_proxy, root, tmp_path, monkeypatch, capsys,
                                       github_api)
    # Without --mount-from, a new repository gets every layer uploaded.
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(local_argv(app, counting_proxy, f"{unique_name('owner')}/app", *VIA),
                           capsys, root, monkeypatch)
    assert code == 0, err
    assert (len(_mount_requests(counting_proxy, seen)), _patches(counting_proxy, seen)) == (0, 5)

    app_repo = f"{unique_name('owner')}/app"
    seen, before = len(counting_proxy.requests_seen), counting_proxy.bytes_up
    missing = f"{unique_name()}/none"  # no such repository: nothing to mount from it
    code, _, err = publish(
        local_argv(app, counting_proxy, app_repo, *VIA, "--mount-from", missing,
                   "--mount-from", base_repo.upper()),
        capsys, root, monkeypatch,
    )
    assert code == 0, err
    mounts = _mount_requests(counting_proxy, seen)
    assert len(mounts) == 4
    assert all(f"from={base_repo}" in line for line in mounts)
    assert _patches(counting_proxy, seen) == 1  # only the layer the base image lacks
    [blobs] = steps(err, "blobs")
    assert (blobs["reused"], blobs["mounted"], blobs["uploaded"]) == ("4", "4", "1")
    [nothing, mounted] = steps(err, "mount")
    assert (nothing["source"], nothing["found"], nothing["mounted"]) == (
        f"{counting_proxy.address}/{missing}", "0", "0")
    assert (mounted["source"], mounted["mounted"]) == (f"{counting_proxy.address}/{base_repo}",
                                                       "4")
    # What went up: one layer, the config, the manifest and small requests; no mounted byte.
    assert counting_proxy.bytes_up - before < int(blobs["bytes"]) + 60_000
    _pulls_whole(oci_registry, app_repo, SHA_B[:12], app.diff_ids)
    base_layers = manifest_of(oci_registry, base_repo, SHA_A[:12])["layers"]
    app_layers = manifest_of(oci_registry, app_repo, SHA_B[:12])["layers"]
    assert isinstance(base_layers, list)
    assert isinstance(app_layers, list)
    assert [x["digest"] for x in app_layers[:4]] == [x["digest"] for x in base_layers[:4]]
    assert base.diff_ids[:4] == app.diff_ids[:4]


@pytest.mark.parametrize("answer", ["201-another-digest", "202-declined", "404"])
def test_a_refused_or_lying_mount_falls_back_to_uploading_that_layer(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    base_repo, _base, app = _base_image(counting_proxy, root, tmp_path, monkeypatch, capsys,
                                        github_api)
    mount = r"^POST \S*/blobs/uploads/\?mount="
    if answer == "201-another-digest":
        counting_proxy.answer_next(201, b"", match=mount, headers={
            "Docker-Content-Digest": "sha256:" + "0" * 64, "Location": "/v2/x/blobs/y"})
    elif answer == "202-declined":
        counting_proxy.answer_next(202, b"", match=mount, headers={
            "Location": "/v2/x/blobs/uploads/gone"})
    else:
        counting_proxy.fail_next(404, match=mount)
    app_repo = f"{unique_name('owner')}/app"
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(
        local_argv(app, counting_proxy, app_repo, *VIA, "--mount-from", base_repo),
        capsys, root, monkeypatch,
    )
    assert code == 0, err
    assert counting_proxy.pending_faults() == 0
    assert _patches(counting_proxy, seen) == 2  # the refused layer, and the new one
    [blobs] = steps(err, "blobs")
    assert (blobs["reused"], blobs["mounted"], blobs["uploaded"]) == ("3", "3", "2")
    [refused] = [s for s in steps(err, "mount") if s["status"] == "refused"]
    assert refused["then"] == "uploaded"
    _pulls_whole(oci_registry, app_repo, SHA_B[:12], app.diff_ids)


def test_mount_sources_that_make_no_sense_are_refused(
    no_daemon: None,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    image = layered(tmp_path, "img", five_layers(unique_name()), gz=False)
    repo = f"{unique_name('owner')}/dojo"
    base = ["--registry", oci_registry.address, "--repository", repo, "--sha", SHA_A]
    given = ["--image", str(image.path)]
    cases = [
        ([*given, "--mount-from", "owner/base"], "add --via registry"),
        (["--mount-from", "owner/base", "--from-platform-tags", "linux/amd64", *VIA],
         "--mount-from is for the layers"),
        ([*given, "--mount-from", "base", *VIA], "is not a repository of the registry"),
        ([*given, "--mount-from", "ghcr.io:443/o/x", *VIA], "is not a repository of the"),
        ([*given, "--mount-from", repo.upper(), *VIA], "is the repository being published to"),
    ]
    for argv, needle in cases:
        code, out, err = publish([*base, *argv], capsys, root, monkeypatch)
        assert (code, out) == (2, ""), (argv, err)
        assert needle in err.strip().splitlines()[-1], (argv, err)
    assert oci_registry.tags(repo) == []


@pytest.mark.parametrize("times", [1, 16], ids=["once", "persistently"])
def test_a_mount_answered_5xx_is_retried_and_an_outage_of_it_uploads(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    times: int,
) -> None:
    root = write_project(tmp_path / "proj", "1.2.3")
    base_repo, _base, app = _base_image(counting_proxy, root, tmp_path, monkeypatch, capsys,
                                        github_api)
    counting_proxy.fail_next(503, times=times, match=r"^POST \S*/blobs/uploads/\?mount=")
    app_repo = f"{unique_name('owner')}/app"
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(
        local_argv(app, counting_proxy, app_repo, *VIA, "--mount-from", base_repo),
        capsys, root, monkeypatch,
    )
    assert code == 0, err
    assert counting_proxy.pending_faults() == 0
    [blobs] = steps(err, "blobs")
    if times == 1:
        assert steps(err, "retry")
        assert (blobs["mounted"], blobs["uploaded"], _patches(counting_proxy, seen)) == (
            "4", "1", 1)
    else:  # every mount gave up: the layers are uploaded as without --mount-from
        assert (blobs["mounted"], blobs["uploaded"], _patches(counting_proxy, seen)) == (
            "0", "5", 5)
        assert all("failed 4 times" in s["reason"] for s in steps(err, "mount")
                   if s["status"] == "refused")
    _pulls_whole(oci_registry, app_repo, SHA_B[:12], app.diff_ids)


# --- concurrency: what several requests in flight must not change ---------------------------


def test_a_layer_in_an_older_tag_only_is_found_and_a_layer_two_platforms_share_is_sent_once(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first candidate tag is read alone, the others several at once: a layer only an older
    image has is still reused. Two platforms' images with a layer in common upload it once."""
    root = write_project(tmp_path / "proj", "1.2.3")
    repo = f"{unique_name('owner')}/dojo"
    old, shared = {"old/f": os.urandom(60_000)}, {"shared/f": os.urandom(60_000)}
    images = [layered(tmp_path, f"v{n}", [{f"n{n}/f": os.urandom(60_000)}, *extra], gz=False)
              for n, extra in enumerate([[old], [], []])]
    for n, image in enumerate(images):
        code, _, err = publish(local_argv(image, counting_proxy, repo, "--sha", f"{n}" * 40,
                                          *VIA), capsys, root, monkeypatch)
        assert code == 0, err
    amd64, arm64 = (
        make_archive(tmp_path / f"{arch}.tar", layers=[{"a": arch.encode() * 999}, old, shared],
                     architecture=arch, labels={LABEL: "1.2.3"})
        for arch in ("amd64", "arm64")
    )
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(["--image", str(amd64.path), "--image", str(arm64.path),
                            "--registry", counting_proxy.address, "--repository", repo,
                            "--sha", SHA_B, *VIA], capsys, root, monkeypatch)
    assert code == 0, err
    committed = committed_blobs(counting_proxy, seen)
    # Each platform's own layer and config, and the shared layer once; `old` is reused.
    assert len(committed) == len(set(committed)) == 5
    by_arch = {b["platform"]: b for b in steps(err, "blobs")}
    assert [(by_arch[p]["reused"], by_arch[p]["uploaded"]) for p in sorted(by_arch)] == [
        ("1", "2"), ("1", "1")]
    index = manifest_of(oci_registry, repo, SHA_B[:12])
    entries: Any = index["manifests"]
    for entry in entries:
        layers: Any = manifest_of(oci_registry, repo, entry["digest"])["layers"]
        assert len(layers) == 3
        for layer in layers:
            blob = requests.get(f"{oci_registry.url()}/v2/{repo}/blobs/{layer['digest']}",
                                timeout=10)
            assert blob.status_code == 200


def test_concurrent_first_requests_share_one_answer_to_the_challenge(
    auth_registry: Registry,
) -> None:
    """Requests sent at once before any is authorised: each 401 is answered once, and those
    sent before the answer are sent again with it (none taken for refused credentials)."""
    from concurrent.futures import ThreadPoolExecutor

    from release.shell.registry import Credentials

    assert auth_registry.user
    assert auth_registry.password
    client = RegistryClient(auth_registry.address, f"{unique_name('owner')}/dojo",
                            Credentials(auth_registry.user, auth_registry.password))
    try:
        digests = [f"sha256:{n:064x}" for n in range(16)]
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(client.blob_size, digests)) == [None] * 16
    finally:
        client.close()


def test_chunks_are_cut_whole_and_a_read_error_reaches_the_sender() -> None:
    """The upload's reader runs a chunk ahead in its own thread: the chunks are the bytes in
    order, cut at the chunk size; what goes wrong while reading is raised to the sender; a
    sender that stops early stops the reader (and its generator's cleanup runs)."""
    from release.shell.oci.blobs import _Chunks

    pieces = [bytes([n]) * size for n, size in enumerate([3, 5, 1, 9, 2, 7])]
    chunks = _Chunks(iter(pieces), 4)
    got = []
    for chunk in chunks:
        got.append(chunk)
        chunks.sent()
    chunks.close()
    assert b"".join(got) == b"".join(pieces)
    assert [len(c) for c in got] == [4, 4, 4, 4, 4, 4, 3]

    def failing() -> Iterator[bytes]:
        yield b"x" * 10
        raise OSError("the archive went away")

    broken = _Chunks(failing(), 4)
    read = iter(broken)
    assert [next(read), next(read)] == [b"xxxx", b"xxxx"]
    broken.sent()
    with pytest.raises(OSError, match="went away"):
        next(read)
    broken.close()

    closed: list[bool] = []

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"y" * 3
        finally:
            closed.append(True)

    early = _Chunks(endless(), 4)
    assert next(iter(early)) == b"yyyy"
    early.close()
    assert closed == [True]


def test_a_layer_a_manifest_names_but_the_registry_lost_is_uploaded_again(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    github_api: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The previous images' manifests only say where a layer may be: the HEAD decides. A blob
    deleted since (garbage-collected) is uploaded again, while the layers nobody has are already
    on their way."""
    root = write_project(tmp_path / "proj", "1.2.3")
    repo = f"{unique_name('owner')}/dojo"
    first = layered(tmp_path, "first", five_layers(unique_name()), gz=False)
    code, _, err = publish(local_argv(first, counting_proxy, repo, "--sha", SHA_A, *VIA), capsys,
                           root, monkeypatch)
    assert code == 0, err
    layers: Any = manifest_of(oci_registry, repo, SHA_A[:12])["layers"]
    lost = layers[2]["digest"]
    gone = requests.delete(f"{oci_registry.url()}/v2/{repo}/blobs/{lost}", timeout=10)
    assert gone.status_code == 202
    seen = len(counting_proxy.requests_seen)
    code, _, err = publish(local_argv(first, counting_proxy, repo, "--sha", SHA_B, *VIA), capsys,
                           root, monkeypatch)
    assert code == 0, err
    assert committed_blobs(counting_proxy, seen) == [lost]  # the same bytes, the same blob
    [blobs] = steps(err, "blobs")
    assert (blobs["reused"], blobs["uploaded"]) == ("4", "1")
    _pulls_whole(oci_registry, repo, SHA_B[:12], first.diff_ids)


def test_an_index_under_three_tags_has_its_platform_manifests_read_once(
    no_daemon: None,
    counting_proxy: FaultProxy,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A tag build's SHA, version and `latest` tags name one index: each tag is read (the plan,
    the read-back), its platforms' manifests, content-addressed, once per run."""
    root = write_project(tmp_path / "proj", "1.2.3", ("1.2.3",))
    seed = unique_name()
    amd64 = platform_archive(tmp_path, "amd64", seed, gz=False)
    arm64 = platform_archive(tmp_path, "arm64", seed, gz=False)
    repo = f"{unique_name('owner')}/dojo"
    argv = ["--image", str(amd64.path), "--image", str(arm64.path), "--registry",
            counting_proxy.address, "--repository", repo, "--sha", SHA_A, "--version", "v1.2.3",
            *VIA]

    def reads_by_digest(since: int) -> list[str]:
        return [line for line in counting_proxy.requests_seen[since:]
                if line.startswith("GET ") and "/manifests/sha256:" in line]

    for run in ("first", "re-run"):
        seen = len(counting_proxy.requests_seen)
        code, _out, err = publish(argv, capsys, root, monkeypatch)
        assert code == 0, (run, err)
        assert len(reads_by_digest(seen)) == 2, (run, reads_by_digest(seen))
    assert {p["status"] for p in steps(err, "push")} == {"unchanged"}
    check_index(oci_registry, repo, "v1.2.3", {"amd64": amd64, "arm64": arm64})
