"""Benchmark: `release --dry-run` on a towncrier project against `towncrier build --draft`, the
preview a towncrier user runs today, on the same generated repository: a tree of 5,000 files
(a full checkout of it takes seconds here, so release's throwaway clone is sparse), 50 news
fragments and a 1 MB CHANGELOG.md. Each command runs the same number of times, interleaved;
medians are compared. The throwaway clone, sparse as release makes it and full, is timed on its
own.

    python bench/bench_towncrier.py [--files 5000] [--fragments 50] [--runs 5]

release's row does more than towncrier's: pre-flight (branch, tags, the remote skipped with
--no-fetch), the version bump, the notes read back and the plan with every diff.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import RELEASE, cache_bytecode, isolated_env, timed

PYPROJECT = """\
[project]
name = "benchproj"
version = "1.0.0"

[tool.release]
branch = "master"

[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
"""
KINDS = ("feature", "bugfix", "doc", "removal", "misc")


def changelog(size: int) -> str:
    parts = ["# Changelog\n\n<!-- towncrier release notes start -->\n\n"]
    total, n = len(parts[0]), 0
    while total < size:
        version = f"0.{n // 100}.{n % 100}" if n else "1.0.0"
        section = f"# benchproj {version} (2025-01-01)\n\n## Features\n\n" + "".join(
            f"- Feature {i} of {version}, described at some length. (#{n * 10 + i})\n"
            for i in range(8)
        ) + "\n\n"
        parts.append(section)
        total += len(section)
        n += 1
    return "".join(parts)


def make_repo(base: Path, files: int, fragments: int, size: int, env: dict[str, str]) -> Path:
    work = base / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text(PYPROJECT)
    (work / "CHANGELOG.md").write_text(changelog(size))
    news = work / "changelog.d"
    news.mkdir()
    for i in range(fragments):
        (news / f"{100 + i}.{KINDS[i % len(KINDS)]}.md").write_text(f"Change number {i}.\n")
    for i in range(files):
        folder = work / "src" / f"m{i // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.py").write_text(f"VALUE = {i}\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "master")
    git("add", "-A")
    git("commit", "-qm", "feat: everything")
    git("tag", "-a", "-m", "v1.0.0", "v1.0.0")
    git("commit", "-q", "--allow-empty", "-m", "fix: one more")
    git("remote", "add", "origin", str(base / "remote.git"))
    return work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--fragments", type=int, default=50)
    parser.add_argument("--changelog-mb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cache_bytecode()
    with tempfile.TemporaryDirectory(prefix="bench-towncrier-") as tmp:
        base = Path(tmp)
        env = isolated_env(base)
        work = make_repo(
            base, args.files, args.fragments, int(args.changelog_mb * 1024 * 1024), env
        )
        scratch = base / "scratch"
        clone = (
            f"set -e; rm -rf {scratch}; git clone -q --shared --no-checkout . {scratch}; "
            f"{{}} git -C {scratch} checkout -q --detach HEAD"
        )
        sparse = f"git -C {scratch} sparse-checkout set --cone changelog.d;"
        commands = {
            "release --dry-run --no-fetch": [
                sys.executable, *RELEASE,
                "--bump", "minor", "--dry-run", "--no-fetch",
            ],
            "towncrier build --draft": [
                sys.executable, "-m", "towncrier", "build", "--draft", "--version", "1.1.0",
            ],
            "clone + sparse checkout (release)": ["sh", "-c", clone.format(sparse)],
            "clone + full checkout": ["sh", "-c", clone.format("")],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():  # warm-up: page cache, .pyc files
            timed(argv, work, env)
        for _ in range(args.runs):
            for name, argv in commands.items():  # interleaved: drift hits every row alike
                times[name].append(timed(argv, work, env))
        print(
            f"repository: {args.files} files, {args.fragments} fragments, CHANGELOG.md "
            f"{(work / 'CHANGELOG.md').stat().st_size / 1e6:.2f} MB"
        )
        ours = statistics.median(times["release --dry-run --no-fetch"])
        print(f"{'command':32} {'median s':>9} {'min s':>7} {'max s':>7} {'release / it':>13}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:32} {median:9.3f} {min(values):7.3f} {max(values):7.3f} "
                  f"{ours / median:13.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
