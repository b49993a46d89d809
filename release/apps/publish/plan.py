"""The publish plan: which tags this build points at the image, and what each needs.

`plan_publish` reads (the archive's metadata, the registry's tags) and decides, per tag, what
to do; a conflict on an immutable tag stops it before anything changes. `--dry-run` prints the
plan and stops.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.apps.publish.branch import Tip, branch_tip
from release.apps.publish.context import BuildKind, Context
from release.core.tagformat import TagFormat
from release.core.version import Version
from release.errors import DojoError
from release.shell.oci.archive import ImageArchive
from release.shell.registry import RegistryClient, TagState

if TYPE_CHECKING:
    # PyGithub costs ~0.5 s of start-up: imported only when a tag build needs a Release.
    from release.shell.github import ReleaseSpec

STAGING = "staging"
LATEST = "latest"


class TagRole(enum.Enum):
    SHA = "sha"
    VERSION = "version"
    STAGING = "staging"
    LATEST = "latest"
    PLATFORM = "platform"  # `<sha12>-<os>-<arch>`: one platform's image (--platform-only)

    @property
    def immutable(self) -> bool:
        return self in (TagRole.SHA, TagRole.VERSION, TagRole.PLATFORM)


class Action(enum.Enum):
    PUSH = "push"  # the tag does not exist yet
    UNCHANGED = "unchanged"  # it already points to this image
    MOVE = "move"  # a movable tag that points elsewhere
    FORCE = "force"  # an immutable tag that points elsewhere, overwritten by --force


@dataclass(frozen=True)
class TagStep:
    """One image tag: its role, what publish does to it and where it points now."""

    tag: str
    role: TagRole
    action: Action
    current: TagState


@dataclass(frozen=True)
class Plan:
    """Every step of a publish run, decided before any is taken."""

    context: Context
    archive: ImageArchive
    tags: tuple[TagStep, ...]
    latest_reason: str | None  # why `latest` is or is not moved (tag builds)
    release: ReleaseSpec | None
    staging_reason: str | None = None  # why `staging` is or is not moved (release branch)
    # The registry's tags as planning read them (tag builds; None: not read), for what only
    # guesses from them (which images' layers to reuse); the checks before pushing read again.
    registry_tags: tuple[str, ...] | None = None

    def moves(self, role: TagRole) -> bool:
        """Whether this build points the movable tag `role` (staging, latest) at its image."""
        return any(step.role is role for step in self.tags)

    @property
    def to_push(self) -> tuple[TagStep, ...]:
        return tuple(step for step in self.tags if step.action is not Action.UNCHANGED)



def highest_release(tags: Iterable[str], fmt: TagFormat) -> tuple[Version, str] | None:
    """The highest final release (PEP 440 order; no pre-, dev or post-release of a pre-release)
    among registry tags in the release tag format, with its tag: where `latest` belongs."""
    released = [
        (version, tag) for tag in tags
        if (version := fmt.parse(tag)) is not None and not version.is_prerelease
    ]
    return max(released, default=None)


def staging_decision(ctx: Context, tip: Tip) -> tuple[bool, str]:
    """Whether `staging` moves to this build, and why: only the release branch's tip may have
    it, so a re-run of an older CI run never moves it backwards."""
    branch = ctx.release_branch
    if tip.sha is None:
        return False, (
            f"cannot tell whether {ctx.short_sha} is the tip of {branch} ({tip.source}); "
            "set GITHUB_TOKEN, or run from a clone"
        )
    if not tip.sha.startswith(ctx.sha):
        return False, (
            f"{ctx.short_sha} is not the tip of {branch} ({tip.sha[:12]} is, per "
            f"{tip.source}); the tip's build moves it"
        )
    return True, f"{ctx.short_sha} is the tip of {branch} (per {tip.source})"


def wanted_tags(
    ctx: Context, registry_tags: Callable[[], list[str]], tip: Callable[[], Tip]
) -> tuple[list[tuple[str, TagRole]], str | None, str | None]:
    """The tags this build should point at the image, and why `latest` and `staging` are (not)
    among them."""
    if ctx.platform_tag is not None:
        return [(ctx.platform_tag, TagRole.PLATFORM)], None, None
    tags = [(ctx.short_sha, TagRole.SHA)]
    if ctx.kind is BuildKind.BRANCH:
        if not ctx.is_release_branch:
            return tags, None, None
        moves, reason = staging_decision(ctx, tip())
        if moves:
            tags.append((STAGING, TagRole.STAGING))
        return tags, None, reason
    version, image_tag, fmt = ctx.version, ctx.image_tag, ctx.tag_format
    assert version is not None
    assert image_tag is not None
    assert fmt is not None
    tags.append((image_tag, TagRole.VERSION))
    if version.is_prerelease:
        kind = "development release" if version.dev is not None else "pre-release"
        return tags, f"{version} is a {kind}", None
    highest = highest_release(registry_tags(), fmt)
    if highest is not None and highest[0] > version:
        return tags, f"{highest[1]} is newer", None
    tags.append((LATEST, TagRole.LATEST))
    return tags, f"{image_tag} is the highest release", None


def decide(role: TagRole, state: TagState, image_id: str) -> Action:
    if not state.exists:
        return Action.PUSH
    if state.image_id == image_id:
        return Action.UNCHANGED
    # An immutable tag elsewhere is a conflict: `plan_publish` refuses unless forced.
    return Action.FORCE if role.immutable else Action.MOVE


def plan_publish(
    ctx: Context,
    archive: ImageArchive,
    registry: RegistryClient,
    release: ReleaseSpec | None,
    tip: Callable[[], Tip] | None = None,
) -> Plan:
    """Read the registry and decide each tag; refuse if an immutable tag names another image.
    `tip` tells where the release branch is (default: `branch.branch_tip`)."""
    read: list[tuple[str, ...]] = []

    def registry_tags() -> list[str]:
        if not read:
            read.append(tuple(registry.tags()))
        return list(read[0])

    wanted, latest_reason, staging_reason = wanted_tags(
        ctx, registry_tags, tip or (lambda: branch_tip(ctx))
    )
    steps: list[TagStep] = []
    conflicts: list[str] = []
    for (tag, role), state in zip(wanted, registry.tag_states([t for t, _ in wanted]),
                                  strict=True):
        if role.immutable and state.exists and state.image_id != archive.image_id:
            conflicts.append(
                f"{registry.reference}:{tag} already points to {state.digest} (image "
                f"{state.image_id or 'unknown'}), this build is image {archive.image_id}"
            )
        steps.append(TagStep(tag, role, decide(role, state, archive.image_id), state))
    if conflicts and not ctx.force:
        raise DojoError(
            "refusing to move immutable tags, nothing was pushed: "
            + "; ".join(conflicts)
            + " (a published SHA, version or per-platform tag never changes; rebuild from the "
            "tagged commit, or a human may overwrite with --force)"
        )
    if release is not None:
        # GitHub's "Latest release" follows the registry's `latest` (not moved by a backport).
        moves_latest = any(step.role is TagRole.LATEST for step in steps)
        release = dataclasses.replace(release, latest=moves_latest)
    return Plan(ctx, archive, tuple(steps), latest_reason, release, staging_reason,
                read[0] if read else None)


def render_plan(plan: Plan) -> str:
    """The plan as lines for a human (stdout of `--dry-run`)."""
    ctx = plan.context
    lines = [
        f"image {plan.archive.name} {plan.archive.image_id} from {plan.archive.path}",
        f"registry {ctx.image_reference}",
    ]
    for step in plan.tags:
        current = f" (now {step.current.digest})" if step.current.exists else ""
        lines.append(f"{step.action.value:<9} {step.tag}{current}")
    if plan.latest_reason:
        moved = plan.moves(TagRole.LATEST)
        lines.append(f"latest    {'moves' if moved else 'stays'}: {plan.latest_reason}")
    if plan.staging_reason:
        lines.append(f"staging   {'moves' if plan.moves(TagRole.STAGING) else 'stays'}: "
                     f"{plan.staging_reason}")
    if plan.release is not None:
        where = plan.release.repository or "GitHub (no token: skipped)"
        lines.append(f"release   {plan.release.tag} on {where}")
    return "\n".join(lines)
