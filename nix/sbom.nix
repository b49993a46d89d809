# The image's SBOM: a CycloneDX JSON document of the runtime closure of `dojo` (what the image
# holds), written by `closure-sbom` from the closure Nix itself exports: every store path with
# its NAR hash, NAR size and references (exportReferencesGraph with structured attributes, as
# nixpkgs' closureInfo reads it). Reproducible: no timestamp, no random serial number. Its name
# says the system: a multi-platform release has one image, hence one SBOM, per platform.
{
  lib,
  stdenvNoCC,
  dojo,
  system,
}:
stdenvNoCC.mkDerivation {
  name = "dojo-${dojo.version}-${system}.cdx.json";
  __structuredAttrs = true;
  exportReferencesGraph.closure = [ dojo ];
  preferLocalBuild = true;
  buildCommand = ''
    ${lib.getExe' dojo "closure-sbom"} "$NIX_ATTRS_JSON_FILE" > "''${outputs[out]}"
  '';
}
