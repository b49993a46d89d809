"""`extract-notes`: print one version's section of the changelog, exactly as written."""

from __future__ import annotations

import enum
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from release import log
from release.cli import ArgumentParser, run_main
from release.core import changelog
from release.core.pattern import LazyPattern
from release.errors import ChangelogError, ChecksFailed, UsageError
from release.shell.files import read_changelog, safe_write

PROG = "extract-notes"
# What a run that is given its changelog never needs is imported where it is used: most of an
# extract-notes run on a small changelog is start-up (tests/test_startup.py).
PYPROJECT = "pyproject.toml"  # release.config.PYPROJECT, without loading tomlkit

EPILOG = """\
VERSION is v1.2.3, 1.2.3, refs/tags/v1.2.3 (what CI has in GITHUB_REF), Unreleased, or
latest (the topmost final release; with --include-prereleases, the topmost release). Any
spelling of a version finds its section: 2.0.0rc1 and 2.0.0-rc.1, 2.0 and 2.0.0. The body is
printed exactly as written, plus the link definitions it uses from the bottom of the file, so it
renders the same on a GitHub Release. A reStructuredText changelog (CHANGES.rst) prints its
section as Markdown (converted for a GitHub Release), or as written with --format rst.

--check reports errors (two sections for one version, a section hidden by a code fence that never
closes, a heading link that points nowhere, a release heading extract-notes would cut wrongly)
and warnings (dates not in ISO 8601, no [Unreleased], versions out of order within a release
line). It fails on errors, and on warnings too with --strict.

examples:
  extract-notes v1.2.3                          # the 1.2.3 section, as Markdown
  extract-notes "$GITHUB_REF" --output notes.md # in CI, on a tag push
  extract-notes latest --format json            # {"version", "date", "title", "body", "url"}
  extract-notes Unreleased --allow-empty        # what the next release holds so far
  extract-notes --check                         # validate the whole changelog
  extract-notes --check --strict --format json  # for tools; warnings fail too
  extract-notes 1.2.3 --changelog docs/CHANGES.md
  extract-notes 1.2.3 --changelog CHANGES.rst --format rst

exit status: 0 done, 1 failed (one line on stderr says why), 2 bad usage.
"""


class Format(enum.Enum):
    MARKDOWN = "markdown"
    JSON = "json"
    RST = "rst"  # a reStructuredText changelog's section as written


class Options(NamedTuple):
    """The command line, read (a named tuple: cheaper to define at start-up than a dataclass)."""

    version: str | None
    changelog: Path | None
    output: Path | None
    format: Format
    check: bool
    allow_empty: bool
    strict: bool = False
    include_prereleases: bool = False


def parse_args(argv: Sequence[str]) -> Options:
    parser = ArgumentParser(
        prog=PROG,
        description=__doc__,
        epilog=EPILOG,
    )
    parser.add_argument("version", nargs="?", metavar="VERSION",
                        help="which section: v1.2.3, 1.2.3, refs/tags/v1.2.3, Unreleased, latest")
    parser.add_argument("--changelog", type=Path, metavar="PATH",
                        help="the changelog (default: [tool.release] changelog, or "
                             "[tool.towncrier] filename, in ./pyproject.toml, else "
                             "CHANGELOG.md)")
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="write the notes to PATH (atomically) instead of stdout")
    parser.add_argument("--format", choices=[f.value for f in Format], default="markdown",
                        help="markdown (default; a .rst changelog's section converted), "
                             "rst (a .rst changelog's section as written) or json")
    parser.add_argument("--check", action="store_true",
                        help="validate the whole changelog: one line per problem, exit 1 on "
                             "errors")
    parser.add_argument("--strict", action="store_true",
                        help="with --check: warnings fail the check too")
    parser.add_argument("--allow-empty", action="store_true",
                        help="print an empty section instead of failing")
    parser.add_argument("--include-prereleases", action="store_true",
                        help="latest may be a prerelease (2.0.0rc1)")
    args = parser.parse_args(argv)
    if args.version is None and not args.check:
        raise UsageError(f"VERSION is required unless --check is given (see `{PROG} --help`)")
    if args.strict and not args.check:
        raise UsageError(f"--strict goes with --check (see `{PROG} --help`)")
    if args.check and args.version is not None and args.format == "json":
        raise UsageError(
            f"--check --format json prints the check's report; ask for the notes in a second run "
            f"(see `{PROG} --help`)"
        )
    return Options(
        version=args.version,
        changelog=args.changelog,
        output=args.output,
        format=Format(args.format),
        check=args.check,
        allow_empty=args.allow_empty,
        strict=args.strict,
        include_prereleases=args.include_prereleases,
    )


def changelog_path(given: Path | None, cwd: Path) -> tuple[Path, str, bool]:
    """The changelog to read, the hint that says how to point at another one, and whether
    the project keeps one (False: none is named and none exists; the tags hold the notes)."""
    if given is not None:
        return given, "pass the right one with --changelog PATH", True
    from release.config import project_in_work_tree  # noqa: PLC0415
    from release.core.changelog_discovery import CHANGELOG_NAMES  # noqa: PLC0415

    hint = "point at another file with --changelog PATH"
    if (cwd / PYPROJECT).is_file():
        # The release branch plays no part in reading notes.
        settings = project_in_work_tree(cwd, default_branch=lambda _remote: None).settings
        found = settings.changelog_file
        shown = found.relative_to(settings.root) if found.is_relative_to(settings.root) else found
        return (shown, f"{hint} (or set [tool.release] changelog in {PYPROJECT})",
                settings.changelog_given or found.exists())
    found_name = next((n for n in CHANGELOG_NAMES if (cwd / n).is_file()), None)
    return Path(found_name or "CHANGELOG.md"), hint, found_name is not None


def notes_in_tag(
    query: str, cwd: Path, *, include_prereleases: bool
) -> changelog.Extracted | None:
    """The notes of the release `query` names, from its annotated tag: a project that keeps no
    changelog file keeps them there (`release` writes them). None outside a git repository."""
    from release.core import tag_notes  # noqa: PLC0415
    from release.core.tagformat import version_in  # noqa: PLC0415
    from release.shell.git import Repository  # noqa: PLC0415 (pygit2: only this path needs it)

    repo = Repository.find(cwd)
    if repo is None:
        return None
    if query.lower() == "unreleased":
        raise ChangelogError("the project keeps no changelog, so nothing is recorded as "
                             "unreleased: ask for a released version")
    tag = tag_notes.pick_tag(query, repo.tag_names(), include_prereleases=include_prereleases)
    if tag is None:
        raise ChangelogError(
            f"no changelog file, and no tag names {query}: the project keeps its notes in its "
            "annotated tags; ask for a tagged version (or point at a changelog: --changelog PATH)"
        )
    message = repo.tag_message(tag)
    if message is None:
        raise ChangelogError(
            f"no changelog file, and tag {tag} is lightweight, so it holds no notes: fetch the "
            f"annotated tag (`git fetch --force origin refs/tags/{tag}:refs/tags/{tag}`), or "
            "point at a changelog with --changelog PATH"
        )
    version = version_in(tag)
    return changelog.Extracted(str(version) if version else None, None, tag,
                               tag_notes.notes_of(tag, message), None)


def render(extracted: changelog.Extracted, fmt: Format) -> str:
    if fmt is Format.JSON:
        import json  # noqa: PLC0415

        return json.dumps(extracted._asdict(), ensure_ascii=False, indent=2) + "\n"
    eol = "\r\n" if "\r\n" in extracted.body else "\n"  # the file's own line ending
    return extracted.body + eol if extracted.body else ""


def report(path: Path, problems: list[changelog.Problem], options: Options) -> None:
    """Print the check's findings (stdout for JSON, else stderr); raise when they fail it."""
    errors = sum(p.severity is changelog.Severity.ERROR for p in problems)
    failing = errors or (options.strict and problems)
    if options.format is Format.JSON:
        import json  # noqa: PLC0415

        data = {
            "changelog": str(path), "ok": not failing, "errors": errors,
            "warnings": len(problems) - errors,
            "problems": [
                {"severity": p.severity.value, "line": p.line, "message": p.message}
                for p in problems
            ],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    lines = [
        f"{path}:{p.line}: {p.severity.value}: {p.message}" if p.line is not None
        else f"{path}: {p.severity.value}: {p.message}"
        for p in problems
    ]
    if failing:
        what = f"{errors} error(s)" if errors else f"{len(problems)} warning(s) (--strict)"
        raise ChecksFailed(
            [f"{path}: the check failed with {what}"] if options.format is Format.JSON else lines
        )
    if options.format is not Format.JSON:
        for line in lines:
            print(f"{PROG}: {log.redact(line)}", file=sys.stderr)
    if problems:
        log.step("check", changelog=path, warnings=len(problems), status="ok")
    else:
        log.step("check", changelog=path, status="ok")


def repository_url(cwd: Path) -> str | None:
    """The web URL `:issue:` roles link into: GitHub Actions' GITHUB_REPOSITORY, else the
    sphinx-issues setting in the docs' conf.py, else the clone's remote."""
    env = os.environ
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{env['GITHUB_REPOSITORY']}"
    for conf in ("docs/conf.py", "doc/conf.py", "conf.py"):
        try:
            text = (cwd / conf).read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            continue
        if found := _ISSUES_PATH.search(text):
            return f"https://github.com/{found[1]}"
    from release.config import project_in_work_tree  # noqa: PLC0415
    from release.shell import git  # noqa: PLC0415 (pygit2 only for reST roles without a URL)

    repo = git.Repository.find(cwd)
    if repo is None:
        return None
    remote = "origin"
    if (cwd / PYPROJECT).is_file():
        remote = project_in_work_tree(cwd, default_branch=lambda _remote: None).settings.remote
    return git.web_url(repo.configured_url(remote))


# Compiled when first used: only a reST changelog's run looks for it.
_ISSUES_PATH = LazyPattern(r"""^issues_github_path\s*=\s*["']([\w.-]+/[\w.-]+)["']""", re.M)


def _main(argv: Sequence[str]) -> int:
    options = parse_args(argv)
    path, hint, kept = changelog_path(options.changelog, Path.cwd())
    if not kept and not options.check and options.version is not None:
        tagged = notes_in_tag(options.version, Path.cwd(),
                              include_prereleases=options.include_prereleases)
        if tagged is not None:
            if not tagged.body.strip() and not options.allow_empty:
                raise ChangelogError(f"tag {tagged.title} holds no notes (or allow that: "
                                     "--allow-empty)")
            return _emit(tagged, options, inputs=[])
    changelog.require_markdown(path.name)
    rst = changelog.is_rst(path.name)
    if options.format is Format.RST and not rst:
        raise UsageError(
            f"--format rst is for a reStructuredText changelog, and {path} is Markdown: "
            "leave --format out"
        )
    text = read_changelog(path, hint=hint)
    if options.check:
        report(path, changelog.check(changelog.read(text, path.name)), options)
        if options.version is None:
            return 0
    assert options.version is not None
    try:
        extracted = changelog.extract(
            text, options.version, allow_empty=options.allow_empty,
            include_prereleases=options.include_prereleases, name=path.name,
            markdown=rst and options.format is not Format.RST,
            repository=repository_url(Path.cwd()) if rst else None,
        )
    except ChangelogError as exc:
        from release.core.changelog.markup import not_markdown  # noqa: PLC0415

        mentioned = not rst and options.version.lstrip("v") in text
        markup = not_markdown(text) if mentioned else None
        if markup is not None:
            raise ChangelogError(markup.explain(str(path), "--changelog PATH")) from None
        raise ChangelogError(f"{path}: {exc}") from None
    return _emit(extracted, options, inputs=[path])


def _emit(extracted: changelog.Extracted, options: Options, *, inputs: list[Path]) -> int:
    data = render(extracted, options.format)
    if options.output is not None:
        safe_write(options.output, data, label="--output", inputs=inputs)
        log.step("write", path=options.output, version=extracted.version or "Unreleased",
                 bytes=len(data.encode()), status="ok")
        return 0
    sys.stdout.write(data)
    sys.stdout.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_main, argv, PROG)


if __name__ == "__main__":
    raise SystemExit(main())
