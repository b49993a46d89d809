"""Publishing, planned then executed.

`plan_publish` reads (the archive's metadata, the registry's tags) and decides, per tag, what
to do; a conflict on an immutable tag stops it before anything changes. `execute` loads,
pushes, verifies and creates the GitHub Release. `--dry-run` prints the plan and stops.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release import log
from release.apps.publish.context import BuildKind, Context
from release.core.version import Version, try_parse
from release.errors import DojoError
from release.shell.image import VERSION_LABEL, Engine, ImageArchive, Preload
from release.shell.registry import RegistryClient, TagState

if TYPE_CHECKING:
    # PyGithub costs ~0.5 s of start-up: imported only when a tag build needs a Release.
    from release.shell.github import ReleaseResult, ReleaseSpec

STAGING = "staging"
LATEST = "latest"


class TagRole(enum.Enum):
    SHA = "sha"
    VERSION = "version"
    STAGING = "staging"
    LATEST = "latest"

    @property
    def immutable(self) -> bool:
        return self in (TagRole.SHA, TagRole.VERSION)


class Action(enum.Enum):
    PUSH = "push"  # the tag does not exist yet
    UNCHANGED = "unchanged"  # it already points to this image
    MOVE = "move"  # a movable tag that points elsewhere
    FORCE = "force"  # an immutable tag that points elsewhere, overwritten by --force


@dataclass(frozen=True)
class TagStep:
    tag: str
    role: TagRole
    action: Action
    current: TagState


@dataclass(frozen=True)
class Plan:
    context: Context
    archive: ImageArchive
    tags: tuple[TagStep, ...]
    latest_reason: str | None  # why `latest` is or is not moved (tag builds)
    release: ReleaseSpec | None

    @property
    def to_push(self) -> tuple[TagStep, ...]:
        return tuple(step for step in self.tags if step.action is not Action.UNCHANGED)


@dataclass(frozen=True)
class PushResult:
    tag: str
    digest: str
    status: str  # ok | unchanged


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    pushes: tuple[PushResult, ...]
    release: ReleaseResult | None

    @property
    def digest(self) -> str:
        """The manifest digest of the SHA tag (every tag names the same image)."""
        return self.pushes[0].digest


# --- the consistency gate (pure) -----------------------------------------------------------


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


# --- planning ------------------------------------------------------------------------------


def wanted_tags(ctx: Context, registry_tags: Callable[[], list[str]]) -> tuple[
    list[tuple[str, TagRole]], str | None
]:
    """The tags this build should point at the image, and why `latest` is (not) among them."""
    tags = [(ctx.short_sha, TagRole.SHA)]
    if ctx.kind is BuildKind.BRANCH:
        if ctx.is_release_branch:
            tags.append((STAGING, TagRole.STAGING))
        return tags, None
    version = ctx.version
    assert version is not None
    tags.append((version.tag, TagRole.VERSION))
    if version.is_prerelease:
        return tags, f"{version} is a prerelease"
    released = [
        v for v in (try_parse(t) for t in registry_tags() if t.startswith("v"))
        if v is not None and not v.is_prerelease
    ]
    highest = max(released, default=None)
    if highest is not None and highest > version:
        return tags, f"{highest.tag} is newer"
    tags.append((LATEST, TagRole.LATEST))
    return tags, f"{version.tag} is the highest release"


def decide(role: TagRole, state: TagState, image_id: str) -> Action:
    if not state.exists:
        return Action.PUSH
    if state.image_id == image_id:
        return Action.UNCHANGED
    # An immutable tag elsewhere is a conflict: `plan_publish` refuses unless forced.
    return Action.FORCE if role.immutable else Action.MOVE


def plan_publish(
    ctx: Context, archive: ImageArchive, registry: RegistryClient, release: ReleaseSpec | None
) -> Plan:
    """Read the registry and decide each tag; refuse if an immutable tag names another image."""
    wanted, latest_reason = wanted_tags(ctx, registry.tags)
    steps: list[TagStep] = []
    conflicts: list[str] = []
    for tag, role in wanted:
        state = registry.tag_state(tag)
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
            + " (a published SHA or version tag never changes; rebuild from the tagged commit, "
            "or a human may overwrite with --force)"
        )
    if release is not None:
        # GitHub's "Latest release" follows the registry's `latest` (not moved by a backport).
        moves_latest = any(step.role is TagRole.LATEST for step in steps)
        release = dataclasses.replace(release, latest=moves_latest)
    return Plan(ctx, archive, tuple(steps), latest_reason, release)


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
        moved = any(step.role is TagRole.LATEST for step in plan.tags)
        lines.append(f"latest    {'moves' if moved else 'stays'}: {plan.latest_reason}")
    if plan.release is not None:
        lines.append(f"release   {plan.release.tag} on {plan.release.repository}")
    return "\n".join(lines)


# --- execution -----------------------------------------------------------------------------


def execute(
    plan: Plan,
    engine: Callable[[], Engine],
    registry: RegistryClient,
    release: Callable[[ReleaseSpec], ReleaseResult] | None = None,
    preloaded: Preload | None = None,
) -> Outcome:
    """Load, push what the plan says, verify every tag, then the GitHub Release."""
    ctx, archive = plan.context, plan.archive
    pushes: list[PushResult] = []
    if not plan.to_push:
        log.step("load", image=archive.name, id=archive.image_id, status="skipped",
                 reason="every tag is up to date")
        if preloaded is not None:  # another job pushed this SHA meanwhile
            preloaded.discard()
    else:
        docker = preloaded.result()[0] if preloaded is not None else engine()
        try:
            _load(docker, archive, preloaded)
            for step in plan.tags:
                if step.action is Action.UNCHANGED:
                    continue
                digest = docker.push(
                    archive.image_id, ctx.image_reference, step.tag, ctx.credentials
                )
                pushes.append(PushResult(step.tag, digest, "ok"))
        finally:
            docker.close()
    by_tag = {p.tag: p for p in pushes}
    results: list[PushResult] = []
    for step in plan.tags:
        pushed = by_tag.get(step.tag)
        if pushed is None:
            assert step.current.digest is not None
            results.append(PushResult(step.tag, step.current.digest, "unchanged"))
        else:
            _verify(registry, step.tag, pushed.digest, archive.image_id)
            results.append(pushed)
        result = results[-1]
        if step.action in (Action.MOVE, Action.FORCE):
            log.step("push", registry=ctx.image_reference, tag=step.tag, digest=result.digest,
                     status=result.status, moved_from=step.current.digest,
                     forced=step.action is Action.FORCE)
        else:
            log.step("push", registry=ctx.image_reference, tag=step.tag, digest=result.digest,
                     status=result.status)
    outcome_release: ReleaseResult | None = None
    if plan.release is not None and release is not None:
        outcome_release = release(plan.release)  # logs its own `step=release` line
    return Outcome(plan, tuple(results), outcome_release)


def _load(docker: Engine, archive: ImageArchive, preloaded: Preload | None) -> None:
    status = "ok"
    if preloaded is not None:
        _check_loaded(archive, preloaded.result()[1])
    elif docker.has_image(archive.image_id):
        status = "unchanged"
    else:
        _check_loaded(archive, docker.load(archive.path))
    log.step("load", image=archive.name, id=archive.image_id, status=status)


def _check_loaded(archive: ImageArchive, loaded: frozenset[str]) -> None:
    if archive.image_id not in loaded:
        raise DojoError(
            f"docker load of {archive.path} gave {sorted(loaded)}, expected {archive.image_id}: "
            "the archive changed while publishing; run again"
        )


def _verify(registry: RegistryClient, tag: str, digest: str, image_id: str) -> None:
    state = registry.tag_state(tag)
    if state.digest != digest or state.image_id != image_id:
        raise DojoError(
            f"after pushing, {registry.reference}:{tag} resolves to {state.digest} (image "
            f"{state.image_id}), not the pushed {digest} (image {image_id}): another job pushed "
            "at the same time; re-run publish"
        )


def github_release(
    token: str, api_url: str, dry_run: bool
) -> Callable[[ReleaseSpec], ReleaseResult]:
    """`upsert_release` bound to the token and API (kept out of the plan and of logs)."""

    from release.shell.github import upsert_release  # noqa: PLC0415 (start-up time, see above)

    def run(spec: ReleaseSpec) -> ReleaseResult:
        return upsert_release(spec, token=token, api_url=api_url, dry_run=dry_run)

    return run



# --- reporting -----------------------------------------------------------------------------


def render_outputs(outcome: Outcome, delimiter: str) -> str:
    """`GITHUB_OUTPUT` lines: image, digest, tags (one full reference a line), release_url."""
    ref = outcome.plan.context.image_reference
    tags = "\n".join(f"{ref}:{p.tag}" for p in outcome.pushes)
    url = outcome.release.url if outcome.release else ""
    return (
        f"image={ref}\n"
        f"digest={outcome.digest}\n"
        f"tags<<{delimiter}\n{tags}\n{delimiter}\n"
        f"release_url={url}\n"
    )


def render_summary(outcome: Outcome) -> str:
    """A Markdown report for `GITHUB_STEP_SUMMARY`."""
    plan = outcome.plan
    ctx = plan.context
    lines = [
        f"### Published `{ctx.image_reference}`",
        "",
        f"Image `{plan.archive.image_id}` from commit `{ctx.sha}`.",
        "",
        "| Tag | Digest | Status |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{p.tag}` | `{p.digest}` | {p.status} |" for p in outcome.pushes]
    if plan.latest_reason:
        lines += ["", f"`latest`: {plan.latest_reason}."]
    if outcome.release is not None and plan.release is not None:
        lines += [
            "",
            f"GitHub Release [{plan.release.tag}]({outcome.release.url}): "
            f"{outcome.release.status.value}.",
        ]
    return "\n".join(lines) + "\n"
