"""Pre-flight's version reads: where the project keeps its version (`core.pyproject`), the
current one, the new one and why, the previous release in the project's tag format, and the
new tag. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from release import log
from release.config import PYPROJECT, Project, Settings
from release.core import pyproject, versionfile
from release.core.pyproject import SourceKind, VersionSource
from release.core.tagformat import TagFormat
from release.core.version import Bump, Pre, Version, VersionError, explicit, next_version, parse
from release.core.versionfile import VersionFile
from release.errors import ConfigError
from release.shell import git
from release.shell.git import Repository, Tag

# `path` as committed in HEAD (None when it is not there); `ConfigError` when it is not UTF-8.
ReadCommitted = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Chosen:
    """The current version (where the project writes it) and the one this release makes."""

    source: VersionSource | None
    current: Version | None
    new: Version | None
    why: str
    version_file: tuple[VersionFile, str] | None


def _source(
    read: ReadCommitted, project: Project, problems: list[str]
) -> tuple[VersionSource | None, tuple[VersionFile, str] | None]:
    try:
        try:
            source = pyproject.detect(project.document, project.settings.version_source)
        except pyproject.NoVersionSource:
            legacy = pyproject.detect_setuptools_legacy(read("setup.cfg"), read("setup.py"))
            if legacy is None:
                raise
            source = legacy
    except ConfigError as exc:
        problems.append(str(exc))
        return None, None
    if source.kind is not SourceKind.FILE:
        return source, None
    for spec in source.files:
        try:
            text = read(spec.path)
        except ConfigError as exc:
            problems.append(str(exc))
            return None, None
        if text is not None:
            return source, (spec, text)
    names = " or ".join(spec.path for spec in source.files)
    where = source.via if source.via.startswith("setup.") else f"{PYPROJECT} ({source.via})"
    problems.append(
        f"{where} reads the version from {names}, which is not committed: "
        "commit it, or set [tool.release] version-source"
    )
    return None, None


def _current(
    project: Project, source: VersionSource, found: tuple[VersionFile, str] | None,
    previous: Tag | None,
) -> Version | None:
    if source.kind is SourceKind.PROJECT:
        return pyproject.read_version(project.document)
    if source.kind is SourceKind.POETRY:
        return pyproject.read_poetry_version(project.document)
    if source.kind is SourceKind.FILE:
        assert found is not None
        return versionfile.read(*found)
    return previous.version if previous is not None else None  # the tag is the version


def _new(
    current: Version | None, bump: Bump | None, pre: Pre | None, version: str | None
) -> tuple[Version | None, str]:
    """The version this release makes, and how it was chosen."""
    if version is not None:
        return explicit(current, version), "set with --version"
    base = current if current is not None else parse("0.0.0")
    kind = bump
    if kind is None and pre is not None:
        if not base.is_prerelease:
            raise VersionError(
                f"--pre {pre.value} alone continues a pre-release, and {base} is final: "
                f"add --bump major, minor or patch (e.g. --bump minor --pre {pre.value})"
            )
        kind = Bump.PATCH  # the pre-release's own version
    if kind is None:
        return None, ""
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
    read: ReadCommitted, project: Project, *, previous: Tag | None, bump: Bump | None,
    pre: Pre | None, version: str | None, problems: list[str],
) -> Chosen:
    """The current version (which must be the previous release's) and the new one."""
    source, found = _source(read, project, problems)
    if source is None:
        return Chosen(None, None, None, "", None)
    current: Version | None = None
    try:
        current = _current(project, source, found, previous)
    except (ConfigError, VersionError) as exc:
        problems.append(str(exc))
        return Chosen(source, None, None, "", found)
    if current is not None and previous is not None and current != previous.version:
        where = source.describe(found[0] if found else None)
        problems.append(
            f"{where} says version {current} but the previous release is {previous.name}: "
            f"set it to {previous.version} (or tag the commit that released {current})"
        )
    try:
        new, why = _new(current, bump, pre, version)
    except VersionError as exc:
        problems.append(str(exc))
        return Chosen(source, current, None, "", found)
    return Chosen(source, current, new, why, found)


def previous_release(
    repo: Repository, settings: Settings, problems: list[str]
) -> git.PreviousRelease:
    """The previous release in the project's tag format (configured or inferred)."""
    try:
        previous = repo.previous_release(settings.tag_format)
    except ConfigError as exc:  # tags in several formats
        problems.append(str(exc))
        previous = repo.previous_release("v{version}")
    if previous.ignored:
        more = len(previous.ignored) - 5
        ignored = ", ".join(previous.ignored[:5]) + (f" (+{more} more)" if more > 0 else "")
        log.step(
            "preflight",
            note=f"ignoring tags that are not releases in {previous.format.pattern}: {ignored}",
        )
    return previous


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


