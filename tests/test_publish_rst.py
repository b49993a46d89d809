"""`publish` for a project whose changelog is reStructuredText: the GitHub Release body is the
section's Markdown form (roles linked into the repository), against a real registry and the
fake GitHub API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.containers import DOCKER_TOOLS, Daemon, Registry, unique_name
from tests.support.tools import require_tool
from tests.test_publish import SHA_A, actions_env, archive, github_env, local_argv, publish

pytestmark = pytest.mark.docker

CHANGES = """\
Changes
=======

Version 1.2.3
-------------

Released 2026-11-01

-   Frobnicate ``faster``. :issue:`41`

    .. code-block:: python

        frob(fast=True)

Version 1.2.2
-------------

Released 2026-10-01

-   Older.
"""


def test_tag_build_of_an_rst_project_creates_a_markdown_release(
    docker_env: Daemon, oci_registry: Registry, github_api: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    require_tool(*DOCKER_TOOLS)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "dojo"\nversion = "1.2.3"\n\n'
        '[tool.release]\nimage = "dojo"\nbranch = "master"\nchangelog = "CHANGES.rst"\n'
    )
    (root / "CHANGES.rst").write_text(CHANGES)
    image = archive(tmp_path, unique_name("rst"), gz=True)
    repo = f"{unique_name('owner')}/dojo"
    actions_env(monkeypatch, tmp_path, sha=SHA_A, ref_type="tag", ref_name="v1.2.3",
                repository=github_api.repository)
    github_env(monkeypatch, github_api)
    github_api.set_ref("tags/v1.2.3", SHA_A, annotated=True)  # as `release` tags
    code, _, err = publish(local_argv(image, oci_registry, repo), capsys, root, monkeypatch)
    assert code == 0, err
    [created] = github_api.releases
    assert created["body"] == (
        "- Frobnicate `faster`. "
        f"[#41](https://github.com/{github_api.repository}/issues/41)\n\n"
        "  ```python\n  frob(fast=True)\n  ```"
    )
