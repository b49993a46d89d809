"""Release notes: where they come from, how an LLM's draft is checked, and the deterministic
fallback that groups Conventional Commits. Pure: `release.shell.llm` runs the LLM command.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from release.core.commit_noise import is_noise
from release.core.commits import Commit, release_tag
from release.core.markdown import Document, Heading, List, SetextHeading
from release.errors import ConfigError, DojoError, UsageError


class NotesSource(enum.Enum):
    FILE = "file"
    UNRELEASED = "unreleased"
    LLM = "llm"
    COMMITS = "commits"
    TOWNCRIER = "towncrier"


class Notes(NamedTuple):
    """A release's notes and where they came from."""

    text: str  # Markdown, no top-level heading, ends with one newline
    source: NotesSource
    detail: str = ""  # the file, the command, ...


class NotesRejected(DojoError):
    """An LLM's output is not usable as release notes."""


class LlmCommand(NamedTuple):
    """How to ask one LLM CLI, non-interactively, for notes."""

    name: str
    argv: tuple[str, ...]
    stdin: str


# The order of sections in generated notes; Breaking goes first so nobody misses it.
KINDS = ("Breaking", "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")

_TYPES = {
    "feat": "Added",
    "feature": "Added",
    "add": "Added",
    "fix": "Fixed",
    "bugfix": "Fixed",
    "perf": "Changed",
    "refactor": "Changed",
    "change": "Changed",
    "deprecate": "Deprecated",
    "revert": "Removed",
    "remove": "Removed",
    "security": "Security",
    "sec": "Security",
}
# Housekeeping that users do not need to read about.
_SKIPPED = {"chore", "ci", "build", "docs", "test", "tests", "style", "release"}
_CONVENTIONAL = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\n]*)\))?(?P<bang>!)?:\s*(?P<desc>.+)$"
)
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:\s*(?P<text>.+)$", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FENCE = re.compile(r"^```[\w-]*\n(?P<body>.*)\n```$", re.DOTALL)

PROMPT = (
    "Write the release notes for version {version} of {project} from the git commit log below.\n"
    "Answer with Markdown only: sections `### Breaking`, `### Added`, `### Changed`, "
    "`### Fixed`, `### Removed`, `### Security` (only those that apply), each a list of short "
    "entries for users, keeping `(#123)` references. No top-level heading, no preamble.\n"
)
MAX_LOG_LINES = 2000  # enough for a release; keeps the prompt inside any model's context
MAX_NOTES_CHARS = 100_000


def counted(n: int, noun: str) -> str:
    """`1 commit`, `2 commits`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def finish(text: str) -> str:
    """Notes normalised: no surrounding blank lines, one trailing newline (or empty)."""
    stripped = text.strip("\n")
    return stripped.rstrip() + "\n" if stripped.strip() else ""


def release_level_headings(text: str) -> list[int]:
    """Line numbers (1-based) of headings at level 1 or 2 in `text`: in a changelog those are
    release headings, so notes that hold them would split the release's section."""
    return [
        _line(token)
        for token in Document(text).children or ()
        if isinstance(token, Heading | SetextHeading) and token.level <= 2
    ]


def check_notes_file(text: str, name: str) -> str:
    """The notes a --notes-file holds, normalised; a usage error when they are empty or hold
    a heading at release level."""
    if not text.strip():
        raise UsageError(f"--notes-file {name} is empty: write the notes into it, or drop the flag")
    lines = release_level_headings(text)
    if lines:
        raise UsageError(
            f"--notes-file {name} has a level-1 or level-2 heading (line {lines[0]}), which would "
            "start a new changelog section: use `###` headings in release notes"
        )
    return finish(text)


def commit_log(commits: Sequence[Commit]) -> str:
    """One line per commit (`<sha7> <subject>`), newest first, merges and other noise
    (`commit_noise`) left out."""
    lines = [
        f"{c.sha[:7]} {c.subject}" for c in commits if c.parents <= 1 and not is_noise(c.subject)
    ]
    if len(lines) > MAX_LOG_LINES:
        lines = [*lines[:MAX_LOG_LINES], f"... and {len(lines) - MAX_LOG_LINES} older commits"]
    return "\n".join(lines) + "\n"


def llm_command(name: str, log: str, *, version: str, project: str) -> LlmCommand:
    """The non-interactive call for `codex`, `gemini` or a user's `notes-command` line.

    `codex exec -` reads its whole prompt from stdin; `gemini -p PROMPT` runs headless and
    reads stdin as context. A `notes-command` gets the prompt and the log on stdin.
    """
    prompt = PROMPT.format(version=version, project=project)
    if name == "codex":
        return LlmCommand(
            name, ("codex", "exec", "--sandbox", "read-only", "-"), f"{prompt}\nCommit log:\n{log}"
        )
    if name == "gemini":
        return LlmCommand(name, ("gemini", "-p", prompt), log)
    try:
        argv = tuple(shlex.split(name))
    except ValueError as exc:
        raise ConfigError(
            f"[tool.release] notes-command cannot be parsed ({exc}): fix it"
        ) from None
    if not argv:
        raise ConfigError("[tool.release] notes-command is empty: set a command or remove it")
    return LlmCommand(argv[0], argv, f"{prompt}\nCommit log:\n{log}")


def check_markdown(text: str) -> str:
    """`text` cleaned for use as notes, or `NotesRejected` saying what is wrong with it."""
    if _CONTROL.search(text):
        raise NotesRejected("output contains control characters")
    text = finish(text)
    fenced = _FENCE.match(text.strip())
    if fenced:  # models like to wrap Markdown in a ```markdown fence
        text = finish(fenced["body"])
    if not text:
        raise NotesRejected("output is empty")
    if len(text) > MAX_NOTES_CHARS:
        raise NotesRejected(f"output is longer than {MAX_NOTES_CHARS} characters")
    doc = Document(text)
    if any(isinstance(t, Heading | SetextHeading) and t.level == 1 for t in doc.children or ()):
        raise NotesRejected("output has a top-level heading")
    return _demote(text, doc)


def _line(token: Heading | SetextHeading) -> int:
    return int(getattr(token, "line_number"))  # noqa: B009 (mistletoe's stubs lack it)


def _demote(text: str, doc: Document) -> str:
    """Level-2 ATX headings (`## Added`) one level down (`### Added`): models often write
    them, and in a changelog they would start a new release section."""
    lines = text.splitlines(keepends=True)
    for token in doc.children or ():
        if isinstance(token, SetextHeading) and token.level == 2:
            raise NotesRejected("output has a level-2 setext heading (underlined with ---)")
        if isinstance(token, Heading) and token.level == 2:
            index = _line(token) - 1
            lines[index] = lines[index].replace("##", "###", 1)
    return "".join(lines)


class Entry(NamedTuple):
    """One line of notes written from the commits, and its kind."""

    kind: str
    text: str


def classify(commit: Commit) -> list[Entry]:
    """The notes entry a commit gives: none for merges, release commits, changelog upkeep and
    other noise (`commit_noise`) and housekeeping types; breaking changes (`feat!:`, a
    `BREAKING CHANGE:` footer) go under Breaking."""
    if (commit.parents > 1 or not commit.subject or release_tag(commit.subject) is not None
            or is_noise(commit.subject)):
        return []
    match = _CONVENTIONAL.match(commit.subject)
    footer = _BREAKING_FOOTER.search(commit.body)
    if match is None:
        return [Entry("Changed", commit.subject)]
    kind_name = match["type"].lower()
    scope = (match["scope"] or "").strip()
    desc = match["desc"].strip()
    text = f"**{scope}:** {desc}" if scope else desc
    entries: list[Entry] = []
    if match["bang"] or footer:
        detail = footer["text"].strip() if footer else ""
        entries.append(
            Entry("Breaking", f"{text} ({detail})" if detail and detail != desc else text)
        )
        return entries
    if kind_name in _SKIPPED:
        return []
    entries.append(Entry(_TYPES.get(kind_name, "Changed"), text))
    return entries


def group_commits(commits: Iterable[Commit]) -> str:
    """Keep-a-Changelog style sections (`### Added`, ...) from the commits, oldest first."""
    sections: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for commit in commits:
        for entry in classify(commit):
            sections[entry.kind].append(entry.text)
    blocks = []
    for kind in KINDS:
        if sections[kind]:
            items = "\n".join(f"- {text}" for text in reversed(sections[kind]))
            blocks.append(f"### {kind}\n\n{items}")
    return finish("\n\n".join(blocks))


class Summary(NamedTuple):
    """What the notes say, counted: entries per kind and the breaking ones by name."""

    counts: tuple[tuple[str, int], ...]
    breaking: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


def _plain(token: object) -> str:
    content = getattr(token, "content", None)
    if isinstance(content, str) and not getattr(token, "children", None):
        return content
    return "".join(_plain(child) for child in getattr(token, "children", None) or ())


# Words in section headings that name a kind, as other tools write them (towncrier's
# "Features", "Bugfixes", "Deprecations and Removals", "Backwards-incompatible Changes";
# conventional-changelog's "Bug Fixes"); first match wins.
_KIND_WORDS = (
    ("Breaking", ("breaking", "incompatible")),
    ("Security", ("security",)),
    ("Deprecated", ("deprecat",)),
    ("Removed", ("removal", "removed")),
    ("Fixed", ("fix",)),
    ("Added", ("feature", "added")),
)


def kind_of(title: str) -> str:
    """The kind a section heading names (anything else: Changed)."""
    lower = title.lower()
    return next((kind for kind, words in _KIND_WORDS if any(w in lower for w in words)), "Changed")


def summarise(text: str) -> Summary:
    """Count list entries per kind of section in the notes (unknown headings: Changed)."""
    counts: dict[str, int] = {}
    breaking: list[str] = []
    kind = "Changed"
    for token in Document(text).children or ():
        if isinstance(token, Heading | SetextHeading):
            kind = kind_of(_plain(token))
        elif isinstance(token, List):
            items = list(token.children or ())
            counts[kind] = counts.get(kind, 0) + len(items)
            if kind == "Breaking":
                breaking.extend(
                    _plain(item).strip().splitlines()[0] for item in items if _plain(item).strip()
                )
    if not counts and text.strip():
        counts["Changed"] = 1  # prose notes: one change described in words
    ordered = tuple((k, counts[k]) for k in KINDS if counts.get(k))
    return Summary(ordered, tuple(breaking))
