# The image `dojo:latest` that `publish` ships: the three commands on PATH, `release --help` by
# default, and OCI labels that tie it to its version and commit. Output: a plain docker-archive
# `dojo.tar` (`docker load -i`), reproducible (fixed creation date).
{
  lib,
  dockerTools,
  dojo,
  revision,
}:
let
  project = (lib.importTOML ../pyproject.toml).project;
  # GitHub links a package to its repository through this label.
  source =
    project.urls.Source or (throw ''
      pyproject.toml has no [project.urls] Source: add the repository's URL
      (Source = "https://github.com/OWNER/dojo"); it becomes the image's
      org.opencontainers.image.source label.'');
in
dockerTools.buildLayeredImage {
  name = "dojo";
  tag = "latest";
  contents = [ dojo ];
  # Uncompressed: `publish` reads the config by seeking past the layers instead of inflating the
  # whole archive, `--via registry` compresses only the layers the registry lacks, and `docker
  # load` has nothing to inflate. A binary cache compresses the store path itself.
  compressor = "none";
  # Programs that write temporary files (git, Python's tempfile) need a writable /tmp.
  extraCommands = ''
    mkdir -m 1777 tmp
  '';
  config = {
    Cmd = [
      "release"
      "--help"
    ];
    Env = [ "PATH=/bin" ];
    Labels = {
      "org.opencontainers.image.title" = project.name;
      "org.opencontainers.image.description" = project.description;
      "org.opencontainers.image.version" = dojo.version;
      "org.opencontainers.image.revision" = revision;
      "org.opencontainers.image.source" = source;
    };
  };
}
