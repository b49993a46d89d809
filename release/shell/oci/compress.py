"""Deterministic gzip of a layer, compressed on every core, in constant memory.

The layer is cut into blocks of `BLOCK` bytes, each deflated on its own (no shared dictionary,
so blocks compress in parallel; zlib releases the GIL), ended with a sync flush except the last,
and framed as ONE gzip member with a fixed header (mtime 0, no name): the same bytes in give
the same blob out, on every run with the same zlib, which is what lets a registry's blob be
reused. This is pigz's framing without its dictionary priming; blocks that do not compress
(probed first) are stored rather than deflated for nothing.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from release.shell.oci.archive import Readable

BLOCK = 1 << 20
LEVEL = 6  # zlib's default, what `docker push` and `gzip` use
# mtime 0, no extra flags, "unknown" OS: no byte depends on the machine or the clock.
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="deflate")


SAMPLES, SAMPLE = 4, 16 << 10  # probes of a block, to tell whether it compresses at all
INCOMPRESSIBLE = 0.97  # a probe that shrinks less than this: the block is stored as is


def _compressible(block: bytes) -> bool:
    """Whether deflating `block` is worth its time: probes spread over it are deflated
    quickly. zlib spends as long on already-compressed data (archives, images, wheels in a
    closure) as on text, for nothing; such blocks are stored. Decided by the bytes alone, so
    the output stays deterministic."""
    if len(block) < SAMPLES * SAMPLE * 2:
        return True
    step = len(block) // SAMPLES
    probe = b"".join(block[i * step : i * step + SAMPLE] for i in range(SAMPLES))
    return len(zlib.compress(probe, 1)) < INCOMPRESSIBLE * len(probe)


def _deflate(block: bytes, last: bool) -> bytes:
    level = LEVEL if _compressible(block) else 0
    engine = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    return engine.compress(block) + engine.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class GzipStream:
    """Iterate to get the gzip bytes of `source`; afterwards `diff_id` is the sha256 of what
    was read (the layer's uncompressed digest) and `size` its length."""

    def __init__(self, source: Readable, *, lookahead: int = 0) -> None:
        self._source = source
        self._lookahead = lookahead or 2 * (os.cpu_count() or 2)
        self._sha = hashlib.sha256()
        self._crc = 0
        self.size = 0

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._sha.hexdigest()

    def _blocks(self) -> Iterator[tuple[bytes, bool]]:
        block = self._source.read(BLOCK)
        while True:
            following = self._source.read(BLOCK) if block else b""
            yield block, not following
            if not following:
                return
            block = following

    def __iter__(self) -> Iterator[bytes]:
        yield HEADER
        pending: deque[Future[bytes]] = deque()
        for block, last in self._blocks():
            self._sha.update(block)
            self._crc = zlib.crc32(block, self._crc)
            self.size += len(block)
            pending.append(_POOL.submit(_deflate, block, last))
            while len(pending) >= self._lookahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        yield struct.pack("<II", self._crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF)
