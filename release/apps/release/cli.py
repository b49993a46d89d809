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

import os
from collections.abc import Sequence
from pathlib import Path

from release import log
from release.apps.release import pending as pending_release
from release.apps.release.execute import execute
from release.apps.release.notes_source import gather_notes
from release.apps.release.plan import Plan, make_plan, plan_pending, render
from release.apps.release.preflight import Options, gather, read_project
from release.cli import ArgumentParser, run_main
from release.config import Project
from release.core.version import Bump
from release.errors import DojoError, UsageError
from release.shell import lock
from release.shell.git import Repository


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


def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.bump is None and not args.resume:
        raise UsageError("pass --bump patch|minor|major (or --resume) (see `release --help`)")
    if args.llm_timeout <= 0:
        raise UsageError("--llm-timeout must be a positive number of seconds")
    opts = Options(
        bump=Bump(args.bump) if args.bump else None,
        dry_run=args.dry_run,
        fetch=args.fetch,
        resume=args.resume,
        notes_file=args.notes_file,
        notes_llm=args.notes_llm,
        llm_timeout=args.llm_timeout,
    )
    repo = Repository.open(args.directory)
    # Configuration errors stop the run here, before anything touches a remote.
    project = read_project(repo)
    if opts.dry_run:  # writes nothing, not even a lock file
        print(render(_plan(repo, project, opts)), end="")
        log.step("dry-run", status="ok", written="nothing")
        return 0
    # Two runs in one repository exclude each other, from the first read to the push.
    with lock.exclusive(repo.git_dir / "dojo-release.lock", "release"):
        plan = _plan(repo, project, opts)
        execute(plan)
    print(plan.tag)
    return 0


def _plan(repo: Repository, project: Project, opts: Options) -> Plan:
    """Gather, then plan: an earlier run's release is finished, else a new one is cut."""
    pending = pending_release.observe(repo, project.settings, opts)
    if pending is not None:
        return plan_pending(pending)
    if opts.resume:
        raise DojoError(
            "nothing to resume: HEAD is not an unpushed `Release vX.Y.Z` commit; "
            "start a release with --bump patch|minor|major"
        )
    assert opts.bump is not None
    facts = gather(repo, project, opts, os.environ)
    picked = gather_notes(repo, facts, opts)
    plan = make_plan(facts, picked, opts.bump)
    for warning in plan.warnings:
        log.step("changelog", status="warning", warning=warning)
    log.step("version", old=facts.current, new=facts.new, bump=opts.bump.value)
    log.step("changelog", status="ok", version=facts.new, date=facts.date, commits=facts.commits)
    if facts.written:
        log.step("resume", found="files-written", files=",".join(facts.written))
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "release")
