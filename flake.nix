{
  description = "Dojo: cut a release, extract its notes, publish the Nix-built image";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      eachSystem = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system} system);
    in
    {
      packages = eachSystem (
        pkgs: _system:
        let
          dojo = pkgs.callPackage ./nix/package.nix { };
        in
        { default = dojo; }
        # The image is a Linux root filesystem: only Linux systems build it.
        // lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux {
          docker = pkgs.callPackage ./nix/docker.nix {
            inherit dojo;
            # `self.rev` exists only when the checkout is clean.
            revision = self.rev or "dirty";
          };
          # The CycloneDX SBOM of the image's runtime closure (`publish --sbom` attaches it).
          sbom = pkgs.callPackage ./nix/sbom.nix {
            inherit dojo;
            inherit (pkgs.stdenv.hostPlatform) system;
          };
        }
      );

      apps = eachSystem (
        pkgs: system:
        pkgs.callPackage ./nix/apps.nix {
          dojo = self.packages.${system}.default;
          image = self.packages.${system}.docker or null;
          sbom = self.packages.${system}.sbom or null;
        }
      );

      checks = eachSystem (
        pkgs: system:
        pkgs.callPackage ./nix/checks.nix {
          dojo = self.packages.${system}.default;
          devShell = self.devShells.${system}.default;
        }
      );

      devShells = eachSystem (
        pkgs: system: {
          default = pkgs.callPackage ./nix/devshell.nix { dojo = self.packages.${system}.default; };
        }
      );

      formatter = eachSystem (pkgs: _system: pkgs.nixfmt);
    };
}
