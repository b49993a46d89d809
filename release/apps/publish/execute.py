"""Carry out a publish plan: load, push, verify every tag, then the GitHub Release."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from release import log
from release.apps.publish.branch import Tip, branch_tip
from release.apps.publish.plan import (
    LATEST,
    Action,
    Plan,
    TagRole,
    TagStep,
    highest_release,
    staging_decision,
)
from release.core.tagformat import TagFormat
from release.errors import DojoError
from release.shell.image import Engine, Preload
from release.shell.oci.archive import ImageArchive
from release.shell.registry import RegistryClient, TagState

if TYPE_CHECKING:
    # PyGithub costs ~0.5 s of start-up: imported only when a tag build needs a Release.
    from release.shell.github import ReleaseResult, ReleaseSpec


@dataclass(frozen=True)
class PushResult:
    """One tag pushed: where it points and whether it moved."""

    tag: str
    digest: str
    status: str  # ok | unchanged


@dataclass(frozen=True)
class Outcome:
    """What a publish run did: its plan, each push and the GitHub Release."""

    plan: Plan
    pushes: tuple[PushResult, ...]
    release: ReleaseResult | None

    @property
    def digest(self) -> str:
        """The manifest digest of the SHA tag (every tag names the same image)."""
        return self.pushes[0].digest



class Pusher(Protocol):
    """An executor of pushes: the Docker daemon's, or the daemonless one (`--via registry`)."""

    def prepare(self) -> None:
        """Everything before the first tag: load the image, or upload its blobs."""

    def push(self, tag: str) -> str:
        """Point `tag` at the image; the manifest digest the registry accepted."""
        raise NotImplementedError

    def close(self) -> None: ...


class DockerPusher:
    """`docker load` (or the preload's), then `docker push` per tag."""

    def __init__(self, plan: Plan, engine: Callable[[], Engine], preloaded: Preload | None):
        self.plan = plan
        self.preloaded = preloaded
        self.docker = preloaded.result()[0] if preloaded is not None else engine()

    def prepare(self) -> None:
        _load(self.docker, self.plan.archive, self.preloaded)

    def push(self, tag: str) -> str:
        ctx = self.plan.context
        return self.docker.push(
            self.plan.archive.image_id, ctx.image_reference, tag, ctx.credentials
        )

    def close(self) -> None:
        self.docker.close()


def execute(
    plan: Plan,
    engine: Callable[[], Engine],
    registry: RegistryClient,
    release: Callable[[ReleaseSpec], ReleaseResult] | None = None,
    preloaded: Preload | None = None,
    *,
    via: Pusher | None = None,
    tip: Callable[[], Tip] | None = None,
) -> Outcome:
    """Load (or upload), push what the plan says, verify every tag, then the GitHub Release.

    `via` replaces the Docker daemon as the executor of pushes; everything else is the same.
    `tip` tells where the release branch is now (default: `branch.branch_tip`), asked again
    right before `staging` is pushed.
    """
    ctx, archive = plan.context, plan.archive
    tip = tip or (lambda: branch_tip(ctx))
    pushes: list[PushResult] = []
    if not plan.to_push:
        log.step("load", image=archive.name, id=archive.image_id, status="skipped",
                 reason="every tag is up to date")
        if preloaded is not None:  # another job pushed this SHA meanwhile
            preloaded.discard()
        if via is not None:
            via.close()
    else:
        pusher = via or DockerPusher(plan, engine, preloaded)
        try:
            pusher.prepare()
            for step in plan.tags:
                if step.action is Action.UNCHANGED:
                    continue
                raced = _recheck(plan, step, registry, pushes, tip)
                if raced is not None:
                    pushes.append(raced)
                    continue
                pushes.append(PushResult(step.tag, pusher.push(step.tag), "ok"))
        finally:
            pusher.close()
    by_tag = {p.tag: p for p in pushes}
    # The read-back of every pushed tag, all at once (each a round trip, or more for an index).
    pushed_ok = [p.tag for p in pushes if p.status == "ok"]
    read_back = dict(zip(pushed_ok, registry.tag_states(pushed_ok), strict=True))
    results: list[PushResult] = []
    for step in plan.tags:
        pushed = by_tag.get(step.tag)
        if pushed is None:
            assert step.current.digest is not None
            results.append(PushResult(step.tag, step.current.digest, "unchanged"))
        elif pushed.status == "left":
            continue  # `latest` or `staging` belongs to a newer build by now
        elif pushed.status != "ok":
            results.append(pushed)  # already right when re-read before pushing
        else:
            _verify(registry, read_back[step.tag], pushed.digest, archive.image_id)
            results.append(pushed)
        result = results[-1]
        if step.action in (Action.MOVE, Action.FORCE):
            log.step("push", registry=ctx.image_reference, tag=step.tag, digest=result.digest,
                     status=result.status, moved_from=step.current.digest,
                     forced=step.action is Action.FORCE)
        else:
            log.step("push", registry=ctx.image_reference, tag=step.tag, digest=result.digest,
                     status=result.status)
    if (ctx.version is not None and ctx.tag_format and not ctx.version.is_prerelease
            and ctx.platform_tag is None):
        converge_latest(registry, ctx.tag_format)
    outcome_release: ReleaseResult | None = None
    if plan.release is not None and release is not None:
        outcome_release = release(plan.release)  # logs its own `step=release` line
    return Outcome(plan, tuple(results), outcome_release)


def _recheck(
    plan: Plan,
    step: TagStep,
    registry: RegistryClient,
    pushed: list[PushResult],
    tip: Callable[[], Tip],
) -> PushResult | None:
    """Re-read the registry right before pushing `step`: another run may have pushed meanwhile.

    Returns the result that stands instead of a push (the tag is already right, or `latest`
    belongs to a newer release now), None to push, or raises before an immutable tag moves.
    """
    ctx, archive = plan.context, plan.archive
    if step.role is TagRole.LATEST:
        assert ctx.version is not None
        assert ctx.tag_format is not None
        highest = highest_release(registry.tags(), ctx.tag_format)
        if highest is not None and highest[0] > ctx.version:
            log.step("latest", status="stays", reason=f"{highest[1]} was published meanwhile")
            state = registry.tag_state(step.tag)
            return PushResult(step.tag, state.digest or "", "left")
        return None
    if step.role is TagRole.STAGING:
        moves, reason = staging_decision(ctx, tip())
        if not moves:  # the branch moved on while this run loaded and pushed
            log.step("staging", status="stays", reason=reason)
            state = registry.tag_state(step.tag)
            return PushResult(step.tag, state.digest or "", "left")
        return None
    if not step.role.immutable or step.action is not Action.PUSH:
        return None
    state = registry.tag_state(step.tag)
    if not state.exists:
        return None
    assert state.digest is not None
    if state.image_id == archive.image_id:
        return PushResult(step.tag, state.digest, "unchanged")
    if ctx.force:
        return None
    done = ", ".join(p.tag for p in pushed) or "nothing"
    raise DojoError(
        f"{registry.reference}:{step.tag} appeared while publishing, pointing to {state.digest} "
        f"(image {state.image_id or 'unknown'}), not this build's image {archive.image_id}: "
        f"another run published a different image for it; stopped before moving it (pushed "
        f"so far: {done}); find out which build is right before re-running"
    )


def converge_latest(registry: RegistryClient, fmt: TagFormat) -> None:
    """Make `latest` name the highest final release in the registry, whatever order concurrent
    publishes ran in (a backport pushed last would otherwise leave `latest` on itself)."""
    found_highest = highest_release(registry.tags(), fmt)
    if found_highest is None:
        return
    highest = found_highest[1]
    want = registry.tag_state(highest)
    now = registry.tag_state(LATEST)
    if want.digest is None or now.digest == want.digest:
        log.step("latest", status="ok", release=highest, digest=want.digest)
        return
    found = registry.manifest(highest)
    if found is None:
        return  # deleted meanwhile: nothing to converge to
    body, media_type = found
    registry.put_manifest(LATEST, body, media_type)
    log.step("latest", status="moved", release=highest, digest=want.digest,
             moved_from=now.digest)


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


def _verify(registry: RegistryClient, state: TagState, digest: str, image_id: str) -> None:
    tag = state.tag
    if state.digest != digest or state.image_id != image_id:
        raise DojoError(
            f"after pushing, {registry.reference}:{tag} resolves to {state.digest} (image "
            f"{state.image_id}), not the pushed {digest} (image {image_id}): another job pushed "
            "at the same time; re-run publish"
        )


@dataclass(frozen=True)
class Releaser:
    """The GitHub Release calls, bound to the token and API (kept out of the plan and logs)."""

    token: str = field(repr=False)
    api_url: str

    def check(self, spec: ReleaseSpec) -> ReleaseResult:
        """Read-only, before anything is pushed: permission, tag, release."""
        from release.shell.github import check_release  # noqa: PLC0415 (start-up, see above)

        return check_release(spec, token=self.token, api_url=self.api_url)

    def dry_run(self, spec: ReleaseSpec) -> ReleaseResult:
        from release.shell.github import upsert_release  # noqa: PLC0415

        return upsert_release(spec, token=self.token, api_url=self.api_url, dry_run=True)

    def apply(self, spec: ReleaseSpec) -> ReleaseResult:
        from release.shell.github import upsert_release  # noqa: PLC0415

        return upsert_release(spec, token=self.token, api_url=self.api_url)
