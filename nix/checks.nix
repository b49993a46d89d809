# `nix flake check`: the package (its build runs pytest), ruff over the Python tree, the workflow
# linters over .github/workflows, and the dev shell.
{
  lib,
  runCommand,
  ruff,
  actionlint,
  zizmor,
  dojo,
  devShell,
}:
let
  python = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions (
      [
        ../pyproject.toml
        ../release
        ../tests
      ]
      # Benchmarks are linted too once there are any (git keeps no empty directory).
      ++ lib.optional (builtins.pathExists ../bench) ../bench
    );
  };
  workflows = lib.fileset.toSource {
    root = ../.;
    fileset = ../.github/workflows;
  };
in
{
  package = dojo;

  inherit devShell;

  ruff = runCommand "dojo-ruff" { nativeBuildInputs = [ ruff ]; } ''
    cd ${python}
    ruff check --no-cache .
    touch "$out"
  '';

  # Offline: the sandbox has no network, and the online audits need a GitHub token.
  workflows = runCommand "dojo-workflow-lint" { nativeBuildInputs = [ actionlint zizmor ]; } ''
    export HOME="$(mktemp -d)"
    cd ${workflows}
    actionlint .github/workflows/*.yml
    zizmor --offline .github/workflows
    touch "$out"
  '';
}
