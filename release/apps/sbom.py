"""`closure-sbom`: the CycloneDX SBOM of a Nix closure, from the file Nix exports for it.

Run inside a derivation with structured attributes and `exportReferencesGraph.closure =
[ ROOT ]` (nix/sbom.nix): ATTRS is `$NIX_ATTRS_JSON_FILE`, the SBOM's top component is ROOT.

examples:
  closure-sbom "$NIX_ATTRS_JSON_FILE" > "${outputs[out]}"
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from release.cli import ArgumentParser, run_main
from release.core.sbom import ClosureError, closure_sbom, read_closure
from release.errors import DojoError
from release.shell.files import read_text

PROG = "closure-sbom"
MAX_ATTRS = 256 << 20  # a closure of thousands of paths is a few MB


def _main(argv: Sequence[str]) -> int:
    parser = ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("attrs", type=Path, metavar="ATTRS",
                        help="the derivation's structured attributes ($NIX_ATTRS_JSON_FILE)")
    args = parser.parse_args(argv)
    text = read_text(args.attrs, what="the structured attributes", limit=MAX_ATTRS)
    try:
        attrs = json.loads(text)
    except ValueError:
        raise DojoError(f"{args.attrs} is not JSON: pass $NIX_ATTRS_JSON_FILE") from None
    roots = (attrs.get("exportReferencesGraph") or {}).get("closure") if isinstance(
        attrs, dict) else None
    if not isinstance(roots, list) or len(roots) != 1 or not isinstance(roots[0], str):
        raise DojoError(
            f"{args.attrs} has no exportReferencesGraph.closure of one store path: build the "
            "SBOM with `exportReferencesGraph.closure = [ ROOT ];` and structured attributes"
        )
    try:
        document = closure_sbom(read_closure(attrs.get("closure")), roots[0])
    except ClosureError as exc:
        raise DojoError(f"{args.attrs}: {exc}: it is not what Nix exports") from None
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, PROG)


if __name__ == "__main__":
    raise SystemExit(main())
