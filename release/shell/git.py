"""The git shell: pygit2 reads repository state; the user's own `git` (through `release.shell.proc`)
fetches, commits, tags and pushes, so SSH agents, credential helpers, hooks and signing apply.

Git types become plain values (`Commit`, `Tag`, `RemoteView`) here and nowhere else.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from release.core import tagformat
from release.core.commits import Commit
from release.core.tagformat import TagFormat
from release.core.version import Version
from release.errors import CommandError, ConfigError, DojoError
from release.shell import diff, proc
from release.shell.pygit2_import import pygit2


class GitError(DojoError):
    """The repository is not in a state the release can work with."""


@dataclass(frozen=True)
class Tag:
    """A release tag: its name, version and commit."""

    name: str
    version: Version
    target: str  # the commit it points at (peeled)


@dataclass(frozen=True)
class PreviousRelease:
    """The release before this one, and the commits since."""

    tag: Tag | None
    ignored: tuple[str, ...]  # tags that look like releases but are not, in this format
    commits: int  # non-merge commits since `tag` (or in all history)
    format: TagFormat


@dataclass(frozen=True)
class RemoteView:
    """What the remote has, as `git ls-remote` reports it: None where the ref is absent."""

    branch_sha: str | None
    tag_sha: str | None  # the commit the tag peels to


class Repository:
    """A clone, read through pygit2. Every answer is a plain value (`Commit`, `Tag`, str):
    pygit2 objects never leave this module."""

    def __init__(self, raw: pygit2.Repository) -> None:
        self._repo = raw
        # A commit's files never change: each is read once (discovery, pre-flight, the plan).
        self._blobs: dict[tuple[str, str], bytes | None] = {}
        self.root = Path(raw.workdir).resolve() if raw.workdir else Path(raw.path).resolve()

    @classmethod
    def find(cls, path: Path) -> Repository | None:
        """The repository containing `path`, if any."""
        found = pygit2.discover_repository(str(path))
        return cls(pygit2.Repository(found)) if found is not None else None

    @classmethod
    def open(cls, path: Path) -> Repository:
        """The clone containing `path` (with a work tree), or a `GitError` that says so."""
        repo = cls.find(path)
        if repo is None:
            raise GitError(f"{path} is not inside a git repository: run release from your clone")
        if repo._repo.is_bare or repo._repo.workdir is None:
            raise GitError(
                f"{repo._repo.path} is a bare repository: run release from a clone with a work tree"
            )
        return repo

    @property
    def git_dir(self) -> Path:
        """The repository's `.git` directory (of this work tree, for a linked worktree)."""
        return Path(self._repo.path).resolve()

    @property
    def has_workdir(self) -> bool:
        return self._repo.workdir is not None

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        repo = self._repo
        if repo.head_is_detached:
            return None
        if repo.head_is_unborn:
            ref = repo.references.get("HEAD")
            target = ref.target if ref is not None else ""
            return str(target).removeprefix("refs/heads/") or None
        return str(repo.head.shorthand)

    def head_commit(self) -> Commit | None:
        if self._repo.head_is_unborn:
            return None
        return _commit(self._repo.head.peel(pygit2.Commit))

    def parent_commit(self, sha: str) -> Commit | None:
        """The first parent of the commit `sha`, or None (a root commit, or no such commit)."""
        obj = self._repo.get(sha)
        if not isinstance(obj, pygit2.Commit) or not obj.parent_ids:
            return None
        return _commit(obj.parents[0])

    def dirty_paths(self) -> list[str]:
        """Modified, staged, deleted and untracked-but-not-ignored paths, sorted."""
        flags = self._repo.status(untracked_files="normal", ignored=False)
        return sorted(
            path for path, flag in flags.items() if flag not in (0, pygit2.GIT_STATUS_IGNORED)
        )

    def default_branch(self, remote: str) -> str | None:
        """The remote's default branch as this clone knows it (`refs/remotes/R/HEAD`, set by
        `git clone`), else whichever of main and master exists here (the checked-out one when
        both do); None when that does not decide."""
        head = self._repo.references.get(f"refs/remotes/{remote}/HEAD")
        target = head.target if head is not None else None
        if isinstance(target, str) and target.startswith(f"refs/remotes/{remote}/"):
            return target.removeprefix(f"refs/remotes/{remote}/")
        found = [
            name for name in ("main", "master")
            if f"refs/heads/{name}" in self._repo.references
            or f"refs/remotes/{remote}/{name}" in self._repo.references
        ]
        if len(found) == 1:
            return found[0]
        current = self.current_branch()
        return current if current in found else None

    def remote_url(self, remote: str) -> str | None:
        try:
            return str(self._repo.remotes[remote].url or "") or None
        except (KeyError, ValueError):
            return None

    def configured_url(self, remote: str) -> str | None:
        """The remote's URL as configured, before any `url.<base>.insteadOf` rewriting: the
        repository's public name (`git@github.com:o/r.git`), where `remote_url` may be a
        mirror."""
        try:
            return str(self._repo.config[f"remote.{remote}.url"]) or None
        except (KeyError, ValueError):
            return None

    def local_sha(self, refname: str) -> str | None:
        """The commit `refname` peels to; None when it is missing or names no commit."""
        ref = self._repo.references.get(refname)
        if ref is None:
            return None
        try:
            return str(ref.peel(pygit2.Commit).id)
        except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
            # A ref (say an annotated `v*` tag pushed by anyone) may name a blob or a tree.
            return None

    def has_commit(self, sha: str) -> bool:
        try:
            return isinstance(self._repo.get(sha), pygit2.Commit)
        except (ValueError, KeyError):
            return False

    def ahead_behind(self, local: str, upstream: str) -> tuple[int, int]:
        ahead, behind = self._repo.ahead_behind(local, upstream)
        return int(ahead), int(behind)

    def contains(self, descendant: str, ancestor: str) -> bool:
        """Is `ancestor` reachable from `descendant` (or the same commit)? False if unknown."""
        if descendant == ancestor:
            return True
        if not (self.has_commit(descendant) and self.has_commit(ancestor)):
            return False
        return bool(self._repo.descendant_of(descendant, ancestor))

    def file_names(self, commit_sha: str, folder: str = "") -> list[str]:
        """The paths of the files directly in `folder` of `commit_sha`'s tree (none when it is
        missing)."""
        obj = self._repo.get(commit_sha)
        try:
            tree: object = obj.peel(pygit2.Tree) if obj is not None else None
            if isinstance(tree, pygit2.Tree) and folder:
                tree = self._repo.get(tree[folder].id)
        except (pygit2.GitError, ValueError, KeyError):
            return []
        if not isinstance(tree, pygit2.Tree):
            return []
        prefix = f"{folder}/" if folder else ""
        return [f"{prefix}{e.name}" for e in tree if e.type_str == "blob"]

    def tag_message(self, name: str) -> str | None:
        """The message of the annotated tag `name`; None when it is missing or lightweight."""
        ref = self._repo.references.get(f"refs/tags/{name}")
        target = self._repo.get(ref.target) if ref is not None else None
        return target.message if isinstance(target, pygit2.Tag) else None

    def tag_names(self) -> list[str]:
        return sorted(
            name.removeprefix("refs/tags/")
            for name in self._repo.references
            if name.startswith("refs/tags/")
        )

    def version_tags(
        self, tag_format: str | None = None, *, project: str | None = None,
        current: Version | None = None,
    ) -> tuple[list[Tag], list[str], TagFormat]:
        """The release tags in the project's tag format (peeled to commits), the tags that look
        like releases but are not (or that name no commit), and the format: configured, else
        inferred from the tags, the project's name and its current version
        (`tagformat.resolve`; `ConfigError` when even the newest tags mix formats)."""
        resolved = tagformat.resolve(
            tag_format, self.tag_names(), project=project, current=current
        )
        tags: list[Tag] = []
        ignored = list(resolved.ignored)
        for name, version in resolved.tags:
            sha = self.local_sha(f"refs/tags/{name}")
            if sha is None:
                ignored.append(f"{name} (not a commit)")
            else:
                tags.append(Tag(name, version, sha))
        return tags, sorted(ignored), resolved.format

    def _since(self, head: pygit2.Oid, target: str | None) -> tuple[bool, int]:
        """(is `target` an ancestor of HEAD?, non-merge commits reachable from HEAD but not from
        it). One walk answers both: `target` is an ancestor exactly when some commit the walk
        yields has it as a parent. git walks (`rev-list --parents`): walking in Python, or
        asking libgit2 for the ancestry first, took most of a dry run on a long history."""
        spec = [str(head), f"^{target}"] if target is not None else [str(head)]
        done = _git(self.root, "rev-list", "--parents", *spec, "--", quiet=True)
        count = 0
        reachable = target is None
        for line in done.stdout.splitlines():
            parents = line.split()[1:]
            if len(parents) <= 1:
                count += 1
            if not reachable and target in parents:
                reachable = True
        return reachable, count

    def previous_release(
        self, tag_format: str | None = None, *, project: str | None = None,
        current: Version | None = None,
    ) -> PreviousRelease:
        """The highest release tag (PEP 440 order) whose commit is HEAD or an ancestor of it."""
        tags, ignored, fmt = self.version_tags(tag_format, project=project, current=current)
        if self._repo.head_is_unborn:
            return PreviousRelease(None, tuple(ignored), 0, fmt)
        head = self._repo.head.peel(pygit2.Commit).id
        # Highest version first: the first reachable one wins, usually after a single walk.
        for tag in sorted(tags, key=lambda t: t.version, reverse=True):
            if str(head) == tag.target:
                return PreviousRelease(tag, tuple(ignored), 0, fmt)
            reachable, count = self._since(head, tag.target)
            if reachable:
                return PreviousRelease(tag, tuple(ignored), count, fmt)
        return PreviousRelease(None, tuple(ignored), self._since(head, None)[1], fmt)

    def first_parent(self, sha: str) -> str | None:
        """The first parent of commit `sha` (None for a root commit)."""
        parent = self.parent_commit(sha)
        return parent.sha if parent is not None else None

    def commits_since(self, since: str | None) -> list[Commit]:
        """Commits reachable from HEAD and not from `since`, newest first."""
        if self._repo.head_is_unborn:
            return []
        walker = self._repo.walk(self._repo.head.target)  # newest first, like `git log`
        if since is not None:
            walker.hide(since)
        return [_commit(obj) for obj in walker]

    def read_blob(self, commit_sha: str, path: str) -> bytes | None:
        """The bytes of `path` in `commit_sha`'s tree, or None when it is not there; a file
        committed as a symbolic link is a `ConfigError` (its blob is the link's target, and
        writing it would write wherever the link points)."""
        if (commit_sha, path) not in self._blobs:
            self._blobs[commit_sha, path] = self._read_blob(commit_sha, path)
        return self._blobs[commit_sha, path]

    def _read_blob(self, commit_sha: str, path: str) -> bytes | None:
        obj = self._repo.get(commit_sha)
        if obj is None:
            return None
        try:
            entry = obj.peel(pygit2.Tree)[path]
        except (pygit2.GitError, ValueError, KeyError):
            return None
        if entry.filemode != _LINK_MODE and (same := self._worktree_copy(path, entry.id)):
            return same
        blob = self._repo.get(entry.id)
        if not isinstance(blob, pygit2.Blob):
            return None
        if entry.filemode == _LINK_MODE:
            target = bytes(blob.data).decode(errors="replace")
            raise ConfigError(
                f"{path} is committed as a symbolic link (to {target}): name the file itself "
                "in pyproject.toml ([tool.release] or [tool.towncrier] filename)"
            )
        return bytes(blob.data)

    def _worktree_copy(self, path: str, oid: pygit2.Oid) -> bytes | None:
        """The work tree's bytes of `path` when git's hash of them is the blob `oid` (so they
        are the blob's bytes), else None: reading and hashing a 2 MB changelog takes a third of
        the time of inflating its blob. Only a regular file of the blob's size is read (no
        link, FIFO or device), and only in a SHA-1 repository."""
        if self._repo.workdir is None or len(str(oid)) != 40:
            return None
        header = getattr(self._repo.odb, "read_header", None)  # pygit2 1.15 and later
        if header is None:
            return None
        kind, size = header(oid)
        if kind != pygit2.enums.ObjectType.BLOB:
            return None
        # What is opened is what is checked (a link, FIFO or device swapped in after a check
        # would be read, without end), and no more than the blob's size is read.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            with os.fdopen(os.open(self.root / path, flags), "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size != size:
                    return None
                data = handle.read(size + 1)  # one more: a file that grew is not the blob
        except OSError:
            return None
        return data if len(data) == size and diff.blob_sha1(data) == str(oid) else None

    def read_hint(self, commit_sha: str, path: str, limit: int = 1 << 20) -> str | None:
        """A small UTF-8 file of `commit_sha` that only hints at something (a mkdocs.yml, a
        docs index): None when it is missing, a link, too large or not UTF-8."""
        try:
            data = self.read_blob(commit_sha, path)
            return data.decode("utf-8") if data is not None and len(data) <= limit else None
        except (ConfigError, UnicodeDecodeError):
            return None

    def is_shallow(self) -> bool:
        return bool(self._repo.is_shallow)


_LINK_MODE = 0o120000  # git's file mode for a symbolic link


def _commit(obj: pygit2.Commit) -> Commit:
    return Commit(str(obj.id), obj.message, len(obj.parent_ids))


# --- through the user's git ------------------------------------------------------------------


def _git(
    root: Path, *args: str, input: str | None = None, check: bool = True, quiet: bool = False
) -> proc.Result:
    return proc.run(["git", *args], cwd=root, input=input, check=check, quiet=quiet)


def fetch_tag(root: Path, remote: str, tag: str) -> bool:
    """Fetch `tag` itself from `remote`, replacing a local one: CI checkouts
    (actions/checkout) leave a tag build a lightweight tag where the remote has the annotated
    one. False when the remote cannot be reached or has no such tag."""
    ref = f"refs/tags/{tag}"
    done = _git(root, "fetch", "--quiet", "--no-tags", "--force", remote, f"{ref}:{ref}",
                check=False, quiet=True)
    return done.returncode == 0


def config_bool(root: Path, key: str) -> bool:
    """A boolean from the user's git configuration (system, global, repo, includes)."""
    done = _git(root, "config", "--type=bool", "--get", key, check=False)
    return done.returncode == 0 and done.stdout.strip() == "true"


def identity(root: Path) -> str | None:
    """The committer identity git will use (config or environment), or None when it has none."""
    done = _git(root, "var", "GIT_COMMITTER_IDENT", check=False)
    return done.stdout.strip().rsplit(" ", 2)[0] if done.returncode == 0 else None


def fetch(root: Path, remote: str, branch: str) -> None:
    _git(root, "fetch", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")


def ls_remote(root: Path, remote: str, branch: str, tag: str) -> RemoteView:
    """The remote's branch and tag, in one read-only round trip (nothing is written locally)."""
    done = _git(
        root,
        "ls-remote",
        remote,
        f"refs/heads/{branch}",
        f"refs/tags/{tag}",
        f"refs/tags/{tag}^{{}}",
    )
    refs: dict[str, str] = {}
    for line in done.stdout.splitlines():
        sha, _, name = line.partition("\t")
        refs[name.strip()] = sha.strip()
    tag_ref = f"refs/tags/{tag}"
    return RemoteView(
        branch_sha=refs.get(f"refs/heads/{branch}"),
        tag_sha=refs.get(f"{tag_ref}^{{}}", refs.get(tag_ref)),
    )


def remote_branch(root: Path, remote: str, branch: str) -> str | None:
    """The commit `branch` is at on `remote` now (read-only); None when the remote lacks it."""
    done = _git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    for line in done.stdout.splitlines():
        sha, _, name = line.partition("\t")
        if name.strip() == f"refs/heads/{branch}":
            return sha.strip()
    return None


def commit(root: Path, paths: Sequence[str], message: str, *, new: Sequence[str] = ()) -> None:
    """Commit exactly `paths` (other staged changes stay out), `new` among them files git does
    not track yet (unstaged again if the commit fails); no paths: an empty commit (a release
    that writes no file: the version is the tag, the notes are the tag's)."""
    if new:
        _git(root, "add", "--", *new)
        try:
            _git(root, "commit", "--cleanup=verbatim", "--file=-", "--only", "--", *paths,
                 input=message)
        except CommandError:
            _git(root, "reset", "--quiet", "--", *new, check=False)
            raise
        return
    if not paths:
        # pre-flight checked the index is HEAD's: nothing staged comes along
        _git(root, "commit", "--cleanup=verbatim", "--file=-", "--allow-empty", input=message)
        return
    _git(root, "commit", "--cleanup=verbatim", "--file=-", "--only", "--", *paths, input=message)


def head_sha(root: Path) -> str:
    return _git(root, "rev-parse", "HEAD", quiet=True).stdout.strip()


def tag(root: Path, name: str, message: str, *, sign: bool, target: str = "HEAD") -> None:
    # verbatim: the notes' `### Added` lines would otherwise be stripped as comments.
    _git(
        root,
        "tag",
        "--sign" if sign else "--annotate",
        "--cleanup=verbatim",
        "--file=-",
        name,
        target,
        input=message,
    )


def push_argv(remote: str, branch: str, tag_name: str) -> tuple[str, ...]:
    """Branch and tag in one atomic push: the remote takes both or neither."""
    return ("git", "push", "--atomic", remote, branch, tag_name)


def push(root: Path, remote: str, branch: str, tag_name: str) -> None:
    proc.run(push_argv(remote, branch, tag_name), cwd=root)


_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*?)(?:\.git)?/?$")
_URL = re.compile(
    r"^(?P<scheme>https?|ssh|git)://(?:[^@/]+@)?(?P<host>[\w.-]+)(?P<port>:\d+)?/"
    r"(?P<path>.+?)(?:\.git)?/?$"
)
# A host name a browser can reach: a dotted name ending in a top-level domain (letters), an IP
# address or localhost. `github-work` or `github.com-work` is an SSH `Host` alias of
# ~/.ssh/config, which names no web address.
_WEB_HOST = re.compile(r"^(?:[\w-]+\.)+[A-Za-z]{2,}$|^\d{1,3}(?:\.\d{1,3}){3}$|^localhost$")


def web_url(url: str | None) -> str | None:
    """`git@github.com:o/r.git` or `https://github.com/o/r.git` -> `https://github.com/o/r`;
    an http(s) URL keeps its scheme and port; None for a local path or an SSH host alias
    (`git@github-work:o/r.git`: its real host is known to ssh only)."""
    if not url:
        return None
    match = _URL.match(url) or (None if "://" in url else _SCP.match(url))
    if match is None or _WEB_HOST.match(match["host"]) is None:
        return None
    web = match.groupdict().get("scheme") in ("http", "https")  # ssh's port is not the web's
    scheme, port = (match["scheme"], match["port"] or "") if web else ("https", "")
    return f"{scheme}://{match['host']}{port}/{match['path']}"
