"""`extract-notes`: print one version's section of the changelog, exactly as written."""

from __future__ import annotations

import enum
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from release import log
from release.cli import ArgumentParser, run_main
from release.config import PYPROJECT, project_in_work_tree
from release.core import changelog
from release.core.changelog_discovery import CHANGELOG_NAMES
from release.errors import ChangelogError, ChecksFailed, UsageError
from release.shell.files import read_changelog, safe_write

PROG = "extract-notes"

EPILOG = """\
VERSION is v1.2.3, 1.2.3, refs/tags/v1.2.3 (what CI has in GITHUB_REF), Unreleased, or
latest (the topmost final release; with --include-prereleases, the topmost release). Any
spelling of a version finds its section: 2.0.0rc1 and 2.0.0-rc.1, 2.0 and 2.0.0. The body is
printed exactly as written, plus the link definitions it uses from the bottom of the file, so it
renders the same on a GitHub Release.

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

exit status: 0 done, 1 failed (one line on stderr says why), 2 bad usage.
"""


class Format(enum.Enum):
    MARKDOWN = "markdown"
    JSON = "json"
    RST = "rst"  # a reStructuredText changelog's section as written


@dataclass(frozen=True)
class Options:
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


def changelog_path(given: Path | None, cwd: Path) -> tuple[Path, str]:
    """The changelog to read and the hint that says how to point at another one."""
    if given is not None:
        return given, "pass the right one with --changelog PATH"
    hint = "point at another file with --changelog PATH"
    if (cwd / PYPROJECT).is_file():
        # The release branch plays no part in reading notes.
        settings = project_in_work_tree(cwd, default_branch=lambda _remote: None).settings
        found = settings.changelog_file
        shown = found.relative_to(settings.root) if found.is_relative_to(settings.root) else found
        return shown, f"{hint} (or set [tool.release] changelog in {PYPROJECT})"
    return Path(next((n for n in CHANGELOG_NAMES if (cwd / n).is_file()), "CHANGELOG.md")), hint


def render(extracted: changelog.Extracted, fmt: Format) -> str:
    if fmt is Format.JSON:
        return json.dumps(asdict(extracted), ensure_ascii=False, indent=2) + "\n"
    eol = "\r\n" if "\r\n" in extracted.body else "\n"  # the file's own line ending
    return extracted.body + eol if extracted.body else ""


def report(path: Path, problems: list[changelog.Problem], options: Options) -> None:
    """Print the check's findings (stdout for JSON, else stderr); raise when they fail it."""
    errors = sum(p.severity is changelog.Severity.ERROR for p in problems)
    failing = errors or (options.strict and problems)
    if options.format is Format.JSON:
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
    from release.shell import git  # noqa: PLC0415 (pygit2 only for reST roles without a URL)

    repo = git.Repository.find(cwd)
    if repo is None:
        return None
    remote = "origin"
    if (cwd / PYPROJECT).is_file():
        remote = project_in_work_tree(cwd, default_branch=lambda _remote: None).settings.remote
    return git.web_url(repo.configured_url(remote))


_ISSUES_PATH = re.compile(r"""^issues_github_path\s*=\s*["']([\w.-]+/[\w.-]+)["']""", re.M)


def _main(argv: Sequence[str]) -> int:
    options = parse_args(argv)
    path, hint = changelog_path(options.changelog, Path.cwd())
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
        raise ChangelogError(f"{path}: {exc}") from None
    data = render(extracted, options.format)
    if options.output is not None:
        safe_write(options.output, data, label="--output", inputs=[path])
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
