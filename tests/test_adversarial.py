"""Every app, fed garbage at every input boundary, as a real process.

Each case breaks one boundary (the project's files, its configuration, the environment, git
objects, the registry's and GitHub's answers, stdout itself) and asserts the promise: exit 1 (2
for bad usage), exactly one line on stderr besides the `step=` logs, no traceback, and nothing
changed (the clone, its refs and the registry are byte for byte as before).

The registry and GitHub are played by the fault-injecting proxy (tests.support.containers),
which answers with canned bodies: no Docker is needed except for the one case that pushes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.containers import (
    Daemon,
    FaultProxy,
    Registry,
    free_port,
    make_archive,
    tiny_layers,
    unique_name,
)
from tests.support.gitrepo import ROOT, GitRepo, make_repo

MAINS = {
    "extract-notes": "release.apps.extract_notes",
    "release": "release.apps.release.cli",
    "publish": "release.apps.publish.cli",
}
LABEL = "org.opencontainers.image.version"
HTML = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
NOT_FOUND = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'


@dataclass
class World:
    """One project (a released clone with a bare remote), an image archive and a proxy that
    plays the registry and GitHub."""

    repo: GitRepo
    archive: Path
    proxy: FaultProxy
    env: dict[str, str] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.repo.work

    def publish_argv(self, *extra: str) -> list[str]:
        return ["--image", str(self.archive), "--registry", self.proxy.address,
                "--repository", "acme/demo", "--dry-run", *extra]

    def registry_answers(self, tags: bytes = b'{"name":"acme/demo","tags":[]}',
                         content_type: str = "application/json") -> None:
        self.proxy.answer_next(404, NOT_FOUND, match=r"^GET /v2/.*/manifests/", times=20)
        self.proxy.answer_next(200, tags, match=r"^GET /v2/.*/tags/list", times=20,
                               content_type=content_type)

    def commit_pyproject(self, data: bytes) -> None:
        (self.work / "pyproject.toml").write_bytes(data)
        self.repo.git("add", "pyproject.toml")
        self.repo.git("commit", "--quiet", "-m", "chore: pyproject")
        self.repo.git("push", "--quiet", "origin", "master")


Setup = Callable[[World], list[str]]


@dataclass(frozen=True)
class Case:
    app: str
    setup: Setup
    needle: str  # what the one line must say
    exits: tuple[int, ...] = (1,)
    stdout_full: bool = False


def _pyproject(data: bytes) -> Setup:
    def setup(world: World) -> list[str]:
        world.commit_pyproject(data)
        return []
    return setup


NOT_UTF8 = b'[project]\nname = "d\xe9mo"\nversion = "0.1.0"\n'
NOT_A_TABLE = b'[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool]\nrelease = 3\n'
UNKNOWN_KEY = b'[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool.release]\nbrnach = "main"\n'


def _with_args(setup: Setup, *args: str) -> Setup:
    def wrapped(world: World) -> list[str]:
        return setup(world) + list(args)
    return wrapped


def _notes_file(content: bytes | None) -> Setup:
    def setup(world: World) -> list[str]:
        path = world.work.parent / "notes.md"
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        return ["--bump", "patch", "--no-fetch", "--dry-run", "--notes-file", str(path)]
    return setup


def _publish(*extra: str, tags: bytes | None = None, content_type: str = "application/json",
             env: dict[str, str] | None = None, github: bytes | None = None,
             pyproject: bytes | None = None, setup_first: Callable[[World], object] | None = None
             ) -> Setup:
    def setup(world: World) -> list[str]:
        if setup_first is not None:
            setup_first(world)  # before the default answers: its faults are matched first
        if tags is not None:
            world.registry_answers(tags, content_type)
        else:
            world.registry_answers()
        if github is not None:
            world.proxy.answer_next(200, github, content_type="text/html", match=r"^GET /repos",
                                    times=20)
        if pyproject is not None:
            world.commit_pyproject(pyproject)
        world.env.update({k: v.replace("{proxy}", world.proxy.address)
                          for k, v in (env or {}).items()})
        if "--version" in extra:  # a tag build publishes the tagged commit
            tag = extra[extra.index("--version") + 1]
            return world.publish_argv(*extra, "--sha", world.repo.git("rev-list", "-n1", tag))
        return world.publish_argv(*extra)
    return setup


def _config_not_json(world: World) -> None:
    # A docker-archive whose config is not JSON (a corrupted or hand-made archive).
    import io
    import tarfile

    with tarfile.open(world.archive, "w") as tar:
        for name, data in (
            ("abc.json", b"{not json"),
            ("manifest.json", json.dumps([{"Config": "abc.json", "RepoTags": ["d:l"],
                                           "Layers": []}]).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _link_pyproject(world: World) -> None:
    (world.work / "pyproject.toml").unlink()
    (world.work / "pyproject.toml").symlink_to("/dev/zero")


RELEASE = ("--bump", "patch", "--no-fetch", "--dry-run")
TOKEN = {"GITHUB_TOKEN": "ghs_" + "x" * 36, "GITHUB_REPOSITORY": "acme/demo"}

CASES: dict[str, Case] = {
    # --- extract-notes ---------------------------------------------------------------------
    "extract-notes/pyproject-not-utf8": Case(
        "extract-notes", _with_args(_pyproject(NOT_UTF8), "0.1.0"), "is not UTF-8"),
    "extract-notes/tool-release-not-a-table": Case(
        "extract-notes", _with_args(_pyproject(NOT_A_TABLE), "0.1.0"), "must be a table"),
    "extract-notes/unknown-key": Case(
        "extract-notes", _with_args(_pyproject(UNKNOWN_KEY), "0.1.0"),
        "unknown key(s) brnach: the known keys are changelog, branch"),
    "extract-notes/changelog-not-utf8": Case(
        "extract-notes", lambda w: ["0.1.0", "--changelog", str(_write(w, "c.md", b"\xff\xfe#"))],
        "is not UTF-8"),
    "extract-notes/changelog-is-dev-zero": Case(
        "extract-notes", lambda w: ["0.1.0", "--changelog", "/dev/zero"], "is larger than"),
    "extract-notes/changelog-is-a-directory": Case(
        "extract-notes", lambda w: ["0.1.0", "--changelog", str(w.work / "src")],
        "is a directory"),
    "extract-notes/output-is-the-changelog": Case(
        "extract-notes", lambda w: ["0.1.0", "--output", "CHANGELOG.md"],
        "which this run reads", exits=(2,)),
    "extract-notes/output-is-a-directory": Case(
        "extract-notes", lambda w: ["0.1.0", "--output", "src"], "is a directory", exits=(2,)),
    "extract-notes/stdout-full": Case(
        "extract-notes", lambda w: ["0.1.0"], "cannot write to stdout", stdout_full=True),
    # --- release ---------------------------------------------------------------------------
    "release/pyproject-not-utf8": Case(
        "release", _with_args(_pyproject(NOT_UTF8), *RELEASE), "is not UTF-8"),
    "release/tool-release-not-a-table": Case(
        "release", _with_args(_pyproject(NOT_A_TABLE), *RELEASE), "must be a table"),
    "release/unknown-key": Case(
        "release", _with_args(_pyproject(UNKNOWN_KEY), *RELEASE), "unknown key(s) brnach"),
    "release/notes-file-not-utf8": Case(
        "release", _notes_file(b"- caf\xe9\n"), "is not UTF-8", exits=(1, 2)),
    "release/notes-file-huge": Case(
        "release", _notes_file(b"- x\n" * 300_000), "larger than 1024 KiB", exits=(1, 2)),
    "release/notes-file-directory": Case(
        "release", _notes_file(None), "is a directory", exits=(1, 2)),
    "release/stdout-full": Case(
        "release", lambda w: list(RELEASE), "cannot write to stdout", stdout_full=True),
    # --- publish ---------------------------------------------------------------------------
    "publish/pyproject-not-utf8": Case(
        "publish", _publish(pyproject=NOT_UTF8), "is not UTF-8"),
    "publish/tool-release-not-a-table": Case(
        "publish", _publish(pyproject=NOT_A_TABLE), "must be a table"),
    "publish/unknown-key": Case(
        "publish", _publish(pyproject=UNKNOWN_KEY), "unknown key(s) brnach"),
    "publish/pyproject-links-to-dev-zero": Case(
        "publish", _publish(setup_first=_link_pyproject), "is larger than"),
    "publish/registry-userinfo": Case(
        "publish", lambda w: ["--image", str(w.archive), "--registry", "u:hunter2@127.0.0.1:1",
                              "--repository", "acme/demo", "--dry-run"],
        "holds credentials", exits=(2,)),
    "publish/sha-from-environment": Case(
        "publish", _publish(env={"GITHUB_SHA": "not-a-sha"}), "(GITHUB_SHA)", exits=(2,)),
    "publish/image-config-not-json": Case(
        "publish", _publish(setup_first=_config_not_json), "is not a JSON object"),
    "publish/tag-list-html": Case(
        "publish", _publish("--version", "v0.1.0", tags=HTML, content_type="text/html"),
        "the answer is not a JSON object (text/html"),
    "publish/tag-list-garbage-json": Case(
        "publish", _publish("--version", "v0.1.0", tags=b'{"tags": [1, 2'),
        "the answer is not a JSON object"),
    "publish/github-200-html": Case(
        "publish", _publish("--version", "v0.1.0", github=HTML,
                            env={**TOKEN, "GITHUB_API_URL": "http://{proxy}"}),
        "not a JSON object or a JSON array (text/html"),
    "publish/github-tls": Case(
        "publish", _publish("--version", "v0.1.0",
                            env={**TOKEN, "GITHUB_API_URL": "https://{proxy}"}),
        "TLS with GitHub"),
    "publish/github-api-url-plain-http": Case(
        "publish", _publish("--version", "v0.1.0",
                            env={**TOKEN, "GITHUB_API_URL": "http://api.github.example"}),
        "the token would travel in clear", exits=(2,)),
    "publish/half-the-registry-credentials": Case(
        "publish", _publish(env={"DOJO_REGISTRY_USER": "me"}), "set both DOJO_REGISTRY_USER",
        exits=(2,)),
    "publish/ref-name-not-a-version": Case(
        "publish", _publish(env={"GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "vNext"}),
        "is not a release tag"),
    "publish/manifest-garbage": Case(
        "publish", _publish(setup_first=lambda w: w.proxy.answer_next(
            200, b"\x00\xffgarbage", content_type="application/octet-stream",
            match=r"^GET /v2/.*/manifests/", times=20)),
        "refusing to move immutable tags"),
    "publish/registry-401-without-challenge": Case(
        "publish", _publish(setup_first=lambda w: w.proxy.answer_next(
            401, b"{}", match=r"^GET /v2/", times=20)),
        "requires credentials"),
    "publish/stdout-full": Case(
        "publish", _publish(), "cannot write to stdout", stdout_full=True),
}


def _write(world: World, name: str, data: bytes) -> Path:
    path = world.work.parent / name
    path.write_bytes(data)
    return path


@pytest.fixture
def world(tmp_path: Path, git_env: Path) -> Iterator[World]:
    repo = make_repo(tmp_path / "demo")
    archive = make_archive(tmp_path / "image.tar", layers=tiny_layers(unique_name()),
                           labels={LABEL: "0.1.0"}).path
    # Nothing listens upstream: every request the apps send must be answered by a fault.
    proxy = FaultProxy(upstream=("127.0.0.1", free_port())).start()
    yield World(repo, archive, proxy)
    proxy.stop()


def _environment(world: World) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "DOJO_", "DOCKER_")) or k == "DOJO_REQUIRE_TOOLS"}
    env["PYTHONPATH"] = str(ROOT)
    env.update(world.env)
    return env


def _run(world: World, app: str, argv: list[str], *, stdout_full: bool = False
         ) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from {MAINS[app]} import main; sys.exit(main())"
    with open("/dev/full" if stdout_full else os.devnull, "w") as full:
        return subprocess.run(
            [sys.executable, "-c", code, *argv],
            cwd=world.work, env=_environment(world), text=True, timeout=120, check=False,
            stdout=full if stdout_full else subprocess.PIPE, stderr=subprocess.PIPE,
        )


def _state(world: World) -> dict[str, bytes]:
    """The clone (work tree and .git), its remote's refs, and the project's neighbours."""
    state = world.repo.snapshot()
    state["remote refs"] = world.repo.git("--git-dir", str(world.repo.remote), "for-each-ref"
                                          ).encode()
    for path in sorted(world.work.parent.iterdir()):
        if path.is_file():
            state[f"../{path.name}"] = path.read_bytes()
    return state


def assert_one_clean_line(done: subprocess.CompletedProcess[str], app: str, case: Case) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("step=")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{app}: "), lines[0]
    assert case.needle in lines[0], lines[0]
    assert done.returncode in case.exits, done.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_garbage_at_a_boundary_gives_one_line_and_changes_nothing(
    world: World, name: str
) -> None:
    case = CASES[name]
    argv = case.setup(world)
    before = _state(world)
    done = _run(world, case.app, argv, stdout_full=case.stdout_full)
    assert_one_clean_line(done, case.app, case)
    assert _state(world) == before
    assert "hunter2" not in done.stderr
    assert TOKEN["GITHUB_TOKEN"] not in done.stderr


def test_a_v_tag_pointing_at_a_blob_does_not_break_release(world: World) -> None:
    blob = world.repo.git("hash-object", "-w", "--stdin", input="not a commit\n")
    world.repo.git("tag", "-a", "-m", "evil", "v9.9.9", blob)
    before = _state(world)
    done = _run(world, "release", list(RELEASE))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "v9.9.9 (not a commit)" in done.stderr
    assert "0.1.0 -> 0.1.1" in done.stdout
    assert _state(world) == before


@pytest.mark.docker
def test_an_unwritable_github_output_after_pushing_says_what_was_published(
    docker_env: Daemon, oci_registry: Registry, world: World
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    world.env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "master",
        "GITHUB_SHA": world.repo.head(), "GITHUB_REPOSITORY": "acme/demo",
        "GITHUB_OUTPUT": str(world.work.parent / "missing" / "output"),
        **docker_env.env(),
    })
    argv = ["--image", str(world.archive), "--registry", oci_registry.address,
            "--repository", repo]
    done = _run(world, "publish", argv)
    case = Case("publish", lambda w: [], "but cannot write GITHUB_OUTPUT")
    assert_one_clean_line(done, "publish", case)
    assert f"published {oci_registry.address}/{repo}@sha256:" in done.stderr
    assert oci_registry.tags(repo) == sorted([world.repo.head()[:12], "staging"])
