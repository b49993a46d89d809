# A stand-in for nixpkgs, for evaluating Dojo's flake offline (tests/test_nix.py) with
# `--override-input nixpkgs path:<copy of this directory>`.
#
# It holds only what Dojo's Nix files use. Every function takes exactly the argument names that
# nixpkgs' own function takes (copied from nixpkgs' source; the file and function are named above
# each one) and has no `...`, so a misspelled or invented argument fails evaluation here instead of
# on GitHub. Results are real derivations (`builtins.derivation`) that are never built: their
# store paths, inputs and string contexts are real, so a test can follow what depends on what.
{
  description = "Stand-in for the parts of nixpkgs that Dojo's flake uses";

  outputs =
    { self }:
    let
      lib = import ./lib.nix;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs systems (system: import ./pkgs.nix { inherit lib system; });
    };
}
