"""Gathering the release notes: the first source that gives some, read or run before planning.

--notes-file, then `[Unreleased]`, then the LLM command (opt-in), then the commits since the
previous release grouped by Conventional Commit type. What was chosen is logged.
"""

from __future__ import annotations

from release import log
from release.apps.release.facts import Facts, Options
from release.core import changelog, notes
from release.core.notes import Notes, NotesRejected, NotesSource
from release.errors import ChangelogError, DojoError
from release.shell import llm
from release.shell.git import Repository


def gather_notes(repo: Repository, facts: Facts, opts: Options) -> Notes:
    """The notes for this release; the LLM runs only in a real run, or when the user named it
    on the command line (a dry run never runs a program that the repository names)."""
    if facts.files.news is not None:
        return _picked(_towncrier_notes(facts))
    parsed = facts.files.parsed  # None: no changelog kept
    section = parsed.unreleased if parsed else None  # None: a file that keeps no [Unreleased]
    unreleased = notes.finish(changelog.notes(parsed, section)) if parsed and section else ""
    if facts.notes.notes_file is not None:  # pre-flight made sure [Unreleased] is empty
        return _picked(Notes(facts.notes.notes_file, NotesSource.FILE, str(opts.notes_file)))
    if unreleased:
        return _picked(Notes(unreleased, NotesSource.UNRELEASED, "[Unreleased]"))
    commits = repo.commits_since(facts.release.previous.target if facts.release.previous else None)
    command_line = opts.notes_llm or facts.notes.notes_command
    skipped = ""
    if command_line and opts.dry_run and not opts.notes_llm:
        skipped = f"; a real run asks `{command_line}` ([tool.release] notes-command) first"
    elif command_line:
        command = notes.llm_command(
            command_line, notes.commit_log(commits), version=str(facts.release.new),
            project=facts.where.project,
        )
        try:
            text = llm.run_llm(command, cwd=facts.where.root, timeout=opts.llm_timeout)
            return _picked(Notes(text, NotesSource.LLM, command.name))
        except NotesRejected as exc:
            log.step("notes", source="llm", status="rejected", reason=str(exc), fallback="commits")
    grouped = notes.group_commits(commits)
    if grouped:
        return _picked(
            Notes(grouped, NotesSource.COMMITS, notes.counted(len(commits), "commit") + skipped)
        )
    what = facts.release.previous.name if facts.release.previous else "the first commit"
    if parsed is None:
        raise DojoError(
            f"no release notes: the project keeps no changelog and no commit since {what} is a "
            "user-facing change: pass --notes-file PATH (or --init-changelog to keep one)"
        )
    where = "is empty" if section else f"is not in {facts.files.changelog_path}"
    raise DojoError(
        f"no release notes: [Unreleased] {where} and no commit since {what} is a user-facing "
        "change: write the notes under [Unreleased] or pass --notes-file PATH"
    )


def _towncrier_notes(facts: Facts) -> Notes:
    """The section towncrier wrote: it is read back like any other changelog section."""
    assert facts.files.news is not None
    text = facts.files.news.text(facts.files.changelog_path)
    try:
        if text is None:
            raise ChangelogError(f"it did not write {facts.files.changelog_path}")
        written = changelog.read(text, facts.files.changelog_path)
        section = written.find(str(facts.release.new), include_prereleases=True)
    except ChangelogError as exc:
        raise DojoError(
            f"towncrier's section for {facts.release.new} cannot be read back ({exc}): make "
            "[tool.towncrier] title_format a heading that names the version"
        ) from None
    body = notes.finish(changelog.notes(written, section))
    fragments = notes.counted(facts.files.news.fragments, "news fragment")
    return Notes(body, NotesSource.TOWNCRIER, fragments)


def _picked(chosen: Notes) -> Notes:
    log.step("notes", source=chosen.source.value, detail=chosen.detail)
    return chosen
