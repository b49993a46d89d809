# `nix develop`: the package's build and test inputs plus the tools the checks and tests run.
{
  mkShell,
  python3Packages,
  dojo,
  ruff,
  skopeo,
  actionlint,
  zizmor,
  git,
  nixfmt,
}:
mkShell {
  inputsFrom = [ dojo ];
  packages = [
    ruff
    python3Packages.mypy
    skopeo
    actionlint
    zizmor
    git
    nixfmt
  ];
}
