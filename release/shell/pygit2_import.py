"""pygit2, imported without OpenSSL parsing the system's whole bundle of CA certificates.

`import pygit2` hands libgit2 the certificate locations `ssl.get_default_verify_paths()` names,
and OpenSSL reads a bundle *file* at once, parsing every certificate in it: 105 M instructions
with Debian's bundle (callgrind, pygit2 1.21), a tenth of `release --dry-run` on 200 commits,
paid by every `release` and `publish` run. Those locations serve libgit2's own network
transports, which nothing here uses: every fetch, ls-remote and push runs `git`
(`release.shell.git`, through `release.shell.proc`), with the user's configuration.

So pygit2 is imported with the bundle file hidden from `ssl` for the length of the import
(`SSL_CERT_FILE` set empty, then put back as it was): libgit2 gets the certificate directory,
which OpenSSL reads lazily, one certificate when a connection asks for it. Without a directory
to give it, or with other threads running (the environment is the whole process's), pygit2 is
imported as it always is. Every module of ours imports pygit2 from here.
"""

from __future__ import annotations

import os
import ssl
import sys


def _hide_bundle_file() -> tuple[str, str | None] | None:
    """Hide the CA bundle file from `ssl.get_default_verify_paths` (the environment variable
    and what it held), when the certificate directory is there to stand for it."""
    if "pygit2" in sys.modules:
        return None
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return None
    paths = ssl.get_default_verify_paths()
    if paths.cafile is None or paths.capath is None:
        return None  # no file to skip, or nothing for libgit2 without it
    name = paths.openssl_cafile_env
    held = os.environ.get(name)
    os.environ[name] = ""
    return name, held


def _put_back(hidden: tuple[str, str | None] | None) -> None:
    if hidden is None:
        return
    name, held = hidden
    if held is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = held


_hidden = _hide_bundle_file()
try:
    import pygit2 as pygit2  # noqa: PLC0414 (re-exported: imported here, after the above)
finally:
    _put_back(_hidden)

__all__ = ["pygit2"]
