"""`release`: cut a release from a maintainer's machine, safely, atomically, resumably.

Pre-flight (every failing check reported at once), then a plan (new file contents, commit
message, tag, notes, push), then: write files, commit, annotated tag vX.Y.Z, one
`git push --atomic`. `--dry-run` prints the plan and writes nothing. After a failed push,
run the same command again (or `release --resume`) to finish the push.

examples:
  release --bump patch --dry-run
  release --bump minor --notes-file notes.md
  release --bump patch --notes-llm codex
  release --resume
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from release import log
from release.apps.release import execute as releasing
from release.apps.release.plan import Options, make_plan, preflight, render
from release.cli import ArgumentParser, run_main
from release.config import Settings, load_settings
from release.core.version import Bump
from release.errors import ConfigError, DojoError, UsageError
from release.shell import git


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="release", description=__doc__)
    parser.add_argument(
        "--bump", choices=[b.value for b in Bump], help="which part of the version to bump"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run the pre-flight, print the whole plan, write nothing",
    )
    parser.add_argument(
        "--notes-file",
        type=Path,
        metavar="PATH",
        help="release notes (Markdown); they also become the changelog section",
    )
    parser.add_argument(
        "--notes-llm",
        choices=["codex", "gemini"],
        help="draft the notes with this LLM CLI when [Unreleased] is empty",
    )
    parser.add_argument(
        "--llm-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long the LLM command may take (default: 120)",
    )
    parser.add_argument(
        "--no-fetch",
        dest="fetch",
        action="store_false",
        help="do not contact the remote before releasing (checks become stale)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="only finish an unpushed release (tag and push)"
    )
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="run in DIR instead of the current directory",
    )
    return parser


def _settings(root: Path) -> Settings:
    try:
        return load_settings(root)
    except ConfigError:
        return Settings.defaults(root)


def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.bump is None and not args.resume:
        raise UsageError("pass --bump patch|minor|major (or --resume) (see `release --help`)")
    if args.llm_timeout <= 0:
        raise UsageError("--llm-timeout must be a positive number of seconds")
    repo = git.open_repo(args.directory)
    root = git.workdir(repo)
    opts = Options(
        root=root,
        bump=Bump(args.bump) if args.bump else None,
        dry_run=args.dry_run,
        fetch=args.fetch,
        resume=args.resume,
        notes_file=args.notes_file,
        notes_llm=args.notes_llm,
        llm_timeout=args.llm_timeout,
    )
    pending = releasing.find_pending(repo)
    outcome = releasing.Outcome.NOT_PENDING
    if pending is not None:
        # HEAD is a release commit of ours: finish it (tag, push) or report it done; never
        # start another release on top of it.
        outcome = releasing.resume(
            repo, _settings(root), pending, dry_run=opts.dry_run, fetch=opts.fetch
        )
    if pending is not None and outcome is not releasing.Outcome.NOT_PENDING:
        if not opts.dry_run:
            print(pending.version.tag)
        return 0
    if opts.resume:
        raise DojoError(
            "nothing to resume: HEAD is not an unpushed `Release vX.Y.Z` commit; "
            "start a release with --bump patch|minor|major"
        )
    facts = preflight(repo, opts)
    plan = make_plan(repo, facts, opts)
    if opts.dry_run:
        print(render(plan), end="")
        log.step("dry-run", status="ok", written="nothing")
        return 0
    releasing.execute(plan)
    print(plan.tag)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "release")
