"""Pre-flight's version reads: where the project keeps its version (`core.pyproject`), the
current one, the new one and why, the previous release in the project's tag format, and the
new tag. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from release import log
from release.config import Project
from release.core import lockfile, pyproject, versionsource
from release.core.development import next_development
from release.core.lockfile import Lock
from release.core.pyproject import SourceKind, VersionSource
from release.core.tagformat import TagFormat
from release.core.version import (
    Bump,
    Pre,
    Version,
    VersionError,
    explicit,
    next_version,
    parse,
    try_parse,
)
from release.core.versionfile import VersionFile
from release.errors import ConfigError, UsageError
from release.shell import git
from release.shell.git import Repository, Tag

# `path` as committed in HEAD (None when it is not there); `ConfigError` when it is not UTF-8.
ReadCommitted = Callable[[str], "str | None"]


class Chosen(NamedTuple):
    """The current version (where the project writes it) and the one this release makes."""

    source: VersionSource | None
    current: Version | None
    new: Version | None
    why: str
    version_file: tuple[VersionFile, str] | None


class Current(NamedTuple):
    """Where the project writes its version, and the version written there (None for a VCS
    source, whose version is the previous tag, or when it cannot be read: a problem says so)."""

    source: VersionSource | None
    version: Version | None
    found: tuple[VersionFile, str] | None  # a FILE source's file and its committed text
    written: str | None = None  # the version's characters as the source spells them


def _built_elsewhere(read: ReadCommitted, project: Project) -> str | None:
    """With `version-source = "vcs"` configured: where the build backend reads a version that
    is not the tag (a literal, a tuple), or None when it takes it from the tag or cannot say."""
    try:
        located = versionsource.locate(project.document, None, read)
        found = versionsource.current(project.document, located)
    except (ConfigError, VersionError):
        return None
    if found is None:
        return None
    spec = located.found[0] if located.found else None
    return f"{located.source.describe(spec)} ({found[0]})"


def read_current(read: ReadCommitted, project: Project, problems: list[str]) -> Current:
    """Where the version is written and what it says (before the tags are looked at: the
    current version helps tell which tag format is the project's)."""
    configured = project.settings.version_source
    try:
        located = versionsource.locate(project.document, configured, read)
    except ConfigError as exc:
        problems.append(str(exc))
        return Current(None, None, None)
    source = located.source
    if source.kind is SourceKind.VCS and configured == "vcs":
        built = _built_elsewhere(read, project)
        if built is not None:
            problems.append(
                f'[tool.release] version-source = "vcs", but the build reads its version from '
                f"{built}: the tag would disagree with what it builds; drop version-source "
                "(release then edits the version there), or make the build take it from the tag"
            )
            return Current(None, None, None)
    try:
        found = versionsource.current(project.document, located)
    except (ConfigError, VersionError) as exc:
        problems.append(str(exc))
        return Current(None, None, located.found)
    if found is None:  # the tag is the version
        return Current(source, None, located.found)
    return Current(source, found[0], located.found, found[1])


def in_development(current: Version | None, previous: Tag | None) -> bool:
    """The version source holds the next version in development (`8.5.0.dev0`, or a
    pre-release such as `1.3.0rc1`), above the last release: the Pallets, Django and
    zest.releaser workflow, where the release drops the marker and then starts the next."""
    return (
        current is not None
        and current.is_prerelease
        and (previous is None or current > previous.version)
    )


def _released(current: Version) -> Version:
    """The version a development version leads to: `8.5.0.dev0` -> `8.5.0`,
    `1.3.0rc1.dev2` -> `1.3.0rc1`."""
    text = str(current)
    return parse(text.rpartition(".dev")[0]) if current.dev is not None else current


def _new(
    current: Version | None, bump: Bump | None, pre: Pre | None, version: str | None,
    developing: bool,
) -> tuple[Version | None, str]:
    """The version this release makes, and how it was chosen."""
    if version is not None:
        return explicit(current, version), "set with --version"
    base = current if current is not None else parse("0.0.0")
    if bump is None and pre is None:
        if developing and current is not None and current.dev is not None:
            return _released(current), f"finishing the development version {current}"
        raise UsageError(
            "pass --bump patch|minor|major (or --pre, --version X, --resume) "
            "(see `release --help`)"
        )
    kind = bump
    if kind is None and pre is not None:
        if not base.is_prerelease:
            raise VersionError(
                f"--pre {pre.value} alone continues a pre-release, and {base} is final: "
                f"add --bump major, minor or patch (e.g. --bump minor --pre {pre.value})"
            )
        kind = Bump.PATCH  # the pre-release's own version
    assert kind is not None
    new = next_version(base, kind, pre)
    of = str(current) if current is not None else "0.0.0 (no release tag yet)"
    if bump is None and pre is not None:
        return new, f"the next {pre.value} pre-release after {of}"
    what = {
        Bump.RELEASE: f"finishing the pre-release {of}",
        Bump.POST: f"a post-release of {of}",
        Bump.DEV: f"a development release after {of}",
    }.get(kind, f"{kind.value}{f' --pre {pre.value}' if pre else ''} bump of {of}")
    return new, what


def choose(
    current: Current, *, previous: Tag | None, format_known: bool, bump: Bump | None,
    pre: Pre | None, version: str | None, problems: list[str],
) -> Chosen:
    """The new version; the current one must be the previous release's, or the next one in
    development above it. With the tag format unknown (`format_known` False, a problem says
    why) the version is not compared with a tag of a format that may not be the project's."""
    source, found = current.source, current.found
    if source is None:
        return Chosen(None, None, None, "", None)
    now = current.version if source.kind is not SourceKind.VCS else (
        previous.version if previous is not None else None
    )
    developing = in_development(now, previous)
    if (
        format_known and now is not None and previous is not None
        and now != previous.version and not developing
    ):
        where = source.describe(found[0] if found else None)
        problems.append(
            f"{where} says version {now} but the previous release is {previous.name}: "
            f"set it to {previous.version} (or tag the commit that released {now})"
        )
    if format_known and previous is None and _releases_as_is(now, bump, pre, version):
        assert now is not None
        return Chosen(source, now, now, "the current version, never tagged: the first release",
                      found)
    try:
        new, why = _new(now, bump, pre, version, developing)
    except UsageError as exc:
        if not problems:
            raise  # nothing else is wrong: bad usage, exit 2
        problems.append(str(exc))
        return Chosen(source, now, None, "", found)
    except VersionError as exc:
        problems.append(str(exc))
        return Chosen(source, now, None, "", found)
    return Chosen(source, now, new, why, found)


def _releases_as_is(
    now: Version | None, bump: Bump | None, pre: Pre | None, version: str | None
) -> bool:
    """With no release tag yet, the version written in the project has never been released:
    `--version` naming it, or no option at all, releases it as it is (`version = "0.1.0"`
    is released as 0.1.0, not skipped for 0.1.1). A bump still bumps, as asked."""
    if now is None or now.local is not None:
        return False
    if version is not None:
        return try_parse(version) == now
    return bump is None and pre is None and now.dev is None


def previous_release(
    repo: Repository, project: Project, name: str, current: Version | None,
    problems: list[str],
) -> tuple[git.PreviousRelease, bool]:
    """The previous release in the project's tag format (configured or inferred), and whether
    the format is known (False: the tags leave it ambiguous, and a problem says so)."""
    settings = project.settings
    try:
        previous = repo.previous_release(
            settings.tag_format, project=name, current=current
        )
    except ConfigError as exc:  # even the newest tags mix formats
        problems.append(str(exc))
        return git.PreviousRelease(None, (), 0, TagFormat()), False
    if previous.ignored:
        more = len(previous.ignored) - 5
        ignored = ", ".join(previous.ignored[:5]) + (f" (+{more} more)" if more > 0 else "")
        log.step(
            "preflight",
            note=f"ignoring tags that are not releases in {previous.format.pattern}: {ignored}",
        )
    return previous, True


class Decided(NamedTuple):
    """Pre-flight's version reads, in order: the version source, the previous release (in a
    format the current version helps infer), the new version and its tag."""

    project: str  # the project's name, for the commit message and monorepo tags
    previous: git.PreviousRelease
    chosen: Chosen
    tag: str | None
    # The back-to-development version after the release, and its spelling (`8.5.1.dev`)
    follow: tuple[Version, str] | None = None

    @property
    def format(self) -> TagFormat:
        return self.previous.format


def project_name(read: ReadCommitted, project: Project) -> str:
    """pyproject.toml's name, else setup.cfg's or setup.py's, else the clone's folder."""
    if project.declared.name:
        return project.declared.name
    try:
        legacy = pyproject.setuptools_name(read("setup.cfg"), read("setup.py"))
    except ConfigError:  # not UTF-8, a link: the version read reports it
        legacy = None
    return legacy or project.name


class Asked(Protocol):
    """What the command line asks for (`preflight.Options`)."""

    @property
    def bump(self) -> Bump | None: ...
    @property
    def pre(self) -> Pre | None: ...
    @property
    def version(self) -> str | None: ...
    @property
    def next_dev(self) -> bool | None: ...


def decide(
    repo: Repository, read: ReadCommitted, project: Project, opts: Asked, problems: list[str]
) -> Decided:
    name = project_name(read, project)
    found = read_current(read, project, problems)
    previous, format_known = previous_release(repo, project, name, found.version, problems)
    chosen = choose(
        found, previous=previous.tag, format_known=format_known, bump=opts.bump, pre=opts.pre,
        version=opts.version, problems=problems,
    )
    if format_known:
        warn(repo, read, project, previous, chosen.current)
    tag = new_tag(repo, previous.format, chosen.new, previous.tag, problems)
    follow = _follow(found, chosen, previous, opts.next_dev, problems)
    return Decided(name, previous, chosen, tag, follow)


def _follow(
    found: Current, chosen: Chosen, previous: git.PreviousRelease, wanted: bool | None,
    problems: list[str],
) -> tuple[Version, str] | None:
    """The back-to-development version: asked for (`--next-dev`), or detected (the project
    was on a development version above its last release), unless `--no-next-dev`."""
    was_dev = (
        found.version is not None and found.version.dev is not None
        and in_development(found.version, previous.tag)
    )
    if wanted is False or chosen.new is None or not (wanted or was_dev):
        return None
    if chosen.source is None or chosen.source.kind is SourceKind.VCS:
        if wanted and chosen.source is not None:
            problems.append(
                f"--next-dev: with {chosen.source.via} no file holds the version (the tag is "
                "the version), so there is no development version to write: drop --next-dev"
            )
        return None
    return next_development(chosen.new, found.written if was_dev else None)


def warn(
    repo: Repository, read: ReadCommitted, project: Project, previous: git.PreviousRelease,
    current: Version | None,
) -> None:
    """What may surprise, said but not refused: a version above 0.0.0 with no release tag in a
    repository with other tags (tagged as `rel_2_1_9`? or the first release); a maturin
    project's Cargo.toml holding the version too, which release does not bump unless listed."""
    if current is None:
        return
    others = repo.tag_names() if previous.tag is None and current > parse("0.0.0") else []
    if others:
        log.step(
            "preflight", status="warning",
            warning=f"no release tag in {previous.format.pattern} for the current version "
            f"{current}, but {len(others)} other tag(s) such as {others[0]}: if releases are "
            "tagged differently, set [tool.release] tag-format; else this is the first release",
        )
    listed = set(project.settings.version_files)
    if pyproject.build_backend(project.document).startswith("maturin") and (
        "Cargo.toml" not in listed
    ):
        try:
            cargo = read("Cargo.toml")
        except ConfigError:  # not UTF-8, a link: not ours to judge here
            cargo = None
        if cargo is not None and pyproject.count_version(cargo, current):
            log.step(
                "preflight", status="warning",
                warning=f"Cargo.toml holds {current} too and is not bumped: add it to "
                '[tool.release] version-files = ["Cargo.toml"] to keep them together',
            )


def new_tag(
    repo: Repository, fmt: TagFormat, new: Version | None, previous: Tag | None,
    problems: list[str],
) -> str | None:
    """The new release's tag name; a problem when it exists or would not be the newest."""
    if new is None:
        return None
    tag = fmt.render(new)
    if repo.local_sha(f"refs/tags/{tag}") is not None:
        problems.append(
            f"tag {tag} already exists locally: release a higher version, or delete the "
            f"tag (`git tag -d {tag}`) if it is a mistake"
        )
    elif previous is not None and not new > previous.version:
        problems.append(
            f"{new} is not above the previous release {previous.name}: choose a higher version"
        )
    return tag




def asked_before(
    read: ReadCommitted, project: Project, *, released: Version, tags: list[Version],
    bump: Bump | None, pre: Pre | None, version: str | None,
) -> Version | None:
    """The version these options release from the commit before a release commit of
    `released` (`read` and `project` as that commit has them; `tags`: the release tags'
    versions), or None when they release nothing from there."""
    problems: list[str] = []
    found = read_current(read, project, problems)
    current = found.version
    if found.source is None or found.source.kind is SourceKind.VCS:
        current = max((v for v in tags if v < released), default=None)
    try:
        return _new(current, bump, pre, version, in_development(current, None))[0]
    except (VersionError, UsageError):
        return None


def find_locks(read: ReadCommitted, project: Project) -> tuple[tuple[Lock, str], ...]:
    """The committed lock files that record the project's own version (`core.lockfile`):
    `uv.lock`, and `Cargo.lock` when `Cargo.toml` is one of the `version-files` (a maturin
    project's crate, named by its `[package] name`)."""
    found: list[tuple[Lock, str]] = []
    locks = [Lock(lockfile.UV_LOCK, None)]
    if "Cargo.toml" in project.settings.version_files:
        import tomllib  # noqa: PLC0415 (a maturin project's alone)

        try:
            crate = tomllib.loads(read("Cargo.toml") or "").get("package", {}).get("name")
        except (tomllib.TOMLDecodeError, ConfigError, AttributeError):
            crate = None
        if isinstance(crate, str):
            locks.append(Lock(lockfile.CARGO_LOCK, crate))
    for lock in locks:
        try:
            text = read(lock.path)
        except ConfigError:  # not UTF-8, a link: not a lock of ours to edit
            continue
        if text is not None and lockfile.version_span(lock, text) is not None:
            found.append((lock, text))
    return tuple(found)
