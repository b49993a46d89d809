# The `lib` functions Dojo's Nix files use, with nixpkgs' names and argument order.
let
  lib = {
    # lib/attrsets.nix
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    optionalAttrs = cond: as: if cond then as else { };
    isDerivation = value: value.type or null == "derivation";

    # lib/lists.nix
    optional = cond: elem: if cond then [ elem ] else [ ];

    # lib/strings.nix
    optionalString = cond: string: if cond then string else "";
    concatStringsSep = builtins.concatStringsSep;
    makeBinPath = packages: builtins.concatStringsSep ":" (map (p: "${lib.getBin p}/bin") packages);

    # lib/trivial.nix
    importTOML = path: builtins.fromTOML (builtins.readFile path);

    # lib/attrsets.nix (getBin = getOutput "bin")
    getBin = pkg: pkg.bin or pkg.out or pkg;

    # lib/meta.nix: getExe' asserts a derivation and a plain program name.
    getExe' =
      x: y:
      assert (lib.isDerivation x) || throw "lib.meta.getExe': the first argument is of type ${builtins.typeOf x}, but it should be a derivation instead.";
      assert (builtins.isString y) || throw "lib.meta.getExe': the second argument should be a string.";
      assert (builtins.match ".*/.*" y == null) || throw "lib.meta.getExe': \"${y}\" is a nested path.";
      "${lib.getBin x}/bin/${y}";

    # lib/licenses.nix
    licenses.mit = {
      spdxId = "MIT";
      shortName = "mit";
      free = true;
    };

    # lib/fileset/default.nix: `toSource { root, fileset }` and `unions [ ... ]`; a fileset element
    # must exist ("This errors if the file doesn't exist") and lie under `root`.
    fileset = {
      unions =
        filesets:
        assert builtins.isList filesets || throw "lib.fileset.unions: Expected argument to be a list.";
        {
          _type = "fileset";
          paths = builtins.concatMap (
            f:
            if f._type or null == "fileset" then
              f.paths
            else if builtins.isPath f then
              (
                if builtins.pathExists f then
                  [ (toString f) ]
                else
                  throw "lib.fileset.unions: ${toString f} does not exist."
              )
            else
              throw "lib.fileset.unions: an element is a ${builtins.typeOf f}, but it should be a path or a file set."
          ) filesets;
        };

      toSource =
        { root, fileset }:
        let
          set = lib.fileset.unions [ fileset ];
          rootString = toString root;
          under = dir: path: path == dir || builtins.substring 0 (builtins.stringLength dir + 1) path == dir + "/";
          keep = path: _type: builtins.any (p: under p path || under path p) set.paths;
        in
        assert builtins.isPath root || throw "lib.fileset.toSource: `root` should be a path.";
        assert
          builtins.all (p: under rootString p) set.paths
          || throw "lib.fileset.toSource: `fileset` has files outside `root` (${rootString}).";
        builtins.path {
          name = "source";
          path = root;
          filter = keep;
        };
    };
  };
in
lib
