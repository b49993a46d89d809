"""Benchmark: `release --dry-run --no-fetch` against `git-cliff --bump --unreleased` and
`cz bump --dry-run` on the same generated repository: 20,000 commits since the last tag and a
2 MB CHANGELOG.md, and again on 200 commits (where start-up is most of the time). Each tool runs
the same number of times, interleaved, and the medians are compared. Goals (issue 17): release no
slower than commitizen on both, nor than git-cliff on 20,000 commits; under 300 MB of memory on
100,000 commits.

    python bench/bench_release.py [--commits 20000 200] [--changelog-mb 2] [--runs 3]
                                  [--memory-commits 100000]

git-cliff and commitizen come from the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from goals import Goal, table
from harness import RELEASE, cache_bytecode, isolated_env, measure, timed

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


@contextlib.contextmanager
def git_isolated(env: dict[str, str]) -> Iterator[None]:
    """This process's git calls (make_repo's) cut off from the user's configuration."""
    keys = ("HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: env[k] for k in keys})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


RELEASE_ARGV = [sys.executable, *RELEASE, "--bump", "minor", "--dry-run", "--no-fetch"]
PEERS = {
    "git-cliff --bump --unreleased": ["git-cliff", "--bump", "--unreleased"],
    "cz bump --dry-run": ["cz", "bump", "--dry-run", "--yes"],
}
OURS = "release --dry-run --no-fetch"


def race(
    commits: int, changelog_mb: float, runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each tool's runs on a fresh repository of `commits` commits."""
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        base = Path(tmp)
        env = isolated_env(base)
        start = time.perf_counter()
        with git_isolated(env):
            work = make_repo(base, commits, int(changelog_mb * 1024 * 1024))
        size = (work / "CHANGELOG.md").stat().st_size
        print(
            f"repository: {commits} commits since v1.0.0, CHANGELOG.md {size / 1e6:.2f} MB "
            f"(generated in {time.perf_counter() - start:.1f} s)", flush=True
        )
        tools = {OURS: RELEASE_ARGV, **PEERS}
        times: dict[str, list[float]] = {name: [] for name in tools}
        cpus: dict[str, list[float]] = {name: [] for name in tools}
        for argv in tools.values():  # warm-up: page cache, .pyc files
            timed(argv, work, env)
        for _ in range(runs):
            for name, argv in tools.items():  # interleaved, so drift hits every tool alike
                wall, cpu = measure(argv, work, env)
                times[name].append(wall)
                cpus[name].append(cpu)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ours = medians[OURS]
    print(f"{'tool':34} {'median s':>9} {'min s':>7} {'max s':>7} {'cpu s':>7} "
          f"{'release / tool':>15}")
    for name, values in times.items():
        print(
            f"{name:34} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f} "
            f"{statistics.median(cpus[name]):7.3f} {ours / medians[name]:15.2f}"
        )
    return times, cpus


def peak_memory(commits: int, changelog_mb: float) -> float:
    """MB of the largest resident set of one `release --dry-run` (and the git it runs) on a
    repository of `commits` commits since the tag."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-release-mem-") as tmp:
        base = Path(tmp)
        env = isolated_env(base)
        with git_isolated(env):
            work = make_repo(base, commits, int(changelog_mb * 1024 * 1024))
        done = subprocess.run([sys.executable, "-c", probe, *RELEASE_ARGV], cwd=work, env=env,
                              capture_output=True, text=True, check=True)
    mb = int(done.stdout) / 1024  # ru_maxrss is in KiB on Linux
    print(f"memory: release --dry-run, {commits} commits since the tag: {mb:.0f} MB peak")
    return mb


def bench(
    commits: tuple[int, ...] = (20_000, 200), changelog_mb: float = 2.0, runs: int = 3,
    memory_commits: int = 100_000,
) -> list[Goal]:
    """Every release goal of issue 17, measured here and now."""
    goals = []
    for count in commits:
        times, cpus = race(count, changelog_mb, runs)
        peers = {"cz bump --dry-run": "cz bump --dry-run"}
        if count >= 10_000:  # git-cliff's start-up is a native binary's: a goal on big logs
            peers["git-cliff --bump --unreleased"] = "git-cliff --bump"
        goals += [
            Goal(
                f"release --dry-run, {count:,} commits / {name}",
                statistics.median(times[OURS]), statistics.median(times[peer]), 1.0,
                ours_cpu=statistics.median(cpus[OURS]), peer_cpu=statistics.median(cpus[peer]),
            )
            for peer, name in peers.items()
        ]
    if memory_commits:
        goals.append(Goal(f"release --dry-run peak memory, {memory_commits:,} commits / 300 MB",
                          peak_memory(memory_commits, changelog_mb), 300.0, 1.0, unit="MB"))
    return goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, nargs="+", default=[20_000, 200])
    parser.add_argument("--changelog-mb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-commits", type=int, default=100_000,
                        help="also measure peak memory on this many commits (0: skip)")
    args = parser.parse_args()
    for tool in ("git", "git-cliff", "cz"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on PATH: pip install -e '.[bench]'")
    cache_bytecode()
    goals = bench(tuple(args.commits), args.changelog_mb, args.runs, args.memory_commits)
    print(table(goals, "release goals"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
