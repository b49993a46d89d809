"""The SBOM of a Nix closure (`closure-sbom`, packages.<system>.sbom), from a closure real Nix
exports: valid against the CycloneDX 1.6 schema (as cyclonedx-python-lib ships it), with the
names, versions, hashes, references and `nix:` properties Nix knows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from release.apps.sbom import main
from release.core.sbom import parse_drv_name, sha256_hex
from tests.support.tools import require_tool

# A closure of two store paths (a derivation output referring to a text file), exported the
# way nix/sbom.nix has Nix export the image's: structured attributes, exportReferencesGraph.
# The builder is the sandbox's /bin/sh, so nothing but Nix itself is needed.
CLOSURE_NIX = r"""
{ seed }:
let
  lib = builtins.toFile "libfoo-1.2.3" "library ${seed}";
  tool = derivation {
    name = "python3.13-tool-2.0.1";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo ${lib} > $out" ];
  };
in
derivation {
  name = "closure-attrs";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  __structuredAttrs = true;
  exportReferencesGraph.closure = [ tool ];
  args = [ "-c" ''
    json=""
    while IFS= read -r line || [ -n "$line" ]; do json="$json$line"; done < "$NIX_ATTRS_JSON_FILE"
    rest=''${json#*\"outputs\":\{\"out\":\"}
    printf '%s' "$json" > "''${rest%%\"*}"
  '' ];
}
"""


@pytest.fixture(scope="module")
def attrs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("nix-build")
    folder = tmp_path_factory.mktemp("closure")
    (folder / "closure.nix").write_text(CLOSURE_NIX)
    done = subprocess.run(
        ["nix-build", str(folder / "closure.nix"), "--argstr", "seed", folder.name,
         "--no-out-link"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def sbom_of(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main([str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    value = json.loads(out)
    assert isinstance(value, dict)
    return value


def nix_hex(nar_hash: str) -> str:
    """Nix's own conversion of a hash to hex, to check ours against."""
    done = subprocess.run(
        ["nix", "--extra-experimental-features", "nix-command", "hash", "to-base16", nar_hash],
        capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


def test_the_sbom_of_a_real_closure_is_valid_cyclonedx(
    attrs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = sbom_of(attrs_file, capsys)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is None
    attrs = json.loads(attrs_file.read_text())
    exported = {entry["path"]: entry for entry in attrs["closure"]}
    [root] = attrs["exportReferencesGraph"]["closure"]
    top = document["metadata"]["component"]
    assert (top["bom-ref"], top["name"], top["version"]) == (root, "python3.13-tool", "2.0.1")
    [lib] = document["components"]
    assert (lib["name"], lib["version"], lib["type"]) == ("libfoo", "1.2.3", "library")
    for component in (top, lib):
        entry = exported[component["bom-ref"]]
        [digest] = component["hashes"]
        assert digest == {"alg": "SHA-256", "content": nix_hex(entry["narHash"])}
        props = {(p["name"], p["value"]) for p in component["properties"]}
        assert ("nix:store_path", entry["path"]) in props
        assert ("nix:narinfo:nar_hash", entry["narHash"]) in props
        assert ("nix:narinfo:nar_size", str(entry["narSize"])) in props
        assert ("nix:narinfo:references", " ".join(sorted(entry["references"]))) in props
    assert ("nix:narinfo:ca", exported[lib["bom-ref"]]["ca"]) in {
        (p["name"], p["value"]) for p in lib["properties"]
    }
    assert {d["ref"]: d["dependsOn"] for d in document["dependencies"]} == {
        root: [lib["bom-ref"]], lib["bom-ref"]: []
    }
    # Reproducible: the same closure gives the same bytes.
    assert sbom_of(attrs_file, capsys) == document


def test_the_schema_check_can_fail(attrs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = sbom_of(attrs_file, capsys)
    document["components"][0]["hashes"][0]["content"] = "not-hex"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json", "is not JSON"),
        ('{"closure": []}', "no exportReferencesGraph.closure"),
        ('{"exportReferencesGraph": {"closure": ["/nix/store/x"]}, "closure": [{"path": 1}]}',
         "lacks path, narHash"),
        ('{"exportReferencesGraph": {"closure": ["/nix/store/a-x"]}, "closure": [{"path": '
         '"/nix/store/a-x", "narHash": "md5:00", "narSize": 1, "references": []}]}',
         "is not a SHA-256 hash"),
        ('{"exportReferencesGraph": {"closure": ["/nix/store/b-y"]}, "closure": [{"path": '
         '"/nix/store/a-x", "narHash": "sha256:' + "0" * 64 + '", "narSize": 1, '
         '"references": []}]}', "is not in the closure"),
    ],
)
def test_what_is_not_a_nix_closure_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    path = tmp_path / "attrs.json"
    path.write_text(content)
    code = main([str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    [line] = err.strip().splitlines()
    assert needle in line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python3.13-requests-2.32.3", ("python3.13-requests", "2.32.3")),
        ("glibc-2.40-66", ("glibc", "2.40-66")),
        ("source", ("source", "")),
        ("hello-unstable-2024-01-01", ("hello-unstable", "2024-01-01")),
    ],
)
def test_names_split_as_nix_parse_drv_name_does(name: str, expected: tuple[str, str]) -> None:
    require_tool("nix-instantiate")
    done = subprocess.run(
        ["nix-instantiate", "--eval", "--json", "--expr", f'builtins.parseDrvName "{name}"'],
        capture_output=True, text=True, check=True,
    )
    nix = json.loads(done.stdout)
    assert (nix["name"], nix["version"]) == expected == parse_drv_name(name)


def test_hashes_in_every_spelling_nix_uses() -> None:
    hex_digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    for spelling in ("base32", "sri"):
        done = subprocess.run(
            ["nix", "--extra-experimental-features", "nix-command", "hash", f"to-{spelling}",
             "--type", "sha256", hex_digest], capture_output=True, text=True, check=True,
        )
        text = done.stdout.strip()
        assert sha256_hex(text if spelling == "sri" else f"sha256:{text}") == hex_digest
    assert sha256_hex(f"sha256:{hex_digest}") == hex_digest
