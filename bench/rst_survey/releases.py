"""rst-survey releases: `release` end to end on real reST projects' histories.

Each project is a full history (the search tool's `fetch` puts it at
/work/.mirror/OWNER+NAME/repo, or pass --mirrors DIR laid out the same way): it is cloned into a
temporary work tree with a bare remote of its own, and `release --bump patch` runs with at most
one line of configuration. Then the invariants of the adoption survey are checked: the tag and
the branch are on the remote at the release commit (a "Back to development" commit may follow
it), the tree is clean, the release commit changes the changelog, the file from the previous
release down is byte for byte as before, the new section holds the notes, and the file is
still reST docutils reads without a new complaint.

    PYTHONPATH=. python bench/rst_survey/releases.py

Nothing fetched is kept: the work trees live in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from release.core import changelog
from release.core.changelog.rst.model import RstChangelog


@dataclass(frozen=True)
class Project:
    mirror: str  # OWNER+NAME
    changelog: str
    config: str = ""  # the one line of [tool.release], if any
    fragment: tuple[str, str] | None = None  # a towncrier news fragment to add (path, text)


PROJECTS = (
    Project("pallets-eco+blinker", "CHANGES.rst"),  # Version X / Unreleased, empty
    Project("tkem+cachetools", "CHANGELOG.rst"),  # vX.Y.Z (date), no unreleased section
    Project("pytest-dev+pytest-mock", "CHANGELOG.rst"),  # Releases / Unreleased / X.Y.Z
    Project("adamchainz+django-cors-headers", "CHANGELOG.rst"),  # Unreleased / X.Y.Z (date)
    Project("aio-libs+async-timeout", "CHANGES.rst",  # towncrier writing reST
            fragment=("CHANGES/999.bugfix", "Survey fix.\n")),
    Project("jaraco+zipp", "NEWS.rst", config='changelog = "NEWS.rst"'),  # towncrier.toml
)
NOTES = "- A change made by the survey.\n"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def _env(home: Path) -> dict[str, str]:
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Survey\n\temail = survey@example.org\n"
        "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GIT")}
    return {**keep, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}


def run(project: Project, mirrors: Path, base: Path) -> list[str]:
    """The invariants that failed (empty: all held), or why it did not release."""
    mirror = mirrors / project.mirror / "repo"
    if not mirror.exists():
        return [f"no history at {mirror}: fetch github:{project.mirror.replace('+', '/')}"]
    work, remote = base / "work", base / "remote.git"
    home = base / "home"
    home.mkdir(parents=True)
    env = _env(home)
    os.environ.update({"HOME": env["HOME"], "GIT_CONFIG_NOSYSTEM": "1"})
    subprocess.run(["git", "clone", "-q", "--bare", str(mirror), str(remote)], check=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True)
    branch = _git(work, "symbolic-ref", "--short", "HEAD").strip()
    changed: list[str] = []
    if project.config:
        text = (work / "pyproject.toml").read_text()
        head = "[tool.release]\n"
        text = text.replace(head, head + project.config + "\n") if head in text else \
            text + f"\n{head}{project.config}\n"
        (work / "pyproject.toml").write_text(text)
        changed.append("pyproject.toml")
    if project.fragment:
        path, body = project.fragment
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(body)
        changed.append(path)
    if changed:
        _git(work, "add", *changed)
        _git(work, "commit", "-q", "-m", "survey: set-up")
        _git(work, "push", "-q", "origin", branch)
    before = (work / project.changelog).read_text(encoding="utf-8")
    old = changelog.read(before, project.changelog)
    assert isinstance(old, RstChangelog)
    unreleased = old.unreleased_sections
    args = ["--bump", "patch"]
    notes_file = base / "notes.md"
    if project.fragment is None and not (unreleased and unreleased[0].body.strip()):
        notes_file.write_text(NOTES)
        args += ["--notes-file", str(notes_file)]
    command = [sys.executable, "-c", "from release.apps.release.cli import main; "
               "raise SystemExit(main())", "-C", str(work), *args]
    done = subprocess.run(command, capture_output=True, text=True, env={
        **env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.startswith("release:")]
        return [f"release exited {done.returncode}: {' | '.join(lines) or done.stderr[-300:]}"]
    tag = done.stdout.strip()
    problems = []
    head = _git(work, "rev-parse", "HEAD").strip()
    tagged = _git(work, "rev-parse", f"refs/tags/{tag}^{{commit}}").strip()
    released = _git(work, "show", f"{tagged}:{project.changelog}")
    if tagged != head:  # a "Back to development" commit may follow the release (X.Y.Z.dev)
        if _git(work, "rev-parse", "HEAD^").strip() != tagged:
            problems.append(f"HEAD is not the release commit {tagged[:12]} or one after it")
        # ... opening the next pending section, and changing nothing else of the changelog
        now = changelog.read((work / project.changelog).read_text(encoding="utf-8"),
                             project.changelog)
        kept = changelog.read(released, project.changelog)
        if kept.releases and (not now.unreleased_sections or not now.text.endswith(
                released[kept.releases[0].start :])):
            problems.append("the back-to-development commit changed more than a new section")
    if _git(work, "status", "--porcelain").strip():
        problems.append("the tree is not clean")
    on_remote = _git(remote, "rev-parse", f"refs/tags/{tag}^{{commit}}").strip()
    if on_remote != tagged:
        problems.append(f"the remote's tag {tag} is at {on_remote[:12]}, not {tagged[:12]}")
    if _git(remote, "rev-parse", f"refs/heads/{branch}").strip() != head:
        problems.append(f"the remote's {branch} is not the release commit")
    files = _git(work, "show", "--name-only", "--format=", tagged).split()
    if project.changelog not in files:
        problems.append(f"the release commit does not change {project.changelog}")
    after = released
    new = changelog.read(after, project.changelog)
    assert isinstance(new, RstChangelog)
    version = tag.lstrip("v")
    section = new.find_any(version)
    if project.fragment is None and NOTES.strip() not in section.body and not (
        unreleased and unreleased[0].body.strip() == section.body.strip()
    ):
        problems.append(f"the new section does not hold the notes: {section.body[:80]!r}")
    if project.fragment is not None and "Survey fix." not in section.body:
        problems.append("towncrier's section does not hold the fragment")
    if old.releases and not after.endswith(before[old.releases[0].start :]):
        problems.append("the file from the previous release down changed")
    if len(new.messages) > len(old.messages):
        problems.append(f"docutils complains anew: {new.messages[-1]}")
    title = section.title
    print(f"{project.mirror}: released {tag}: `{title}` + {len(section.body)} bytes of notes; "
          f"commit changes {', '.join(files)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    failed = 0
    for project in PROJECTS:
        with tempfile.TemporaryDirectory() as tmp:
            problems = run(project, args.mirrors, Path(tmp))
        failed += bool(problems)
        for problem in problems:
            print(f"{project.mirror}: {problem}")
    print(f"rst-survey releases: {len(PROJECTS) - failed}/{len(PROJECTS)} projects released "
          "with every invariant holding")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
