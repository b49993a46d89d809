"""Benchmark: `release --dry-run --no-fetch` against `git-cliff --bump --unreleased` and
`cz bump --dry-run` on the same generated repository: 20,000 commits since the last tag and a
2 MB CHANGELOG.md. Each tool runs the same number of times, interleaved, and the medians are
compared. Goal: release <= 1.5 s and no slower than 2x git-cliff.

    python bench/bench_release.py [--commits 20000] [--changelog-mb 2] [--runs 5]

git-cliff and commitizen come from the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import RELEASE, isolated_env, timed

KINDS = ("feat", "fix", "chore", "refactor", "docs", "perf", "fix", "feat(api)", "ci", "test")
PYPROJECT = """\
[project]
name = "benchproj"
version = "1.0.0"
description = "generated for bench/bench_release.py"

[tool.release]
branch = "master"

[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "pep621"
tag_format = "v$version"
"""


def changelog(size: int) -> str:
    """A Keep a Changelog file of about `size` bytes, newest release 1.0.0."""
    parts = [
        "# Changelog\n\nAll notable changes to this project are documented here.\n\n",
        "## [Unreleased]\n\n### Added\n\n- The benchmark's pending entry (#1)\n\n",
    ]
    total = sum(map(len, parts))
    major, minor, patch = 1, 0, 0
    links = []
    while total < size:
        version = f"{major}.{minor}.{patch}"
        section = (
            f"## [{version}] - 2025-{(patch % 12) + 1:02d}-{(minor % 28) + 1:02d}\n\n"
            "### Added\n\n"
            + "".join(
                f"- Feature {i} of {version}, described at some length (#{i})\n" for i in range(4)
            )
            + "\n### Fixed\n\n"
            + "".join(
                f"- Fix {i} of {version}: a bug that bit someone (#{i + 10})\n" for i in range(3)
            )
            + "\n"
        )
        parts.append(section)
        links.append(f"[{version}]: https://github.com/acme/benchproj/releases/tag/v{version}\n")
        total += len(section) + len(links[-1])
        patch -= 1
        if patch < 0:
            patch = 9
            minor -= 1
            if minor < 0:
                minor = 9
                major -= 1
                major = max(major, 0)
    header = "[unreleased]: https://github.com/acme/benchproj/compare/v1.0.0...HEAD\n"
    return "".join(parts) + header + "".join(links)


def fast_import_stream(commits: int, changelog_text: str, cliff_toml: str) -> bytes:
    """A `git fast-import` stream: the tagged v1.0.0 commit, then `commits` commits."""
    out: list[bytes] = []
    when = 1_700_000_000

    def blob(mark: int, data: bytes) -> None:
        out.append(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")

    def commit(mark: int, message: str, files: list[tuple[str, int]], parent: int | None) -> None:
        msg = message.encode()
        head = (
            b"commit refs/heads/master\nmark :%d\n"
            b"author Bench <bench@example.org> %d +0000\n"
            b"committer Bench <bench@example.org> %d +0000\n"
            b"data %d\n" % (mark, when + mark, when + mark, len(msg)) + msg + b"\n"
        )
        if parent is not None:
            head += b"from :%d\n" % parent
        for path, blob_mark in files:
            head += b"M 100644 :%d %s\n" % (blob_mark, path.encode())
        out.append(head + b"\n")

    blob(1, PYPROJECT.encode())
    blob(2, changelog_text.encode())
    blob(3, cliff_toml.encode())
    blob(4, b"build/\n")
    commit(
        10,
        "chore: release 1.0.0",
        [("pyproject.toml", 1), ("CHANGELOG.md", 2), ("cliff.toml", 3), (".gitignore", 4)],
        None,
    )
    out.append(
        b"tag v1.0.0\nfrom :10\ntagger Bench <bench@example.org> %d +0000\n"
        b"data 7\nv1.0.0\n\n" % when
    )
    previous = 10
    mark = 100
    for i in range(commits):
        kind = KINDS[i % len(KINDS)]
        mark += 1
        blob(mark, f"{i}\n".encode())
        mark += 1
        commit(
            mark,
            f"{kind}: change number {i} (#{i + 100})\n\nSome body text.\n",
            [(f"src/f{i % 50}.txt", mark - 1)],
            previous,
        )
        previous = mark
    return b"".join(out)


def make_repo(base: Path, commits: int, size: int) -> Path:
    work = base / "work"
    remote = base / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "master", str(work)], check=True)
    init = base / "cliff-init"
    init.mkdir()
    subprocess.run(["git-cliff", "--init"], cwd=init, check=True, capture_output=True)
    stream = fast_import_stream(commits, changelog(size), (init / "cliff.toml").read_text())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=work, input=stream, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "master"], cwd=work, check=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=work, check=True)
    return work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--changelog-mb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for tool in ("git", "git-cliff", "cz"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on PATH: pip install -e '.[bench]'")

    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        base = Path(tmp)
        env = isolated_env(base)
        os.environ.update({k: env[k] for k in ("HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL")})
        start = time.perf_counter()
        work = make_repo(base, args.commits, int(args.changelog_mb * 1024 * 1024))
        size = (work / "CHANGELOG.md").stat().st_size
        print(
            f"repository: {args.commits} commits since v1.0.0, CHANGELOG.md {size / 1e6:.2f} MB "
            f"(generated in {time.perf_counter() - start:.1f} s)"
        )

        tools = {
            "release --dry-run --no-fetch": [
                sys.executable, *RELEASE,
                "--bump",
                "minor",
                "--dry-run",
                "--no-fetch",
            ],
            "git-cliff --bump --unreleased": ["git-cliff", "--bump", "--unreleased"],
            "cz bump --dry-run": ["cz", "bump", "--dry-run", "--yes"],
        }
        times: dict[str, list[float]] = {name: [] for name in tools}
        for argv in tools.values():  # warm-up: page cache, .pyc files
            timed(argv, work, env)
        for _ in range(args.runs):
            for name, argv in tools.items():  # interleaved, so drift hits every tool alike
                times[name].append(timed(argv, work, env))

        medians = {name: statistics.median(values) for name, values in times.items()}
        ours = medians["release --dry-run --no-fetch"]
        print(f"{'tool':34} {'median s':>9} {'min s':>7} {'max s':>7} {'release / tool':>15}")
        for name, values in times.items():
            print(
                f"{name:34} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f} "
                f"{ours / medians[name]:15.2f}"
            )
        cliff = medians["git-cliff --bump --unreleased"]
        print(
            f"goal: release <= 1.5 s: {'met' if ours <= 1.5 else 'MISSED'} ({ours:.3f} s); "
            f"<= 2x git-cliff: {'met' if ours <= 2 * cliff else 'MISSED'} "
            f"({ours / cliff:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
