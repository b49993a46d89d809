"""Benchmark: `publish` (Docker path and `--via registry`) versus raw docker and skopeo.

A generated 20-layer, ~500 MB docker-archive (plain, laid out like buildLayeredImage's with the
`compressor = "none"` nix/docker.nix sets; `--gzip` for its default gzip'd output) is
published to a local registry, then a second image that differs from the first in one layer.
Each side gets a FRESH registry (behind a loopback proxy that counts the bytes sent to it), in
the same run, one after the other:

- raw: `docker load` + `docker tag` + `docker push` on one fresh daemon for both images (the
  daemon remembers what it pushed: kinder to docker than a fresh runner per build);
- raw-fresh: the same with a new daemon for each image, as on a fresh CI runner;
- publish: `publish` on the Docker path (its own fresh daemon);
- registry: `publish --via registry`, no daemon, nothing remembered between the two builds;
- skopeo: `skopeo copy docker-archive:` with an empty blob-info cache before each copy (a fresh
  runner); it is given the plain archive, as Debian's skopeo cannot read a gzip'd one.

Prints seconds, bytes uploaded and the ratios against raw docker and skopeo. Goals (issue 17):
publish's times at most raw docker's, and its client CPU per image within 2x raw docker's (for
`--via registry`, which compresses and hashes what docker leaves to its daemon: within 2x raw
docker's client CPU plus its daemon's during `docker push`, read from /proc); (issue 18)
`--via registry`'s first publish at most 0.5x raw docker, a one-layer change at most 0.2x raw
docker and 0.5x skopeo.

    python bench/bench_publish.py [--layers 20] [--layer-mb 25] [--rounds 1] [--sides ...]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import Goal, table  # noqa: E402
from harness import cache_bytecode  # noqa: E402

from tests.support.containers import (  # noqa: E402
    Archive,
    Daemon,
    FaultProxy,
    make_archive,
    running_dockerd,
    running_registry,
)

SHA_1 = "1111111111111111111111111111111111111111"
SHA_2 = "2222222222222222222222222222222222222222"


def layer(seed: int, mb: int) -> dict[str, bytes]:
    """Half incompressible, half repetitive: roughly what a closure's files look like."""
    rng = random.Random(seed)
    half = mb * 512 * 1024
    return {f"nix/store/{seed:04d}-pkg/data.bin": rng.randbytes(half) + bytes([seed % 256]) * half}


def build_images(tmp: Path, layers: int, mb: int, gz: bool) -> tuple[Archive, Archive]:
    base = [layer(i, mb) for i in range(layers)]
    labels = {"org.opencontainers.image.version": "1.0.0"}
    suffix = ".tar.gz" if gz else ".tar"
    first = make_archive(tmp / f"first{suffix}", layers=base, labels=labels, compress=gz,
                         compresslevel=1)
    changed = [*base[:-1], layer(10_000, mb)]  # one layer differs
    second = make_archive(tmp / f"second{suffix}", layers=changed, labels=labels, compress=gz,
                          compresslevel=1)
    return first, second


SIDES = ("raw", "raw-fresh", "publish", "registry", "skopeo")
CLIENT_CPU: dict[str, float] = dict.fromkeys(SIDES, 0.0)
PUSH_DAEMON_CPU = [0.0]  # raw docker's daemon (dockerd, containerd) during `docker push`
_TICK = os.sysconf("SC_CLK_TCK")


def daemon_cpu(daemon: Daemon) -> float:
    """CPU seconds the daemon has spent so far: dockerd, every process of its session or
    started by it (containerd runs in a session of its own), and what its reaped children
    spent. Docker's daemon compresses and hashes what `--via registry` does in its own process;
    this is how that part of docker's work is counted."""
    leader = int((daemon.root / "pid").read_text().strip())
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the command's name: state ppid pgrp session ... utime(14) stime(15) cutime cstime.
        if leader in (int(fields[1]), int(fields[3])):
            total += int(fields[11]) + int(fields[12])
            if stat.parent.name == str(leader):
                total += int(fields[13]) + int(fields[14])
    return total / _TICK


def run(argv: list[str], env: dict[str, str], side: str) -> float:
    """Wall seconds; the client's own CPU seconds (less noisy) go to CLIENT_CPU[side]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, check=False, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{side}: {' '.join(argv[:4])} ... failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace')[-1500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CLIENT_CPU[side] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall


Result = tuple[tuple[float, float], tuple[int, int]]  # seconds and bytes sent, per image


@contextlib.contextmanager
def counted_registry() -> Iterator[FaultProxy]:
    """A fresh registry behind a proxy that counts the bytes sent to it."""
    with running_registry() as registry:
        host, port = registry.address.split(":")
        proxy = FaultProxy(upstream=(host, int(port))).start()
        try:
            yield proxy
        finally:
            proxy.stop()


def timed(images: tuple[Archive, Archive], proxy: FaultProxy,
          one: Callable[[Archive, str], float]) -> Result:
    times, sent = [], []
    for image, sha in zip(images, (SHA_1, SHA_2), strict=True):
        before = proxy.bytes_up
        times.append(one(image, sha))
        sent.append(proxy.bytes_up - before)
    return (times[0], times[1]), (sent[0], sent[1])


def raw(images: tuple[Archive, Archive], _plain: tuple[Archive, Archive]) -> Result:
    """What a user would type, on a fresh daemon and registry."""
    with running_dockerd() as daemon, counted_registry() as proxy:
        env = {**os.environ, **daemon.env()}
        ref = f"{proxy.address}/bench/dojo"

        def one(image: Archive, sha: str) -> float:
            seconds = run(["docker", "load", "-q", "-i", str(image.path)], env, "raw")
            seconds += run(["docker", "tag", image.image_id, f"{ref}:{sha[:12]}"], env, "raw")
            before = daemon_cpu(daemon)
            seconds += run(["docker", "push", "-q", f"{ref}:{sha[:12]}"], env, "raw")
            PUSH_DAEMON_CPU[0] += daemon_cpu(daemon) - before
            return seconds

        return timed(images, proxy, one)


def raw_fresh(images: tuple[Archive, Archive], _plain: tuple[Archive, Archive]) -> Result:
    """raw docker as on a fresh CI runner: a new daemon for each image, one registry."""
    with counted_registry() as proxy:
        ref = f"{proxy.address}/bench/dojo"

        def one(image: Archive, sha: str) -> float:
            with running_dockerd() as daemon:
                env = {**os.environ, **daemon.env()}
                seconds = run(["docker", "load", "-q", "-i", str(image.path)], env, "raw-fresh")
                seconds += run(["docker", "tag", image.image_id, f"{ref}:{sha[:12]}"], env,
                               "raw-fresh")
                return seconds + run(["docker", "push", "-q", f"{ref}:{sha[:12]}"], env,
                                     "raw-fresh")

        return timed(images, proxy, one)


def _publish_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOJO_"))}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _publish(images: tuple[Archive, Archive], env: dict[str, str], proxy: FaultProxy,
             side: str, *flags: str) -> Result:
    # Warm-up, untimed: the page cache, and bytecode as an installed package has it.
    subprocess.run([sys.executable, "-c", "import release.apps.publish.cli"], env=env,
                   check=True, cwd=ROOT)

    def one(image: Archive, sha: str) -> float:
        return run([
            sys.executable, "-m", "release.apps.publish.cli", "--image", str(image.path),
            "--registry", proxy.address, "--repository", "bench/dojo", "--sha", sha, *flags,
        ], env, side)

    return timed(images, proxy, one)


def publish(images: tuple[Archive, Archive], _plain: tuple[Archive, Archive]) -> Result:
    """`publish` as CI runs it (its own process), on a fresh daemon and registry."""
    with running_dockerd() as daemon, counted_registry() as proxy:
        return _publish(images, _publish_env(daemon.env()), proxy, "publish")


def registry(images: tuple[Archive, Archive], _plain: tuple[Archive, Archive]) -> Result:
    """`publish --via registry`: no daemon; a fresh process per image remembers nothing."""
    with counted_registry() as proxy:
        env = _publish_env({"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
        return _publish(images, env, proxy, "registry", "--via", "registry")


def skopeo(_images: tuple[Archive, Archive], plain: tuple[Archive, Archive]) -> Result:
    """`skopeo copy docker-archive:` on a fresh runner: an empty blob-info cache each time."""
    with counted_registry() as proxy, tempfile.TemporaryDirectory(prefix="skopeo.") as home:

        def one(image: Archive, sha: str) -> float:
            shutil.rmtree(home, ignore_errors=True)
            os.makedirs(home)
            env = {**os.environ, "HOME": home, "XDG_DATA_HOME": f"{home}/data",
                   "XDG_CONFIG_HOME": f"{home}/config", "XDG_RUNTIME_DIR": home}
            # As root, skopeo keeps its cache in /var/lib/containers; in a user namespace it is
            # rootless and keeps it under XDG_DATA_HOME, emptied above.
            return run(["unshare", "--user", "skopeo", "copy", "-q", "--dest-tls-verify=false",
                        f"docker-archive:{image.path}",
                        f"docker://{proxy.address}/bench/dojo:{sha[:12]}"], env, "skopeo")

        return timed(plain, proxy, one)


def plain_copies(images: tuple[Archive, Archive], tmp: Path) -> tuple[Archive, Archive]:
    """The archives uncompressed (for skopeo; the same images)."""
    if not images[0].path.name.endswith(".gz"):
        return images
    copies = []
    for image in images:
        target = tmp / image.path.name.removesuffix(".gz")
        with gzip.open(image.path, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        copies.append(Archive(target, image.image_id, image.diff_ids, image.repo_tag,
                              image.labels))
    return copies[0], copies[1]


def bench(
    layers: int = 20, layer_mb: int = 25, rounds: int = 1, sides: tuple[str, ...] = SIDES,
    gzip_archive: bool = False,
) -> list[Goal]:
    """Every publish goal of issue 17, measured here and now."""
    functions = {"raw": raw, "raw-fresh": raw_fresh, "publish": publish, "registry": registry,
                 "skopeo": skopeo}
    sides = tuple(dict.fromkeys(("raw", *sides)))  # the goals are against raw docker
    for side in sides:
        CLIENT_CPU[side] = 0.0
    PUSH_DAEMON_CPU[0] = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-publish.") as tmp:
        start = time.perf_counter()
        images = build_images(Path(tmp), layers, layer_mb, gz=gzip_archive)
        plain = plain_copies(images, Path(tmp)) if "skopeo" in sides else images
        size = sum(i.path.stat().st_size for i in images[:1]) / 1e6
        kind = "gzip'd" if gzip_archive else "plain"
        print(f"archive: {layers} layers, {size:.0f} MB {kind} "
              f"(generated in {time.perf_counter() - start:.1f} s)", flush=True)
        rows: list[dict[str, Result]] = []
        for n in range(rounds):
            # Rotate the order between rounds so no side always runs first.
            order = sides[n % len(sides):] + sides[: n % len(sides)]
            result = {side: functions[side](images, plain) for side in order}
            rows.append(result)
            print(f"round {n + 1}: " + " | ".join(
                f"{side} first={r[0][0]:.1f}s second={r[0][1]:.1f}s"
                for side, r in result.items()), flush=True)
    goals: list[Goal] = []
    for index, name in enumerate(("first image", "second image (1 layer differs)")):
        best = {side: min(r[side][0][index] for r in rows) for side in sides}
        sent = {side: rows[0][side][1][index] for side in sides}
        print(f"{name} (best of {len(rows)}):")
        for side in sides:
            ratios = "".join(
                f"   {best[side] / best[other]:.3f}x {other}"
                for other in ("raw", "raw-fresh", "skopeo") if other in best and other != side
            )
            print(f"  {side:<9} {best[side]:7.1f} s  {sent[side] / 1e6:8.1f} MB sent{ratios}")
        goals += [
            Goal(f"{_SHOWN[side]}, {name} / raw docker load+tag+push", best[side], best["raw"],
                 1.0)
            for side in sides if side in _SHOWN
        ]
        if "registry" in sides:
            # Issue 18's goals for the daemonless path: first <= 0.5x raw docker; a one-layer
            # change <= 0.2x raw docker and <= 0.5x skopeo (empty blob-info cache).
            peers = [("raw", "raw docker load+tag+push", (0.5, 0.2)[index])]
            if index == 1:
                peers += [("raw-fresh", "raw docker on a fresh daemon", 0.2),
                          ("skopeo", "skopeo copy, empty blob-info cache", 0.5)]
            goals += [
                Goal(f"publish --via registry, {name} / {shown} (issue 18)", best["registry"],
                     best[peer], limit)
                for peer, shown, limit in peers if peer in best
            ]
    runs = 2 * len(rows)
    cpu = {side: CLIENT_CPU[side] / runs for side in sides}
    pushed = PUSH_DAEMON_CPU[0] / runs
    print("client CPU per image (the tools' own work, daemon excluded): " + ", ".join(
        f"{side} {cpu[side]:.2f} s" for side in sides)
        + f"; raw docker's daemon during `docker push`: {pushed:.2f} s")
    if "publish" in sides:  # both load into a daemon, which compresses what each pushes
        goals.append(Goal("publish, client CPU per image / raw docker's", cpu["publish"],
                          cpu["raw"], 2.0))
    if "registry" in sides:
        # --via registry compresses and hashes in its own process what docker's daemon does
        # during `docker push`: that part of the daemon's CPU is counted on docker's side
        # (its load, which --via registry skips, is not).
        goals.append(Goal("publish --via registry, CPU per image / raw docker's client + its "
                          "daemon's push", cpu["registry"], cpu["raw"] + pushed, 2.0))
        if "skopeo" in sides:  # both compress what they send
            goals.append(Goal("publish --via registry, client CPU per image / skopeo's",
                              cpu["registry"], cpu["skopeo"], 1.0))
    return goals


_SHOWN = {"publish": "publish", "registry": "publish --via registry"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--layer-mb", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="a gzip'd archive (buildLayeredImage's default compressor) instead of the plain "
        "one nix/docker.nix builds",
    )
    args = parser.parse_args()
    cache_bytecode()
    goals = bench(args.layers, args.layer_mb, args.rounds, tuple(args.sides), args.gzip)
    print(table(goals, "publish goals"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
