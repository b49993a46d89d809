"""`release`: cut a release from a maintainer's machine, safely, atomically, resumably.

Pre-flight (every failing check reported at once), then a plan (new file contents, commit
message, tag, notes, push), then: write files, commit, annotated tag in the project's tag
format (v1.2.3 by default, or as the existing tags are written), one `git push --atomic`.
Versions are PEP 440; the version is written where the build backend reads it (pyproject.toml,
[tool.poetry], a __version__ file) or, for hatch-vcs, setuptools_scm and the like, only in the
tag. `--dry-run` prints the plan and writes nothing. After a failed push,
run the same command again (or `release --resume`) to finish the push.

examples:
  release --bump patch --dry-run
  release --bump minor --pre rc          # 1.2.3 -> 1.3.0rc1, again -> 1.3.0rc2
  release --bump release                 # 1.3.0rc2 -> 1.3.0
  release --version 2026.8.17            # CalVer, or any PEP 440 version above the last
  release --bump minor --notes-file notes.md
  release --bump patch --notes-llm codex
  release --resume
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from release import log
from release.apps.release import pending as pending_release
from release.apps.release.facts import Options
from release.apps.release.notes_source import gather_notes
from release.apps.release.plan import Plan, make_plan, plan_pending, render
from release.apps.release.preflight import gather, project_at_head
from release.cli import ArgumentParser, run_main
from release.config import Project
from release.core.changelog.scan import without_gc
from release.core.version import Bump, Pre
from release.errors import DojoError, UsageError
from release.shell import lock
from release.shell.git import Repository


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="release", description=__doc__)
    parser.add_argument(
        "--bump",
        choices=[b.value for b in Bump],
        help="major, minor or patch; release (finish a pre-release), post or dev",
    )
    parser.add_argument(
        "--pre",
        choices=[p.value for p in Pre],
        help="make a pre-release of the bumped version (alone: the next of the current one)",
    )
    parser.add_argument(
        "--version",
        dest="explicit",
        metavar="X",
        help="release exactly this PEP 440 version (greater than the previous release)",
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
        "--init-changelog",
        action="store_true",
        help="a project that keeps no changelog: create CHANGELOG.md in the release commit",
    )
    parser.add_argument(
        "--next-dev",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="after the tagged release commit, commit the next development version "
        "(8.5.0 -> 8.5.1.dev0); default: when the version was a development one (8.5.0.dev0)",
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


# A run makes a few hundred thousand objects that hold no cycles and stay alive until it ends
# (the changelog's lines, headings, sections; the commits), and the collector went over them
# again at every collection; what cycles a run makes are collected when it is over.
@without_gc
def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.explicit is not None and (args.bump is not None or args.pre is not None):
        raise UsageError("--version X names the version: drop --bump and --pre")
    if args.pre is not None and args.bump in ("release", "post", "dev"):
        raise UsageError(f"--pre goes with --bump major, minor or patch, not {args.bump}")
    if args.llm_timeout <= 0:
        raise UsageError("--llm-timeout must be a positive number of seconds")
    opts = Options(
        bump=Bump(args.bump) if args.bump else None,
        pre=Pre(args.pre) if args.pre else None,
        version=args.explicit,
        dry_run=args.dry_run,
        fetch=args.fetch,
        resume=args.resume,
        notes_file=args.notes_file,
        notes_llm=args.notes_llm,
        llm_timeout=args.llm_timeout,
        init_changelog=args.init_changelog,
        next_dev=args.next_dev,
    )
    repo = Repository.open(args.directory)
    # Configuration errors stop the run here, before anything touches a remote.
    project = project_at_head(repo)
    if opts.dry_run:  # writes nothing, not even a lock file
        print(render(_plan(repo, project, opts)), end="")
        log.step("dry-run", status="ok", written="nothing")
        return 0
    from release.apps.release.execute import execute  # noqa: PLC0415 (a dry run never loads it)

    # Two runs in one repository exclude each other, from the first read to the push.
    with lock.exclusive(repo.git_dir / "dojo-release.lock", "release"):
        plan = _plan(repo, project, opts)
        execute(plan)
    print(plan.tag)
    return 0


def _plan(repo: Repository, project: Project, opts: Options) -> Plan:
    """Gather, then plan: an earlier run's release is finished, else a new one is cut."""
    pending = pending_release.observe(repo, project, opts)
    if pending is not None:
        if opts.asks_for_a_version:
            pending_release.require_asked(repo, pending, opts)
        return plan_pending(pending)
    if opts.resume:
        raise DojoError(
            "nothing to resume: HEAD is not an unpushed `Release <tag>` commit; "
            "start a release with --bump patch|minor|major"
        )
    facts = gather(repo, project, opts, os.environ)
    picked = gather_notes(repo, facts, opts)
    plan = make_plan(facts, picked)
    for warning in plan.warnings:
        log.step("changelog", status="warning", warning=warning)
    release = facts.release
    log.step("version", old=release.current or "none", new=release.new, why=release.why,
             tag=release.tag, source=release.source.via)
    log.step("changelog", status="ok", version=release.new, date=release.date,
             commits=release.commits)
    if facts.files.written:
        log.step("resume", found="files-written", files=",".join(facts.files.written))
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, "release")
