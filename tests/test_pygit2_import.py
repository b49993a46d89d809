"""pygit2 is imported without libgit2 loading the CA bundle file (`release.shell.pygit2_import`):
libgit2 gets the certificate directory alone, the process's environment is left as it was, and
a broken bundle (an empty `SSL_CERT_FILE`, as some CI images have) no longer stops the import.
Each case runs in a fresh interpreter: the import happens once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import certifi

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, os, subprocess, sys
before = dict(os.environ)
import release.shell.git
import pygit2
child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('SSL_CERT_FILE'))"],
                       capture_output=True, text=True, check=True).stdout.strip()
print(json.dumps({
    "file": pygit2.settings.ssl_cert_file, "dir": pygit2.settings.ssl_cert_dir,
    "environ_kept": dict(os.environ) == before, "child": child,
}))
"""


def _probe(env: dict[str, str | None]) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT_")}
    environ.update({k: v for k, v in env.items() if v is not None})
    environ["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_libgit2_gets_the_directory_and_the_environment_is_kept(tmp_path: Path) -> None:
    got = _probe({"SSL_CERT_FILE": certifi.where(), "SSL_CERT_DIR": str(tmp_path)})
    assert got == {"file": None, "dir": str(tmp_path), "environ_kept": True,
                   "child": certifi.where()}


def test_an_unset_bundle_variable_stays_unset(tmp_path: Path) -> None:
    got = _probe({"SSL_CERT_DIR": str(tmp_path)})
    assert got["environ_kept"] is True
    assert got["child"] == "None"
    assert got["dir"] == str(tmp_path)


def test_a_broken_bundle_file_does_not_stop_the_import(tmp_path: Path) -> None:
    # pygit2 1.21's own import fails on it ("OpenSSL error: failed to load certificates")
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    got = _probe({"SSL_CERT_FILE": str(empty), "SSL_CERT_DIR": str(tmp_path)})
    assert got["file"] is None
    assert got["child"] == str(empty)


def test_without_a_directory_pygit2_is_imported_as_it_is(tmp_path: Path) -> None:
    got = _probe({"SSL_CERT_FILE": certifi.where(), "SSL_CERT_DIR": str(tmp_path / "none")})
    assert got["file"] == certifi.where()
    assert got["environ_kept"] is True
