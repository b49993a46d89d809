# The packages and builders Dojo's Nix files use, for one system. Argument sets copy nixpkgs'
# names; where the real function ends in `...` (it passes the rest on to stdenv.mkDerivation),
# the stand-in lists the mkDerivation attributes Dojo's files pass and still has no `...`.
{ lib, system }:
let
  isLinux = builtins.match ".*-linux" system != null;
  isDarwin = builtins.match ".*-darwin" system != null;

  # A derivation that is instantiated but never built. `env` must hold only what a derivation's
  # environment can take (strings, numbers, booleans, paths, derivations, lists of them);
  # attribute sets such as `meta` go into `passthru`, as mkDerivation does.
  mkDrv =
    {
      name,
      env ? { },
      passthru ? { },
    }:
    let
      drv = derivation (
        {
          inherit name system;
          builder = "/bin/sh";
          args = [
            "-c"
            "echo 'built from the stand-in nixpkgs: nothing to build' >&2; exit 1"
          ];
        }
        // env
      );
    in
    drv // passthru;

  package =
    name: mainProgram:
    mkDrv {
      name = "${name}-stub";
      passthru.meta = { inherit mainProgram; };
    };

  pythonModule =
    name:
    mkDrv {
      name = "python3.13-${name}-stub";
      passthru.pname = name;
    };

  # Keys of a Docker image configuration (Docker Image Specification v1.3, "config").
  imageConfigKeys = [
    "User"
    "ExposedPorts"
    "Env"
    "Entrypoint"
    "Cmd"
    "Healthcheck"
    "ArgsEscaped"
    "Volumes"
    "WorkingDir"
    "Labels"
    "StopSignal"
    "Shell"
    "OnBuild"
  ];

  onlyKnown =
    what: known: attrs:
    let
      unknown = builtins.filter (n: !builtins.elem n known) (builtins.attrNames attrs);
    in
    if unknown == [ ] then attrs else throw "${what}: unknown attribute(s) ${toString unknown}";

  pkgs = {
    inherit lib;

    stdenv.hostPlatform = {
      inherit system isLinux isDarwin;
    };

    # pkgs/top-level/splice.nix / lib/customisation.nix (callPackageWith): the function's own
    # arguments come from `pkgs`, `overrides` win; a missing required argument or an override the
    # function does not take is an error.
    callPackage =
      fn: overrides:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);

    # pkgs/stdenv/generic/make-derivation.nix, without a compiler (stdenvNoCC): the attributes
    # Dojo passes. With `__structuredAttrs` the rest travel as JSON, so nested sets such as
    # `exportReferencesGraph.closure` are allowed, as in nixpkgs' closureInfo.
    stdenvNoCC.mkDerivation =
      attrs:
      let
        checked = onlyKnown "stdenvNoCC.mkDerivation ${attrs.name or ""}" [
          "name"
          "__structuredAttrs"
          "exportReferencesGraph"
          "preferLocalBuild"
          "buildCommand"
          "nativeBuildInputs"
          "passthru"
          "meta"
        ] attrs;
      in
      mkDrv {
        inherit (checked) name;
        env = builtins.removeAttrs checked [
          "name"
          "meta"
          "passthru"
        ];
        passthru = (checked.passthru or { }) // {
          meta = checked.meta or { };
        };
      };

    # pkgs/build-support/trivial-builders/default.nix: runCommand = name: env: buildCommand.
    # `env` is stdenv.mkDerivation's argument set; these are the attributes Dojo passes.
    runCommand =
      name: env: buildCommand:
      let
        checked = onlyKnown "runCommand ${name}" [
          "nativeBuildInputs"
          "buildInputs"
          "meta"
          "passthru"
        ] env;
      in
      mkDrv {
        inherit name;
        env = builtins.removeAttrs checked [
          "meta"
          "passthru"
        ] // {
          inherit buildCommand;
        };
        passthru = (checked.passthru or { }) // {
          meta = checked.meta or { };
        };
      };

    # pkgs/build-support/mkshell/default.nix (its `...` goes to stdenv.mkDerivation; `shellHook`
    # is the one such attribute it handles itself).
    mkShell =
      {
        name ? "nix-shell",
        packages ? [ ],
        inputsFrom ? [ ],
        buildInputs ? [ ],
        nativeBuildInputs ? [ ],
        propagatedBuildInputs ? [ ],
        propagatedNativeBuildInputs ? [ ],
        shellHook ? "",
      }:
      let
        # As mkShell's mergeInputs: the given inputs plus those of `inputsFrom`, without the
        # `inputsFrom` derivations themselves.
        outs = map (d: d.outPath) inputsFrom;
        merge =
          own: attr:
          own
          ++ builtins.filter (d: !builtins.elem d.outPath outs) (
            builtins.concatMap (d: d.${attr} or [ ]) inputsFrom
          );
      in
      mkDrv {
        inherit name;
        env = {
          nativeBuildInputs = packages ++ merge nativeBuildInputs "nativeBuildInputs";
          buildInputs = merge buildInputs "buildInputs";
          propagatedBuildInputs = merge propagatedBuildInputs "propagatedBuildInputs";
          propagatedNativeBuildInputs = merge propagatedNativeBuildInputs "propagatedNativeBuildInputs";
          inherit shellHook;
        };
        passthru.stubInputsFrom = inputsFrom;
      };

    # pkgs/build-support/docker/default.nix: buildLayeredImage takes streamLayeredImage's
    # arguments plus `compressor` (also listed in doc/build-helpers/images/dockertools.section.md),
    # and its result has `imageName`, and `imageTag` in passthru.
    dockerTools.buildLayeredImage =
      {
        name,
        tag ? null,
        fromImage ? null,
        contents ? [ ],
        config ? { },
        architecture ? (if builtins.match "x86_64-.*" system != null then "amd64" else "arm64"),
        created ? "1970-01-01T00:00:01Z",
        mtime ? "1970-01-01T00:00:01Z",
        uid ? 0,
        gid ? 0,
        uname ? "root",
        gname ? "root",
        maxLayers ? 100,
        extraCommands ? "",
        fakeRootCommands ? "",
        enableFakechroot ? false,
        includeStorePaths ? true,
        includeNixDB ? false,
        passthru ? { },
        meta ? { },
        layeringPipeline ? null,
        debug ? false,
        compressor ? "gz",
      }:
      assert isLinux || throw "dockerTools.buildLayeredImage: ${system} is not Linux (the stand-in refuses it)";
      assert
        builtins.elem compressor [
          "none"
          "gz"
          "zstd"
        ]
        || throw "dockerTools: unknown compressor ${compressor}";
      let
        checkedConfig = onlyKnown "dockerTools.buildLayeredImage config" imageConfigKeys config;
        ext = {
          none = "";
          gz = ".gz";
          zstd = ".zst";
        };
      in
      mkDrv {
        name = "${baseNameOf name}.tar${ext.${compressor}}";
        env = {
          imageName = name;
          contents = if builtins.isList contents then contents else [ contents ];
          conf = builtins.toJSON checkedConfig;
          inherit
            architecture
            created
            mtime
            extraCommands
            ;
        };
        passthru = passthru // {
          inherit meta;
          imageTag = tag;
          # Not in nixpkgs: lets the tests read the configuration back.
          stubConfig = checkedConfig;
        };
      };

    python3Packages = {
      # pkgs/development/interpreters/python/mk-python-derivation.nix: its named arguments, in
      # its order, then (after `stdenv`) the stdenv.mkDerivation / hook attributes that reach
      # mkDerivation through its `...`.
      buildPythonApplication =
        {
          nativeBuildInputs ? [ ],
          buildInputs ? [ ],
          checkInputs ? [ ],
          nativeCheckInputs ? [ ],
          propagatedBuildInputs ? [ ],
          dependencies ? [ ],
          optional-dependencies ? { },
          build-system ? [ ],
          pythonPath ? [ ],
          strictDeps ? true,
          outputs ? [ "out" ],
          disabled ? false,
          catchConflicts ? true,
          makeWrapperArgs ? [ ],
          dontWrapPythonPrograms ? false,
          dontUsePipInstall ? false,
          permitUserSite ? false,
          removeBinBytecode ? true,
          pyproject ? null,
          format ? null,
          meta ? { },
          doCheck ? true,
          disabledTestPaths ? [ ],
          stdenv ? null,
          # stdenv.mkDerivation and python hooks (pytestCheckHook, pythonImportsCheckHook)
          pname,
          version,
          src,
          passthru ? { },
          preCheck ? "",
          postCheck ? "",
          disabledTests ? [ ],
          pytestFlags ? [ ],
          pythonImportsCheck ? [ ],
        }:
        assert (pyproject != null) -> (format == null);
        assert
          (pyproject != null || format != null)
          || throw "buildPythonApplication: set `pyproject = true` (or a `format`)";
        assert !disabled;
        mkDrv {
          name = "${pname}-${version}";
          env = {
            inherit
              pname
              version
              src
              makeWrapperArgs
              preCheck
              postCheck
              disabledTests
              disabledTestPaths
              pytestFlags
              pythonImportsCheck
              ;
            format = if pyproject == true then "pyproject" else if pyproject == false then "other" else format;
            nativeBuildInputs = nativeBuildInputs ++ build-system;
            propagatedBuildInputs = propagatedBuildInputs ++ dependencies;
            nativeInstallCheckInputs = nativeCheckInputs;
            installCheckInputs = checkInputs;
            inherit buildInputs;
            doInstallCheck = doCheck;
          };
          passthru = passthru // {
            inherit
              meta
              pname
              version
              dependencies
              build-system
              ;
          };
        };

      hatchling = pythonModule "hatchling";
      tomlkit = pythonModule "tomlkit";
      packaging = pythonModule "packaging";
      mistletoe = pythonModule "mistletoe";
      pygit2 = pythonModule "pygit2";
      docker = pythonModule "docker";
      pygithub = pythonModule "pygithub";
      requests = pythonModule "requests";
      urllib3 = pythonModule "urllib3";
      towncrier = pythonModule "towncrier";
      pytestCheckHook = pythonModule "pytest-check-hook";
      pytest-timeout = pythonModule "pytest-timeout";
      hypothesis = pythonModule "hypothesis";
      bcrypt = pythonModule "bcrypt";
      pyyaml = pythonModule "pyyaml";
      docutils = pythonModule "docutils";
      jsonschema = pythonModule "jsonschema";
      openapi-schema-validator = pythonModule "openapi-schema-validator";
      referencing = pythonModule "referencing";
      mypy = pythonModule "mypy";
    };

    git = package "git" "git";
    makeWrapper = package "make-shell-wrapper-hook" null;
    ruff = package "ruff" "ruff";
    skopeo = package "skopeo" "skopeo";
    actionlint = package "actionlint" "actionlint";
    zizmor = package "zizmor" "zizmor";
    nixfmt = package "nixfmt" "nixfmt";
  };
in
pkgs
