"""A docker-archive read as an OCI image, by streaming: its config, its layers, its platform.

`read_archive` is what both paths' plan reads (ID, tags, labels).

`read_image` makes one pass over the archive (layers are skipped, never read into memory) and
keeps the config, the layers' `rootfs.diff_ids` and, in a plain archive, where each layer's
bytes start. `layer_streams` then reads the chosen layers in archive order (one pass, also over
a gzip'd archive); `open_layer` reads one on its own (a seek in a plain archive).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tarfile
import zlib
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from release.errors import DojoError

MAX_JSON_MEMBER = 16 << 20  # a manifest or config is kilobytes


@dataclass(frozen=True)
class ImageArchive:
    """A docker-archive image, as read from its manifest and config."""

    path: Path
    image_id: str  # sha256:<digest of the config JSON>, what `docker load` reports as the ID
    repo_tags: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    layers: int = 0
    compressed: bool = False

    @property
    def name(self) -> str:
        return self.repo_tags[0] if self.repo_tags else self.image_id


def read_archive(path: Path) -> ImageArchive:
    """Read the image ID, tags and labels of the docker-archive at `path` (one image)."""
    found = scan(path)
    return parse_metadata(path, found.jsons, found.compressed)[0]


def is_gzip(path: Path) -> bool:
    """Whether the archive at `path` is gzip'd (a one-line error when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise DojoError(
            f"cannot read image archive {path}: {exc.strerror}: pass an existing docker-archive "
            "with --image (or run `nix run .#publish`)"
        ) from None


def parse_metadata(
    path: Path, members: Mapping[str, bytes], compressed: bool
) -> tuple[ImageArchive, dict[str, Any], dict[str, Any]]:
    """The image of an archive whose top-level JSON files are `members`, its manifest.json
    entry and its config."""
    manifest = members.get("manifest.json")
    if not isinstance(manifest, bytes):
        raise DojoError(f"{path} has no manifest.json: it is not a docker-archive")
    try:
        entries = json.loads(manifest)
    except ValueError:
        raise DojoError(f"{path}: manifest.json is not JSON") from None
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise DojoError(
            f"{path} must hold exactly one image (manifest.json lists {str(entries)[:200]})"
        )
    entry: dict[str, Any] = entries[0]
    config_bytes = members.get(str(entry.get("Config")))
    if config_bytes is None:
        raise DojoError(
            f"{path}: the config {entry.get('Config')} named in manifest.json is missing"
        )
    try:
        config = json.loads(config_bytes)
    except ValueError:
        config = None
    inner = config.get("config") if isinstance(config, dict) else None
    labels = (inner.get("Labels") if isinstance(inner, dict) else None) or {}
    if not isinstance(config, dict) or not isinstance(labels, dict):
        raise DojoError(
            f"{path}: the image config {entry.get('Config')} is not a JSON object with "
            "config.Labels: the archive is damaged; rebuild the image"
        )
    summary = ImageArchive(
        path=path,
        image_id="sha256:" + hashlib.sha256(config_bytes).hexdigest(),
        repo_tags=tuple(entry.get("RepoTags") or ()),
        labels={str(k): str(v) for k, v in labels.items()},
        layers=len(entry.get("Layers") or ()),
        compressed=compressed,
    )
    return summary, entry, config


def read_json_member(
    path: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, found: dict[str, bytes]
) -> None:
    """Keep a top-level `.json` member (the manifest or the config) in `found`, size-capped."""
    if "/" in member.name or not member.name.endswith(".json"):
        return
    if member.size > MAX_JSON_MEMBER:
        raise DojoError(
            f"{path}: {member.name} is {member.size >> 20} MiB, not an image's "
            "manifest or config: pass the image built by Nix"
        )
    extracted = tar.extractfile(member)
    if extracted is not None:
        found[member.name] = extracted.read()


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Platform:
    """An image's platform, from its config."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def descriptor(self) -> dict[str, str]:
        """The `platform` object of an OCI index entry."""
        found = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            found["variant"] = self.variant
        return found


@dataclass(frozen=True)
class Layer:
    """One layer of a docker-archive image."""

    member: str  # the layer's tar member in the archive, `<hex>/layer.tar`
    diff_id: str  # sha256 of the uncompressed layer tar, from the config's rootfs
    size: int  # uncompressed bytes
    offset: int  # where the bytes start in the (uncompressed) archive


@dataclass(frozen=True)
class ArchiveImage:
    """One image of a docker-archive: what the daemonless path pushes."""

    summary: ImageArchive  # what the plan reads (ID, tags, labels)
    config: bytes  # the config JSON exactly as in the archive: its digest is the image ID
    layers: tuple[Layer, ...]
    platform: Platform
    # gzip'd archives: where each layer can be inflated from, without what precedes it
    resume: dict[str, Resume] = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> Path:
        return self.summary.path

    @property
    def image_id(self) -> str:
        return self.summary.image_id


RAW = 1 << 18  # compressed bytes read at a time
OUT = 1 << 20  # inflated bytes produced at a time (bounded: a run of zeros inflates 1000-fold)


@dataclass(frozen=True)
class Resume:
    """A point of a gzip'd archive it can be inflated from again (a layer's first byte)."""

    raw_offset: int  # where to read the compressed file from
    engine: Any  # a copy of the zlib decompressor at that point
    pending: bytes  # inflated bytes not read yet at that point
    position: int  # the uncompressed offset of that point


class _Inflater:
    """A gzip'd file read forward, with `checkpoint()`s to start again from without inflating
    what comes before. Forward `seek` inflates and drops what it skips, without buffering it;
    several gzip members are one stream, as gzip reads them. No CRC is computed: every layer's
    bytes are checked against their digest where they are used (the daemon's load, our upload)."""

    def __init__(self, raw: IO[bytes], resume: Resume | None = None) -> None:
        self._raw = raw
        if resume is None:
            self._engine: Any = zlib.decompressobj(31)
            self._buf, self._pos = b"", 0
        else:
            raw.seek(resume.raw_offset)
            self._engine = resume.engine.copy()
            self._buf, self._pos = resume.pending, resume.position

    def _inflate(self, limit: int) -> bytes:
        """The next inflated bytes, at most `limit` of them; b"" at the end of the file."""
        while True:
            engine = self._engine
            if engine.eof:
                data = engine.unused_data or self._raw.read(RAW)
                if not data:
                    return b""  # the end
                self._engine = engine = zlib.decompressobj(31)
            else:
                data = engine.unconsumed_tail or self._raw.read(RAW)
                if not data:
                    raise EOFError("the gzip stream is cut off")
            out: bytes = engine.decompress(data, limit)
            if out:
                return out

    def read(self, n: int = -1, /) -> bytes:
        """`n` bytes (fewer only at the end; all that is left if `n` < 0)."""
        if n < 0:
            n = 1 << 62
        pieces = []
        if self._buf:
            pieces.append(self._buf[:n])
            self._buf = self._buf[n:]
        left = n - len(pieces[0]) if pieces else n
        while left > 0 and (more := self._inflate(min(left, OUT))):
            pieces.append(more)
            left -= len(more)
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0, /) -> int:
        target = offset if whence == 0 else self._pos + offset
        if whence not in (0, 1) or target < self._pos:
            raise OSError("a gzip'd archive is read forward only")
        if self._buf:
            dropped = self._buf[: target - self._pos]
            self._buf = self._buf[len(dropped):]
            self._pos += len(dropped)
        while self._pos < target and (skipped := len(self._inflate(min(OUT, target - self._pos)))):
            self._pos += skipped
        return self._pos

    def checkpoint(self) -> Resume:
        return Resume(self._raw.tell(), self._engine.copy(), self._buf, self._pos)


def _opened(
    path: Path, compressed: bool, stack: contextlib.ExitStack, resume: Resume | None = None
) -> IO[bytes]:
    handle: IO[bytes] = stack.enter_context(path.open("rb"))
    if compressed:
        return _Inflater(handle, resume)  # type: ignore[return-value]
    return handle


@dataclass(frozen=True)
class Scan:
    """What one pass over a docker-archive found: its top-level JSON files, its members and
    (gzip'd) where each member's bytes can be inflated from."""

    compressed: bool
    jsons: dict[str, bytes]
    members: dict[str, tarfile.TarInfo]
    resume: dict[str, Resume]


def scan(path: Path) -> Scan:
    """One pass over the docker-archive at `path` (gzip'd or plain): layers are seeked past in
    a plain file, inflated and dropped in a gzip'd one, never kept."""
    compressed = is_gzip(path)
    jsons: dict[str, bytes] = {}
    members: dict[str, tarfile.TarInfo] = {}
    resume: dict[str, Resume] = {}
    try:
        with contextlib.ExitStack() as stack:
            reader = _opened(path, compressed, stack)
            tar = stack.enter_context(tarfile.open(fileobj=reader, mode="r:"))
            for member in tar:
                if not member.isfile():
                    continue
                members[member.name] = member
                if isinstance(reader, _Inflater) and reader.tell() == member.offset_data:
                    resume[member.name] = reader.checkpoint()
                read_json_member(path, tar, member, jsons)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DojoError(
            f"{path} is not a docker-archive ({exc}): pass the image built by Nix"
        ) from None
    return Scan(compressed, jsons, members, resume)


def read_image(path: Path) -> ArchiveImage:
    """The image in the docker-archive at `path` (gzip'd or plain), layers left on disk."""
    scanned = scan(path)
    compressed, jsons, members = scanned.compressed, scanned.jsons, scanned.members
    summary, entry, config = parse_metadata(path, jsons, compressed)
    layer_names = [str(name) for name in entry.get("Layers") or ()]
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_names):
        raise DojoError(
            f"{path}: the config lists {len(diff_ids) if isinstance(diff_ids, list) else 'no'} "
            f"rootfs.diff_ids for {len(layer_names)} layers: the archive is damaged; rebuild it"
        )
    layers = []
    for name, diff_id in zip(layer_names, diff_ids, strict=True):
        found = members.get(name)
        if found is None or not isinstance(diff_id, str) or not diff_id.startswith("sha256:"):
            raise DojoError(
                f"{path}: layer {name} ({diff_id}) named in manifest.json is missing or has no "
                "sha256 diff_id: the archive is damaged; rebuild the image"
            )
        layers.append(Layer(name, diff_id, found.size, found.offset_data))
    platform = Platform(
        os=str(config.get("os") or "linux"),
        architecture=str(config.get("architecture") or "amd64"),
        variant=str(config["variant"]) if config.get("variant") else None,
    )
    config_bytes = jsons[str(entry.get("Config"))]
    resume = scanned.resume
    kept = {layer.member: resume[layer.member] for layer in layers if layer.member in resume}
    return ArchiveImage(summary, config_bytes, tuple(layers), platform, kept)


def layer_streams(
    image: ArchiveImage, wanted: set[str]
) -> Generator[tuple[Layer, Readable], None, None]:
    """The layers whose member is in `wanted`, each as a stream of its uncompressed bytes, in
    archive order (a stream is valid until the next one is yielded). A gzip'd archive is
    inflated from each layer's resume point, or else in one forward pass."""
    layers = sorted((layer for layer in image.layers if layer.member in wanted),
                    key=lambda layer: layer.offset)
    try:
        with contextlib.ExitStack() as stack:
            raw: IO[bytes] | None = None
            for layer in layers:
                resume = image.resume.get(layer.member)
                if raw is None or resume is not None:
                    stack.close()
                    raw = _opened(image.path, image.summary.compressed, stack, resume)
                if raw.seek(layer.offset) != layer.offset:
                    raise EOFError(f"{layer.member} is cut off")
                stream = _Bounded(raw, layer.size)
                yield layer, stream
                if stream.left:
                    raise EOFError(f"{layer.member} is cut off")
    except (OSError, EOFError, zlib.error) as exc:
        raise DojoError(
            f"reading {image.path} failed ({exc}): the archive changed while publishing; run "
            "again"
        ) from None


@contextlib.contextmanager
def open_layer(image: ArchiveImage, layer: Layer) -> Iterator[Readable]:
    """One layer's uncompressed bytes on their own: a seek in a plain archive, a resume point
    (or a pass up to it) in a gzip'd one."""
    streams = layer_streams(image, {layer.member})
    try:
        yield next(streams)[1]
    finally:
        streams.close()


class _Bounded:
    """The next `size` bytes of `handle` as a read-only stream."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self._handle = handle
        self.left = size

    def read(self, n: int = -1, /) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self._handle.read(n)
        self.left -= len(data)
        return data


def docker_archive(image: ArchiveImage, skip: int) -> Iterator[bytes]:
    """A plain docker-archive of `image` whose first `skip` layers are named in its manifest
    but left out (the daemon loading it has them), as a stream: the config, manifest.json and
    the other layers, read from the archive at their resume points."""
    config_name = image.image_id.removeprefix("sha256:") + ".json"
    manifest = json.dumps([{
        "Config": config_name,
        "RepoTags": list(image.summary.repo_tags),
        "Layers": [layer.member for layer in image.layers],
    }]).encode()
    for name, data in ((config_name, image.config), ("manifest.json", manifest)):
        yield _tar_header(name, len(data)) + data + _padding(len(data))
    for layer, stream in layer_streams(image, {layer.member for layer in image.layers[skip:]}):
        yield _tar_header(layer.member, layer.size)
        while data := stream.read(SEND):
            yield data
        yield _padding(layer.size)
    yield bytes(2 * tarfile.BLOCKSIZE)  # the end of the archive


SEND = 1 << 20  # bytes of a layer sent to the daemon at a time


def _tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o444
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _padding(size: int) -> bytes:
    return bytes(-size % tarfile.BLOCKSIZE)
