"""The Nix files parse, and the flake evaluates offline against a strict stand-in for nixpkgs.

nixpkgs 26.05 needs Nix >= 2.18 and cannot be downloaded here, so the flake is evaluated with
`--override-input nixpkgs path:<copy of tests/data/nixpkgs-stub>`: a small flake whose functions
take exactly the argument names of nixpkgs' functions and no `...`. A misspelled argument, a
missing output, an app whose program is not one of pyproject's scripts, or a publish app that does
not carry the image fails here. The stand-in's results are real (never built) derivations, so the
publish wrapper's inputs are read from its real `.drv`. The real build (`nix flake check` with
nixpkgs) runs in CI on GitHub.

Each test works on a copy of the tracked-or-present files in a fresh git repository under a
temporary directory, with its own Nix store (`--store`), HOME and caches.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.tools import require_tool

pytestmark = pytest.mark.nix

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "tests" / "data" / "nixpkgs-stub"
NIX_REFERENCE = ROOT.parent / "shared" / "reference" / "nix.md"

SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")
LINUX = tuple(system for system in SYSTEMS if system.endswith("-linux"))
LABELS = ("version", "revision", "source")
GIT_IDENTITY = ("-c", "user.name=Dojo Test", "-c", "user.email=dojo@example.invalid")


def _pyproject(root: Path = ROOT) -> dict[str, Any]:
    with (root / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


# One app per console script (release, publish, extract-notes, closure-sbom), and apps that run
# a script under another name: app -> the script it runs.
OTHER_APPS = {"publish-index": "publish"}
APPS = tuple(sorted([*_pyproject()["project"]["scripts"], *OTHER_APPS]))


def _present_files() -> list[str]:
    """Tracked files that still exist plus untracked files that are not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


@dataclass(frozen=True)
class Flake:
    """A copy of the repository as a git repository, evaluated against the stand-in nixpkgs."""

    repo: Path
    stub: Path
    store: Path
    env: dict[str, str]

    def nix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "nix",
                "--extra-experimental-features",
                "nix-command flakes",
                "--store",
                str(self.store),
                "--offline",
                *args,
            ],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def evaluate(self, attr: str, apply: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.nix(
            "eval",
            "--json",
            "--no-write-lock-file",
            "--override-input",
            "nixpkgs",
            f"path:{self.stub}",
            f".#{attr}",
            *(["--apply", apply] if apply else []),
        )

    def eval(self, attr: str, apply: str | None = None) -> Any:
        done = self.evaluate(attr, apply)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def derivation(self, drv_path: str) -> dict[str, Any]:
        done = self.nix("show-derivation", drv_path)
        assert done.returncode == 0, done.stderr
        shown: dict[str, dict[str, Any]] = json.loads(done.stdout)
        return shown[drv_path]

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *GIT_IDENTITY, *args],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


def make_flake(base: Path) -> Flake:
    """Copy the repository into `base`/repo (a fresh git repository) and the stand-in nixpkgs."""
    repo, stub, home = base / "repo", base / "nixpkgs", base / "home"
    for name in _present_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    shutil.copytree(STUB, stub)
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    flake = Flake(repo=repo, stub=stub, store=base / "store", env=env)
    flake.git("init", "--quiet", "--initial-branch=master")
    flake.git("add", "--all")
    return flake


@pytest.fixture(scope="module")
def flake(tmp_path_factory: pytest.TempPathFactory) -> Flake:
    require_tool("nix", "git")
    return make_flake(tmp_path_factory.mktemp("nix"))


@pytest.fixture
def fresh_flake(tmp_path: Path) -> Flake:
    require_tool("nix", "git")
    return make_flake(tmp_path)


def test_every_nix_file_parses(tmp_path: Path) -> None:
    require_tool("nix-instantiate", "git")
    files = [name for name in _present_files() if name.endswith(".nix")]
    assert "flake.nix" in files
    assert any(name.startswith("nix/") for name in files)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    problems = []
    for name in files:
        done = subprocess.run(
            ["nix-instantiate", "--store", str(tmp_path / "store"), "--parse", str(ROOT / name)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            problems.append(f"{name}: {done.stderr.strip()}")
    assert problems == []


def test_lock_pins_nixos_26_05_in_a_format_nix_accepts(flake: Flake) -> None:
    lock = json.loads((ROOT / "flake.lock").read_text())
    assert lock["version"] == 7
    assert lock["root"] == "root"
    assert lock["nodes"]["root"] == {"inputs": {"nixpkgs": "nixpkgs"}}
    node = lock["nodes"]["nixpkgs"]
    assert node["original"] == {
        "owner": "NixOS",
        "repo": "nixpkgs",
        "ref": "nixos-26.05",
        "type": "github",
    }
    assert re.fullmatch(r"[0-9a-f]{40}", node["locked"]["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", node["locked"]["narHash"])
    if NIX_REFERENCE.is_file():
        # The pin is the node documented in shared/reference/nix.md, all fields together.
        block = re.search(r"```json\n(.*?)```", NIX_REFERENCE.read_text(), re.DOTALL)
        assert block is not None
        assert node == json.loads("{" + block.group(1) + "}")["nixpkgs"]
    # Nix reads this lock file (version 7) and replaces the pinned node by the override.
    done = flake.nix(
        "flake",
        "metadata",
        "--json",
        "--no-write-lock-file",
        "--override-input",
        "nixpkgs",
        f"path:{flake.stub}",
    )
    assert done.returncode == 0, done.stderr
    metadata = json.loads(done.stdout)
    assert metadata["locks"]["nodes"]["nixpkgs"]["locked"]["type"] == "path"


def test_outputs_exist_for_every_system(flake: Flake) -> None:
    names = "o: builtins.mapAttrs (system: set: builtins.attrNames set) o"
    packages = flake.eval("packages", names)
    assert sorted(packages) == sorted(SYSTEMS)
    for system in SYSTEMS:
        expected = ["default", "docker", "sbom"] if system in LINUX else ["default"]
        assert packages[system] == expected, system
    assert flake.eval("apps", names) == {system: list(APPS) for system in SYSTEMS}
    assert flake.eval("checks", names) == {
        system: ["devShell", "package", "ruff", "workflows"] for system in SYSTEMS
    }
    assert flake.eval("devShells", names) == {system: ["default"] for system in SYSTEMS}
    formatters = flake.eval("formatter", "f: builtins.mapAttrs (s: d: d.type) f")
    assert formatters == {system: "derivation" for system in SYSTEMS}


def test_nix_flake_check_accepts_the_outputs(flake: Flake) -> None:
    # Nix's own checks of each output's shape (apps, packages, devShells, formatter, checks),
    # evaluating every derivation without building it.
    done = flake.nix(
        "flake",
        "check",
        "--no-build",
        "--no-write-lock-file",
        "--override-input",
        "nixpkgs",
        f"path:{flake.stub}",
    )
    assert done.returncode == 0, done.stderr


def test_apps_run_pyproject_scripts(flake: Flake) -> None:
    scripts = set(_pyproject()["project"]["scripts"])
    assert {"release", "publish", "extract-notes"} <= scripts
    apps = flake.eval("apps")
    for system in SYSTEMS:
        for name in APPS:
            app = apps[system][name]
            # Newer Nix rejects any other attribute of an app.
            assert set(app) == {"type", "program", "meta"}, (system, name)
            assert app["type"] == "app"
            assert app["meta"]["description"].strip()
            program = Path(app["program"])
            assert program.parts[:3] == ("/", "nix", "store"), app["program"]
            assert program.parent.name == "bin"
            assert program.name in scripts, (system, name, program.name)
            assert program.name == OTHER_APPS.get(name, name)


def test_package_is_the_python_application(flake: Flake) -> None:
    project = _pyproject()["project"]
    package = flake.eval(
        "packages.x86_64-linux.default",
        "p: { inherit (p) pname version makeWrapperArgs format nativeBuildInputs"
        " propagatedBuildInputs nativeInstallCheckInputs doInstallCheck;"
        " mainProgram = p.meta.mainProgram; }",
    )
    assert package["pname"] == project["name"]
    assert package["version"] == project["version"]
    assert package["format"] == "pyproject"
    assert package["mainProgram"] in project["scripts"]
    assert package["doInstallCheck"] is True  # the build runs the tests
    inputs = " ".join(package["propagatedBuildInputs"])
    # Every runtime dependency pyproject declares comes from nixpkgs (attribute = lower-cased name).
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()
        assert f"-{name}-" in inputs, name
    assert "-hatchling-" in " ".join(package["nativeBuildInputs"])
    check_inputs = " ".join(package["nativeInstallCheckInputs"])
    for tool in ("pytest-check-hook", "hypothesis", "-git-"):
        assert tool in check_inputs, tool
    wrapper = package["makeWrapperArgs"]
    assert wrapper[:3] == ["--prefix", "PATH", ":"]
    assert re.fullmatch(r"/nix/store/[^/]+-git-[^/]+/bin", wrapper[3])


def test_package_source_holds_only_what_the_build_needs(flake: Flake) -> None:
    drv = flake.eval("packages.x86_64-linux.default.drvPath")
    source = Path(flake.derivation(drv)["env"]["src"])
    real = flake.store / source.relative_to("/")
    top = sorted(path.name for path in real.iterdir())
    assert top == sorted([".github", "README.md", "pyproject.toml", "release", "tests"])
    assert (real / "release" / "cli.py").is_file()


def test_image_is_dojo_latest_with_oci_labels(flake: Flake) -> None:
    project = _pyproject()["project"]
    for system in LINUX:
        image = flake.eval(
            f"packages.{system}.docker",
            "d: { inherit (d) name imageName imageTag; config = d.stubConfig; }",
        )
        assert (image["imageName"], image["imageTag"]) == ("dojo", "latest")
        # A plain docker-archive for `docker load -i`: publish seeks to its config.
        assert image["name"] == "dojo.tar"
        config = image["config"]
        labels = config["Labels"]
        assert {f"org.opencontainers.image.{label}" for label in LABELS} <= set(labels)
        assert labels["org.opencontainers.image.version"] == project["version"]
        # The copy is not committed, and an overridden input counts as a change too.
        assert labels["org.opencontainers.image.revision"] == "dirty"
        assert labels["org.opencontainers.image.source"] == project["urls"]["Source"]
        # The default command prints help; every command is on PATH inside the image.
        assert config["Cmd"][0] in project["scripts"]
        assert "--help" in config["Cmd"]
        assert "PATH=/bin" in config["Env"]
        # The package's bin/ becomes the image's /bin.
        package = flake.eval(f"packages.{system}.default.outPath")
        drv = flake.derivation(flake.eval(f"packages.{system}.docker.drvPath"))
        assert drv["env"]["contents"].split() == [package]


def test_image_of_a_clean_tree_names_its_commit(fresh_flake: Flake) -> None:
    # Lock the stand-in into the copy's flake.lock and commit it: the tree is clean, so the
    # flake has `self.rev` (an --override-input would count as a change and make it dirty).
    flake = fresh_flake
    done = flake.nix("flake", "lock", "--override-input", "nixpkgs", f"path:{flake.stub}")
    assert done.returncode == 0, done.stderr
    flake.git("add", "flake.lock")
    flake.git("commit", "--quiet", "--message", "snapshot")
    done = flake.nix("eval", "--json", ".#packages.x86_64-linux.docker.stubConfig.Labels")
    assert done.returncode == 0, done.stderr
    labels = json.loads(done.stdout)
    assert labels["org.opencontainers.image.revision"] == flake.git("rev-parse", "HEAD")


# A derivation's paths (an attribute set with `outPath` would print as that one string).
PATHS = "d: { drv = d.drvPath; out = d.outPath; }"


def _wrapper(flake: Flake, app: str, system: str) -> tuple[str, dict[str, Any]]:
    """The publish wrapper's .drv path and derivation behind `apps.<system>.<app>`."""
    program = flake.eval(
        f"apps.{system}.{app}", "a: builtins.attrNames (builtins.getContext a.program)"
    )
    assert len(program) == 1, program
    return program[0], flake.derivation(program[0])


def _closure(flake: Flake, drv: str) -> set[str]:
    """Every derivation `drv` needs built, itself included."""
    done = flake.nix("show-derivation", "--recursive", drv)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_publish_app_carries_the_image_and_its_sbom(flake: Flake) -> None:
    for system in SYSTEMS:
        _drv, wrapper = _wrapper(flake, "publish", system)
        command = wrapper["env"]["buildCommand"]
        package = flake.eval(f"packages.{system}.default", PATHS)
        assert f"{package['out']}/bin/publish" in command
        assert package["drv"] in wrapper["inputDrvs"]
        if system in LINUX:
            image = flake.eval(f"packages.{system}.docker", PATHS)
            sbom = flake.eval(f"packages.{system}.sbom", PATHS)
            # The image is an input of the wrapper, so `nix run .#publish` builds it; the wrapper
            # hands its path over as a default the caller (or --image) can override. The SBOM
            # likewise, for `--sbom` with no path.
            assert image["drv"] in wrapper["inputDrvs"]
            assert f"--set-default DOJO_IMAGE_ARCHIVE {image['out']}" in command
            assert sbom["drv"] in wrapper["inputDrvs"]
            assert f"--set-default DOJO_SBOM {sbom['out']}" in command
            assert sbom["out"].endswith(f"-dojo-{_pyproject()['project']['version']}-{system}"
                                        ".cdx.json")
        else:
            assert "DOJO_IMAGE_ARCHIVE" not in command
            assert "DOJO_SBOM" not in command


def test_the_index_app_builds_no_image(flake: Flake) -> None:
    """`publish-index` (the job that assembles the index from the registry): the same program,
    the SBOM in its closure, no image anywhere in it, so `nix run` builds none."""
    for system in LINUX:
        image = flake.eval(f"packages.{system}.docker", PATHS)
        sbom = flake.eval(f"packages.{system}.sbom", PATHS)
        package = flake.eval(f"packages.{system}.default", PATHS)
        drv, wrapper = _wrapper(flake, "publish-index", system)
        command = wrapper["env"]["buildCommand"]
        assert f"{package['out']}/bin/publish" in command
        assert "DOJO_IMAGE_ARCHIVE" not in command
        assert f"--set-default DOJO_SBOM {sbom['out']}" in command
        needed = _closure(flake, drv)
        assert sbom["drv"] in needed
        assert image["drv"] not in needed
        # The check can fail: the image is in the publish app's closure.
        assert image["drv"] in _closure(flake, _wrapper(flake, "publish", system)[0])


def test_checks_cover_package_lint_workflows_and_shell(flake: Flake) -> None:
    for system in SYSTEMS:
        checks = flake.eval(
            f"checks.{system}",
            "c: builtins.mapAttrs (n: d: d.drvPath) c",
        )
        assert checks["package"] == flake.eval(f"packages.{system}.default.drvPath")
        assert checks["devShell"] == flake.eval(f"devShells.{system}.default.drvPath")
    ruff = flake.derivation(flake.eval("checks.x86_64-linux.ruff.drvPath"))["env"]
    assert "ruff check" in ruff["buildCommand"]
    lint = flake.derivation(flake.eval("checks.x86_64-linux.workflows.drvPath"))["env"]
    assert "actionlint" in lint["buildCommand"]
    assert "zizmor --offline" in lint["buildCommand"]
    assert "-actionlint-" in lint["nativeBuildInputs"]
    assert "-zizmor-" in lint["nativeBuildInputs"]


def test_dev_shell_has_the_package_inputs_and_tools(flake: Flake) -> None:
    shell = flake.eval(
        "devShells.x86_64-linux.default",
        "s: { inherit (s) nativeBuildInputs; from = map (d: d.drvPath) s.stubInputsFrom; }",
    )
    assert shell["from"] == [flake.eval("packages.x86_64-linux.default.drvPath")]
    tools = " ".join(shell["nativeBuildInputs"])
    for tool in ("ruff", "mypy", "skopeo", "actionlint", "git"):
        assert f"-{tool}-" in tools, tool
    # inputsFrom brings the package's own build inputs, as mkShell merges them.
    assert "-hatchling-" in tools


# Misspelled arguments, one per nix/ file: the stand-in must reject each (its functions have no
# `...`), which is what makes the positive tests above mean something.
MISSPELLINGS = (
    ("nix/docker.nix", "tag = ", "tags = ", "packages.x86_64-linux.docker.drvPath"),
    (
        "nix/package.nix",
        "build-system = ",
        "buildSystem = ",
        "packages.x86_64-linux.default.drvPath",
    ),
    ("nix/devshell.nix", "inputsFrom = ", "inputFrom = ", "devShells.x86_64-linux.default.drvPath"),
    (
        "nix/apps.nix",
        "nativeBuildInputs = ",
        "nativeBuildInput = ",
        "apps.x86_64-linux.publish.program",
    ),
    ("nix/checks.nix", "fileset = lib.", "files = lib.", "checks.x86_64-linux.ruff.drvPath"),
    (
        "nix/sbom.nix",
        "preferLocalBuild = ",
        "preferLocalbuild = ",
        "packages.x86_64-linux.sbom.drvPath",
    ),
)


@pytest.mark.parametrize(("path", "good", "bad", "attr"), MISSPELLINGS)
def test_a_misspelled_argument_fails_evaluation(
    fresh_flake: Flake, path: str, good: str, bad: str, attr: str
) -> None:
    assert fresh_flake.evaluate(attr).returncode == 0
    target = fresh_flake.repo / path
    text = target.read_text()
    assert good in text
    target.write_text(text.replace(good, bad, 1))
    done = fresh_flake.evaluate(attr)
    assert done.returncode != 0
    assert bad.split(maxsplit=1)[0] in done.stderr, done.stderr


def test_a_missing_source_url_fails_with_a_fix(fresh_flake: Flake) -> None:
    pyproject = fresh_flake.repo / "pyproject.toml"
    lines = pyproject.read_text().splitlines(keepends=True)
    pyproject.write_text("".join(line for line in lines if not line.startswith("Source =")))
    assert "Source" not in tomllib.loads(pyproject.read_text())["project"].get("urls", {})
    done = fresh_flake.evaluate("packages.x86_64-linux.docker.drvPath")
    assert done.returncode != 0
    assert "[project.urls] Source" in done.stderr, done.stderr
