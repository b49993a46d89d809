"""The consistency gate of a tag build: the tag, the image label, the project's version (where
its build backend reads it) and the changelog must name the same version before anything is
published. Versions are compared normalised: tag v1.3.0-rc.1 and 1.3.0rc1 agree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.apps.publish.context import Context
from release.config import PYPROJECT, Project
from release.core import tag_notes, versionsource
from release.core.version import Version, try_parse
from release.errors import ChangelogError, DojoError
from release.shell.files import read_changelog, read_text
from release.shell.oci.archive import ImageArchive

if TYPE_CHECKING:
    from release.shell.github import ReleaseSpec
from release.shell.image import VERSION_LABEL


@dataclass(frozen=True)
class Versions:
    """The four places a release's version is written down."""

    tag: Version
    label: str | None
    pyproject: str | None  # the project's version as written where `source` says
    changelog_problem: str | None  # why the changelog gives no section for the tag; None: it does
    source: str | None = PYPROJECT  # where `pyproject` was read; None: the tag is the version
    source_problem: str | None = None  # why the source gave no version


def consistency_problems(v: Versions) -> list[str]:
    """Each disagreement with the tag's version, named with its value; empty if all agree."""
    problems: list[str] = []
    if v.label is None:
        problems.append(f"image label {VERSION_LABEL} is missing")
    elif try_parse(v.label) != v.tag:
        problems.append(f"image label {VERSION_LABEL}={v.label}")
    if v.source_problem is not None:
        problems.append(v.source_problem)
    elif v.source is None:
        pass  # hatch-vcs, setuptools_scm, ...: the build takes the version from the tag
    elif v.pyproject is None:
        problems.append(f"{v.source} has no [project] version")
    elif try_parse(v.pyproject) != v.tag:
        problems.append(f"{v.source} version={v.pyproject}")
    if v.changelog_problem is not None:
        problems.append(v.changelog_problem)
    return problems


def check_consistency(v: Versions) -> None:
    """Refuse a tag build whose versions disagree, naming every value."""
    problems = consistency_problems(v)
    if problems:
        raise DojoError(
            f"refusing to publish {v.tag}, not everything says {v.tag}: "
            + ", ".join(problems)
            + "; make them agree (bump, changelog, rebuild the image from the tagged commit) "
            "and tag again"
        )


def project_version(project: Project) -> tuple[str | None, str | None, str | None]:
    """(where, version as written, problem) of the project's own version, found as `release`
    finds it (`release.core.versionsource`: pyproject.toml, else setup.cfg or setup.py), in
    the work tree; (None, None, None) when the tag is the version."""
    root = project.settings.root

    def read(path: str) -> str | None:
        file = root / path
        return read_text(file, what=path, limit=1024 * 1024) if file.is_file() else None

    where = PYPROJECT
    try:
        located = versionsource.locate(
            project.document, project.settings.version_source, read, absent="which does not exist"
        )
        where = located.found[0].path if located.found else where
        found = versionsource.current(project.document, located)
    except DojoError as exc:
        return where, None, str(exc)
    return (None, None, None) if found is None else (where, found[1], None)


def tag_notes_for(ctx: Context, project: Project, tag: str) -> tuple[str | None, str | None]:
    """(notes, None) from the annotated tag `tag`, or (None, the problem). A CI checkout may
    hold the tag as a lightweight one (actions/checkout does): it is fetched from the remote
    once then."""
    from release.shell import git  # noqa: PLC0415 (pygit2: only this path needs it)

    repo = git.Repository.find(ctx.root)
    if repo is None:
        return None, "no changelog file, and no git repository to read the tag's notes from"
    message = repo.tag_message(tag)
    if message is None and git.fetch_tag(ctx.root, project.settings.remote, tag):
        message = repo.tag_message(tag)
    if message is None:
        return None, (
            f"no changelog file, and tag {tag} holds no notes (it is lightweight, here and on "
            f"{project.settings.remote}): tag releases with `release`, which writes the notes "
            "into an annotated tag, or keep a changelog"
        )
    notes = tag_notes.notes_of(tag, message)
    return (notes, None) if notes.strip() else (None, f"tag {tag}'s message holds no notes")


def _web_url(ctx: Context) -> str | None:
    """The repository's web URL, where a reST changelog's `:issue:` roles point."""
    if ctx.github_repository is None:
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return f"{server}/{ctx.github_repository}"


def gate(ctx: Context, archive: ImageArchive, project: Project) -> ReleaseSpec:
    """The consistency gate of a tag build; its changelog section becomes the Release."""
    # mistletoe and PyGithub cost about a second of start-up: branch builds skip them.
    from release.core.changelog import extract  # noqa: PLC0415
    from release.shell.github import ReleaseSpec  # noqa: PLC0415

    version = ctx.version
    assert version is not None
    changelog = project.settings.changelog_file
    where, written, source_problem = project_version(project)
    body: str | None = None
    problem: str | None = None
    # Reported by the gate below, together with the other values.
    if not project.settings.changelog_given and not changelog.exists():
        # No changelog kept: the notes are the annotated tag's, as `release` wrote them.
        body, problem = tag_notes_for(ctx, project, str(ctx.ref_name or ctx.image_tag))
    else:
        try:
            text = read_changelog(changelog)
        except ChangelogError as exc:
            problem = str(exc)
        else:
            try:
                # A reST changelog's section goes to GitHub as Markdown.
                body = extract(
                    text, str(version), name=changelog.name, markdown=True,
                    repository=_web_url(ctx),
                ).body
            except ChangelogError as exc:
                problem = f"{changelog.name}: {exc}"
    check_consistency(
        Versions(
            tag=version,
            label=archive.labels.get(VERSION_LABEL),
            pyproject=written,
            changelog_problem=problem,
            source=where,
            source_problem=source_problem,
        )
    )
    assert body is not None
    if ctx.github_repository is None and (ctx.github_token or ctx.in_actions):
        raise DojoError(
            "no GitHub repository for the Release: pass --github-repository owner/name (or set "
            "GITHUB_REPOSITORY); nothing was pushed"
        )
    if ctx.in_actions and not ctx.github_token:
        raise DojoError(
            "GITHUB_TOKEN is not set: pass it to the publish step (`env: GITHUB_TOKEN: "
            "${{ github.token }}`, with `permissions: contents: write`)"
        )
    # The Release belongs to the git tag as pushed (`v2.0.0-rc.1` stays so), not to a
    # normalised spelling of it, which GitHub would create as a new tag.
    tag = ctx.ref_name or str(ctx.image_tag)
    return ReleaseSpec(
        repository=ctx.github_repository or "",  # "": no token, the Release is skipped
        tag=tag,
        title=tag,
        body=body,
        prerelease=version.is_prerelease,
        target=ctx.sha,
    )
