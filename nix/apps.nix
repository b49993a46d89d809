# `nix run .#release`, `.#publish`, `.#publish-index`, `.#extract-notes`, `.#closure-sbom`.
#
# `publish` carries the image: its wrapper names the image's store path, so the image is in the
# app's closure and `nix run .#publish` builds it first (no nested `nix build`). The program reads
# it from DOJO_IMAGE_ARCHIVE, a default only: `publish --image PATH` wins, and so does a
# DOJO_IMAGE_ARCHIVE the caller already set. Systems without an image (Darwin) need `--image`.
# Likewise DOJO_SBOM names the image's SBOM (`packages.<system>.sbom`), which `publish --sbom`
# with no path attaches. The program talks to Docker through the Engine API (Docker SDK): no
# docker CLI needed.
#
# `publish-index` is the same program without the image in its closure, for the job that only
# assembles the index of images other runners pushed (`--from-platform-tags`): `nix run` of it
# builds no image. It still carries the SBOM, for `--sbom` on a tag build.
{
  lib,
  runCommand,
  makeWrapper,
  dojo,
  image,
  sbom,
}:
let
  wrapper =
    name: image:
    runCommand "dojo-${name}-${dojo.version}"
      {
        nativeBuildInputs = [ makeWrapper ];
        meta.mainProgram = "publish";
      }
      ''
        makeWrapper ${lib.getExe' dojo "publish"} "$out/bin/publish" \
          ${lib.optionalString (image != null) "--set-default DOJO_IMAGE_ARCHIVE ${image}"} \
          ${lib.optionalString (sbom != null) "--set-default DOJO_SBOM ${sbom}"}
      '';

  publish = wrapper "publish" image;
  publishIndex = wrapper "publish-index" null;

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
  publish-index =
    app publishIndex "publish"
      "publish without the image in its closure: for --from-platform-tags (the multi-arch index job)";
  extract-notes = app dojo "extract-notes" "Print one version's section of CHANGELOG.md";
  closure-sbom =
    app dojo "closure-sbom"
      "Write the CycloneDX SBOM of a Nix closure (packages.<system>.sbom runs it)";
}
