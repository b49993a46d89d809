# `nix run .#release`, `.#publish`, `.#extract-notes`, `.#closure-sbom`.
#
# `publish` carries the image: its wrapper names the image's store path, so the image is in the
# app's closure and `nix run .#publish` builds it first (no nested `nix build`). The program reads
# it from DOJO_IMAGE_ARCHIVE, a default only: `publish --image PATH` wins, and so does a
# DOJO_IMAGE_ARCHIVE the caller already set. Systems without an image (Darwin) need `--image`.
# The program talks to Docker through the Engine API (Docker SDK): no docker CLI needed.
{
  lib,
  runCommand,
  makeWrapper,
  dojo,
  image,
}:
let
  publish =
    runCommand "dojo-publish-${dojo.version}"
      {
        nativeBuildInputs = [ makeWrapper ];
        meta.mainProgram = "publish";
      }
      ''
        makeWrapper ${lib.getExe' dojo "publish"} "$out/bin/publish" \
          ${lib.optionalString (image != null) "--set-default DOJO_IMAGE_ARCHIVE ${image}"}
      '';

  app = drv: program: description: {
    type = "app";
    program = lib.getExe' drv program;
    meta = { inherit description; };
  };
in
{
  release = app dojo "release" "Cut a release: bump the version, roll CHANGELOG.md, tag, push";
  publish =
    app publish "publish"
      "Push the Nix-built image to the registry and, on a tag, create or update the GitHub Release";
  extract-notes = app dojo "extract-notes" "Print one version's section of CHANGELOG.md";
  closure-sbom =
    app dojo "closure-sbom"
      "Write the CycloneDX SBOM of a Nix closure (packages.<system>.sbom runs it)";
}
