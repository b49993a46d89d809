"""Pre-flight: every read `release` makes, and every check, before anything is written.

`gather` reads the repository (through `release.shell.git`) and the remote (the user's `git`)
into a frozen `Facts`, reporting every failing check at once (`ChecksFailed`). Nothing here
writes: a dry run runs exactly this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release import log
from release.apps.release import versions
from release.apps.release.changelog_read import (
    check_released_section,
    committed_text,
    read_changelog,
)
from release.config import (
    LEGACY_FILES,
    PYPROJECT,
    Project,
    Settings,
    decode,
    parse_project,
)
from release.core import notes
from release.core.changelog import Changelog
from release.core.pyproject import VersionSource, count_version
from release.core.tagformat import TagFormat
from release.core.version import Bump, Pre, Version, parse
from release.core.versionfile import VersionFile
from release.errors import ChecksFailed, CommandError, ConfigError, DojoError
from release.shell import files, git, towncrier
from release.shell.git import Repository, Tag

# Release notes longer than this are a mistake (a log file passed by accident), not notes.
NOTES_FILE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Options:
    bump: Bump | None
    pre: Pre | None = None  # --pre a|b|rc
    version: str | None = None  # --version X
    dry_run: bool = False
    fetch: bool = True
    resume: bool = False
    notes_file: Path | None = None
    notes_llm: str | None = None  # "codex" or "gemini", asked for on the command line
    llm_timeout: float = 120.0
    init_changelog: bool = False  # --init-changelog: create CHANGELOG.md when there is none


@dataclass(frozen=True)
class News:
    """What towncrier writes for this release (`[tool.towncrier]` projects)."""

    # (path, text as committed or None when new, new text or None when removed)
    files: tuple[tuple[str, str | None, str | None], ...]
    fragments: int  # the news fragments it consumed

    def text(self, path: str) -> str | None:
        """`path` as towncrier leaves it (None when it does not write it)."""
        return next((new for p, _, new in self.files if p == path), None)


@dataclass(frozen=True)
class Facts:
    """What pre-flight found: everything the plan needs, as values."""

    root: Path
    project: str
    remote: str
    branch: str
    remote_url: str | None
    changelog_path: str  # relative to the root, POSIX
    head: str
    ahead: int  # commits on the branch not yet on the remote
    previous: Tag | None
    commits: int  # non-merge commits since the previous release
    current: Version | None  # None: a VCS-versioned project's first release
    new: Version
    why: str  # how `new` was chosen, for the dry run: "patch bump of 1.2.3"
    tag: str  # the new tag's name, in the project's tag format
    tag_format: TagFormat
    source: VersionSource
    version_file: tuple[VersionFile, str] | None  # a FILE source's file and its committed text
    pyproject: Project  # as committed in HEAD, parsed once
    changelog: str | None  # as committed in HEAD; None: there is none (or --init-changelog)
    parsed: Changelog | None  # `changelog`, parsed once; None: none kept, the notes are the tag's
    version_files: tuple[tuple[str, str], ...]  # (path, text as committed)
    news: News | None  # towncrier's build of the section, for a [tool.towncrier] project
    written: Mapping[str, str | None]  # release files changed in the work tree, as they are
    notes_file: str | None  # the --notes-file's text
    notes_command: str | None  # [tool.release] notes-command
    date: str  # the release date, ISO 8601
    sign_commit: bool
    sign_tag: bool


def release_date(environ: Mapping[str, str]) -> str:
    """Today (UTC), or the day of `SOURCE_DATE_EPOCH` for reproducible runs."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    return dt.datetime.now(tz=dt.UTC).date().isoformat()


def shorten(paths: list[str], limit: int = 5) -> str:
    more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


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


@dataclass(frozen=True)
class RemoteState:
    ahead: int
    tag_sha: str | None  # the commit the new tag names on the remote, when it exists there


def check_remote(
    repo: Repository, settings: Settings, opts: Options, *, head: str, tag: str,
    problems: list[str],
) -> RemoteState:
    """Fetch and compare with the remote (read-only in a dry run: `git ls-remote` only)."""
    remote, branch = settings.remote, settings.branch
    remote_sha: str | None
    tag_sha: str | None = None
    if opts.fetch:
        try:
            if not opts.dry_run:  # a dry run writes nothing, not even remote-tracking refs
                git.fetch(settings.root, remote, branch)
            view = git.ls_remote(settings.root, remote, branch, tag)
        except CommandError as exc:
            problems.append(
                f"cannot reach remote {remote!r} ({git.describe_error(exc)}): check your network "
                "and credentials, or pass --no-fetch to skip the remote checks"
            )
            return RemoteState(0, None)
        remote_sha, tag_sha = view.branch_sha, view.tag_sha
    else:
        log.step(
            "fetch",
            status="skipped",
            warning=f"--no-fetch: {remote} not contacted; {remote}/{branch} may be stale",
        )
        remote_sha = repo.local_sha(f"refs/remotes/{remote}/{branch}")
    if remote_sha is None:
        return RemoteState(0, tag_sha)  # the remote has no such branch yet: the push creates it
    if not repo.has_commit(remote_sha):
        problems.append(
            f"{remote}/{branch} has commits you do not have: "
            f"run `git pull --ff-only {remote} {branch}`"
        )
        return RemoteState(0, tag_sha)
    ahead, behind = repo.ahead_behind(head, remote_sha)
    if behind and ahead:
        problems.append(
            f"{branch} and {remote}/{branch} have diverged ({ahead} local, {behind} remote "
            f"commits): reconcile them (`git pull --rebase {remote} {branch}`) and retry"
        )
    elif behind:
        problems.append(
            f"{branch} is {behind} commit(s) behind {remote}/{branch}: run "
            f"`git pull --ff-only {remote} {branch}` and retry"
        )
    return RemoteState(ahead, tag_sha)


def check_local(repo: Repository, settings: Settings, problems: list[str]) -> None:
    """Branch, identity, remote and history checks that need no release file."""
    branch = repo.current_branch()
    if branch is None:
        problems.append(
            f"HEAD is detached: check out the release branch (`git switch {settings.branch}`)"
        )
    elif branch != settings.branch:
        problems.append(
            f"on branch {branch!r}, not the release branch {settings.branch!r}: "
            f"`git switch {settings.branch}` (or set [tool.release] branch)"
        )
    if git.identity(settings.root) is None:
        problems.append(
            "git does not know who you are: set `git config --global user.name` and "
            "`user.email` (the release commit and tag carry your identity)"
        )
    if repo.remote_url(settings.remote) is None:
        problems.append(
            f"no remote {settings.remote!r}: add it (`git remote add {settings.remote} URL`) "
            "or set [tool.release] remote"
        )
    if repo.is_shallow():
        problems.append(
            "this clone is shallow, so the previous release and the commits since cannot be "
            f"seen: run `git fetch --unshallow {settings.remote}` (and `git fetch --tags`)"
        )


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


def _version_files(
    repo: Repository, settings: Settings, head: str, current: Version | None,
    problems: list[str],
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in settings.version_files:
        try:
            text = committed_text(repo, head, name)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if text is None:
            problems.append(f"[tool.release] version-files: {name} is not committed: fix the list")
        elif current is not None and count_version(text, current) == 0:
            problems.append(
                f"[tool.release] version-files: {name} does not contain {current}: "
                "put the current version in it or drop it from the list"
            )
        else:
            found.append((name, text))
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


def gather(
    repo: Repository, project: Project, opts: Options, environ: Mapping[str, str]
) -> Facts:
    """Every read and check for a new release; `ChecksFailed` lists all problems at once."""
    settings = project.settings
    root = settings.root
    problems: list[str] = []
    check_local(repo, settings, problems)
    head = repo.head_commit()
    assert head is not None  # project_at_head needs a commit

    previous = versions.previous_release(repo, settings, problems)
    fmt = previous.format
    chosen = versions.choose(
        lambda path: committed_text(repo, head.sha, path), project, previous=previous.tag,
        bump=opts.bump, pre=opts.pre, version=opts.version, problems=problems,
    )
    current, new = chosen.current, chosen.new
    versions.warn(repo, lambda path: committed_text(repo, head.sha, path), project,
                  previous, current)
    tag = versions.new_tag(repo, fmt, new, previous.tag, problems)
    date = release_date(environ)

    changelog_path = settings.changelog
    read = read_changelog(repo, settings, head.sha, changelog_path, new,
                          init=opts.init_changelog, problems=problems)
    news = _news(repo, project, opts, head=head.sha, new=new if read else None, date=date,
                 problems=problems)
    release_files = {PYPROJECT, changelog_path, *settings.version_files}
    if chosen.version_file is not None:
        release_files.add(chosen.version_file[0].path)
    if news is not None:
        release_files.update(path for path, _, _ in news.files)
    dirty = repo.dirty_paths()
    # Release files changed in the work tree may be a run killed after writing them; the plan
    # accepts them only if they hold exactly what it writes (`plan.check_written`).
    foreign = [p for p in dirty if p not in release_files]
    written = _read_work_tree(root, [p for p in dirty if p in release_files])
    if foreign:
        problems.append(
            f"the working tree is not clean ({shorten(sorted(foreign))}): commit, stash or "
            "remove those changes (untracked files too, unless git ignores them)"
        )

    remote = RemoteState(0, None)
    if repo.remote_url(settings.remote) is not None:
        remote = check_remote(
            repo, settings, opts, head=head.sha, tag=tag or fmt.render(parse("0.0.0")),
            problems=problems,
        )
        if tag is not None and remote.tag_sha is not None:
            problems.append(
                f"tag {tag} already exists on {settings.remote}: choose another --bump, or "
                f"delete the remote tag (`git push {settings.remote} :refs/tags/{tag}`) if it "
                "is wrong"
            )

    if read is not None and previous.tag is not None:
        check_released_section(read, previous.tag.version, changelog_path, problems)
    extra = _version_files(repo, settings, head.sha, current, problems)
    notes_file: str | None = None
    if opts.notes_file is not None:
        try:
            text = files.read_text(opts.notes_file, what="--notes-file", limit=NOTES_FILE_LIMIT)
            notes_file = notes.check_notes_file(text, str(opts.notes_file))
        except DojoError as exc:
            problems.append(str(exc))

    if problems:
        raise ChecksFailed(problems)
    assert new is not None
    assert tag is not None
    assert chosen.source is not None
    assert read is not None
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
        root=root,
        project=project.name,
        remote=settings.remote,
        branch=settings.branch,
        remote_url=repo.remote_url(settings.remote),
        changelog_path=changelog_path,
        head=head.sha,
        ahead=remote.ahead,
        previous=previous.tag,
        commits=previous.commits,
        current=current,
        new=new,
        why=chosen.why,
        tag=tag,
        tag_format=fmt,
        source=chosen.source,
        version_file=chosen.version_file,
        pyproject=project,
        changelog=read.text,
        parsed=read.parsed,
        version_files=tuple(extra),
        news=news,
        written=written,
        notes_file=notes_file,
        notes_command=settings.notes_command,
        date=date,
        sign_commit=git.config_bool(root, "commit.gpgsign"),
        sign_tag=git.config_bool(root, "tag.gpgsign"),
    )
