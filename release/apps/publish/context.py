"""Where `publish` runs: GitHub Actions' environment, or a local clone plus flags.

Everything `publish` needs to know about its surroundings becomes one frozen `Context` here;
nothing else reads `os.environ`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release import log
from release.config import Settings
from release.core.version import Version, VersionError, parse
from release.errors import DojoError, UsageError
from release.shell.git import Repository
from release.shell.registry import Credentials

ARCHIVE_ENV = "DOJO_IMAGE_ARCHIVE"
_SHA = re.compile(r"^[0-9a-f]{12,40}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._/-]*$")


class BuildKind(enum.Enum):
    BRANCH = "branch"
    TAG = "tag"


@dataclass(frozen=True)
class Options:
    """The command line, as parsed."""

    image: Path | None = None
    sha: str | None = None
    version: str | None = None
    registry: str | None = None
    repository: str | None = None
    dry_run: bool = False
    force: bool = False


@dataclass(frozen=True)
class Context:
    root: Path
    archive: Path
    sha: str
    kind: BuildKind
    ref_name: str | None  # the branch (None on a detached HEAD) or the tag
    version: Version | None  # tag builds only
    release_branch: str
    registry: str  # host[:port]
    repository: str  # owner/image, lower-cased
    github_repository: str | None  # owner/repo for the GitHub Release, as GitHub spells it
    credentials: Credentials | None
    github_token: str | None
    github_api_url: str
    in_actions: bool
    output_file: Path | None
    summary_file: Path | None
    dry_run: bool
    force: bool

    @property
    def short_sha(self) -> str:
        return self.sha[:12]

    @property
    def image_reference(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def is_release_branch(self) -> bool:
        return self.kind is BuildKind.BRANCH and self.ref_name == self.release_branch


def detect(options: Options, environ: Mapping[str, str], cwd: Path, settings: Settings) -> Context:
    """Build the `Context` from GitHub's variables when present, else from the local clone."""
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    env = {k: v for k, v in environ.items() if v}

    archive = options.image or (Path(env[ARCHIVE_ENV]) if ARCHIVE_ENV in env else None)
    if archive is None:
        raise UsageError(
            f"no image to publish: run `nix run .#publish` (it sets {ARCHIVE_ENV}) "
            "or pass --image PATH to a docker-archive"
        )

    sha, kind, ref_name = _where(options, env, cwd)
    if not _SHA.match(sha):
        raise UsageError(f"commit {sha!r} is not a git SHA (12 to 40 hex digits): fix --sha")

    version: Version | None = None
    if kind is BuildKind.TAG:
        assert ref_name is not None
        try:
            version = parse(ref_name)
        except VersionError:
            raise DojoError(
                f"tag {ref_name!r} is not a release tag vX.Y.Z: publish runs on release tags only"
            ) from None
        if not ref_name.startswith("v"):
            ref_name = version.tag

    github_repository = env.get("GITHUB_REPOSITORY")
    image_path = options.repository or (
        f"{github_repository.split('/')[0]}/{settings.image}" if github_repository else None
    )
    if image_path is None:
        raise UsageError("no image repository: pass --repository owner/dojo")
    if not _REPOSITORY.match(image_path):
        raise UsageError(f"--repository {image_path!r} must look like owner/name")

    credentials = _credentials(env)
    token = env.get("GITHUB_TOKEN")
    log.register_secret(token)
    return Context(
        root=cwd,
        archive=archive,
        sha=sha.lower(),
        kind=kind,
        ref_name=ref_name,
        version=version,
        release_branch=settings.branch,
        registry=(options.registry or settings.registry).lower(),
        repository=image_path.lower(),
        github_repository=github_repository or options.repository,
        credentials=credentials,
        github_token=token,
        github_api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        in_actions=in_actions,
        output_file=Path(env["GITHUB_OUTPUT"]) if in_actions and "GITHUB_OUTPUT" in env else None,
        summary_file=(
            Path(env["GITHUB_STEP_SUMMARY"])
            if in_actions and "GITHUB_STEP_SUMMARY" in env
            else None
        ),
        dry_run=options.dry_run,
        force=options.force,
    )


def _where(
    options: Options, env: Mapping[str, str], cwd: Path
) -> tuple[str, BuildKind, str | None]:
    """The commit, the kind of build and the branch or tag name. Flags beat the environment."""
    sha = options.sha or env.get("GITHUB_SHA")
    repo = Repository.find(cwd)
    ref_name: str | None
    if options.version:
        kind, ref_name = BuildKind.TAG, options.version
    elif env.get("GITHUB_REF_TYPE") in ("branch", "tag") and "GITHUB_REF_NAME" in env:
        kind, ref_name = BuildKind(env["GITHUB_REF_TYPE"]), env["GITHUB_REF_NAME"]
    else:
        kind, ref_name = BuildKind.BRANCH, repo.current_branch() if repo else None
    if sha is None:
        head = repo.head_commit() if repo is not None else None
        if head is None:
            raise UsageError(
                f"no commit to tag the image with ({cwd} is not a git clone with commits and "
                "GITHUB_SHA is not set): pass --sha"
            )
        sha = head.sha
    return sha, kind, ref_name


def _credentials(env: Mapping[str, str]) -> Credentials | None:
    """DOJO_REGISTRY_USER/PASSWORD if set, else GITHUB_ACTOR/GITHUB_TOKEN (GHCR)."""
    for user_var, password_var in (
        ("DOJO_REGISTRY_USER", "DOJO_REGISTRY_PASSWORD"),
        ("GITHUB_ACTOR", "GITHUB_TOKEN"),
    ):
        if user_var in env and password_var in env:
            log.register_secret(env[password_var])
            return Credentials(env[user_var], env[password_var])
        if (user_var in env) != (password_var in env) and user_var.startswith("DOJO"):
            raise UsageError(
                    "set both DOJO_REGISTRY_USER and DOJO_REGISTRY_PASSWORD, or neither"
                )
    return None
