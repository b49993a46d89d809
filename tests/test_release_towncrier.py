"""`release` on towncrier projects (`[tool.towncrier]`): towncrier writes the section, in real
repositories with a bare remote, through the real CLI and a real `towncrier build`.

The shapes are written here in the forms real projects use: towncrier's default Markdown
template (a `#` release heading with `##` categories), a project template in the fragments
directory with `title_format = ""` and its own fragment types, and a `title_format` that links
the version with a custom `issue_format`.
"""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from release.apps.extract_notes import main as extract_notes
from release.core import changelog
from tests.support.apps import problems, release_in
from tests.support.gitrepo import PYPROJECT, GitRepo, make_repo, release_argv, release_env

START = "<!-- towncrier release notes start -->"


@dataclass(frozen=True)
class Shape:
    towncrier: str  # the [tool.towncrier] table, after its header
    changelog: str  # CHANGELOG.md with the 0.1.0 release, in this shape
    files: dict[str, str]  # other committed files (a template)
    fragments: dict[str, str]  # news fragments for the next release
    expect: tuple[str, ...]  # lines the new section must hold


TEMPLATE = """\
{% if versiondata.version %}## [{{ versiondata.version }}](https://github.com/acme/demo/tree/\
{{ versiondata.version }}) - {{ versiondata.date }}{% endif %}
{% for section, _ in sections.items() %}
{% for category, val in definitions.items() if category in sections[section] %}

### {{ definitions[category]['name'] }}

{% for text, values in sections[section][category].items() %}
- {{ text }}
  {{ values|join(', ') }}
{% endfor %}
{% endfor %}
{% endfor %}
"""

SHAPES = {
    "default template": Shape(
        towncrier='directory = "changelog.d"\nfilename = "CHANGELOG.md"\n',
        changelog=f"# Changelog\n\n{START}\n\n# demo 0.1.0 (2026-01-01)\n\n## Features\n\n"
        "- The first frobnicator. (#1)\n",
        files={},
        fragments={
            "changelog.d/12.feature.md": "Frobnicate in parallel.\n",
            "changelog.d/13.bugfix.md": "No crash on an empty input file.\n",
        },
        expect=("- Frobnicate in parallel. (#12)", "- No crash on an empty input file. (#13)"),
    ),
    "project template, own types": Shape(
        towncrier=textwrap.dedent(
            f"""\
            directory = "changelog.d"
            filename = "CHANGELOG.md"
            start_string = "{START}\\n"
            template = "changelog.d/template.md.jinja"
            title_format = ""
            issue_format = "[#{{issue}}](https://github.com/acme/demo/issues/{{issue}})"

            [[tool.towncrier.type]]
            directory = "breaking"
            name = "Backwards-incompatible Changes"
            showcontent = true

            [[tool.towncrier.type]]
            directory = "change"
            name = "Changes"
            showcontent = true
            """
        ),
        changelog=f"# Changelog\n\nVersions follow CalVer.\n\n{START}\n\n"
        "## [0.1.0](https://github.com/acme/demo/tree/0.1.0) - 2026-01-01\n\n### Changes\n\n"
        "- The first frobnicator.\n  [#1](https://github.com/acme/demo/issues/1)\n",
        files={"changelog.d/template.md.jinja": TEMPLATE},
        fragments={
            "changelog.d/21.change.md": "Frobnicate in parallel.\n",
            "changelog.d/22.breaking.md": "`frob()` takes keywords only.\n",
        },
        expect=(
            "### Backwards-incompatible Changes",
            "- `frob()` takes keywords only.",
            "  [#21](https://github.com/acme/demo/issues/21)",
        ),
    ),
    "linked title_format": Shape(
        towncrier=textwrap.dedent(
            """\
            directory = "news"
            filename = "CHANGELOG.md"
            title_format = "## [{version}](https://github.com/acme/demo/releases/tag/v{version}) - {project_date}"
            issue_format = "[#{issue}](https://github.com/acme/demo/pull/{issue})"
            """  # noqa: E501 (one TOML line, as written in real projects)
        ),
        changelog=f"# Changelog\n\n{START}\n\n"
        "## [0.1.0](https://github.com/acme/demo/releases/tag/v0.1.0) - 2026-01-01\n\n"
        "### Features\n\n- The first frobnicator. ([#1](https://github.com/acme/demo/pull/1))\n",
        files={},
        fragments={"news/31.feature.md": "Frobnicate in parallel.\n"},
        expect=("- Frobnicate in parallel. ([#31](https://github.com/acme/demo/pull/31))",),
    ),
}


def _project(base: Path, shape: Shape) -> GitRepo:
    pyproject = PYPROJECT + "\n[tool.towncrier]\n" + shape.towncrier
    repo = make_repo(base, pyproject=pyproject, changelog=shape.changelog)
    repo.commit("docs: news for the next release", {**shape.files, **shape.fragments})
    repo.git("push", "--quiet", "origin", "master")
    return repo


def _run(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return release_in(repo.work, capsys, *args)


def _state(repo: GitRepo) -> tuple[dict[str, bytes], str]:
    """Work tree, index and refs, local and remote."""
    files = {k: v for k, v in repo.snapshot().items() if not k.startswith(".git/")}
    files[".git/index"] = (repo.work / ".git" / "index").read_bytes()
    refs = repo.git("for-each-ref") + repo.git("--git-dir", str(repo.remote), "for-each-ref")
    return files, refs


@pytest.mark.parametrize("name", list(SHAPES))
def test_towncrier_writes_the_section_and_the_release_commits_the_fragments_removal(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    shape = SHAPES[name]
    repo = _project(tmp_path / "p", shape)
    before = _state(repo)
    old = changelog.parse(repo.read("CHANGELOG.md")).find("0.1.0")

    code, plan, err = _run(repo, capsys, "--bump", "minor", "--dry-run")
    assert code == 0, err
    assert _state(repo) == before  # the build ran in a throwaway clone
    assert "== notes (source: towncrier," in plan
    for path, text in shape.fragments.items():
        assert f"--- a/{path}\n+++ /dev/null\n@@ -1 +0,0 @@\n-{text}" in plan
    for line in shape.expect:
        assert f"\n+{line}\n" in plan  # in the changelog's diff
    for path in shape.files:
        assert path not in plan  # the template stays

    code, out, err = _run(repo, capsys, "--bump", "minor")
    assert code == 0, err
    assert out == "v0.2.0\n"
    assert repo.git("status", "--porcelain") == ""
    assert repo.remote_ref("refs/tags/v0.2.0") == repo.head()
    changed = repo.git("show", "--name-status", "--format=", "HEAD").splitlines()
    assert sorted(changed) == sorted(
        ["M\tCHANGELOG.md", "M\tpyproject.toml", *(f"D\t{p}" for p in shape.fragments)]
    )
    for path in shape.files:
        assert (repo.work / path).exists()

    text = repo.read("CHANGELOG.md")
    parsed = changelog.parse(text)
    section = changelog.notes(parsed, parsed.find("0.2.0"))
    for line in shape.expect:
        assert line in section.splitlines()
    assert "first frobnicator" not in section
    assert changelog.notes(parsed, parsed.find("0.1.0")) == changelog.notes(
        changelog.parse(before[0]["CHANGELOG.md"].decode()), old
    )
    assert text.index(START) < text.index("0.2.0") < text.index("0.1.0")
    message = repo.git("tag", "-l", "--format=%(contents)", "v0.2.0")
    assert message.strip() == f"v0.2.0\n\n{section.strip()}"

    # extract-notes (what publish puts on the GitHub Release) reads the same section back.
    assert extract_notes(["v0.2.0", "--changelog", str(repo.work / "CHANGELOG.md")]) == 0
    assert capsys.readouterr().out.strip() == section.strip()


@pytest.mark.parametrize(
    ("name", "kind"), [("default template", "feature"), ("project template, own types", "breaking")]
)
def test_no_fragments_is_one_line_and_changes_nothing(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], name: str, kind: str
) -> None:
    repo = _project(tmp_path / "p", replace(SHAPES[name], fragments={}))
    before = _state(repo)
    code, _, err = _run(repo, capsys, "--bump", "patch")
    assert code == 1
    assert problems(err) == [
        "release: towncrier found no news fragments for this release: add one (`towncrier "
        f"create 123.{kind}.md`) and commit it, or check [tool.towncrier] directory"
    ]
    assert _state(repo) == before


DEFAULT = SHAPES["default template"]


@pytest.mark.parametrize(
    ("towncrier", "args", "extra", "problem"),
    [
        (
            DEFAULT.towncrier,
            ("--notes-file", "notes.md"),
            {},
            "release: --notes-file cannot be used here: towncrier writes this release's section "
            "from the news fragments ([tool.towncrier]); add a fragment instead and drop "
            "--notes-file",
        ),
        (
            DEFAULT.towncrier,
            ("--notes-llm", "codex"),
            {},
            "release: --notes-llm cannot be used here: towncrier writes this release's section "
            "from the news fragments ([tool.towncrier]); add a fragment instead and drop "
            "--notes-llm",
        ),
        (
            'directory = "changelog.d"\nfilename = "NEWS.txt"\n',
            (),
            {"NEWS.txt": "Release notes\n=============\n"},
            "release: NEWS.txt ([tool.towncrier] filename) is neither Markdown nor "
            "reStructuredText: set filename to a .md or .rst file",
        ),
        (
            DEFAULT.towncrier,
            (),
            {"towncrier.toml": '[tool.towncrier]\nfilename = "CHANGELOG.md"\n'},
            "release: towncrier.toml: release reads towncrier's set-up from [tool.towncrier] in "
            "pyproject.toml only: move the table there (towncrier reads it there too)",
        ),
        (
            DEFAULT.towncrier + 'template = "changelog.d/broken.jinja"\n',
            (),
            {"changelog.d/broken.jinja": "{% for x in %}\n"},
            "release: towncrier build failed (jinja2.exceptions.TemplateSyntaxError: Expected an "
            "expression, got 'end of statement block'): fix the [tool.towncrier] set-up or the "
            "fragments (`towncrier build --draft` shows it)",
        ),
    ],
    ids=["notes-file", "notes-llm", "txt", "towncrier.toml", "broken template"],
)
def test_refusals_are_one_line_and_change_nothing(
    tmp_path: Path,
    git_env: Path,
    capsys: pytest.CaptureFixture[str],
    towncrier: str,
    args: tuple[str, ...],
    extra: dict[str, str],
    problem: str,
) -> None:
    shape = replace(DEFAULT, towncrier=towncrier, files=extra)
    repo = _project(tmp_path / "p", shape)
    (tmp_path / "notes.md").write_text("- Hand-written notes.\n")
    args = tuple(str(tmp_path / a) if a == "notes.md" else a for a in args)
    before = _state(repo)
    for _ in range(2):
        code, out, err = _run(repo, capsys, "--bump", "patch", *args)
        assert code == 1, err
        assert out == ""
        assert problems(err) == [problem]
        assert "Traceback" not in err
        assert _state(repo) == before


def test_a_conflicting_release_changelog_is_a_config_error(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path / "p", DEFAULT)
    text = repo.read("pyproject.toml").replace(
        '[tool.release]\n', '[tool.release]\nchangelog = "docs/CHANGES.md"\n'
    )
    repo.commit("chore: config", {"pyproject.toml": text})
    code, _, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 1
    assert problems(err) == [
        "release: [tool.release] changelog is docs/CHANGES.md but towncrier writes CHANGELOG.md "
        "([tool.towncrier] filename): drop one of them or make them the same file"
    ]


def test_a_failed_commit_puts_the_fragments_back(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path / "p", DEFAULT)
    before = _state(repo)
    hook = repo.hook("pre-commit", "echo 'lint failed' >&2; exit 1\n")
    code, _, err = _run(repo, capsys, "--bump", "patch")
    assert code == 1
    assert "nothing was committed and the files were restored" in problems(err)[0]
    assert _state(repo) == before
    assert repo.git("status", "--porcelain") == ""
    hook.unlink()
    code, _, err = _run(repo, capsys, "--bump", "patch")
    assert code == 0, err
    assert not list((repo.work / "changelog.d").glob("*.md"))


def test_a_run_killed_after_writing_is_finished_by_the_next_one(
    tmp_path: Path, git_env: Path
) -> None:
    repo = _project(tmp_path / "p", DEFAULT)
    base = repo.head()
    pidfile = tmp_path / "release.pid"
    hook = repo.hook(
        "pre-commit",
        f'while [ ! -s {pidfile} ]; do sleep 0.02; done\nkill -9 "$(cat {pidfile})"\nexit 1\n',
    )
    child = subprocess.Popen(
        release_argv("--bump", "patch"), cwd=repo.work, env=release_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pidfile.write_text(str(child.pid))
    _, err = child.communicate(timeout=120)
    assert child.returncode == -9, err
    hook.unlink()
    # Killed between writing and committing: the fragments are gone from the work tree only.
    assert repo.head() == base
    status = sorted(line.split() for line in repo.git("status", "--porcelain").splitlines())
    assert status == sorted(
        [["M", "CHANGELOG.md"], ["M", "pyproject.toml"], *(["D", p] for p in DEFAULT.fragments)]
    )
    again = subprocess.run(
        release_argv("--bump", "patch"), cwd=repo.work, env=release_env(),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert again.returncode == 0, again.stderr
    assert repo.git("rev-parse", "HEAD^") == base
    assert repo.remote_ref("refs/tags/v0.1.1") == repo.head()
    assert repo.git("status", "--porcelain") == ""
    text = repo.read("CHANGELOG.md")
    assert changelog.parse(text).find("0.1.1").line < changelog.parse(text).find("0.1.0").line
    assert text.count("0.1.1 (2026-03-04)") == 1


def test_a_fragment_that_is_not_utf8_is_one_line(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path / "p", DEFAULT)
    (repo.work / "changelog.d" / "14.misc.md").write_bytes("Caf\u00e9 au lait.\n".encode("latin-1"))
    repo.git("add", "-A")
    repo.git("commit", "-qm", "docs: a Latin-1 fragment")
    repo.git("push", "--quiet", "origin", "master")
    before = _state(repo)
    code, out, err = _run(repo, capsys, "--bump", "patch")
    assert (code, out) == (1, "")
    assert problems(err) == [
        "release: changelog.d/14.misc.md is not UTF-8 (byte 3): save it as UTF-8"
    ]
    assert "Traceback" not in err
    assert _state(repo) == before


@pytest.mark.parametrize("link", ["CHANGELOG.md", "changelog.d/15.misc.md"])
def test_a_file_committed_as_a_link_is_one_line_and_nothing_is_written_through_it(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    repo = _project(tmp_path / "p", DEFAULT)
    outside = tmp_path / "outside.md"
    outside.write_text(repo.read("CHANGELOG.md"))
    target = repo.work / link
    target.unlink(missing_ok=True)
    target.symlink_to(outside)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "docs: a link")
    repo.git("push", "--quiet", "origin", "master")
    before, outside_before = _state(repo), outside.read_bytes()
    code, out, err = _run(repo, capsys, "--bump", "patch")
    assert (code, out) == (1, "")
    assert problems(err) == [
        f"release: CHANGELOG.md links outside the repository (to {outside}): name a changelog "
        "inside it"
        if link == "CHANGELOG.md"
        else f"release: {link} is committed as a symbolic link (to {outside}): name the file "
        "itself in pyproject.toml ([tool.release] or [tool.towncrier] filename)"
    ]
    assert outside.read_bytes() == outside_before
    assert _state(repo) == before


def test_a_crlf_changelog_stays_crlf(
    tmp_path: Path, git_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shape = replace(DEFAULT, changelog=DEFAULT.changelog.replace("\n", "\r\n"))
    repo = _project(tmp_path / "p", shape)
    code, plan, err = _run(repo, capsys, "--bump", "patch", "--dry-run")
    assert code == 0, err
    changed = [line for line in plan.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert not any("first frobnicator" in line for line in changed)  # old lines stay as they are
    code, _, err = _run(repo, capsys, "--bump", "patch")
    assert code == 0, err
    data = (repo.work / "CHANGELOG.md").read_bytes()
    assert b"Frobnicate in parallel. (#12)\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")
