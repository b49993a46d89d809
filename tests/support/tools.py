"""Tools that tests need: skip when missing on a developer's machine, fail in CI.

CI sets `DOJO_REQUIRE_TOOLS=1`: then a missing tool (docker, dockerd, docker-registry, nix, skopeo,
actionlint, ...) fails the test instead of skipping it, so a green CI always ran everything.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ENV = "DOJO_REQUIRE_TOOLS"


def tools_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false", "no")


def require_tool(*names: str) -> None:
    """Skip (or, under DOJO_REQUIRE_TOOLS=1, fail) unless every tool in `names` is on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} on PATH"
    if tools_required():
        pytest.fail(f"{message} ({REQUIRE_ENV} is set)")
    pytest.skip(message)
