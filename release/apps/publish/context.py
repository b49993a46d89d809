"""Where `publish` runs: GitHub Actions' environment, or a local clone plus flags.

Everything `publish` needs to know about its surroundings becomes one frozen `Context` here;
nothing else reads `os.environ`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from release import log
from release.config import Settings
from release.core import tagformat
from release.core.tagformat import TagFormat
from release.core.version import Version
from release.errors import DojoError, UsageError
from release.shell import git
from release.shell.git import Repository
from release.shell.registry import Credentials, is_loopback

ARCHIVE_ENV = "DOJO_IMAGE_ARCHIVE"
_SHA = re.compile(r"^[0-9a-f]{12,40}$")
GHCR = "ghcr.io"
# HOST[:PORT]: a DNS name or IPv4 address, or a bracketed IPv6 address.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$")
# What the OCI distribution spec allows as a tag.
_OCI_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._/-]*$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


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
    github_repository: str | None = None
    dry_run: bool = False
    force: bool = False
    from_registry: bool = False  # the images are in the registry already (no archive needed)
    mount_from: tuple[str, ...] = ()  # other repositories of the registry to mount layers from


@dataclass(frozen=True)
class Context:
    """What a publish run is about: the checkout, the image, the commit and the build."""

    root: Path
    archive: Path | None  # None: the images are read from the registry (--from-platform-tags)
    sha: str
    kind: BuildKind
    ref_name: str | None  # the branch (None on a detached HEAD) or the tag
    version: Version | None  # tag builds only
    release_branch: str
    registry: str  # host[:port]
    repository: str  # owner/image, lower-cased
    github_repository: str | None  # owner/repo for the GitHub Release, as GitHub spells it
    credentials: Credentials | None
    credential_source: str  # which variables they came from, or "anonymous"
    github_token: str | None
    github_api_url: str
    in_actions: bool
    output_file: Path | None
    summary_file: Path | None
    dry_run: bool
    force: bool
    # Tag builds: the release tags' format (the git tag's own, or [tool.release] tag-format),
    # and the image's version tag: the git tag with its version normalised (v1.3.0-rc.1 ->
    # v1.3.0rc1, a valid OCI tag).
    tag_format: TagFormat | None = None
    image_tag: str | None = None
    # --platform-only: the one tag this run pushes (`<sha12>-<os>-<arch>`), nothing else.
    platform_tag: str | None = None
    remote: str = "origin"  # the clone's remote, asked for the release branch's tip
    # --mount-from: repositories of the same registry whose layers are mounted, not uploaded.
    mount_from: tuple[str, ...] = ()

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
    if archive is None and not options.from_registry:
        raise UsageError(
            f"no image to publish: run `nix run .#publish` (it sets {ARCHIVE_ENV}) "
            "or pass --image PATH to a docker-archive"
        )

    registry = registry_host(
        options.registry if options.registry is not None else settings.registry,
        "--registry" if options.registry is not None else "[tool.release] registry",
    )

    repo = Repository.find(cwd)
    sha, kind, ref_name = _where(options, env, cwd, repo)
    if not _SHA.match(sha):
        source = "--sha" if options.sha else "GITHUB_SHA" if "GITHUB_SHA" in env else "HEAD"
        raise UsageError(
            f"commit {sha!r} ({source}) is not a git SHA (12 to 40 hex digits): fix {source}"
        )

    version: Version | None = None
    fmt: TagFormat | None = None
    image_tag: str | None = None
    if kind is BuildKind.TAG:
        assert ref_name is not None
        version, fmt, ref_name = _release_tag(
            ref_name, settings, from_flag=bool(options.version),
            tag_names=repo.tag_names() if repo is not None else (),
        )
        _check_local_tag(repo, ref_name, sha)
        image_tag = fmt.render(version)
        if not _OCI_TAG.match(image_tag):
            source = "--version" if options.version else "the git tag"
            raise UsageError(
                f"{source} {ref_name} cannot be an image tag ({image_tag}: OCI tags allow "
                "letters, digits, `_`, `.` and `-`, at most 128): set [tool.release] tag-format "
                "to one without `/` or `@`; nothing was pushed"
            )

    github_repository = _github_repository(options, env, repo, settings.remote)
    image_path = options.repository or (
        f"{github_repository.split('/')[0]}/{settings.image}" if github_repository else None
    )
    if image_path is None:
        raise UsageError("no image repository: pass --repository owner/dojo")
    if not _REPOSITORY.match(image_path):
        source = (
            "--repository" if options.repository
            else "GITHUB_REPOSITORY's owner + [tool.release] image"
        )
        raise UsageError(
            f"image repository {image_path!r} (from {source}) must look like owner/name: "
            "pass --repository owner/name"
        )

    mount_from = _mount_sources(options.mount_from, image_path.lower())
    credentials, credential_source = registry_credentials(env, registry)
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
        registry=registry,
        repository=image_path.lower(),
        github_repository=github_repository,
        credentials=credentials,
        credential_source=credential_source,
        github_token=token,
        github_api_url=_api_url(env.get("GITHUB_API_URL", "https://api.github.com"), token),
        in_actions=in_actions,
        output_file=Path(env["GITHUB_OUTPUT"]) if in_actions and "GITHUB_OUTPUT" in env else None,
        summary_file=(
            Path(env["GITHUB_STEP_SUMMARY"])
            if in_actions and "GITHUB_STEP_SUMMARY" in env
            else None
        ),
        dry_run=options.dry_run,
        force=options.force,
        tag_format=fmt,
        image_tag=image_tag,
        remote=settings.remote,
        mount_from=mount_from,
    )


def _mount_sources(values: Sequence[str], repository: str) -> tuple[str, ...]:
    """--mount-from values as repository paths of the registry (lower-cased, each once)."""
    found: list[str] = []
    for value in values:
        name = value.strip().lower()
        if not _REPOSITORY.match(name):
            raise UsageError(
                f"--mount-from {value!r} is not a repository of the registry: give owner/name "
                "(the registry host is --registry's)"
            )
        if name == repository:
            raise UsageError(
                f"--mount-from {value} is the repository being published to: name another "
                "repository of the same registry (a base image, a sibling project)"
            )
        if name not in found:
            found.append(name)
    return tuple(found)


def _release_tag(
    ref_name: str, settings: Settings, *, from_flag: bool, tag_names: Sequence[str]
) -> tuple[Version, TagFormat, str]:
    """(version, tag format, git tag name) of a release tag.

    A git tag (GitHub's ref name) is read in [tool.release] tag-format when set, else in the
    format the tag itself shows (`v1.2.3`, `1.2.3`, `name-v1.2.3`). `--version` names a version
    (`2.4.0`, or a tag such as `v2.4.0`): its tag is in the format `release` uses, configured or
    inferred from the clone's tags (`tagformat.resolve`), spelled as an existing tag spells it.
    """
    name = ref_name.removeprefix("refs/tags/")
    source = "--version" if from_flag else "the git tag"
    if "+" in name:
        raise UsageError(
            f"{source} {name} has a local version label (`+...`), which is never released and "
            "cannot be an image tag: release a version without it; nothing was pushed"
        )
    if from_flag:
        resolved = tagformat.resolve(settings.tag_format, tag_names)
        fmt = resolved.format
        version = fmt.parse(name) or TagFormat(tagformat.PLACEHOLDER).parse(name)
        if version is None and settings.tag_format is None:
            version = tagformat.version_in(name)
        if version is None:
            raise DojoError(
                f"--version {name} is not a release tag in the project's format {fmt.pattern} "
                "nor a version (such as 2.4.0): pass the version to publish"
            )
        existing = [tag for tag, found in resolved.tags if found == version]
        return version, fmt, existing[0] if existing else fmt.render(version)
    configured = tagformat.validate(settings.tag_format) if settings.tag_format else None
    if configured is not None:
        version = configured.parse(name)
        if version is not None:
            return version, configured, name
        raise DojoError(
            f"tag {name!r} is not a release tag in the project's format {configured.pattern} "
            "([tool.release] tag-format): publish runs on release tags only"
        )
    found_fmt = tagformat.format_of(name)
    version = found_fmt.parse(name) if found_fmt is not None else None
    if found_fmt is None or version is None:
        raise DojoError(
            f"tag {name!r} is not a release tag (such as v1.2.3 or 1.3.0rc1): publish runs on "
            "release tags only"
        )
    return version, found_fmt, name


def _check_local_tag(repo: Repository | None, tag: str, sha: str) -> None:
    """Refuse a build whose release tag, in this clone, names another commit."""
    if repo is None:
        return
    tagged = repo.local_sha(f"refs/tags/{tag}")
    if tagged is not None and not tagged.startswith(sha.lower()):
        raise DojoError(
            f"tag {tag} names commit {tagged[:12]}, but this build is commit {sha[:12]} "
            "(--sha, GITHUB_SHA or HEAD): publish the image built from the tagged commit; "
            "nothing was pushed"
        )


def _github_repository(
    options: Options, env: Mapping[str, str], repo: Repository | None, remote: str
) -> str | None:
    """owner/name of the GitHub repository the Release belongs to: --github-repository, else
    GITHUB_REPOSITORY, else the clone's remote (never the image path, `--repository`)."""
    if options.github_repository is not None:
        value, source = options.github_repository, "--github-repository"
    elif "GITHUB_REPOSITORY" in env:
        value, source = env["GITHUB_REPOSITORY"], "GITHUB_REPOSITORY"
    else:
        web = git.web_url(repo.remote_url(remote)) if repo is not None else None
        path = urlsplit(web).path.strip("/") if web else ""
        return path if _GITHUB_REPOSITORY.match(path) else None
    if not _GITHUB_REPOSITORY.match(value):
        raise UsageError(f"{source} {value!r} is not owner/name: fix {source}")
    return value


def _where(
    options: Options, env: Mapping[str, str], cwd: Path, repo: Repository | None
) -> tuple[str, BuildKind, str | None]:
    """The commit, the kind of build and the branch or tag name. Flags beat the environment."""
    sha = options.sha or env.get("GITHUB_SHA")
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


def _api_url(value: str, token: str | None) -> str:
    """GITHUB_API_URL, refused when it would carry the token in clear or holds credentials."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise UsageError(
            "GITHUB_API_URL is not an http(s) URL without credentials: set it to GitHub's API "
            "(https://api.github.com, or your GitHub Enterprise's /api/v3)"
        )
    if token and parts.scheme == "http" and not is_loopback(parts.netloc):
        raise UsageError(
            f"GITHUB_API_URL {value} is plain HTTP: the token would travel in clear; use https"
        )
    return value.rstrip("/")


def registry_host(value: str, source: str) -> str:
    """`value` as a registry host (`HOST[:PORT]`, lower-cased), or a usage error naming `source`.

    Credentials (`user:password@host`) are refused without echoing them: they belong in
    DOJO_REGISTRY_USER/DOJO_REGISTRY_PASSWORD, never in a value that is logged.
    """
    if not value.strip():
        raise UsageError(
            f"{source} is empty: give a registry host such as ghcr.io (or leave it out)"
        )
    if "@" in value:
        raise UsageError(
            f"{source} holds credentials (`user:password@`): give only HOST[:PORT] and put the "
            "credentials in DOJO_REGISTRY_USER and DOJO_REGISTRY_PASSWORD"
        )
    if not _HOST.match(value):
        raise UsageError(
            f"{source} {value!r} is not a registry host: give HOST[:PORT] such as ghcr.io or "
            "127.0.0.1:5000 (no scheme, no path; the repository goes in --repository)"
        )
    return value.lower()


def registry_credentials(env: Mapping[str, str], registry: str) -> tuple[Credentials | None, str]:
    """The credentials for `registry` and where they come from (the credential scope).

    DOJO_REGISTRY_USER/DOJO_REGISTRY_PASSWORD go to whatever registry is configured; the
    workflow's GITHUB_ACTOR/GITHUB_TOKEN go only to GHCR (`ghcr.io`), never elsewhere: another
    registry without its own credentials is used anonymously.
    """
    user, password = env.get("DOJO_REGISTRY_USER"), env.get("DOJO_REGISTRY_PASSWORD")
    if (user is None) != (password is None):
        raise UsageError("set both DOJO_REGISTRY_USER and DOJO_REGISTRY_PASSWORD, or neither")
    if user is not None and password is not None:
        log.register_secret(password)
        return Credentials(user, password), "DOJO_REGISTRY_USER"
    actor, token = env.get("GITHUB_ACTOR"), env.get("GITHUB_TOKEN")
    if registry == GHCR and actor is not None and token is not None:
        log.register_secret(token)
        return Credentials(actor, token), "GITHUB_TOKEN"
    return None, "anonymous"
