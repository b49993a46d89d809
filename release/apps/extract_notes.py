"""`extract-notes`: print one version's section of the changelog, exactly as written."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from release import log
from release.cli import ArgumentParser, run_main
from release.config import PYPROJECT, load_settings
from release.core import changelog
from release.errors import ChangelogError, ChecksFailed, UsageError
from release.shell.files import read_changelog, safe_write

PROG = "extract-notes"

EPILOG = """\
VERSION is v1.2.3, 1.2.3, refs/tags/v1.2.3 (what CI has in GITHUB_REF), any spelling of a
PEP 440 version (1.3.0rc1, 1.3.0-rc.1, 2.0.0.dev5) in any tag format, Unreleased, or latest
(the newest final release; --include-prereleases for the newest of all). The body is
printed exactly as written, plus the link definitions it uses from the bottom of the file, so
it renders the same on a GitHub Release.

examples:
  extract-notes v1.2.3                          # the 1.2.3 section, as Markdown
  extract-notes "$GITHUB_REF" --output notes.md # in CI, on a tag push
  extract-notes latest --format json            # {"version", "date", "title", "body", "url"}
  extract-notes Unreleased --allow-empty        # what the next release holds so far
  extract-notes --check                         # validate the whole changelog
  extract-notes 1.2.3 --changelog docs/CHANGES.md

exit status: 0 done, 1 failed (one line on stderr says why), 2 bad usage.
"""


class Format(enum.Enum):
    MARKDOWN = "markdown"
    JSON = "json"


@dataclass(frozen=True)
class Options:
    version: str | None
    changelog: Path | None
    output: Path | None
    format: Format
    check: bool
    allow_empty: bool
    include_prereleases: bool = False


def parse_args(argv: Sequence[str]) -> Options:
    parser = ArgumentParser(
        prog=PROG,
        description=__doc__,
        epilog=EPILOG,
    )
    parser.add_argument("version", nargs="?", metavar="VERSION",
                        help="which section: v1.2.3, 1.2.3, refs/tags/v1.2.3, 2.0.0-dev.5, "
                             "Unreleased, latest (the newest final release)")
    parser.add_argument("--changelog", type=Path, metavar="PATH",
                        help="the changelog (default: [tool.release] changelog in "
                             "./pyproject.toml, else CHANGELOG.md)")
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="write the notes to PATH (atomically) instead of stdout")
    parser.add_argument("--format", choices=[f.value for f in Format], default="markdown",
                        help="markdown (default) or json")
    parser.add_argument("--check", action="store_true",
                        help="validate the whole changelog: one line per problem, exit 1 if any")
    parser.add_argument("--allow-empty", action="store_true",
                        help="print an empty section instead of failing")
    parser.add_argument("--include-prereleases", action="store_true",
                        help="latest may be a pre- or dev release (default: the newest final)")
    args = parser.parse_args(argv)
    if args.version is None and not args.check:
        raise UsageError(f"VERSION is required unless --check is given (see `{PROG} --help`)")
    return Options(
        version=args.version,
        changelog=args.changelog,
        output=args.output,
        format=Format(args.format),
        check=args.check,
        allow_empty=args.allow_empty,
        include_prereleases=args.include_prereleases,
    )


def changelog_path(given: Path | None, cwd: Path) -> tuple[Path, str]:
    """The changelog to read and the hint that says how to point at another one."""
    if given is not None:
        return given, "pass the right one with --changelog PATH"
    hint = "point at another file with --changelog PATH"
    if (cwd / PYPROJECT).is_file():
        settings = load_settings(cwd)
        shown = settings.changelog.relative_to(settings.root) \
            if settings.changelog.is_relative_to(settings.root) else settings.changelog
        return Path(shown), f"{hint} (or set [tool.release] changelog in {PYPROJECT})"
    return Path("CHANGELOG.md"), hint


def render(extracted: changelog.Extracted, fmt: Format) -> str:
    if fmt is Format.JSON:
        return json.dumps(asdict(extracted), ensure_ascii=False, indent=2) + "\n"
    eol = "\r\n" if "\r\n" in extracted.body else "\n"  # the file's own line ending
    return extracted.body + eol if extracted.body else ""


def _main(argv: Sequence[str]) -> int:
    options = parse_args(argv)
    path, hint = changelog_path(options.changelog, Path.cwd())
    text = read_changelog(path, hint=hint)
    if options.check:
        problems = changelog.check(changelog.parse(text))
        if problems:
            raise ChecksFailed([f"{path}: {problem}" for problem in problems])
        log.step("check", changelog=path, status="ok")
        if options.version is None:
            return 0
    assert options.version is not None
    try:
        extracted = changelog.extract(
            text, options.version, allow_empty=options.allow_empty,
            include_prereleases=options.include_prereleases,
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
