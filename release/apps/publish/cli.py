"""`publish`: push the Nix-built image to the registry and, on a tag, the GitHub Release.

Tags: always the 12-character commit SHA; on the release branch's tip also `staging`; on a tag
vX.Y.Z also `vX.Y.Z`, and `latest` when it is the highest release in the registry. SHA and
version tags never move; a re-run changes nothing. Runs from GitHub Actions' environment, or
locally from the clone and the flags below.

examples:
  nix run .#publish                                   # in CI
  publish --image result --registry 127.0.0.1:5000 --repository me/dojo --dry-run
  publish --via registry --image result ...           # no Docker daemon needed
  publish --via registry --platform-only              # one runner per platform, then:
  publish --via registry --from-platform-tags linux/amd64,linux/arm64
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from release import log
from release.apps.publish.context import ARCHIVE_ENV, Context, Options, detect
from release.apps.publish.daemonless import index_annotations, read_images, registry_pusher
from release.apps.publish.execute import Pusher, Releaser, execute
from release.apps.publish.plan import Plan, TagRole, plan_publish, render_plan
from release.apps.publish.platforms import parse_platforms, platform_tag, read_platform_images
from release.apps.publish.report import write_reports
from release.apps.publish.sbom import FROM_APP, SBOM_ENV, attach_sbom, read_sbom, sbom_path
from release.cli import ArgumentParser, run_main
from release.config import project_in_work_tree
from release.errors import UsageError
from release.shell.git import Repository
from release.shell.image import Engine, Preload
from release.shell.oci.archive import ArchiveImage, ImageArchive, Platform, read_image
from release.shell.oci.push import IndexPusher
from release.shell.registry import RegistryClient

if TYPE_CHECKING:
    from release.config import Project
    from release.shell.github import ReleaseSpec
    from release.shell.github_assets import Asset


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="publish", description=__doc__)
    parser.add_argument(
        "--image", type=Path, metavar="PATH", action="append",
        help=f"docker-archive to publish (default: ${ARCHIVE_ENV}, set by `nix run .#publish`); "
        "repeated with --via registry: one per platform, the tags then name an OCI index",
    )
    parser.add_argument("--sha", help="commit the image was built from (default: GITHUB_SHA "
                        "or HEAD)")
    parser.add_argument("--version", metavar="X.Y.Z",
                        help="publish as this release (a tag build; its tag is in the "
                        "project's tag format, as release infers it); default: GITHUB_REF_NAME "
                        "on tag builds")
    parser.add_argument("--registry", metavar="HOST[:PORT]",
                        help="registry host (default: [tool.release] registry, ghcr.io)")
    parser.add_argument("--repository", metavar="OWNER/NAME",
                        help="image repository (default: GITHUB_REPOSITORY's owner + "
                        "[tool.release] image)")
    parser.add_argument("--github-repository", metavar="OWNER/NAME",
                        help="GitHub repository of the Release and the release branch "
                        "(default: GITHUB_REPOSITORY, else the clone's remote)")
    parser.add_argument(
        "--via", choices=("docker", "registry"), default="docker",
        help="who pushes: the Docker daemon (docker load + docker push; the default), or "
        "publish itself through the registry's API, no daemon needed, layers the registry "
        "already has never uploaded again",
    )
    parser.add_argument(
        "--mount-from", metavar="OWNER/NAME", action="append", default=[],
        help="with --via registry: another repository of the same registry (a base image, a "
        "sibling project) whose recent images' layers are mounted into this one instead of "
        "uploaded (repeatable, tried in order)",
    )
    parser.add_argument(
        "--sbom", type=Path, metavar="PATH", nargs="?", const=FROM_APP,
        help=f"a CycloneDX JSON SBOM (`nix build .#sbom`; with no PATH, ${SBOM_ENV}, set by "
        "`nix run .#publish` to the image's) to attach to the pushed image as an "
        "OCI artifact referring to it",
    )
    parser.add_argument(
        "--asset", type=Path, metavar="PATH", action="append", default=[],
        help="a file to attach to the GitHub Release on a tag build (repeatable; the --sbom "
        "file is attached too): the release is made a draft, the assets uploaded, then "
        "published, as GitHub's immutable releases require",
    )
    parser.add_argument(
        "--platform-only", action="store_true",
        help="push the archive only under its per-platform tag <sha12>-<os>-<arch> (immutable "
        "like the SHA tag): no other tag, no GitHub Release; a later --from-platform-tags run "
        "assembles the index",
    )
    parser.add_argument(
        "--from-platform-tags", metavar="OS/ARCH,...", type=parse_platforms,
        help="publish the OCI index of the images the platforms' --platform-only runs pushed "
        "for this commit (refused if one is missing or of another commit), with the usual tags "
        "and GitHub Release; no --image",
    )
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan; load, push and release nothing")
    parser.add_argument("--force", action="store_true",
                        help="overwrite a SHA or version tag that names another image (humans "
                        "only; CI never passes it)")
    return parser


def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    paths: list[Path] = args.image or []
    platforms: tuple[Platform, ...] | None = args.from_platform_tags
    _check_modes(args, paths, platforms)
    options = Options(
        image=paths[0] if paths else None, sha=args.sha, version=args.version,
        registry=args.registry, repository=args.repository,
        github_repository=args.github_repository, dry_run=args.dry_run, force=args.force,
        from_registry=platforms is not None, mount_from=tuple(args.mount_from),
    )
    root = _root(Path.cwd())
    repo = Repository.find(root)
    # Parsed once: the settings here, the version in the gate.
    project = project_in_work_tree(
        root, default_branch=repo.default_branch if repo is not None else lambda _remote: None
    )
    ctx = detect(options, os.environ, root, project.settings)

    sbom_file = sbom_path(args.sbom, os.environ)
    sbom = read_sbom(sbom_file) if sbom_file else None
    assets = _assets(args.asset, sbom_file)
    registry = RegistryClient(ctx.registry, ctx.repository, ctx.credentials)
    preload: Preload | None = None
    try:
        ctx, archive, images, via, preload = _read(args, ctx, registry, paths, platforms)
        log.step("credentials", registry=ctx.registry, source=ctx.credential_source)
        # --platform-only pushes no release tag: the index's run has the gate and the Release.
        release_spec = _gate(ctx, archive, project) if ctx.version and not ctx.platform_tag \
            else None
        if release_spec is not None and assets:
            release_spec = replace(release_spec, assets=assets)
        plan = plan_publish(ctx, archive, registry, release_spec)
        if images:
            via = registry_pusher(plan, images, registry)
        releaser = _releaser(ctx, plan)
        if ctx.dry_run:
            print(render_plan(plan))
            if releaser is not None and plan.release is not None:
                result = releaser.dry_run(plan.release)
                detail = f" ({result.detail})" if result.detail else ""
                print(f"release   {plan.release.tag} would be {result.status.value}{detail}")
            if sbom is not None:
                print(f"sbom      {sbom_file} attached to the image")
            _log_release_skipped(plan.release, releaser)
            log.step("publish", status="dry-run", changed="nothing")
            return 0
        outcome = execute(plan, Engine, registry, releaser.apply if releaser else None, preload,
                          via=via)
        preload = None  # consumed (execute closed its engine)
        if sbom is not None and sbom_file is not None:
            attach_sbom(registry, outcome.digest, sbom, sbom_file)
        _log_release_skipped(plan.release, releaser)
    finally:
        registry.close()
        if preload is not None:
            preload.discard()
    print(f"{ctx.image_reference}@{outcome.digest}")
    write_reports(ctx, outcome)
    return 0


def _gate(ctx: Context, archive: ImageArchive, project: Project) -> ReleaseSpec:
    # The gate reads the project's version and changelog: only a tag build loads it.
    from release.apps.publish.gate import gate  # noqa: PLC0415

    return gate(ctx, archive, project)


def _assets(paths: list[Path], sbom: Path | None) -> tuple[Asset, ...]:
    if not paths and sbom is None:
        return ()
    # PyGithub costs ~0.5 s of start-up: only a run with release assets loads it this early.
    from release.apps.publish.assets import release_assets  # noqa: PLC0415

    return release_assets(paths, sbom)


def _releaser(ctx: Context, plan: Plan) -> Releaser | None:
    """The GitHub Release calls of a tag build with a token. Outside a dry run, GitHub is read
    here, before any tag is pushed: a token that may not write releases, or a tag GitHub lacks
    or has elsewhere, stops the run while the registry is still as it was."""
    if plan.staging_reason:
        log.step("staging", status="moves" if plan.moves(TagRole.STAGING) else "stays",
                 reason=plan.staging_reason)
    if plan.release is None or not ctx.github_token:
        return None
    releaser = Releaser(ctx.github_token, ctx.github_api_url)
    if not ctx.dry_run:
        checked = releaser.check(plan.release)
        log.step("github", repository=plan.release.repository, tag=plan.release.tag,
                 status="ok", release=f"to be {checked.status.value}")
    return releaser


def _read(
    args: argparse.Namespace,
    ctx: Context,
    registry: RegistryClient,
    paths: list[Path],
    platforms: tuple[Platform, ...] | None,
) -> tuple[Context, ImageArchive, list[ArchiveImage], Pusher | None, Preload | None]:
    """The image(s) to publish: from the archives, or (--from-platform-tags) the registry."""
    if platforms is not None:
        manifests, archive = read_platform_images(ctx, registry, platforms)
        log.step("build", source=str(archive.path), platforms=len(platforms), status="ok")
        return ctx, archive, [], IndexPusher(registry, manifests, index_annotations(archive)), None
    path = ctx.archive
    assert path is not None
    images: list[ArchiveImage] = []
    preload = None
    if args.via == "registry":
        images, archive = read_images([path, *paths[1:]])
        if args.platform_only:
            ctx = replace(ctx, platform_tag=platform_tag(ctx.sha, images[0].platform))
    else:
        # A SHA tag not in the registry yet means a push is certain: start `docker load`
        # now, while the archive is read and checked (nothing is pushed before the plan).
        if not ctx.dry_run and not registry.tag_state(ctx.short_sha).exists:
            preload = Preload(Engine, path, ctx.image_reference)
        try:
            image = read_image(path)
        except BaseException:
            if preload is not None:
                preload.discard()
            raise
        if preload is not None:
            preload.give(image)
        archive = image.summary
    log.step("build", derivation=str(path), status="ok")
    return ctx, archive, images, None, preload


def _check_modes(
    args: argparse.Namespace, paths: list[Path], platforms: tuple[Platform, ...] | None
) -> None:
    """The combinations of --image, --via and the per-platform modes that make sense."""
    if (args.platform_only or platforms is not None) and args.via != "registry":
        flag = "--platform-only" if args.platform_only else "--from-platform-tags"
        raise UsageError(f"{flag} talks to the registry's API itself: add --via registry")
    if args.platform_only and platforms is not None:
        raise UsageError(
            "--platform-only and --from-platform-tags are the two halves of a multi-runner "
            "publish: pass one (each platform's job, then the last job)"
        )
    if args.platform_only and len(paths) > 1:
        raise UsageError("--platform-only pushes one archive: pass one --image (or none in CI)")
    if platforms is not None and paths:
        raise UsageError(
            "--from-platform-tags reads the images from the registry: drop --image"
        )
    if args.mount_from and (args.via != "registry" or platforms is not None):
        raise UsageError(
            "--mount-from is for the layers --via registry uploads itself (docker push mounts "
            "on its own; --from-platform-tags uploads none): add --via registry, or drop it"
        )
    if len(paths) > 1 and args.via != "registry":
        raise UsageError(
            "several --image archives make a multi-platform image, which only --via registry "
            "pushes (the Docker daemon pushes one platform): add --via registry"
        )




def _log_release_skipped(spec: ReleaseSpec | None, releaser: object) -> None:
    # Only outside GitHub Actions: there a tag build without a token fails in the gate.
    if spec is not None and releaser is None:
        log.step("release", tag=spec.tag, status="skipped", reason="GITHUB_TOKEN is not set")


def _root(cwd: Path) -> Path:
    """The clone's top directory (where pyproject.toml is), or `cwd` outside a clone."""
    repo = Repository.find(cwd)
    return repo.root if repo is not None and repo.has_workdir else cwd






def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "publish")


if __name__ == "__main__":
    raise SystemExit(main())
