"""Every benchmark with the peers from the `bench` extra, in one process run, then one summary
table of the goals (issue 17), each met or MISSED.

    python bench/run_all.py [--runs 3] [--quick] [--skip publish ...]

--quick uses smaller inputs (a 20 MB --check instead of 50 MB, 5 MB image layers instead of
25 MB): the same goals, a few minutes less. Each bench's own detail is printed as it runs;
`python bench/bench_X.py --help` runs one alone with more knobs. The peers (git-cliff,
commitizen, keepachangelog) come from `pip install -e '.[bench]'`; publish needs docker,
docker-registry and skopeo, as the tests do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_extract_notes
import bench_publish
import bench_release
from goals import Goal, table
from harness import cache_bytecode

BENCHES = ("release", "extract-notes", "publish")
PEERS = {"release": ("git", "git-cliff", "cz"), "publish": ("docker", "dockerd", "skopeo")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, same goals")
    parser.add_argument("--skip", nargs="+", choices=BENCHES, default=[])
    parser.add_argument("--publish-sides", nargs="+", choices=bench_publish.SIDES,
                        default=["raw", "publish", "registry", "skopeo"])
    args = parser.parse_args()
    quick = args.quick
    chosen: dict[str, Callable[[], list[Goal]]] = {
        "release": lambda: bench_release.bench(
            (20_000, 200), 2.0, args.runs, 100_000
        ),
        "extract-notes": lambda: bench_extract_notes.bench(
            5.0, 3000, args.runs, 20.0 if quick else 50.0, 100.0
        ),
        "publish": lambda: bench_publish.bench(
            20, 5 if quick else 25, 1, tuple(args.publish_sides)
        ),
    }
    for name in args.skip:
        chosen.pop(name)
    for name in chosen:
        missing = [tool for tool in PEERS.get(name, ()) if shutil.which(tool) is None]
        if missing:
            raise SystemExit(f"{name}: {', '.join(missing)} not on PATH (pip install -e "
                             "'.[bench]'; publish needs docker and skopeo), or --skip it")
    cache_bytecode()
    started = time.perf_counter()
    goals: list[Goal] = []
    failed: list[str] = []
    for name, run in chosen.items():
        print(f"\n== {name} ==", flush=True)
        try:
            goals += run()
        except (SystemExit, Exception) as exc:  # one broken bench keeps the others' table
            failed.append(f"{name}: {exc}")
            print(f"{name} failed: {exc}", flush=True)
    print(f"\n== summary: {len(goals)} goals, {sum(g.met for g in goals)} met "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s) ==")
    print(table(goals))
    for line in failed:
        print(f"not measured, the bench failed: {line.splitlines()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
