"""Pre-flight and the frozen release plan.

`preflight` reads the repository (pygit2) and the remote (the user's `git`), and reports every
failing check at once. `make_plan` turns what it found into a `Plan`: every new file's content,
the commit message, the tag and the push, computed before anything is written. `render` shows a
plan as a dry run prints it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pygit2
import tomlkit

from release import log
from release.config import PYPROJECT, Settings, load_settings
from release.core import changelog, commitmsg, notes
from release.core.changelog import Changelog
from release.core.commits import Commit
from release.core.notes import Notes, NotesRejected, NotesSource
from release.core.pyproject import bump_pyproject, bump_text, count_version, read_version
from release.core.version import Bump, Version, VersionError
from release.errors import ChangelogError, ChecksFailed, CommandError, ConfigError, DojoError
from release.shell import git, llm


@dataclass(frozen=True)
class Options:
    root: Path
    bump: Bump | None
    dry_run: bool = False
    fetch: bool = True
    resume: bool = False
    notes_file: Path | None = None
    notes_llm: str | None = None  # "codex" or "gemini"
    llm_timeout: float = 120.0


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the work tree, POSIX
    old: str
    new: str

    def diff(self) -> str:
        """`git diff` of the change, computed in memory by libgit2 (fast on a 2 MB changelog)."""
        return git.diff_texts(self.old, self.new, self.path)


@dataclass(frozen=True)
class Facts:
    """What pre-flight found; everything later steps need from the repository."""

    settings: Settings
    branch: str
    head: Commit
    previous: git.Tag | None
    commits: int  # non-merge commits since the previous release
    current: Version
    new: Version
    project: str
    remote_url: str | None
    ahead: int
    pyproject: str  # as committed in HEAD
    changelog: str
    parsed: Changelog  # `changelog`, parsed once
    version_files: tuple[tuple[str, str], ...]  # (path, text as committed)
    dirty: tuple[str, ...]  # release files changed in the work tree (an interrupted run?)
    sign_commit: bool
    sign_tag: bool


@dataclass(frozen=True)
class Plan:
    facts: Facts
    bump: Bump
    date: str
    notes: Notes
    files: tuple[FileChange, ...]
    commit_message: str
    tag_message: str
    commits: int
    warnings: tuple[str, ...]

    @property
    def tag(self) -> str:
        return self.facts.new.tag

    @property
    def push_argv(self) -> tuple[str, ...]:
        s = self.facts.settings
        return git.push_argv(s.remote, s.branch, self.tag)


def rel(settings: Settings, path: Path) -> str:
    try:
        return path.resolve().relative_to(settings.root).as_posix()
    except ValueError:
        return path.as_posix()


def release_date() -> str:
    """Today (UTC), or the day of `SOURCE_DATE_EPOCH` for reproducible runs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date().isoformat()
    return dt.datetime.now(tz=dt.UTC).date().isoformat()


def project_name(pyproject: str) -> str | None:
    table = tomlkit.parse(pyproject).get("project", {})
    name = table.get("name") if isinstance(table, dict) else None
    return str(name) if name else None


def _shorten(paths: list[str], limit: int = 5) -> str:
    more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def _text(repo: pygit2.Repository, sha: str, path: str) -> str | None:
    data = git.read_blob(repo, sha, path)
    return None if data is None else data.decode("utf-8", errors="surrogateescape")


def check_remote(
    repo: pygit2.Repository,
    settings: Settings,
    opts: Options,
    *,
    head: str,
    tag: str,
    problems: list[str],
) -> tuple[int, str | None]:
    """Fetch and compare with the remote; returns (commits ahead, the remote's tag commit)."""
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
            return 0, None
        remote_sha, tag_sha = view.branch_sha, view.tag_sha
    else:
        log.step(
            "fetch",
            status="skipped",
            warning=f"--no-fetch: {remote} not contacted; {remote}/{branch} may be stale",
        )
        remote_sha = git.local_sha(repo, f"refs/remotes/{remote}/{branch}")
    if remote_sha is None:
        return 0, tag_sha  # the remote has no such branch yet: the push creates it
    if not git.has_commit(repo, remote_sha):
        problems.append(
            f"{remote}/{branch} has commits you do not have: "
            f"run `git pull --ff-only {remote} {branch}`"
        )
        return 0, tag_sha
    ahead, behind = git.ahead_behind(repo, head, remote_sha)
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
    return ahead, tag_sha


def preflight(repo: pygit2.Repository, opts: Options) -> Facts:  # noqa: PLR0915 (one list of checks)
    """Every check, read-only; `ChecksFailed` listing all problems when any fails."""
    root = git.workdir(repo)
    problems: list[str] = []
    try:
        settings = load_settings(root)
    except ConfigError as exc:
        if (root / PYPROJECT).exists():  # a missing one is reported below, once
            problems.append(str(exc))
        settings = Settings.defaults(root)

    branch = git.current_branch(repo)
    if branch is None:
        problems.append(
            f"HEAD is detached: check out the release branch (`git switch {settings.branch}`)"
        )
    elif branch != settings.branch:
        problems.append(
            f"on branch {branch!r}, not the release branch {settings.branch!r}: "
            f"`git switch {settings.branch}` (or set [tool.release] branch)"
        )
    head = git.head_commit(repo)
    if head is None:
        raise ChecksFailed(
            [*problems, "the repository has no commits yet: commit the project first"]
        )

    release_files = {
        PYPROJECT,
        rel(settings, settings.changelog),
        *(rel(settings, p) for p in settings.version_files),
    }
    dirty = git.dirty_paths(repo)
    foreign = [p for p in dirty if p not in release_files]

    if git.identity(root) is None:
        problems.append(
            "git does not know who you are: set `git config --global user.name` and "
            "`user.email` (the release commit and tag carry your identity)"
        )
    if git.remote_url(repo, settings.remote) is None:
        problems.append(
            f"no remote {settings.remote!r}: add it (`git remote add {settings.remote} URL`) "
            "or set [tool.release] remote"
        )

    previous = git.previous_release(repo)
    if previous.ignored:
        log.step(
            "preflight",
            note=f"ignoring tags that are not versions: {_shorten(list(previous.ignored))}",
        )

    pyproject = _text(repo, head.sha, PYPROJECT)
    current: Version | None = None
    project = root.name
    if pyproject is None:
        problems.append(f"no {PYPROJECT} committed in {root}: add the project's {PYPROJECT}")
    else:
        try:
            current = read_version(pyproject)
            project = project_name(pyproject) or project
        except (ConfigError, VersionError) as exc:
            problems.append(str(exc))
    if current is not None and previous.tag is not None and current != previous.tag.version:
        problems.append(
            f"{PYPROJECT} says version {current} but the previous release is {previous.tag.name}: "
            f"set project.version to {previous.tag.version} "
            f"(or tag the commit that released {current})"
        )

    new: Version | None = None
    if current is not None and opts.bump is not None:
        new = current.bump(opts.bump)
        if git.local_sha(repo, f"refs/tags/{new.tag}") is not None:
            problems.append(
                f"tag {new.tag} already exists locally: release a higher version, or delete the "
                f"tag (`git tag -d {new.tag}`) if it is a mistake"
            )

    # Release files changed in the work tree may be a run killed after writing them: then
    # pyproject.toml already holds the new version (it is written first), and the plan must
    # match them byte for byte (`check_interrupted`). Anything else is a dirty tree.
    touched = [p for p in dirty if p in release_files]
    if touched and (PYPROJECT not in touched or new is None or _version_in(root) != new):
        foreign += touched
    if foreign:
        problems.append(
            f"the working tree is not clean ({_shorten(sorted(foreign))}): commit, stash or "
            "remove those changes (untracked files too, unless git ignores them)"
        )

    ahead = 0
    if git.remote_url(repo, settings.remote) is not None:
        ahead, remote_tag = check_remote(
            repo, settings, opts, head=head.sha, tag=new.tag if new else "v0.0.0", problems=problems
        )
        if new is not None and remote_tag is not None:
            problems.append(
                f"tag {new.tag} already exists on {settings.remote}: choose another --bump, or "
                f"delete the remote tag (`git push {settings.remote} :refs/tags/{new.tag}`) if it "
                "is wrong"
            )

    changelog_rel = rel(settings, settings.changelog)
    changelog_text = _text(repo, head.sha, changelog_rel)
    parsed: Changelog | None = None
    if changelog_text is None:
        problems.append(
            f"no {changelog_rel} committed: create it with a `## [Unreleased]` section and "
            "commit it"
        )
    else:
        try:
            parsed = changelog.parse(changelog_text)
        except ChangelogError as exc:
            problems.append(f"{changelog_rel}: {exc}")
        else:
            if parsed.unreleased is None:
                problems.append(
                    f"{changelog_rel} has no [Unreleased] section: add `## [Unreleased]` above "
                    "the newest release"
                )
            if new is not None and any(s.version == new for s in parsed.releases):
                problems.append(
                    f"{changelog_rel} already has a section for {new}: remove it or choose "
                    "another --bump"
                )

    extra: list[tuple[str, str]] = []
    for path in settings.version_files:
        name = rel(settings, path)
        text = _text(repo, head.sha, name)
        if text is None:
            problems.append(f"[tool.release] version-files: {name} is not committed: fix the list")
        elif current is not None and count_version(text, current) == 0:
            problems.append(
                f"[tool.release] version-files: {name} does not contain {current}: "
                "put the current version in it or drop it from the list"
            )
        else:
            extra.append((name, text))

    if opts.notes_file is not None:
        try:
            notes.read_notes_file(opts.notes_file)
        except DojoError as exc:
            problems.append(str(exc))

    if problems:
        raise ChecksFailed(problems)
    assert branch is not None
    assert current is not None
    assert pyproject is not None
    assert changelog_text is not None
    assert parsed is not None
    assert new is not None
    log.step(
        "preflight",
        status="ok",
        branch=branch,
        previous=previous.tag.name if previous.tag else "none",
        ahead=ahead,
        remote="checked" if opts.fetch else "skipped",
    )
    return Facts(
        settings=settings,
        branch=branch,
        head=head,
        previous=previous.tag,
        commits=previous.commits,
        current=current,
        new=new,
        project=project,
        remote_url=git.remote_url(repo, settings.remote),
        ahead=ahead,
        pyproject=pyproject,
        changelog=changelog_text,
        parsed=parsed,
        version_files=tuple(extra),
        dirty=tuple(touched),
        sign_commit=git.config_bool(root, "commit.gpgsign"),
        sign_tag=git.config_bool(root, "tag.gpgsign"),
    )


def choose_notes(repo: pygit2.Repository, facts: Facts, opts: Options) -> Notes:
    """The first source that gives notes: --notes-file, [Unreleased], the LLM, the commits."""
    parsed = facts.parsed
    assert parsed.unreleased is not None
    unreleased = notes.finish(changelog.notes(parsed, parsed.unreleased))
    if opts.notes_file is not None:
        if unreleased:
            log.step(
                "notes",
                status="warning",
                warning="--notes-file replaces what [Unreleased] holds in the new section",
            )
        return Notes(notes.read_notes_file(opts.notes_file), NotesSource.FILE, str(opts.notes_file))
    if unreleased:
        return Notes(unreleased, NotesSource.UNRELEASED, "[Unreleased]")
    since = facts.previous.target if facts.previous else None
    commits = list(git.commits_since(repo, since))  # only now: [Unreleased] needs no walk
    command_line = opts.notes_llm or facts.settings.notes_command
    if command_line:
        command = notes.llm_command(
            command_line, notes.commit_log(commits), version=str(facts.new), project=facts.project
        )
        try:
            text = llm.run_llm(command, cwd=facts.settings.root, timeout=opts.llm_timeout)
            return Notes(text, NotesSource.LLM, command.name)
        except NotesRejected as exc:
            log.step("notes", source="llm", status="rejected", reason=str(exc), fallback="commits")
    grouped = notes.group_commits(commits)
    if grouped:
        return Notes(grouped, NotesSource.COMMITS, f"{len(commits)} commits")
    what = facts.previous.name if facts.previous else "the first commit"
    raise DojoError(
        f"no release notes: [Unreleased] is empty and no commit since {what} is a user-facing "
        "change: write the notes under [Unreleased] or pass --notes-file PATH"
    )


def make_plan(repo: pygit2.Repository, facts: Facts, opts: Options) -> Plan:
    """Everything the release will write and run, computed before anything is written."""
    assert opts.bump is not None
    picked = choose_notes(repo, facts, opts)
    log.step("notes", source=picked.source.value, detail=picked.detail)
    date = release_date()
    rolled = changelog.roll_forward(
        facts.changelog,
        facts.new,
        date,
        notes=None if picked.source is NotesSource.UNRELEASED else picked.text,
        repo_url=git.web_url(facts.remote_url),
        previous=facts.previous.version if facts.previous else None,
    )
    for warning in rolled.warnings:
        log.step("changelog", status="warning", warning=warning)
    log.step("version", old=facts.current, new=facts.new, bump=opts.bump.value)
    settings = facts.settings
    changes = [
        FileChange(PYPROJECT, facts.pyproject, bump_pyproject(facts.pyproject, facts.new)),
        FileChange(rel(settings, settings.changelog), facts.changelog, rolled.text),
        *(FileChange(p, t, bump_text(t, facts.current, facts.new)) for p, t in facts.version_files),
    ]
    files = tuple(c for c in changes if c.new != c.old)
    summary = notes.summarise(picked.text)
    message = commitmsg.render(
        facts.project,
        facts.previous.version if facts.previous else None,
        facts.new,
        opts.bump,
        summary,
    )
    plan = Plan(
        facts=facts,
        bump=opts.bump,
        date=date,
        notes=picked,
        files=files,
        commit_message=message,
        tag_message=tag_message(facts.new, picked.text),
        commits=facts.commits,
        warnings=rolled.warnings,
    )
    log.step("changelog", status="ok", version=facts.new, date=date, commits=plan.commits)
    check_interrupted(plan)
    return plan


def tag_message(version: Version, text: str) -> str:
    return f"{version.tag}\n\n{text}"


def _version_in(root: Path) -> Version | None:
    text = _read(root / PYPROJECT)
    try:
        return read_version(text) if text is not None else None
    except (ConfigError, VersionError):
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def check_interrupted(plan: Plan) -> None:
    """Release files already changed in the work tree are fine only when they hold exactly
    what this plan writes (a run killed after writing them); anything else is a dirty tree."""
    if not plan.facts.dirty:
        return
    root = plan.facts.settings.root
    planned = {c.path: c.new for c in plan.files}
    stray = [p for p in plan.facts.dirty if p not in planned or _read(root / p) != planned[p]]
    if stray:
        raise ChecksFailed(
            [
                f"the working tree is not clean ({_shorten(stray)}): commit or restore those "
                f"changes (`git checkout -- {' '.join(stray)}` drops them)"
            ]
        )
    log.step("resume", found="files-written", files=",".join(plan.facts.dirty))


def _signed(on: bool) -> str:
    return " (signed)" if on else ""


def render(plan: Plan) -> str:
    """The plan as a dry run prints it on stdout."""
    f = plan.facts
    parts = [
        f"Release plan for {f.project} (dry run: nothing was written)",
        "",
        f"version: {f.current} -> {f.new} ({plan.bump.value}); previous release: "
        f"{f.previous.name if f.previous else 'none'}; {plan.commits} commits since",
        f"branch: {f.branch} on {f.settings.remote} ({f.ahead} commits ahead before the release)",
        "",
        "== files ==",
        *(c.diff() for c in plan.files),
        f"== commit{_signed(f.sign_commit)} ==",
        plan.commit_message,
        f"== tag {plan.tag}, annotated{_signed(f.sign_tag)} ==",
        plan.tag_message,
        f"== notes (source: {plan.notes.source.value}, {plan.notes.detail}) ==",
        plan.notes.text,
        "== push ==",
        " ".join(plan.push_argv),
    ]
    if plan.warnings:
        parts += ["", "== warnings ==", *plan.warnings]
    return "\n".join(parts) + "\n"
