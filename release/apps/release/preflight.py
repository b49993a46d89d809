"""Pre-flight: every read `release` makes before anything is written, then the checks.

`gather` reads the repository (through `release.shell.git`) and the remote (the user's `git`),
asks `checks` to judge what it read, and returns a frozen `Facts`, or raises `ChecksFailed`
with every problem at once. A read that fails (a file that is not UTF-8, a changelog that
cannot be parsed) is a problem too. Nothing here writes: a dry run runs exactly this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from release import log
from release.apps.release import checks, versions
from release.apps.release.facts import Facts, Files, News, NotesInput, Options, Release, Where
from release.config import LEGACY_FILES, PYPROJECT, Project, Settings, decode, parse_project
from release.core import changelog, changelog_discovery, git_said, notes
from release.core.changelog import Changelog
from release.core.version import Version, parse
from release.errors import ChangelogError, ChecksFailed, CommandError, ConfigError, DojoError
from release.shell import files, git
from release.shell.git import Repository

# Release notes longer than this are a mistake (a log file passed by accident), not notes.
NOTES_FILE_LIMIT = 1024 * 1024
# What --init-changelog starts from, for a project that kept none: this release goes under it.
SKELETON = (
    "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n\n"
    "## [Unreleased]\n"
)


def release_date(environ: Mapping[str, str]) -> str:
    """Today (UTC), or the day of `SOURCE_DATE_EPOCH` for reproducible runs."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    return dt.datetime.now(tz=dt.UTC).date().isoformat()


def committed_text(repo: Repository, sha: str, path: str) -> str | None:
    """`path` as committed in `sha`, decoded strictly (a `ConfigError` names a non-UTF-8 file)."""
    data = repo.read_blob(sha, path)
    return None if data is None else decode(data, path)


def in_commit(repo: Repository, sha: str, path: str) -> bool:
    """Whether `sha` holds `path` (a link too: reading it then says what is wrong)."""
    try:
        return repo.read_blob(sha, path) is not None
    except ConfigError:
        return True


def project_at_head(repo: Repository) -> Project:
    """`pyproject.toml` as committed in HEAD, read and parsed once for the whole run, with the
    changelog found in HEAD and the branch decided; a configuration error stops the run here,
    before anything touches a remote."""
    head = repo.head_commit()
    if head is None:
        raise ConfigError("the repository has no commits yet: commit the project first")
    text = committed_text(repo, head.sha, PYPROJECT)
    if text is None and not any(in_commit(repo, head.sha, f) for f in LEGACY_FILES):
        raise ConfigError(
            f"no {PYPROJECT}, setup.cfg or setup.py committed in {repo.root}: release reads the "
            f"project's version and settings there; run it in the project's root"
        )
    # A setuptools project without one: its version is in setup.cfg or setup.py.
    return parse_project(
        text or "", repo.root, exists=lambda path: in_commit(repo, head.sha, path),
        default_branch=repo.default_branch, read=lambda path: repo.read_hint(head.sha, path),
    )


def observe_local(repo: Repository, settings: Settings) -> checks.Local:
    return checks.Local(
        branch=repo.current_branch(),
        identity=git.identity(settings.root) is not None,
        remote_url=repo.remote_url(settings.remote),
        shallow=repo.is_shallow(),
    )


def observe_remote(
    repo: Repository, settings: Settings, opts: Options, *, head: str, tag: str
) -> checks.Remote:
    """The remote's release branch and the new tag: one read-only `git ls-remote`, then, in a
    real run and only when the remote has the branch, a fetch of it (a dry run writes nothing,
    not even remote-tracking refs). A remote that lacks the branch (an empty one, a first
    release) is no error: the push creates it, in the dry run and the real run alike."""
    remote, branch = settings.remote, settings.branch
    if opts.fetch:
        try:
            view = git.ls_remote(settings.root, remote, branch, tag)
            if view.branch_sha is not None and not opts.dry_run:
                git.fetch(settings.root, remote, branch)
        except CommandError as exc:
            return checks.Remote(error=git_said.describe_error(exc))
        remote_sha, tag_sha = view.branch_sha, view.tag_sha
    else:
        log.step(
            "fetch",
            status="skipped",
            warning=f"--no-fetch: {remote} not contacted; {remote}/{branch} may be stale",
        )
        remote_sha, tag_sha = repo.local_sha(f"refs/remotes/{remote}/{branch}"), None
    if remote_sha is None:
        return checks.Remote(tag_sha=tag_sha)
    if not repo.has_commit(remote_sha):
        return checks.Remote(branch_sha=remote_sha, tag_sha=tag_sha, known=False)
    if repo.current_branch() != branch:
        # Elsewhere (a maintenance branch, detached): compare the release branch itself, not
        # HEAD, so the counts are the branch's (being elsewhere is its own problem).
        local = repo.local_sha(f"refs/heads/{branch}")
        if local is None:
            return checks.Remote(branch_sha=remote_sha, tag_sha=tag_sha)
        head = local
    ahead, behind = repo.ahead_behind(head, remote_sha)
    return checks.Remote(branch_sha=remote_sha, tag_sha=tag_sha, ahead=ahead, behind=behind)


def _read_work_tree(root: Path, paths: list[str]) -> dict[str, str | None]:
    """The files as they are now; None for one that cannot be read as UTF-8 (never what a
    plan writes, so it is reported as a dirty tree)."""
    found: dict[str, str | None] = {}
    for path in paths:
        try:
            found[path] = (root / path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            found[path] = None
    return found


def _changelog(
    repo: Repository, settings: Settings, head: str, problems: list[str], *, init: bool
) -> tuple[str | None, Changelog | None] | None:
    """The changelog as committed, parsed; (None, None) when the project keeps none (the notes
    then live in the annotated tag only), or (None, the skeleton) when --init-changelog starts
    one; None (and the problem) when it cannot be read."""
    name = settings.changelog
    markdown = checks.markdown(name, settings)
    if markdown:
        problems += markdown
        return None
    try:
        text = committed_text(repo, head, name)
    except ConfigError as exc:
        problems.append(str(exc))
        return None
    if text is not None and init:
        problems.append(f"--init-changelog: {name} exists already: drop --init-changelog")
        return None
    if text is None and (settings.changelog_given or Path(name).is_absolute()):
        problems.append(checks.missing_changelog(name, repo.root, settings))
        return None
    if text is None:
        others = changelog_discovery.lookalikes(
            path for folder in ("", "docs", "doc") for path in repo.file_names(head, folder)
        )
        if others and not init:
            problems.append(checks.unread_changelog(others))
            return None
        if not init:
            log.step(
                "preflight", changelog="none", status="ok",
                detail="no changelog file: the notes go in the annotated tag only "
                "(--init-changelog starts CHANGELOG.md)",
            )
            return None, None
    try:
        parsed = changelog.read(SKELETON if text is None else text, name)
    except ChangelogError as exc:
        problems.append(f"{name}: {exc}")
        return None
    if parsed.unreleased is None and not settings.towncrier and text is not None:
        # Many projects write the notes at release time: the section then goes above the
        # newest release, and the notes come from --notes-file, the LLM or the commits.
        log.step(
            "preflight", status="warning",
            warning=f"{name} has no [Unreleased] section: the notes come from --notes-file, "
            "the LLM or the commits, and the new section goes above the newest release",
        )
    return text, parsed


def _warn_unreleased_section(text: str, parsed: Changelog, version: Version, name: str) -> None:
    if changelog.missing_sections(parsed, [str(version)]) and str(version) not in text:
        log.step("preflight", status="warning", warning=f"{name} has no section for {version}")


def _version_files(
    repo: Repository, settings: Settings, head: str, problems: list[str]
) -> list[tuple[str, str | None]]:
    """(path, text as committed, None when it is not) of each `[tool.release] version-files`."""
    found: list[tuple[str, str | None]] = []
    for name in settings.version_files:
        try:
            found.append((name, committed_text(repo, head, name)))
        except ConfigError as exc:
            problems.append(str(exc))
    return found


def _same_line_endings(old: str | None, new: str) -> str:
    """towncrier writes `\n`: a CRLF file stays CRLF (else every line would change)."""
    if old is not None and "\r\n" in old and "\r\n" not in new:
        return new.replace("\n", "\r\n")
    return new


def _news(
    repo: Repository, project: Project, opts: Options, *, head: str, new: Version | None,
    date: str, problems: list[str],
) -> News | None:
    """towncrier's build of the release, run in a throwaway clone of HEAD (nothing here is
    written), or None for a project without `[tool.towncrier]` (or nothing to build for, with
    `new` None); the notes come from it, so other notes sources are refused."""
    if repo.read_blob(head, "towncrier.toml") is not None:  # towncrier would read it instead
        problems.append(
            "towncrier.toml: release reads towncrier's set-up from [tool.towncrier] in "
            f"{PYPROJECT} only: move the table there (towncrier reads it there too)"
        )
        return None
    if not project.settings.towncrier or new is None:
        return None
    chosen = "--notes-file" if opts.notes_file else "--notes-llm" if opts.notes_llm else None
    if chosen:
        problems.append(
            f"{chosen} cannot be used here: towncrier writes this release's section from the "
            "news fragments ([tool.towncrier]); add a fragment instead and drop " + chosen
        )
        return None
    from release.shell import towncrier  # noqa: PLC0415 (a [tool.towncrier] project's alone)

    try:
        built = towncrier.build(repo.root, head, str(new), date, project.tool("towncrier"))
        files: list[tuple[str, str | None, str | None]] = []
        for path, data in sorted(built.written.items()):
            old, new_text = committed_text(repo, head, path), decode(data, f"towncrier's {path}")
            files.append((path, old, _same_line_endings(old, new_text)))
        files += [(path, committed_text(repo, head, path), None) for path in built.removed]
    except DojoError as exc:
        problems.append(str(exc))
        return None
    if not built.removed:
        problems.append(
            "towncrier found no news fragments for this release: add one (`towncrier create "
            f"123.{towncrier.fragment_type(project.tool('towncrier'))}.md`) and commit it, or "
            "check [tool.towncrier] directory"
        )
        return None
    return News(tuple(files), len(built.removed))


def _notes_file(opts: Options, problems: list[str]) -> str | None:
    """The --notes-file's text, checked."""
    if opts.notes_file is None:
        return None
    try:
        text = files.read_text(opts.notes_file, what="--notes-file", limit=NOTES_FILE_LIMIT)
        return notes.check_notes_file(text, str(opts.notes_file))
    except DojoError as exc:
        problems.append(str(exc))
        return None


def gather(
    repo: Repository, project: Project, opts: Options, environ: Mapping[str, str]
) -> Facts:
    """Every read and check for a new release; `ChecksFailed` lists all problems at once."""
    settings = project.settings
    root = settings.root
    problems: list[str] = []
    local = observe_local(repo, settings)
    problems += checks.local(local, settings)
    head = repo.head_commit()
    assert head is not None  # project_at_head needs a commit

    decided = versions.decide(
        repo, lambda path: committed_text(repo, head.sha, path), project, opts, problems
    )
    previous, chosen, tag = decided.previous, decided.chosen, decided.tag
    fmt = previous.format
    current, new = chosen.current, chosen.new
    date = release_date(environ)

    changelog_path = settings.changelog
    read_changelog = _changelog(repo, settings, head.sha, problems, init=opts.init_changelog)
    text, parsed = read_changelog or (None, None)
    if text is not None and parsed is not None:
        problems += checks.sections(
            changelog_path, text, parsed, new, previous.tag.version if previous.tag else None,
        )
        if previous.tag is not None:
            _warn_unreleased_section(text, parsed, previous.tag.version, changelog_path)
    news = _news(repo, project, opts, head=head.sha, new=new if read_changelog else None,
                 date=date, problems=problems)
    locks = versions.find_locks(lambda path: committed_text(repo, head.sha, path), project)
    release_files = {PYPROJECT, changelog_path, *settings.version_files}
    release_files.update(lock.path for lock, _ in locks)
    if chosen.version_file is not None:
        release_files.add(chosen.version_file[0].path)
    if news is not None:
        release_files.update(path for path, _, _ in news.files)
    dirty = repo.dirty_paths()
    # Release files changed in the work tree may be a run killed after writing them; the plan
    # accepts them only if they hold exactly what it writes (`plan.check_written`).
    problems += checks.clean([p for p in dirty if p not in release_files])
    written = _read_work_tree(root, [p for p in dirty if p in release_files])

    remote = checks.Remote()
    if local.remote_url is not None:
        remote = observe_remote(
            repo, settings, opts, head=head.sha, tag=tag or fmt.render(parse("0.0.0"))
        )
        problems += checks.remote(remote, settings, tag)

    extra = _version_files(repo, settings, head.sha, problems)
    problems += checks.version_files(extra, current)
    notes_file = _notes_file(opts, problems)
    if parsed is not None:
        problems += checks.notes_file_keeps_unreleased(changelog_path, parsed, notes_file)

    if problems:
        raise ChecksFailed(problems)
    assert new is not None
    assert tag is not None
    assert chosen.source is not None
    assert read_changelog is not None
    log.step(
        "preflight",
        status="ok",
        branch=settings.branch,
        previous=previous.tag.name if previous.tag else "none",
        tag_format=fmt.pattern,
        version_source=chosen.source.via,
        ahead=remote.ahead,
        remote="checked" if opts.fetch else "skipped",
    )
    return Facts(
        where=Where(
            root=root,
            project=decided.project,
            remote=settings.remote,
            branch=settings.branch,
            remote_url=local.remote_url,
            head=head.sha,
            ahead=remote.ahead,
            sign_commit=git.config_bool(root, "commit.gpgsign"),
            sign_tag=git.config_bool(root, "tag.gpgsign"),
        ),
        release=Release(
            previous=previous.tag,
            commits=previous.commits,
            current=current,
            new=new,
            why=chosen.why,
            tag=tag,
            tag_format=fmt,
            source=chosen.source,
            version_file=chosen.version_file,
            date=date,
            follow=decided.follow,
        ),
        files=Files(
            pyproject=project,
            changelog_path=changelog_path,
            changelog=text,
            parsed=parsed,
            version_files=tuple((p, t) for p, t in extra if t is not None),
            locks=locks,
            news=news,
            written=written,
        ),
        notes=NotesInput(notes_file=notes_file, notes_command=settings.notes_command),
    )
