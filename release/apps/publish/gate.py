"""The consistency gate of a tag build: the tag, the image label, pyproject.toml and the
changelog must name the same version before anything is published."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.apps.publish.context import Context
from release.config import Project
from release.core.version import Version, try_parse
from release.errors import ChangelogError, DojoError
from release.shell.files import read_changelog
from release.shell.image import ImageArchive

if TYPE_CHECKING:
    from release.shell.github import ReleaseSpec
from release.shell.image import VERSION_LABEL


@dataclass(frozen=True)
class Versions:
    """The four places a release's version is written down."""

    tag: Version
    label: str | None
    pyproject: str | None
    changelog_problem: str | None  # why the changelog gives no section for the tag; None: it does


def consistency_problems(v: Versions) -> list[str]:
    """Each disagreement with the tag's version, named with its value; empty if all agree."""
    problems: list[str] = []
    if v.label is None:
        problems.append(f"image label {VERSION_LABEL} is missing")
    elif try_parse(v.label) != v.tag:
        problems.append(f"image label {VERSION_LABEL}={v.label}")
    if v.pyproject is None:
        problems.append("pyproject.toml has no [project] version")
    elif try_parse(v.pyproject) != v.tag:
        problems.append(f"pyproject.toml version={v.pyproject}")
    if v.changelog_problem is not None:
        problems.append(v.changelog_problem)
    return problems


def check_consistency(v: Versions) -> None:
    """Refuse a tag build whose versions disagree, naming every value."""
    problems = consistency_problems(v)
    if problems:
        raise DojoError(
            f"refusing to publish {v.tag.tag}, not everything says {v.tag}: "
            + ", ".join(problems)
            + "; make them agree (bump, changelog, rebuild the image from the tagged commit) "
            "and tag again"
        )


def gate(ctx: Context, archive: ImageArchive, project: Project) -> ReleaseSpec:
    """The consistency gate of a tag build; its changelog section becomes the Release."""
    # mistletoe and PyGithub cost about a second of start-up: branch builds skip them.
    from release.core.changelog import extract  # noqa: PLC0415
    from release.shell.github import ReleaseSpec  # noqa: PLC0415

    version = ctx.version
    assert version is not None
    changelog = project.settings.changelog
    table = project.document.get("project", {})
    pyproject_version = table.get("version") if isinstance(table, dict) else None
    body: str | None = None
    problem: str | None = None
    # Reported by the gate below, together with the other values.
    try:
        text = read_changelog(changelog)
    except ChangelogError as exc:
        problem = str(exc)
    else:
        try:
            body = extract(text, version.tag).body
        except ChangelogError as exc:
            problem = f"{changelog.name}: {exc}"
    check_consistency(
        Versions(
            tag=version,
            label=archive.labels.get(VERSION_LABEL),
            pyproject=str(pyproject_version) if pyproject_version is not None else None,
            changelog_problem=problem,
        )
    )
    assert body is not None
    if ctx.github_repository is None:
        raise DojoError("no GitHub repository for the Release: set GITHUB_REPOSITORY=owner/repo")
    if ctx.in_actions and not ctx.github_token:
        raise DojoError(
            "GITHUB_TOKEN is not set: pass it to the publish step (`env: GITHUB_TOKEN: "
            "${{ github.token }}`, with `permissions: contents: write`)"
        )
    # The Release belongs to the git tag as pushed (`v2.0.0-rc.1` stays so), not to a
    # normalised spelling of it, which GitHub would create as a new tag.
    tag = ctx.ref_name or version.tag
    return ReleaseSpec(
        repository=ctx.github_repository,
        tag=tag,
        title=tag,
        body=body,
        prerelease=version.is_prerelease,
    )
