"""`publish` and PEP 440: image tags in the project's tag format, `latest` by PEP 440 order,
pre- and dev releases as GitHub pre-releases, local versions refused before any push, and the
consistency gate reading the version where the project's build backend does.

A real Docker daemon and registry on 127.0.0.1; only GitHub's API is faked.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import Any

import pytest

from release.apps.publish.gate import Versions, consistency_problems
from release.core.version import parse
from tests.support.containers import Daemon, Registry, unique_name
from tests.test_publish import (
    SHA_A,
    actions_env,
    archive,
    local_argv,
    publish,
    tag_build,
    write_project,
)

pytestmark = pytest.mark.docker


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _project(root: Path, pyproject: str, files: dict[str, str], sections: tuple[str, ...]) -> Path:
    write_project(root, "0.0.0", sections)
    (root / "pyproject.toml").write_text(textwrap.dedent(pyproject).lstrip())
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@pytest.mark.parametrize(
    ("tag", "label", "pyproject", "agree"),
    [
        ("v1.3.0-rc.1", "1.3.0rc1", "1.3.0rc1", True),
        ("1.3.0rc1", "v1.3.0-rc.1", "1.3.0-rc.1", True),
        ("v2.0.0.dev5", "2.0.0-dev.5", "2.0.0.dev5", True),
        ("v2026.8.17", "2026.8.17", "2026.08.17", True),
        ("v1.3.0rc1", "1.3.0rc2", "1.3.0rc1", False),
        ("v1.3.0", "1.3.0", "1.3.0rc1", False),
    ],
)
def test_the_gate_compares_normalised_versions(
    tag: str, label: str, pyproject: str, agree: bool
) -> None:
    found = consistency_problems(Versions(parse(tag), label, pyproject, None))
    assert (found == []) is agree, found


def test_a_version_taken_from_the_tag_is_not_compared_with_pyproject() -> None:
    assert consistency_problems(Versions(parse("1.2.3"), "1.2.3", None, None, source=None)) == []
    assert consistency_problems(
        Versions(parse("1.2.3"), "1.2.3", "1.2.2", None, source="src/demo/__about__.py")
    ) == ["src/demo/__about__.py version=1.2.2"]


def test_plain_tags_give_plain_image_tags_and_latest_follows_pep440_order(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = f"{unique_name('owner')}/dojo"
    images = {}
    # (git tag, the image tag it gets, where `latest` is after it)
    runs = [
        ("1.9.0", "1.9.0", "1.9.0"),
        ("1.10.0", "1.10.0", "1.10.0"),  # 1.10 > 1.9 (a string sort says otherwise)
        ("1.9.1", "1.9.1", "1.10.0"),  # a backport
        ("2.0.0-rc.1", "2.0.0rc1", "1.10.0"),  # a pre-release, normalised
        ("2.0.0.dev3", "2.0.0.dev3", "1.10.0"),  # a dev release
        ("1.10.0.post1", "1.10.0.post1", "1.10.0.post1"),  # a post-release is final
    ]
    for tag, image_tag, latest in runs:
        version = str(parse(tag))
        root = write_project(tmp_path / f"p{tag}", version, (version,))
        with (root / "pyproject.toml").open("a") as handle:
            handle.write('tag-format = "{version}"\n')  # as a clone with plain tags infers
        images[image_tag] = archive(tmp_path, unique_name(image_tag), version)
        code, _out, err = tag_build(tag, _sha(tag), images[image_tag], oci_registry, repo, root,
                                   capsys, monkeypatch)
        assert code == 0, (tag, err)
        assert oci_registry.config_digest(repo, image_tag) == images[image_tag].image_id
        assert oci_registry.config_digest(repo, "latest") == images[latest].image_id, tag
    assert not any(t.startswith("v") for t in oci_registry.tags(repo))


def test_a_configured_tag_format_names_the_image_tag(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_project(tmp_path / "p", "1.2.3", ("1.2.3",))
    with (root / "pyproject.toml").open("a") as handle:
        handle.write('tag-format = "demo-v{version}"\n')
    image = archive(tmp_path, unique_name("fmt"))
    repo = f"{unique_name('owner')}/dojo"
    code, _out, err = tag_build("demo-v1.2.3", SHA_A, image, oci_registry, repo, root, capsys,
                               monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], "demo-v1.2.3", "latest"])
    # A tag in another format is not this project's release.
    code, _out, err = tag_build("v1.2.3", SHA_A, image, oci_registry, repo, root, capsys,
                               monkeypatch)
    assert code == 1
    assert "is not a release tag in the project's format demo-v{version}" in err


@pytest.mark.parametrize("tag", ["v1.2.3+build.5", "1.2.3+local"])
def test_a_local_version_is_refused_before_anything_is_pushed(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tag: str,
) -> None:
    root = write_project(tmp_path / "p", "1.2.3", ("1.2.3",))
    image = archive(tmp_path, unique_name("local"))
    repo = f"{unique_name('owner')}/dojo"
    code, out, err = tag_build(tag, SHA_A, image, oci_registry, repo, root, capsys, monkeypatch)
    assert code == 2
    assert out == ""
    [line] = [x for x in err.splitlines() if not x.startswith("step=")]
    assert "has a local version label (`+...`)" in line
    assert "nothing was pushed" in line
    assert oci_registry.tags(repo) == []


@pytest.mark.parametrize("tag", ["v2.0.0.dev5", "v2.0.0-b.1"])
def test_pre_and_dev_releases_are_github_prereleases(
    docker_env: Daemon,
    oci_registry: Registry,
    github_api: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tag: str,
) -> None:
    version = str(parse(tag))
    root = write_project(tmp_path / "p", version, (version,))
    image = archive(tmp_path, unique_name("pre"), version)
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="tag", ref_name=tag,
                repository=github_api.repository)
    github_api.set_ref(f"tags/{tag}", SHA_A)
    monkeypatch.setenv("GITHUB_TOKEN", github_api.token)
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    code, _out, err = publish(local_argv(image, oci_registry, repo), capsys, root, monkeypatch)
    assert code == 0, err
    assert oci_registry.tags(repo) == sorted([SHA_A[:12], f"v{version}"])  # no latest
    [created] = github_api.releases
    assert created["tag_name"] == tag  # the git tag as pushed
    assert created["prerelease"] is True


HATCH_VCS = """
    [build-system]
    requires = ["hatchling", "hatch-vcs"]
    build-backend = "hatchling.build"

    [project]
    name = "dojo"
    dynamic = ["version"]

    [tool.hatch.version]
    source = "vcs"

    [tool.release]
    image = "dojo"
    """

HATCH_PATH = """
    [build-system]
    requires = ["hatchling"]
    build-backend = "hatchling.build"

    [project]
    name = "dojo"
    dynamic = ["version"]

    [tool.hatch.version]
    path = "src/dojo/__about__.py"

    [tool.release]
    image = "dojo"
    """


@pytest.mark.parametrize(
    ("pyproject", "files", "problem"),
    [
        (HATCH_VCS, {}, None),
        (HATCH_PATH, {"src/dojo/__about__.py": '__version__ = "1.2.3"\n'}, None),
        (HATCH_PATH, {"src/dojo/__about__.py": '__version__ = "1.2.2"\n'},
         "src/dojo/__about__.py version=1.2.2"),
        (HATCH_PATH, {"src/dojo/__about__.py": "__version__ = compute()\n"},
         "src/dojo/__about__.py line 1 computes the version"),
    ],
    ids=["hatch-vcs", "file-agrees", "file-disagrees", "file-computed"],
)
def test_the_gate_reads_the_version_where_the_backend_does(
    docker_env: Daemon,
    oci_registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pyproject: str,
    files: dict[str, str],
    problem: str | None,
) -> None:
    root = _project(tmp_path / "p", pyproject, files, ("1.2.3",))
    image = archive(tmp_path, unique_name("src"))
    repo = f"{unique_name('owner')}/dojo"
    code, _out, err = tag_build("v1.2.3", SHA_A, image, oci_registry, repo, root, capsys,
                               monkeypatch)
    if problem is None:
        assert code == 0, err
        assert "v1.2.3" in oci_registry.tags(repo)
    else:
        assert code == 1
        [line] = [x for x in err.splitlines() if not x.startswith("step=")]
        assert problem in line
        assert oci_registry.tags(repo) == []
