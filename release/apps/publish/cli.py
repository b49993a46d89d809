"""`publish`: push the Nix-built image to the registry and, on a tag, the GitHub Release.

Tags: always the 12-character commit SHA; on the release branch also `staging`; on a tag
vX.Y.Z also `vX.Y.Z`, and `latest` when it is the highest release in the registry. SHA and
version tags never move; a re-run changes nothing. Runs from GitHub Actions' environment, or
locally from the clone and the flags below.

examples:
  nix run .#publish                                   # in CI
  publish --image result --registry 127.0.0.1:5000 --repository me/dojo --dry-run
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from release import log
from release.apps.publish import plan as publishing
from release.apps.publish.context import ARCHIVE_ENV, Context, Options, detect
from release.cli import ArgumentParser, run_main
from release.config import load_settings, read_pyproject
from release.errors import ChangelogError, DojoError
from release.shell import git
from release.shell.files import read_changelog
from release.shell.image import VERSION_LABEL, Engine, ImageArchive, Preload, read_archive
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
    parser.add_argument("--version", metavar="vX.Y.Z",
                        help="publish as this release (a tag build); default: GITHUB_REF_NAME "
                        "on tag builds")
    parser.add_argument("--registry", metavar="HOST[:PORT]",
                        help="registry host (default: [tool.release] registry, ghcr.io)")
    parser.add_argument("--repository", metavar="OWNER/NAME",
                        help="image repository (default: GITHUB_REPOSITORY's owner + "
                        "[tool.release] image)")
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
        repository=args.repository, dry_run=args.dry_run, force=args.force,
    )
    root = _root(Path.cwd())
    settings = load_settings(root)
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
        release_spec = _gate(ctx, archive, settings.changelog) if ctx.version else None
        plan = publishing.plan_publish(ctx, archive, registry, release_spec)
        releaser = None
        if release_spec is not None and ctx.github_token:
            releaser = publishing.github_release(ctx.github_token, ctx.github_api_url,
                                                 ctx.dry_run)
        if ctx.dry_run:
            print(publishing.render_plan(plan))
            if releaser is not None and release_spec is not None:
                result = releaser(release_spec)
                print(f"release   {release_spec.tag} would be {result.status.value}")
            _log_release_skipped(release_spec, releaser)
            log.step("publish", status="dry-run", changed="nothing")
            return 0
        outcome = publishing.execute(plan, Engine, registry, releaser, preload)
        preload = None  # consumed (execute closed its engine)
        _log_release_skipped(release_spec, releaser)
    finally:
        registry.close()
        if preload is not None:
            preload.discard()
    _report(ctx, outcome)
    print(f"{ctx.image_reference}@{outcome.digest}")
    return 0


def _log_release_skipped(spec: ReleaseSpec | None, releaser: object) -> None:
    # Only outside GitHub Actions: there a tag build without a token fails in the gate.
    if spec is not None and releaser is None:
        log.step("release", tag=spec.tag, status="skipped", reason="GITHUB_TOKEN is not set")


def _root(cwd: Path) -> Path:
    """The clone's top directory (where pyproject.toml is), or `cwd` outside a clone."""
    repo = git.find_repo(cwd)
    return git.workdir(repo) if repo is not None and repo.workdir else cwd


def _gate(ctx: Context, archive: ImageArchive, changelog: Path) -> ReleaseSpec:
    """The consistency gate of a tag build; its changelog section becomes the Release."""
    # mistletoe and PyGithub cost about a second of start-up: branch builds skip them.
    from release.core.changelog import extract  # noqa: PLC0415
    from release.shell.github import ReleaseSpec  # noqa: PLC0415

    version = ctx.version
    assert version is not None
    project = read_pyproject(ctx.root).get("project", {})
    pyproject_version = project.get("version") if isinstance(project, dict) else None
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
    publishing.check_consistency(
        publishing.Versions(
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
    return ReleaseSpec(
        repository=ctx.github_repository,
        tag=version.tag,
        title=version.tag,
        body=body,
        prerelease=version.is_prerelease,
    )


def _report(ctx: Context, outcome: publishing.Outcome) -> None:
    """GitHub Actions' step outputs and job summary (appended, as GitHub expects)."""
    if ctx.output_file is not None:
        delimiter = f"EOF_{uuid.uuid4().hex}"
        with ctx.output_file.open("a", encoding="utf-8") as out:
            out.write(publishing.render_outputs(outcome, delimiter))
    if ctx.summary_file is not None:
        with ctx.summary_file.open("a", encoding="utf-8") as out:
            out.write(publishing.render_summary(outcome))


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "publish")


if __name__ == "__main__":
    raise SystemExit(main())
