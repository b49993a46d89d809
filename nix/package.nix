# The Python application: the three console scripts `release`, `publish`, `extract-notes`.
# Its build runs the test suite (pytestCheckHook); tests that need Docker, a registry or Nix skip
# inside the sandbox because those tools are not on its PATH (DOJO_REQUIRE_TOOLS is unset there).
{
  lib,
  python3Packages,
  git,
}:
let
  project = (lib.importTOML ../pyproject.toml).project;
in
python3Packages.buildPythonApplication {
  pname = project.name;
  inherit (project) version;
  pyproject = true;

  # Only what the build and the tests read: editing the Nix files, the benchmarks or the
  # changelog does not rebuild the package.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../pyproject.toml
      # hatchling reads it: pyproject.toml names it as the readme.
      ../README.md
      ../release
      ../tests
      # tests/test_workflows.py checks the workflows' rules.
      ../.github/workflows
    ];
  };

  build-system = [ python3Packages.hatchling ];

  dependencies = with python3Packages; [
    tomlkit
    packaging
    mistletoe
    pygit2
    docker
    pygithub
    requests
    urllib3
    # release runs `python -m towncrier build` for [tool.towncrier] projects
    towncrier
    # changelog discovery reads a mkdocs.yml's docs_dir and nav
    pyyaml
    # reStructuredText changelogs (pkgs/development/python-modules/docutils)
    docutils
  ];

  nativeCheckInputs = [
    git
  ]
  ++ (with python3Packages; [
    pytestCheckHook
    pytest-timeout
    hypothesis
    bcrypt
    pyyaml
    # tests/support/openapi.py checks the fake GitHub's traffic against GitHub's description.
    jsonschema
    openapi-schema-validator
    referencing
  ]);

  # git and hypothesis write below $HOME; the sandbox has none. No network either: every test
  # talks to loopback only, and the per-test timeout (pyproject.toml) bounds any wait.
  preCheck = ''
    export HOME="$(mktemp -d)"
  '';

  pythonImportsCheck = [
    "release.apps.release.cli"
    "release.apps.publish.cli"
    "release.apps.extract_notes"
  ];

  # `release` runs git; the wrapper puts it on PATH whatever the caller's PATH is.
  makeWrapperArgs = [
    "--prefix"
    "PATH"
    ":"
    (lib.makeBinPath [ git ])
  ];

  meta = {
    inherit (project) description;
    license = lib.licenses.mit;
    mainProgram = "release";
  };
}
