"""Diffs of two texts, made in memory by libgit2 (`git diff`'s format), and git's blob ids."""

from __future__ import annotations

import hashlib
import re

from release.core import unchanged
from release.shell.pygit2_import import pygit2


def diff_texts(old: str | None, new: str | None, path: str) -> str:
    """A unified diff (`git diff` format) of two versions of `path` (None: no file), without
    touching disk. Two large texts that share a long middle are compared without it
    (`release.core.unchanged`): a rolled 2 MB changelog's diff took 20 ms, most of it hashing
    lines that did not change."""
    if old is not None and new is not None and (middle := unchanged.Middle.find(old, new)):
        cut = unchanged.stand_in(old, new, middle)
        if cut is not None:
            text = cut.renumber(_patch_text(cut.old, cut.new, path))
            old_id, new_id = blob_sha1(old.encode()), blob_sha1(new.encode())
            return _INDEX_LINE.sub(
                lambda m: f"index {old_id[: len(m[1])]}..{new_id[: len(m[2])]}", text, count=1
            )
    return _patch_text(old, new, path)


_INDEX_LINE = re.compile(r"^index ([0-9a-f]+)\.\.([0-9a-f]+)", re.MULTILINE)


def _patch_text(old: str | None, new: str | None, path: str) -> str:
    # libgit2's patch points into these buffers: they must outlive the rendering of its text
    # (passing temporaries lets Python free them first, and the diff then shows freed memory).
    old_bytes = None if old is None else old.encode()
    new_bytes = None if new is None else new.encode()
    patch = pygit2.Patch.create_from(old_bytes, new_bytes, old_as_path=path, new_as_path=path)
    return patch.text or ""


def blob_sha1(data: bytes) -> str:
    """git's id of a blob holding `data` (in a SHA-1 repository)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()
