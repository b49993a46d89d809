"""Adoption survey: `release` on real Python projects' own git histories, as a new user tries it.

For each project below: its history (every branch head and tag) is copied into a bare remote,
cloned, at most one line of `[tool.release]` is added (a "Configure release" commit), a maintainer
adds one changelog entry (or, for a project with no changelog file, makes one commit), then
`release --bump patch --dry-run`, `release --bump patch`, and `release --bump patch` again.

Every invariant is checked: the dry run changes nothing; a refusal is one line on stderr, exit 1
or 2, and changes nothing; a release changes only the changelog and the version's own files, puts
the entry under a heading that names the new version (never the previous release's date), keeps
the notes in an annotated tag in the project's tag format on the release commit, pushes both, and
the re-run refuses with nothing changed.

The histories are not in this repository. Obtain them once, into one directory, as
`DIR/OWNER+NAME/repo` (the layout of the search tool's `fetch`), e.g.

    git clone --mirror https://github.com/pypa/build DIR/pypa+build/repo

then run `python bench/adoption.py --mirrors DIR` (`--only NAME`, `--keep PATH` to keep the
clones, `--markdown` for the table alone). Results depend on each history's newest commit, which
the table names.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RELEASE, isolated_env


@dataclass(frozen=True)
class Project:
    repo: str  # OWNER/NAME on GitHub
    changelog: str | None  # the file its maintainers write; None: notes live in GitHub Releases
    # The one `[tool.release]` line a maintainer who knows the project adds when the survey
    # shows it is needed: so far only `tag-format`, for histories whose old tags are in another
    # format than the recent ones (issue 16 family 1 is to infer it).
    config: str | None = None


# Chosen for the spread of layouts (Markdown, reStructuredText, plain text, docs/ sites, no
# changelog) and build backends (hatchling, setuptools, flit, setuptools-scm, hatch-vcs).
PROJECTS = (
    Project("pypa/build", "CHANGELOG.rst", 'tag-format = "{version}"'),
    Project("pypa/installer", "docs/changelog.md"),
    Project("pypa/pyproject-hooks", "docs/changelog.rst", 'tag-format = "v{version}"'),
    Project("pypa/wheel", "docs/news.rst"),
    Project("pypa/flit", "doc/history.rst"),
    Project("python-humanize/humanize", None),
    Project("certifi/python-certifi", None, 'tag-format = "{version}"'),
    Project("PyCQA/bandit", None),
    Project("asottile/pyupgrade", None),
    Project("lark-parser/lark", "CHANGELOG.md"),  # stale since 2022: notes in GitHub Releases
    Project("theskumar/python-dotenv", "CHANGELOG.md"),
    Project("Python-Markdown/markdown", "docs/changelog.md"),
    Project("facelessuser/pymdown-extensions", "docs/src/markdown/about/changelog.md"),
    Project("yaml/pyyaml", "CHANGES"),
    Project("getsentry/responses", "CHANGES"),
    Project("spulec/freezegun", "CHANGELOG"),
    Project("astanin/python-tabulate", "CHANGELOG"),
    Project("PyCQA/pycodestyle", "CHANGES.txt"),
    Project("pyparsing/pyparsing", "CHANGES", 'tag-format = "{version}"'),
    Project("pytoolz/toolz", "release-notes", 'tag-format = "{version}"'),
    Project("jpadilla/pyjwt", "CHANGELOG.rst"),
    Project("Delgan/loguru", "CHANGELOG.rst"),
    Project("tkem/cachetools", "CHANGELOG.rst"),
    Project("tartley/colorama", "CHANGELOG.rst", 'tag-format = "{version}"'),
    Project("arrow-py/arrow", "CHANGELOG.rst"),
    Project("marshmallow-code/marshmallow", "CHANGELOG.rst"),
    Project("pytest-dev/pytest-mock", "CHANGELOG.rst", 'tag-format = "v{version}"'),
    Project("python-websockets/websockets", "docs/project/changelog.rst"),
    Project("simonw/sqlite-utils", "docs/changelog.rst"),
    Project("tox-dev/filelock", "docs/changelog.rst", 'tag-format = "{version}"'),
    Project("tox-dev/platformdirs", "docs/changelog.rst", 'tag-format = "{version}"'),
    Project("jazzband/pip-tools", "CHANGELOG.md", 'tag-format = "v{version}"'),
    Project("jazzband/prettytable", "CHANGELOG.md"),
    Project("wntrblm/nox", "CHANGELOG.md", 'tag-format = "{version}"'),
    Project("mahmoud/boltons", "CHANGELOG.md"),
    Project("python-attrs/cattrs", "HISTORY.md"),
    Project("hynek/argon2-cffi", "CHANGELOG.md"),
    Project("pyca/service-identity", "CHANGELOG.md"),
    Project("python/typing_extensions", "CHANGELOG.md"),
    Project("hukkin/tomli", "CHANGELOG.md"),
    Project("sloria/environs", "CHANGELOG.md"),
    Project("mkdocstrings/mkdocstrings", "CHANGELOG.md", 'tag-format = "{version}"'),
    Project("executablebooks/markdown-it-py", "CHANGELOG.md"),
    Project("pre-commit/pre-commit", "CHANGELOG.md"),
    Project("tqdm/tqdm", None, 'tag-format = "v{version}"'),
    Project("asottile/reorder-python-imports", None),
    Project("MagicStack/uvloop", None),
    Project("pypa/trove-classifiers", None),
    Project("python-hyper/h11", "docs/source/changes.rst"),
    Project("pytest-dev/pytest-asyncio", "docs/reference/changelog.rst"),
    Project("pypa/pipx", "docs/changelog.rst"),
    Project("pexpect/pexpect", "doc/history.rst"),
    Project("Kludex/python-multipart", "CHANGELOG.md"),
    Project("more-itertools/more-itertools", "docs/versions.rst", 'tag-format = "v{version}"'),
)

ENTRY = "Fix the parser's handling of empty input."
SUBJECT = "Fix the parser's handling of empty input"
CONFIGURE = "Configure release"
TIMEOUT = 300
_VERSION = re.compile(r"\d+(?:\.\d+)+")
_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`])\1{2,}\s*$")
_UNRELEASED = re.compile(r"(?i)\b(unreleased|upcoming|in development|in progress|not released)\b")
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2} \w+ \d{4}|\w+ \d{1,2},? \d{4}"
)
# Files a release may change besides the changelog: where Python projects keep their version.
_VERSION_FILE = re.compile(
    r"(^|/)(pyproject\.toml|setup\.cfg|setup\.py|__init__\.py|_?version\.py|__about__\.py|"
    r"package\.json|[^/]*\.lock)$"
)


@dataclass
class Outcome:
    project: Project
    commit: str = ""
    result: str = "OK"  # OK, REFUSED, WRONG (exit 0, an invariant broken), BROKEN (bad refusal)
    tag: str = ""
    detail: list[str] = field(default_factory=list)

    def fail(self, result: str, why: str) -> None:
        if self.result == "OK" or result == "WRONG":
            self.result = result
        self.detail.append(why)


def git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False,
        errors="replace",
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def state(work: Path, remote: Path, env: dict[str, str]) -> tuple[str, str, str]:
    """Everything a run may change: the work tree, the local refs, the remote's refs."""
    return (
        git(work, "status", "--porcelain", "--untracked-files=all", env=env)
        + git(work, "rev-parse", "HEAD", env=env),
        git(work, "for-each-ref", "--format=%(refname) %(objectname)", env=env),
        git(remote, "for-each-ref", "--format=%(refname) %(objectname)", env=env),
    )


def _is_heading(lines: list[str], i: int) -> bool:
    line = lines[i].rstrip()
    if not line.strip() or _UNDERLINE.match(line):
        return False
    if line.startswith("#"):
        return True
    if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1].rstrip()):
        return True
    return bool(re.match(r"^(?:v(?:ersion)?\s*)?\d+\.\d+", line, re.I))


def top_heading(lines: list[str], released: bool = False) -> int | None:
    """The first heading that names a version or says it is unreleased (`released`: the first
    that names a version and does not say it is unreleased)."""
    for i in range(min(len(lines), 600)):
        if not _is_heading(lines, i):
            continue
        if released and _VERSION.search(lines[i]) and not _UNRELEASED.search(lines[i]):
            return i
        if not released and (_VERSION.search(lines[i]) or _UNRELEASED.search(lines[i])):
            return i
    return None


def add_entry(text: str) -> str:
    """`text` with one entry, as a maintainer adds it: under the unreleased section when the
    file keeps one, else under a new "Unreleased" heading in the style of the newest one."""
    lines = text.splitlines(keepends=True)
    at = top_heading(lines)
    if at is None:
        return f"- {ENTRY}\n\n" + text
    below = lines[at + 1:at + 40]
    marker = next((m.group(1) for m in map(re.compile(r"^\s*([-*+])\s").match, below) if m), "-")
    underlined = at + 1 < len(lines) and _UNDERLINE.match(lines[at + 1].rstrip())
    if _UNRELEASED.search(lines[at]):
        end = at + (2 if underlined else 1)
        while end < len(lines) and not lines[end].strip():
            end += 1
        return "".join([*lines[:end], f"{marker} {ENTRY}\n\n", *lines[end:]])
    heading = lines[at]
    if heading.startswith("#"):
        hashes = heading.split(" ", 1)[0]
        new = [f"{hashes} {'[Unreleased]' if '[' in heading else 'Unreleased'}\n"]
    elif underlined:
        new = ["Unreleased\n", lines[at + 1].strip()[0] * len("Unreleased") + "\n"]
    else:
        new = ["Unreleased\n"]
    return "".join(lines[:at] + new + ["\n", f"{marker} {ENTRY}\n", "\n"] + lines[at:])


def run_release(work: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *RELEASE, "--bump", "patch", *extra], cwd=work, env=env,
        capture_output=True, text=True, check=False, timeout=TIMEOUT, errors="replace",
    )


def refusal(done: subprocess.CompletedProcess[str]) -> str | None:
    """The refusal, a line per problem (pre-flight reports every problem it finds); None when
    the run did not refuse that way (a traceback, a wrong exit code, no reason given)."""
    lines = [line for line in done.stderr.splitlines() if not line.startswith("step=")]
    if (done.returncode in (1, 2) and lines and "Traceback" not in done.stderr
            and all(line.startswith("release: ") for line in lines)):
        return " / ".join(line.removeprefix("release: ") for line in lines)
    return None


def prepare(project: Project, mirror: Path, base: Path, env: dict[str, str]) -> tuple[Path, Path]:
    remote, work = base / "remote.git", base / "work"
    git(base, "clone", "-q", "--bare", str(mirror), str(remote), env=env)
    git(base, "clone", "-q", str(remote), str(work), env=env)
    if project.config:
        pyproject = work / "pyproject.toml"
        old = pyproject.read_text("utf-8") if pyproject.exists() else ""
        pyproject.write_text(old.rstrip("\n") + f"\n\n[tool.release]\n{project.config}\n", "utf-8")
        git(work, "add", "pyproject.toml", env=env)
        git(work, "commit", "-qm", CONFIGURE, env=env)
    fragments = towncrier_directory(work)
    if fragments is not None:  # towncrier: the maintainer adds a news fragment
        fragment = work / fragments[0] / f"+survey.{fragments[1]}"
        fragment.parent.mkdir(parents=True, exist_ok=True)
        fragment.write_text(ENTRY + "\n", "utf-8")
        git(work, "add", str(fragment), env=env)
        git(work, "commit", "-qm", SUBJECT, env=env)
    elif project.changelog:
        path = work / project.changelog
        path.write_text(add_entry(path.read_text("utf-8")), "utf-8")
        git(work, "commit", "-qam", SUBJECT, env=env)
    else:
        readme = next(p for p in sorted(work.iterdir()) if p.name.lower().startswith("readme"))
        readme.write_text(readme.read_text("utf-8") + "\n", "utf-8")
        git(work, "commit", "-qam", SUBJECT, env=env)
    return work, remote


def towncrier_directory(work: Path) -> tuple[str, str] | None:
    """(fragment directory, fragment name suffix `TYPE.EXT`) of a towncrier project."""
    table: dict[str, object] = {}
    for name in ("towncrier.toml", "pyproject.toml"):  # both hold [tool.towncrier]
        try:
            found = tomllib.loads((work / name).read_text("utf-8")).get("tool", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        table = found.get("towncrier", {}) if isinstance(found, dict) else {}
        if table:
            break
    if not table:
        return None
    directory = str(table.get("directory") or "newsfragments")
    if "directory" not in table and table.get("package"):
        directory = f"{table.get('package_dir', '.')}/{table['package']}/newsfragments"
    types = table.get("type")
    names = [t.get("directory") for t in types if isinstance(t, dict)] if isinstance(
        types, list) else []
    kind = next((n for n in ("fixed", "bugfix", "fix", "bugfixes") if n in names),
                names[0] if names else "bugfix")
    ext = "md" if str(table.get("filename", "NEWS.rst")).endswith(".md") else "rst"
    return directory, f"{kind}.{ext}"


def versions_tags(work: Path, env: dict[str, str]) -> list[tuple[Version, str]]:
    found = []
    for tag in git(work, "tag", env=env).split():
        match = _VERSION.search(tag)
        if match:
            with contextlib.suppress(InvalidVersion):
                found.append((Version(match.group(0)), tag))
    return sorted(found)


def check_release(out: Outcome, work: Path, remote: Path, before: str, *, env: dict[str, str],
                  prior: list[tuple[Version, str]]) -> None:
    project = out.project
    head = git(work, "rev-parse", "HEAD", env=env).strip()
    if git(work, "rev-parse", "HEAD~1", env=env).strip() != before:
        out.fail("WRONG", "the release is not one commit on the previous HEAD")
    new_tags = sorted({t for _, t in versions_tags(work, env)} - {t for _, t in prior})
    if len(new_tags) != 1:
        out.fail("WRONG", f"{len(new_tags)} new tags")
        return
    tag = out.tag = new_tags[0]
    if git(work, "cat-file", "-t", tag, env=env).strip() != "tag":
        out.fail("WRONG", "the tag is not annotated")
    if git(work, "rev-parse", f"{tag}^{{commit}}", env=env).strip() != head:
        out.fail("WRONG", "the tag is not on the release commit")
    match = _VERSION.search(tag)
    version = Version(match.group(0)) if match else None
    finals = [(v, t) for v, t in prior if not v.is_prerelease and not v.is_devrelease]
    if version is None or (finals and version <= finals[-1][0]):
        out.fail("WRONG", f"{tag} is not above the last release")
    elif finals:
        recent = max(prior, key=lambda vt: git(
            work, "log", "-1", "--format=%ct", vt[1], env=env) or "0")[1]
        shape = _VERSION.sub("{}", recent)
        if _VERSION.sub("{}", tag) != shape:
            out.fail("WRONG", f"tag {tag} is not in the format of {recent}")
    changed = git(work, "diff", "--name-only", before, head, env=env).split()
    removed = set(git(work, "diff", "--name-only", "--diff-filter=D", before, head,
                      env=env).split())
    fragments = towncrier_directory(work)
    for name in changed:
        if fragments is not None and name in removed and name.startswith(fragments[0] + "/"):
            continue  # a news fragment towncrier consumed
        if name != project.changelog and not _VERSION_FILE.search(name):
            out.fail("WRONG", f"changed {name}")
        elif name != project.changelog and version is not None:
            added = git(work, "diff", before, head, "--", name, env=env)
            if not any(line.startswith("+") and _names(line, version)
                       for line in added.splitlines()):
                out.fail("WRONG", f"{name} changed without the new version")
    if project.changelog:
        if project.changelog not in changed:
            out.fail("WRONG", f"{project.changelog} not rolled")
        else:
            check_heading(out, git(work, "show", f"{head}:{project.changelog}", env=env),
                          git(work, "show", f"{before}:{project.changelog}", env=env), version)
    message = git(work, "tag", "-l", "--format=%(contents)", tag, env=env)
    expected = ENTRY.rstrip(".") if project.changelog else SUBJECT
    if expected not in message:
        out.fail("WRONG", "the tag's notes lack the entry")
    for noise in (CONFIGURE, "Merge pull request", "Merge branch"):
        if noise in message:
            out.fail("WRONG", f"the tag's notes hold {noise!r}")
    branch = git(work, "rev-parse", "--abbrev-ref", "HEAD", env=env).strip()
    if git(remote, "rev-parse", branch, env=env).strip() != head:
        out.fail("WRONG", "the release commit is not pushed")
    if git(remote, "rev-parse", tag, env=env, check=False).strip() != git(
            work, "rev-parse", tag, env=env).strip():
        out.fail("WRONG", "the tag is not pushed")


def _names(line: str, version: Version) -> bool:
    """Whether `line` writes `version` in any spelling (`2026.08.18` is 2026.8.18)."""
    for token in _VERSION.findall(line):
        with contextlib.suppress(InvalidVersion):
            if Version(token) == version:
                return True
    return False


def check_heading(out: Outcome, new: str, old: str, version: Version | None) -> None:
    lines = new.splitlines()
    at = top_heading(lines, released=True)
    if at is None or version is None or not _names(lines[at], version):
        out.fail("WRONG", "the top heading does not name the new version")
        return
    rest = lines[at + 1:]
    following = top_heading(rest, released=True)
    section = "\n".join(rest[:following])
    if ENTRY.rstrip(".") not in section:
        out.fail("WRONG", "the entry is not under the new heading")
    old_lines = old.splitlines()
    old_at = top_heading(old_lines, released=True)
    previous = old_lines[old_at] if old_at is not None else ""
    date = _DATE.search(lines[at])
    if date and date.group(0) in previous:
        out.fail("WRONG", f"the new heading copies the previous date {date.group(0)}")


def survey(project: Project, mirrors: Path, keep: Path | None) -> Outcome:
    out = Outcome(project)
    owner, name = project.repo.split("/")
    mirror = next((p for p in (mirrors / f"{owner}+{name}" / "repo",
                               mirrors / f"{owner}+{name}.git", mirrors / f"{owner}+{name}")
                   if p.is_dir()), None)
    if mirror is None:
        out.fail("MISSING", f"no history under {mirrors}/{owner}+{name}")
        return out
    base = Path(tempfile.mkdtemp(prefix=f"adopt-{name}-", dir=keep))
    try:
        env = isolated_env(base)
        out.commit = git(base, "--git-dir", str(mirror), "rev-parse", "--short=8", "HEAD",
                         env=env).strip()  # the project's own newest commit
        work, remote = prepare(project, mirror, base, env)
        prior = versions_tags(work, env)
        before_head = git(work, "rev-parse", "HEAD", env=env).strip()
        untouched = state(work, remote, env)
        dry = run_release(work, env, "--dry-run")
        if state(work, remote, env) != untouched:
            out.fail("WRONG", "the dry run changed something")
        real = run_release(work, env)
        if real.returncode != 0:
            line = refusal(real)
            if state(work, remote, env) != untouched:
                out.fail("BROKEN", "the refusal changed something")
            if line is None:
                tail = real.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
                out.fail("BROKEN", f"exit {real.returncode}, not one line: {tail[0][:200]}")
            else:
                out.fail("REFUSED", line)
            if dry.returncode == 0:
                out.detail.append("the dry run had exited 0")
            return out
        if dry.returncode != 0:
            out.detail.append(f"the dry run refused: {(refusal(dry) or dry.stderr)[:200]}")
        check_release(out, work, remote, before_head, env=env, prior=prior)
        released = state(work, remote, env)
        again = run_release(work, env)
        if state(work, remote, env) != released:
            out.fail("WRONG", "the re-run changed something")
        elif again.returncode != 0 and refusal(again) is None:
            out.fail("WRONG", "the re-run failed, not in one line")
        return out
    except (RuntimeError, subprocess.TimeoutExpired, OSError, UnicodeDecodeError) as exc:
        out.fail("BROKEN", f"survey setup or run failed: {exc}"[:300])
        return out
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)


def table(outcomes: list[Outcome]) -> str:
    rows = ["| project | changelog | config | result | tag | detail |", "|---|---|---|---|---|---|"]
    for out in outcomes:
        p = out.project
        detail = "; ".join(out.detail).replace("|", "\\|")
        rows.append(
            f"| {p.repo}@{out.commit} | {p.changelog or '(none)'} | "
            f"{'`' + p.config + '`' if p.config else ''} | {out.result} | {out.tag} | {detail} |"
        )
    adopted = sum(out.result == "OK" for out in outcomes)
    return "\n".join(rows) + f"\n\n**{adopted} of {len(outcomes)} adopt `release` with at most " \
        "one line of configuration.**\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mirrors", type=Path, required=True,
                        help="the directory holding OWNER+NAME/repo bare histories")
    parser.add_argument("--only", action="append", default=[], help="NAME or OWNER/NAME")
    parser.add_argument("--keep", type=Path, help="keep each project's clones under this folder")
    parser.add_argument("--markdown", action="store_true", help="print the table alone")
    args = parser.parse_args()
    chosen = [p for p in PROJECTS
              if not args.only or p.repo in args.only or p.repo.split("/")[1] in args.only]
    outcomes = []
    for project in chosen:
        outcome = survey(project, args.mirrors.resolve(), args.keep)
        outcomes.append(outcome)
        if not args.markdown:
            print(f"{project.repo}: {outcome.result} {outcome.tag} {'; '.join(outcome.detail)}",
                  file=sys.stderr, flush=True)
    print(table(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
