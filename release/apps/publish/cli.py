"""`publish`: push the Nix-built image to the registry and, on a tag, the GitHub Release.

Tags: always the 12-character commit SHA; on the release branch's tip also `staging`; on a tag
vX.Y.Z also `vX.Y.Z`, and `latest` when it is the highest release in the registry. SHA and
version tags never move; a re-run changes nothing. Runs from GitHub Actions' environment, or
locally from the clone and the flags below.

examples:
  nix run .#publish                                   # in CI
  publish --image result --registry 127.0.0.1:5000 --repository me/dojo --dry-run
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from release import log
from release.apps.publish.context import ARCHIVE_ENV, Options, detect
from release.apps.publish.execute import Releaser, execute
from release.apps.publish.gate import gate
from release.apps.publish.plan import TagRole, plan_publish, render_plan
from release.apps.publish.report import write_reports
from release.cli import ArgumentParser, run_main
from release.config import read_project
from release.shell.git import Repository
from release.shell.image import Engine, Preload, read_archive
from release.shell.registry import RegistryClient

if TYPE_CHECKING:
    from release.shell.github import ReleaseSpec


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="publish", description=__doc__)
    parser.add_argument(
        "--image", type=Path, metavar="PATH",
        help=f"docker-archive to publish (default: ${ARCHIVE_ENV}, set by `nix run .#publish`)",
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
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan; load, push and release nothing")
    parser.add_argument("--force", action="store_true",
                        help="overwrite a SHA or version tag that names another image (humans "
                        "only; CI never passes it)")
    return parser


def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    options = Options(
        image=args.image, sha=args.sha, version=args.version, registry=args.registry,
        repository=args.repository, github_repository=args.github_repository,
        dry_run=args.dry_run, force=args.force,
    )
    root = _root(Path.cwd())
    project = read_project(root)  # parsed once: settings here, the version in the gate
    repo = Repository.find(root)
    settings = project.settings.with_branch(
        repo.default_branch if repo is not None else lambda _remote: None
    )
    ctx = detect(options, os.environ, root, settings)

    registry = RegistryClient(ctx.registry, ctx.repository, ctx.credentials)
    preload: Preload | None = None
    try:
        # A SHA tag not in the registry yet means a push is certain: start `docker load`
        # now, while the archive is read and checked (nothing is pushed before the plan).
        if not ctx.dry_run and not registry.tag_state(ctx.short_sha).exists:
            preload = Preload(Engine, ctx.archive)
        archive = read_archive(ctx.archive)
        log.step("build", derivation=str(ctx.archive), status="ok")
        log.step("credentials", registry=ctx.registry, source=ctx.credential_source)
        release_spec = gate(ctx, archive, project) if ctx.version else None
        plan = plan_publish(ctx, archive, registry, release_spec)
        if plan.staging_reason:
            log.step("staging", status="moves" if plan.moves(TagRole.STAGING) else "stays",
                     reason=plan.staging_reason)
        releaser = None
        if plan.release is not None and ctx.github_token:
            releaser = Releaser(ctx.github_token, ctx.github_api_url)
        if ctx.dry_run:
            print(render_plan(plan))
            if releaser is not None and plan.release is not None:
                result = releaser.dry_run(plan.release)
                print(f"release   {plan.release.tag} would be {result.status.value}")
            _log_release_skipped(plan.release, releaser)
            log.step("publish", status="dry-run", changed="nothing")
            return 0
        if releaser is not None and plan.release is not None:
            # Read-only, before any tag is pushed: a token that may not write releases, or a
            # tag GitHub lacks, stops the run while the registry is still as it was.
            checked = releaser.check(plan.release)
            log.step("github", repository=plan.release.repository, tag=plan.release.tag,
                     status="ok", release=f"to be {checked.status.value}")
        outcome = execute(plan, Engine, registry, releaser.apply if releaser else None, preload)
        preload = None  # consumed (execute closed its engine)
        _log_release_skipped(plan.release, releaser)
    finally:
        registry.close()
        if preload is not None:
            preload.discard()
    print(f"{ctx.image_reference}@{outcome.digest}")
    write_reports(ctx, outcome)
    return 0


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
