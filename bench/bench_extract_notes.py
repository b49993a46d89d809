"""Benchmark: the whole `extract-notes` process on a generated 5 MB changelog with 3,000
versions, for a version near the end and for `latest`, and `--check` of the whole file (also
raced against a generated 50 MB one, which took 183 s before the check became linear), side by side
with what a user would otherwise run: an awk one-liner (what many release workflows paste in)
and the `keepachangelog` package's `to_raw_dict` (PyPI). git-cliff cannot extract a section, so
it is not in the race.
A typical 100 KB changelog (code fences and HTML comments in it) races keepachangelog too.
Every command runs the same number of times, interleaved; medians are compared. Goals (issue 17):
one section no slower than keepachangelog.to_raw_dict on 5 MB and on 100 KB, byte-exact;
`--check` of 5 MB under 3x keepachangelog's parse of the file, and of 50 MB at most 10x 5 MB's.

    python bench/bench_extract_notes.py [--mb 5] [--versions 3000] [--runs 3] [--check-mb 50]
                                        [--small-kb 100]

keepachangelog comes from the `bench` extra (`pip install -e '.[bench]'`); without it, that row
is skipped. `python -c pass` and `import mistletoe` are printed as baselines (what any Python
tool pays before it reads a byte), not as competitors.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from goals import Goal, table
from harness import cache_bytecode

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("Added", "Changed", "Fixed", "Removed", "Security", "Deprecated")
WORDS = [
    "parser", "config", "cache", "retry", "timeout", "header", "token", "plugin", "registry",
    "image", "layer", "digest", "tag", "branch", "remote", "commit", "notes", "changelog", "flag",
    "option", "path", "symlink", "locale", "encoding", "stream",
]


def version_name(n: int) -> str:
    return f"{n // 900}.{n // 30 % 30}.{n % 30}"  # unique, and descending with n


def generate(size: int, versions: int, *, worst: bool = False, seed: int = 7) -> str:
    """A Keep a Changelog file of about `size` bytes with `versions` releases, newest first.

    Like real ones: categories, bullets with links and issue references, nested lists, now and
    then a fenced code block holding `## ` lines or an HTML comment; compare links and issue
    links at the bottom. `worst` puts a fence and a comment in every section, so that no region
    of the file can be skipped without a parse.
    """
    rng = random.Random(seed)
    per = max(200, size // versions)
    names = [version_name(n) for n in range(versions + 100, 100, -1)]
    out = [
        "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n"
        "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n\n"
        "## [Unreleased]\n\n### Added\n\n- Pending entry ([#1])\n\n"
    ]
    issue = 1
    for index, name in enumerate(names):
        date = f"20{10 + index % 15:02d}-{index % 12 + 1:02d}-{index % 28 + 1:02d}"
        parts = [f"## [{name}] - {date}\n"]
        length = 0
        for kind in rng.sample(KINDS, 3):
            parts.append(f"\n### {kind}\n\n")
            for _ in range(rng.randint(2, 5)):
                issue += 1
                words = " ".join(rng.choices(WORDS, k=rng.randint(6, 14)))
                line = f"- The {words} now works as documented ([#{issue}])\n"
                if rng.random() < 0.2:  # a full reference: --check resolves its label
                    line = f"- The {words} now works as the [guide][{kind.lower()}] says\n"
                if rng.random() < 0.3:
                    line += f"  - including `{rng.choice(WORDS)}` on *Windows* and macOS\n"
                parts.append(line)
                length += len(line)
                if length > per - 300:
                    break
        if worst or index % 10 == 3:
            parts.append(f"\n```console\n$ tool migrate\n## migrated {name}\n```\n")
        if worst or index % 25 == 7:
            parts.append(f"\n<!--\n## [{name}] - draft heading kept in a comment\n-->\n")
        filler = per - sum(map(len, parts))
        while filler > 80:
            words = " ".join(rng.choices(WORDS, k=10))
            parts.append(f"- Also: {words}.\n")
            filler -= 90
        out.append("".join(parts) + "\n")
    out.append(f"[unreleased]: https://github.com/acme/widget/compare/v{names[0]}...HEAD\n")
    for newer, older in zip(names, [*names[1:], None], strict=True):
        target = f"compare/v{older}...v{newer}" if older else f"releases/tag/v{newer}"
        out.append(f"[{newer}]: https://github.com/acme/widget/{target}\n")
    out.append("".join(f"[{kind.lower()}]: https://acme.example/guide/{kind.lower()}\n"
                       for kind in KINDS))
    out.append("".join(f"[#{n}]: https://github.com/acme/widget/issues/{n}\n"
                       for n in range(1, issue + 1, 7)))
    return "".join(out)


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    baseline: bool = False


def extract_notes(path: Path, query: str, name: str) -> Command:
    return Command(name, (sys.executable, "-m", "release.apps.extract_notes", query,
                          "--changelog", str(path)))


def check_notes(path: Path, name: str) -> Command:
    return Command(name, (sys.executable, "-m", "release.apps.extract_notes", "--check",
                          "--changelog", str(path)))


def rivals(path: Path, version: str, label: str) -> list[Command]:
    """What a user would run instead: an awk one-liner, and keepachangelog if installed."""
    found = [
        Command(f"awk one-liner {label}", (
            "awk", "-v", f"h=## [{version}]",
            "index($0, h) == 1 {f = 1; next} /^## / {if (f) exit} f", str(path),
        )),
    ]
    if importlib.util.find_spec("keepachangelog") is not None:
        found.append(Command(f"keepachangelog.to_raw_dict {label}", (
            sys.executable, "-c",
            "import sys, keepachangelog; "
            "print(keepachangelog.to_raw_dict(sys.argv[1])[sys.argv[2]]['raw'])",
            str(path), version,
        )))
    return found


@dataclass(frozen=True)
class Timing:
    wall: float  # median seconds
    cpu: float  # median user + system seconds of the process
    stdout: bytes


def time_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def race(cmds: list[Command], runs: int, env: dict[str, str]) -> dict[str, Timing]:
    walls: dict[str, list[float]] = {c.name: [] for c in cmds}
    cpus: dict[str, list[float]] = {c.name: [] for c in cmds}
    outputs: dict[str, bytes] = {}
    if runs > 1:
        for cmd in cmds:  # warm-up: page cache, bytecode
            time_once(cmd.argv, env)
    for _ in range(runs):  # interleaved, so load on the machine hits every tool alike
        for cmd in cmds:
            wall, cpu, out = time_once(cmd.argv, env)
            walls[cmd.name].append(wall)
            cpus[cmd.name].append(cpu)
            outputs[cmd.name] = out
    return {
        name: Timing(statistics.median(walls[name]), statistics.median(cpus[name]), outputs[name])
        for name in walls
    }


def verdict(output: bytes, body: str) -> str:
    text = output.decode("utf-8", errors="replace").strip("\n")
    if text == body:
        return "identical"
    if body.startswith(text):
        return f"WRONG: cut short after {len(text)} of {len(body)} characters"
    if text.replace("\n\n", "\n") == body.replace("\n\n", "\n"):
        return "blank lines lost"
    return "differs"


def _ours_exact(output: bytes, body: str) -> str:
    """extract-notes prints the body as written, then (maybe) the link definitions it uses."""
    text = output.decode("utf-8", errors="replace")
    return "identical" if text == body + "\n" or text.startswith(body + "\n\n") else "DIFFERS"


def _small(tmp: str, size: int, env: dict[str, str], runs: int) -> tuple[Timing, Timing]:
    """One section of a typical small changelog (fences and comments in it) against
    keepachangelog; both must print it."""
    from release.core.changelog import parse

    versions = max(20, size // 1700)
    path = Path(tmp, "SMALL.md")
    text = generate(size, versions)
    path.write_text(text, encoding="utf-8")
    index = versions - versions // 10
    plain = version_name(versions + 100 - index - (index % 10 == 3))
    parsed = parse(text)
    fences, comments = text.count("```console"), text.count("<!--")
    print(f"\nsmall changelog: {len(text.encode()) / 1e3:.0f} KB, {len(parsed.releases)} versions, "
          f"{fences} code fences holding `## ` lines, {comments} HTML comments holding headings")
    ours = extract_notes(path, f"v{plain}", f"extract-notes v{plain} (small)")
    rival = rivals(path, plain, f"{plain} (small)")[-1]
    # The floor: a section's link references are read by mistletoe's span parser (and its
    # headings by its block parser where a fence or comment could hide one), so no run of ours
    # is faster than the interpreter importing mistletoe the fastest way we know.
    floor = Command("python -c 'import release.core.markdown'  (floor: mistletoe, imported)",
                    (sys.executable, "-c", "import release.core.markdown"), baseline=True)
    start = Command("python -c pass  (baseline)", (sys.executable, "-c", "pass"), baseline=True)
    results = race([ours, rival, floor, start], runs, env)
    body = parsed.find(plain).body
    print(f"  {ours.name}: {results[ours.name].wall * 1000:.0f} ms, "
          f"{_ours_exact(results[ours.name].stdout, body)}")
    print(f"  {rival.name}: {results[rival.name].wall * 1000:.0f} ms, "
          f"{verdict(results[rival.name].stdout, body)}")
    for base in (floor, start):
        print(f"  {base.name}: {results[base.name].wall * 1000:.0f} ms "
              f"({results[base.name].wall / results[rival.name].wall:.2f}x the rival)")
    return results[ours.name], results[rival.name]


def bench(
    mb: float = 5.0, versions: int = 3000, runs: int = 3, check_mb: float = 50.0,
    small_kb: float = 100.0,
) -> list[Goal]:
    """Every extract-notes goal of issue 17, measured here and now."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from release.core.changelog import parse

    if importlib.util.find_spec("keepachangelog") is None:
        raise SystemExit("keepachangelog is not installed: pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory(prefix="bench-notes.") as tmp:
        size = int(mb * 1_000_000)
        typical = Path(tmp, "CHANGELOG.md")
        text = generate(size, versions)
        typical.write_text(text, encoding="utf-8")
        worst = Path(tmp, "WORST.md")
        worst.write_text(generate(size, versions, worst=True), encoding="utf-8")
        # 98% of the way down the file; one plain section, and one holding a fenced `## ` line.
        index = versions - versions // 50
        plain = version_name(versions + 100 - index - (index % 10 == 3))
        fenced = version_name(versions + 100 - (index - index % 10 + 3))
        parsed = parse(text)
        print(f"changelog: {len(text.encode()) / 1e6:.2f} MB, {len(parsed.releases)} versions, "
              f"{len(parsed.link_refs)} link definitions; median of {runs} runs per command, "
              f"interleaved; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")

        ours = f"extract-notes v{plain} (near the end)"
        check = f"extract-notes --check ({mb:g} MB)"
        cmds = [
            Command("python -c pass  (baseline: interpreter start)",
                    (sys.executable, "-c", "pass"), baseline=True),
            Command("python -c 'import mistletoe'  (baseline)",
                    (sys.executable, "-c", "import mistletoe"), baseline=True),
            extract_notes(typical, f"v{plain}", ours),
            extract_notes(typical, "latest", "extract-notes latest"),
            extract_notes(worst, f"v{plain}",
                          f"extract-notes v{plain}, worst case (fence + comment everywhere)"),
            check_notes(typical, check),
            check_notes(worst, f"extract-notes --check ({mb:g} MB, worst case)"),
            *rivals(typical, plain, f"{plain}"),
        ]
        checks = rivals(typical, fenced, f"{fenced} (section with a fenced `## ` line)")
        results = race(cmds, runs, env)
        outputs = race(checks, 1, env)
        expected = {plain: parsed.find(plain).body, fenced: parsed.find(fenced).body}
        big: dict[str, Timing] = {}
        if check_mb:
            huge = Path(tmp, "HUGE.md")
            scale = check_mb / mb
            huge.write_text(generate(int(check_mb * 1_000_000), int(versions * scale)),
                            encoding="utf-8")
            # Raced with the 5 MB --check, interleaved, median of as many runs: the ratio is
            # of two runs under the same load (a lone cold run measured the machine as much).
            big = race([check_notes(typical, check),
                        check_notes(huge, f"extract-notes --check ({check_mb:g} MB)")], runs, env)
        small = _small(tmp, int(small_kb * 1000), env, runs) if small_kb else None

    base = results[ours]
    print(f"\n{'command':<66} {'wall':>8} {'cpu':>8} {'wall vs ours':>13}")
    for cmd in cmds:
        got = results[cmd.name]
        print(f"{cmd.name:<66} {got.wall * 1000:5.0f} ms {got.cpu * 1000:5.0f} ms "
              f"{got.wall / base.wall:12.2f}x")
    print("\ndo they print the section exactly as written? (extract-notes also appends the "
          "link definitions the section uses)")
    print(f"  {ours}: {_ours_exact(results[ours].stdout, expected[plain])}")
    for cmd in [c for c in cmds if not c.baseline and not c.name.startswith("extract")]:
        print(f"  {cmd.name}: {verdict(results[cmd.name].stdout, expected[plain])}")
    for cmd in checks:
        print(f"  {cmd.name}: {verdict(outputs[cmd.name].stdout, expected[fenced])}")
    for name, got in big.items():
        print(f"{name:<66} {got.wall * 1000:5.0f} ms {got.cpu * 1000:5.0f} ms")

    keep = results[f"keepachangelog.to_raw_dict {plain}"]

    def goal(name: str, ours: Timing, peer: Timing, limit: float) -> Goal:
        return Goal(name, ours.wall, peer.wall, limit, ours_cpu=ours.cpu, peer_cpu=peer.cpu)

    goals = [goal(f"extract-notes one section, {mb:g} MB / keepachangelog.to_raw_dict",
                  base, keep, 1.0)]
    if small is not None:
        goals.append(goal(f"extract-notes one section, {small_kb:g} KB with fences / "
                          "keepachangelog.to_raw_dict", small[0], small[1], 1.0))
    goals.append(goal(f"extract-notes --check {mb:g} MB / keepachangelog parse of it",
                      results[check], keep, 3.0))
    if big:
        goals.append(goal(f"extract-notes --check {check_mb:g} MB / --check {mb:g} MB",
                          big[f"extract-notes --check ({check_mb:g} MB)"], big[check],
                          check_mb / mb))
    return goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--versions", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check-mb", type=float, default=50.0,
                        help="also race --check on a file this big against the 5 MB one (0: skip)")
    parser.add_argument("--small-kb", type=float, default=100.0,
                        help="also race keepachangelog on a small changelog this big (0: skip)")
    args = parser.parse_args()
    cache_bytecode()
    goals = bench(args.mb, args.versions, args.runs, args.check_mb, args.small_kb)
    print(table(goals, "extract-notes goals"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
