"""Benchmark: `publish` versus the raw `docker load` + `docker tag` + `docker push`.

A generated 20-layer, ~500 MB docker-archive (gzip'd, laid out like buildLayeredImage's) is
published to a local registry, then a second image that differs from the first in one layer.
Each side runs on a FRESH Docker daemon and a FRESH registry, in the same run, one after the
other. Prints seconds and the ratio publish / raw for both images.

    python bench/bench_publish.py [--layers 20] [--layer-mb 25] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.containers import (  # noqa: E402
    Archive,
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


CLIENT_CPU: dict[str, float] = {"raw": 0.0, "publish": 0.0}


def run(argv: list[str], env: dict[str, str], side: str) -> float:
    """Wall seconds; the client's own CPU seconds (less noisy) go to CLIENT_CPU[side]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CLIENT_CPU[side] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall


def raw(images: tuple[Archive, Archive]) -> tuple[float, float]:
    """What a user would type, on a fresh daemon and registry."""
    with running_dockerd() as daemon, running_registry() as registry:
        env = {**os.environ, **daemon.env()}
        ref = f"{registry.address}/bench/dojo"
        times = []
        for image, sha in zip(images, (SHA_1, SHA_2), strict=True):
            seconds = run(["docker", "load", "-q", "-i", str(image.path)], env, "raw")
            seconds += run(["docker", "tag", image.image_id, f"{ref}:{sha[:12]}"], env, "raw")
            seconds += run(["docker", "push", "-q", f"{ref}:{sha[:12]}"], env, "raw")
            times.append(seconds)
        return times[0], times[1]


def publish(images: tuple[Archive, Archive]) -> tuple[float, float]:
    """`publish` as CI runs it (its own process), on a fresh daemon and registry."""
    with running_dockerd() as daemon, running_registry() as registry:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOJO_"))}
        env.update(daemon.env())
        env["PYTHONPATH"] = str(ROOT)
        times = []
        for image, sha in zip(images, (SHA_1, SHA_2), strict=True):
            times.append(run([
                sys.executable, "-m", "release.apps.publish.cli", "--image", str(image.path),
                "--registry", registry.address, "--repository", "bench/dojo", "--sha", sha,
            ], env, "publish"))
        return times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--layer-mb", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="uncompressed archive (buildLayeredImage's compressor = \"none\") instead of gzip",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-publish.") as tmp:
        start = time.perf_counter()
        images = build_images(Path(tmp), args.layers, args.layer_mb, gz=not args.plain)
        size = sum(i.path.stat().st_size for i in images[:1]) / 1e6
        kind = "plain" if args.plain else "gzip'd"
        print(f"archive: {args.layers} layers, {size:.0f} MB {kind} "
              f"(generated in {time.perf_counter() - start:.1f} s)", flush=True)
        rows = []
        for n in range(args.rounds):
            # Alternate the order between rounds so neither side always runs first.
            order = (raw, publish) if n % 2 == 0 else (publish, raw)
            result = {fn.__name__: fn(images) for fn in order}
            rows.append((result["raw"], result["publish"]))
            print(f"round {n + 1}: raw first={result['raw'][0]:.1f}s second="
                  f"{result['raw'][1]:.1f}s | publish first={result['publish'][0]:.1f}s "
                  f"second={result['publish'][1]:.1f}s", flush=True)
        for index, name in enumerate(("first image", "second image (1 layer differs)")):
            raw_s = min(r[0][index] for r in rows)
            pub_s = min(r[1][index] for r in rows)
            print(f"{name:<32} raw {raw_s:7.1f} s   publish {pub_s:7.1f} s   "
                  f"ratio {pub_s / raw_s:.3f}   (best of {len(rows)})")
        runs = 2 * len(rows)
        print(f"client CPU per image (the tools' own work, daemon excluded): raw "
              f"{CLIENT_CPU['raw'] / runs:.2f} s, publish {CLIENT_CPU['publish'] / runs:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
