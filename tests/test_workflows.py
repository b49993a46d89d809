"""The GitHub workflows keep their rules (issue 5), and the workflow linters report nothing.

The rules: `run:` steps are only `nix flake check …` or `nix run .#<app> …` with no `${{ … }}`
inside; the only actions are actions/checkout and cachix/install-nix-action, pinned by full commit
SHA with the version in a comment; `permissions: {}` at the top and least privilege per job;
`persist-credentials: false`; every step named; the triggers, jobs, `needs`, `if` and
`concurrency` that make CI publish only from master and releases only from version tags.

The checker returns every broken rule, so the negative tests below can prove it catches each one.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from release.core.tagformat import TagFormat, validate
from tests.support.projects import project_at
from tests.support.tools import require_tool
from tests.test_nix import OTHER_APPS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
RELEASE = WORKFLOWS / "release.yml"


@dataclass(frozen=True)
class Pin:
    action: str
    commit: str
    version: str


# The only actions a workflow may use, at these commits (shared/reference/nix.md). Updating an
# action means changing this table too, on purpose.
PINS = {
    pin.action: pin
    for pin in (
        Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
        Pin("cachix/install-nix-action", "630ae543ea3a38a9a4166f03376c02c50f408342", "v31.11.0"),
    )
}
CHECKOUT = "actions/checkout"
INSTALL_NIX = "cachix/install-nix-action"

RUN_LINE = re.compile(r"nix (run \.#(?P<app>[a-z-]+)( .*)?|flake check( .*)?)")
USES = re.compile(r"(?P<action>[^@\s]+)@(?P<ref>\S+)")
COMMIT = re.compile(r"[0-9a-f]{40}")
EXPRESSION = re.compile(r"\$\{\{\s*(?P<body>.*?)\s*\}\}", re.DOTALL)
PER_REF_GROUP = re.compile(r"\$\{\{\s*github\.ref\s*\}\}")
TOKENS = {"${{ github.token }}", "${{ secrets.GITHUB_TOKEN }}"}
PUBLISH = "nix run .#publish"
# publish without the image in its closure, for the job that builds none.
PUBLISH_INDEX = "nix run .#publish-index"
PUBLISH_APPS = frozenset({"publish", "publish-index"})
# Multi-arch: one job per platform on its own runner pushes only its per-platform tag; the last
# job assembles the index from those tags (images cannot travel between jobs as artifacts), with
# the app that carries no image. On a tag build each image gets its SBOM, the index and the
# Release the last job's (`--sbom` alone: the SBOM the flake app names).
RUNNERS = {"ubuntu-24.04": "linux/amd64", "ubuntu-24.04-arm": "linux/arm64"}
PLATFORM_PUSH = f"{PUBLISH} -- --via registry --platform-only"
INDEX_PUSH = f"{PUBLISH_INDEX} -- --via registry --from-platform-tags {','.join(RUNNERS.values())}"
SBOM = " --sbom"
FLAKE_CHECK = "nix flake check -L"
# Permission scopes a job may ask for, and the levels it may ask at (which job may ask for
# which level is checked in `_job_permissions`).
SCOPES = {"contents": {"read", "write"}, "packages": {"write"}}


@dataclass(frozen=True)
class Workflow:
    path: Path
    raw: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.detail}"


def load(path: Path) -> Workflow:
    raw = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(raw)
    assert isinstance(doc, dict), f"{path.name} is not a YAML mapping"
    # PyYAML reads YAML 1.1, where the bare key `on` is the boolean True.
    if True in doc:
        doc["on"] = doc.pop(True)
    return Workflow(path=path, raw=raw, doc=doc)


def flake_apps() -> frozenset[str]:
    """The flake's apps: one per console script in pyproject.toml, and those running a script
    under another name (tests/test_nix.py checks the flake has exactly these)."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        scripts = tomllib.load(handle)["project"]["scripts"]
    return frozenset([*scripts, *OTHER_APPS])


def release_tag_glob() -> str:
    """The tag glob of this project's release tags: its [tool.release] tag-format, else the
    default `v{version}` (a CI checkout has no tags to infer it from)."""
    configured = project_at(ROOT).settings.tag_format
    return (validate(configured) if configured else TagFormat()).glob()


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps")
    return steps if isinstance(steps, list) else []


def _runs(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]).strip() for step in _steps(job) if "run" in step]


def _action(step: dict[str, Any]) -> str | None:
    match = USES.fullmatch(str(step.get("uses", "")))
    return match["action"] if match else None


def _pushes(job: dict[str, Any]) -> bool:
    return any(
        RUN_LINE.fullmatch(run) and run.split()[2].removeprefix(".#") in PUBLISH_APPS
        for run in _runs(job)
    )


def _run_step(where: str, step: dict[str, Any], apps: frozenset[str]) -> list[Problem]:
    script = step["run"]
    if not isinstance(script, str):
        return [Problem("run-command", where, f"run is not a string: {script!r}")]
    problems = []
    if "${{" in script:
        problems.append(
            Problem("run-expr", where, "`${{ … }}` inside run: pass values through env:")
        )
    line = script.strip()
    match = RUN_LINE.fullmatch(line)
    if match is None:
        problems.append(
            Problem(
                "run-command", where, f"{line!r} is not `nix run .#<app> …`/`nix flake check …`"
            )
        )
    elif match["app"] is not None and match["app"] not in apps:
        problems.append(
            Problem("unknown-app", where, f"{match['app']!r} is not a flake app ({sorted(apps)})")
        )
    if match is not None and match["app"] in PUBLISH_APPS:
        token = (step.get("env") or {}).get("GITHUB_TOKEN")
        if token not in TOKENS:
            problems.append(
                Problem("token-env", where, f"publish needs env GITHUB_TOKEN from {sorted(TOKENS)}")
            )
    return problems


def _uses_step(where: str, step: dict[str, Any], raw: str) -> list[Problem]:
    uses = str(step["uses"])
    match = USES.fullmatch(uses)
    if match is None or match["action"] not in PINS:
        return [Problem("uses-other", where, f"{uses!r} is not one of {sorted(PINS)}")]
    pin = PINS[match["action"]]
    problems = []
    if not COMMIT.fullmatch(match["ref"]):
        problems.append(Problem("uses-pinned", where, f"{uses!r} is not pinned to a commit SHA"))
    elif match["ref"] != pin.commit:
        problems.append(
            Problem("uses-pinned", where, f"{uses!r}: expected {pin.action}@{pin.commit}")
        )
    # Every line using this reference carries the version comment (jobs repeat the same steps).
    tails = re.findall(rf"^[\s-]*uses:\s*{re.escape(uses)}(.*)$", raw, re.MULTILINE)
    comment = re.compile(rf"\s+#\s*{re.escape(pin.version)}\s*")
    if not tails or not all(comment.fullmatch(tail) for tail in tails):
        problems.append(
            Problem("uses-comment", where, f"{uses!r} lacks the comment `# {pin.version}`")
        )
    if (
        match["action"] == CHECKOUT
        and (step.get("with") or {}).get("persist-credentials") is not False
    ):
        problems.append(
            Problem("persist-credentials", where, "checkout needs persist-credentials: false")
        )
    return problems


def _job_permissions(name: str, job: dict[str, Any], contents_write: bool) -> list[Problem]:
    where = f"jobs.{name}.permissions"
    granted = job.get("permissions")
    if not isinstance(granted, dict):
        return [Problem("permissions-job", where, f"must be a mapping of scopes, not {granted!r}")]
    problems = [
        Problem("permissions-job", where, f"{scope}: {level} is not allowed")
        for scope, level in granted.items()
        if level not in SCOPES.get(scope, set())
    ]
    wanted_contents = "write" if contents_write else "read"
    if granted.get("contents") != wanted_contents:
        problems.append(Problem("permissions-job", where, f"needs contents: {wanted_contents}"))
    pushes = _pushes(job)
    if pushes != (granted.get("packages") == "write"):
        need = "needs" if pushes else "must not ask for"
        problems.append(Problem("permissions-job", where, f"{need} packages: write"))
    return problems


def check_common(
    wf: Workflow, apps: frozenset[str], contents_write_jobs: frozenset[str] = frozenset()
) -> list[Problem]:
    """The rules every workflow follows; `contents_write_jobs` may write repository contents."""
    doc = wf.doc
    problems = []
    if doc.get("permissions") != {}:
        problems.append(Problem("permissions-top", "permissions", "must be `{}` at the top"))
    if "defaults" in doc:
        problems.append(Problem("shell", "defaults", "no default shell or directory for run"))
    if not isinstance(doc.get("name"), str):
        problems.append(Problem("step-name", "name", "the workflow needs a name"))
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return [*problems, Problem("jobs", "jobs", "no jobs")]
    for name, job in jobs.items():
        where = f"jobs.{name}"
        if not isinstance(job.get("name"), str):
            problems.append(Problem("step-name", where, "the job needs a name"))
        timeout = job.get("timeout-minutes")
        if not isinstance(timeout, int) or timeout <= 0:
            problems.append(Problem("timeout", where, "needs a positive timeout-minutes"))
        if "defaults" in job:
            problems.append(Problem("shell", where, "no default shell or directory for run"))
        problems.extend(_job_permissions(name, job, name in contents_write_jobs))
        steps = _steps(job)
        actions = [_action(step) for step in steps if "uses" in step]
        if actions[:2] != [CHECKOUT, INSTALL_NIX] or not all("uses" in s for s in steps[:2]):
            problems.append(
                Problem("job-steps", where, f"must start with {CHECKOUT} then {INSTALL_NIX}")
            )
        for index, step in enumerate(steps):
            at = f"{where}.steps[{index}]"
            if not isinstance(step.get("name"), str) or not step["name"].strip():
                problems.append(Problem("step-name", at, "every step needs a name:"))
            if ("run" in step) == ("uses" in step):
                problems.append(Problem("run-command", at, "a step has exactly one of run/uses"))
            if "shell" in step:
                problems.append(Problem("shell", at, "no shell: override (run is a nix command)"))
            if "run" in step:
                problems.extend(_run_step(at, step, apps))
            if "uses" in step:
                problems.extend(_uses_step(at, step, wf.raw))
    return problems


def _conjuncts(condition: object) -> set[str]:
    text = str(condition).strip()
    match = EXPRESSION.fullmatch(text)
    body = match["body"] if match else text
    return {" ".join(part.split()) for part in body.split("&&")}


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _concurrency(doc: dict[str, Any], cancel: bool) -> list[Problem]:
    concurrency = doc.get("concurrency")
    if not isinstance(concurrency, dict):
        return [Problem("concurrency", "concurrency", "needs a per-ref concurrency group")]
    problems = []
    if not PER_REF_GROUP.search(str(concurrency.get("group", ""))):
        problems.append(Problem("concurrency", "concurrency.group", "must contain github.ref"))
    if concurrency.get("cancel-in-progress") is not cancel:
        problems.append(
            Problem(
                "concurrency", "concurrency.cancel-in-progress", f"must be {str(cancel).lower()}"
            )
        )
    return problems


def _job_shape(jobs: dict[str, Any], name: str, runs: list[str], needs: list[str]) -> list[Problem]:
    job = jobs.get(name)
    if not isinstance(job, dict):
        return [Problem("jobs", f"jobs.{name}", "missing")]
    problems = []
    if _runs(job) != runs:
        problems.append(Problem("job-steps", f"jobs.{name}", f"runs {_runs(job)}, expected {runs}"))
    if _needs(job) != needs:
        problems.append(Problem("needs", f"jobs.{name}.needs", f"is {_needs(job)}, not {needs}"))
    return problems


def _platform_jobs(jobs: dict[str, Any], index: str, *, sbom: bool) -> list[Problem]:
    """`image`: a matrix job, one runner per platform, pushing only its per-platform tag after
    `check`; `index`: the last job, assembling the index of exactly those platforms; `sbom`:
    both attach the SBOM the flake app names."""
    tail = SBOM if sbom else ""
    problems = _job_shape(jobs, "image", [PLATFORM_PUSH + tail], ["check"])
    problems += _job_shape(jobs, index, [INDEX_PUSH + tail], ["image"])
    job = jobs.get("image") or {}
    strategy = job.get("strategy") or {}
    include = (strategy.get("matrix") or {}).get("include")
    found = {
        str(row.get("runner")): str(row.get("platform"))
        for row in include or [] if isinstance(row, dict)
    }
    if found != RUNNERS or len(include or []) != len(RUNNERS):
        problems.append(
            Problem("matrix", "jobs.image.strategy.matrix.include", f"must be runner/platform "
                    f"{RUNNERS}, is {found}")
        )
    if job.get("runs-on") != "${{ matrix.runner }}":
        problems.append(Problem("matrix", "jobs.image.runs-on", "must be ${{ matrix.runner }}"))
    if strategy.get("fail-fast") is not False:
        problems.append(
            Problem("matrix", "jobs.image.strategy.fail-fast", "must be false (one platform's "
                    "failure never cancels the other's push)")
        )
    return problems


def check_ci(wf: Workflow, apps: frozenset[str], branch: str) -> list[Problem]:
    """ci.yml: check on pushes to `branch` and on pull requests; publish only on pushes."""
    doc = wf.doc
    problems = check_common(wf, apps)
    triggers = doc.get("on")
    if not isinstance(triggers, dict) or set(triggers) != {"push", "pull_request"}:
        problems.append(Problem("triggers", "on", "must be exactly push and pull_request"))
    else:
        if triggers["push"] != {"branches": [branch]}:
            problems.append(Problem("triggers", "on.push", f"must be branches: [{branch}] only"))
        if triggers["pull_request"] not in (None, {}):
            problems.append(Problem("triggers", "on.pull_request", "must run for every PR"))
    jobs = doc.get("jobs") or {}
    if set(jobs) != {"check", "image", "publish"}:
        problems.append(
            Problem("jobs", "jobs", f"{sorted(jobs)}: expected check, image and publish")
        )
    problems += _job_shape(jobs, "check", [FLAKE_CHECK], [])
    problems += _platform_jobs(jobs, "publish", sbom=False)
    wanted = {"github.event_name == 'push'", f"github.ref == 'refs/heads/{branch}'"}
    for name in ("image", "publish"):
        if _conjuncts((jobs.get(name) or {}).get("if", "")) != wanted:
            problems.append(
                Problem("if", f"jobs.{name}.if", f"must be {' && '.join(sorted(wanted))}")
            )
    if "if" in (jobs.get("check") or {}):
        problems.append(Problem("if", "jobs.check.if", "check runs for every event"))
    return problems + _concurrency(doc, cancel=True)


def check_release(wf: Workflow, apps: frozenset[str]) -> list[Problem]:
    """release.yml: on version tags, check, then publish image and Release; never cancelled."""
    doc = wf.doc
    problems = check_common(wf, apps, contents_write_jobs=frozenset({"release"}))
    # The project's own release tags, pre-releases included (`v1.3.0rc1`, `v2.0.0.dev5`), and
    # not a moving major tag (`v2`): the glob of its tag format.
    glob = release_tag_glob()
    if doc.get("on") != {"push": {"tags": [glob]}}:
        problems.append(Problem("triggers", "on", f"must be push of tags [{glob!r}] only"))
    jobs = doc.get("jobs") or {}
    if set(jobs) != {"check", "image", "release"}:
        problems.append(
            Problem("jobs", "jobs", f"{sorted(jobs)}: expected check, image and release")
        )
    problems += _job_shape(jobs, "check", [FLAKE_CHECK], [])
    problems += _platform_jobs(jobs, "release", sbom=True)
    problems += [
        Problem("if", f"jobs.{name}.if", "a release run never skips a job")
        for name, job in jobs.items()
        if isinstance(job, dict) and "if" in job
    ]
    return problems + _concurrency(doc, cancel=False)


@pytest.fixture(scope="module")
def apps() -> frozenset[str]:
    return flake_apps()


@pytest.fixture(scope="module")
def branch() -> str:
    return project_at(ROOT).settings.branch


def test_exactly_the_checked_workflows_exist() -> None:
    found = {path.name for path in WORKFLOWS.iterdir()}
    assert found == {CI.name, RELEASE.name}, "a new workflow needs its rules in this file"


def test_ci_follows_the_rules(apps: frozenset[str], branch: str) -> None:
    problems = check_ci(load(CI), apps, branch)
    assert not problems, "\n".join(map(str, problems))


def test_release_follows_the_rules(apps: frozenset[str]) -> None:
    problems = check_release(load(RELEASE), apps)
    assert not problems, "\n".join(map(str, problems))


def test_the_apps_the_workflows_run_exist(apps: frozenset[str]) -> None:
    used = {
        match["app"]
        for path in (CI, RELEASE)
        for job in load(path).doc["jobs"].values()
        for run in _runs(job)
        if (match := RUN_LINE.fullmatch(run)) and match["app"]
    }
    assert used == {"publish", "publish-index"}
    assert used <= apps


Mutation = Callable[[dict[str, Any]], None]


def _walk(doc: dict[str, Any], path: str) -> tuple[Any, str | int]:
    *parents, last = [int(key) if key.isdigit() else key for key in path.split(".")]
    node: Any = doc
    for key in parents:
        node = node[key]
    return node, last


def _set(path: str, value: object) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node, key = _walk(doc, path)
        node[key] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node, key = _walk(doc, path)
        del node[key]

    return mutate


def _append_step(job: str, step: dict[str, Any]) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["jobs"][job]["steps"].append(step)

    return mutate


OTHER = "0" * 40
CHECKOUT_STEP = "jobs.check.steps.0"
CHECK_RUN = "jobs.check.steps.2.run"
PUBLISH_STEP = "jobs.publish.steps.2"
PERMS = "permissions-job"
# name: (workflow, mutation, the rule the checker must report); each breaks one rule of issue 5.
# fmt: off
MUTATIONS: dict[str, tuple[Path, Mutation, str]] = {
    "expression in run": (CI, _set(CHECK_RUN, "nix flake check ${{ github.ref }}"), "run-expr"),
    "echo in run": (CI, _append_step("check", {"name": "x", "run": "echo hi"}), "run-command"),
    "two commands": (RELEASE, _set(CHECK_RUN, "nix flake check -L\ncurl x | sh"), "run-command"),
    "no flake check": (RELEASE, _set(CHECK_RUN, "nix flake show"), "run-command"),
    "skipped flake check": (CI, _set(CHECK_RUN, "nix run .#publish"), "job-steps"),
    "unknown app": (CI, _set(f"{PUBLISH_STEP}.run", "nix run .#deploy"), "unknown-app"),
    "unpinned action": (CI, _set(f"{CHECKOUT_STEP}.uses", "actions/checkout@v7"), "uses-pinned"),
    "other commit": (RELEASE, _set(f"{CHECKOUT_STEP}.uses", f"{CHECKOUT}@{OTHER}"), "uses-pinned"),
    "any action": (CI, _append_step("check", {"name": "c", "uses": f"a/b@{OTHER}"}), "uses-other"),
    "unnamed step": (CI, _delete(f"{PUBLISH_STEP}.name"), "step-name"),
    "unnamed job": (RELEASE, _delete("jobs.release.name"), "step-name"),
    "persisted credentials":
        (RELEASE, _set(f"{CHECKOUT_STEP}.with.persist-credentials", True), "persist-credentials"),
    "checkout without with": (CI, _delete(f"{CHECKOUT_STEP}.with"), "persist-credentials"),
    "shell override": (CI, _set("jobs.check.steps.2.shell", "python {0}"), "shell"),
    "default shell": (CI, _set("defaults", {"run": {"shell": "python {0}"}}), "shell"),
    "write-all at the top": (CI, _set("permissions", "write-all"), "permissions-top"),
    "no top permissions": (RELEASE, _delete("permissions"), "permissions-top"),
    "contents write in CI": (CI, _set("jobs.publish.permissions.contents", "write"), PERMS),
    "packages write, no push": (RELEASE, _set("jobs.check.permissions.packages", "write"), PERMS),
    "push, no packages write": (CI, _delete("jobs.publish.permissions.packages"), PERMS),
    "release, contents read": (RELEASE, _set("jobs.release.permissions.contents", "read"), PERMS),
    "id-token": (RELEASE, _set("jobs.release.permissions.id-token", "write"), PERMS),
    "job inherits permissions": (CI, _delete("jobs.check.permissions"), PERMS),
    "no timeout": (RELEASE, _delete("jobs.release.timeout-minutes"), "timeout"),
    "publish without token": (CI, _delete(f"{PUBLISH_STEP}.env"), "token-env"),
    "publish on PRs": (CI, _set("jobs.publish.if", "github.ref == 'refs/heads/master'"), "if"),
    "publish without if": (CI, _delete("jobs.publish.if"), "if"),
    "publish before check": (CI, _delete("jobs.publish.needs"), "needs"),
    "release before check": (RELEASE, _delete("jobs.release.needs"), "needs"),
    "pull_request_target": (CI, _set("on.pull_request_target", None), "triggers"),
    "push on every branch": (CI, _set("on.push", None), "triggers"),
    "release on any tag": (RELEASE, _set("on.push.tags", ["*"]), "triggers"),
    "CI without cancel": (CI, _set("concurrency.cancel-in-progress", False), "concurrency"),
    "release cancelled": (RELEASE, _set("concurrency.cancel-in-progress", True), "concurrency"),
    "one group for all refs": (RELEASE, _set("concurrency.group", "release"), "concurrency"),
    "extra job": (RELEASE, _set("jobs.other", {"name": "o", "runs-on": "x"}), "jobs"),
    "no arm64 runner": (CI, _delete("jobs.image.strategy.matrix.include.1"), "matrix"),
    "one runner for all": (RELEASE, _set("jobs.image.runs-on", "ubuntu-24.04"), "matrix"),
    "fail-fast matrix": (CI, _delete("jobs.image.strategy.fail-fast"), "matrix"),
    "platform job moves tags": (RELEASE, _set("jobs.image.steps.2.run", PUBLISH), "job-steps"),
    "index job builds the image":
        (CI, _set(f"{PUBLISH_STEP}.run", INDEX_PUSH.replace(PUBLISH_INDEX, PUBLISH)), "job-steps"),
    "release without the SBOM":
        (RELEASE, _set("jobs.release.steps.2.run", INDEX_PUSH), "job-steps"),
    "images without their SBOM":
        (RELEASE, _set("jobs.image.steps.2.run", PLATFORM_PUSH), "job-steps"),
    "index app without token": (RELEASE, _delete("jobs.release.steps.2.env"), "token-env"),
    "index app, no packages write":
        (RELEASE, _delete("jobs.release.permissions.packages"), PERMS),
    "index before the images": (CI, _set("jobs.publish.needs", "check"), "needs"),
    "index of one platform":
        (RELEASE, _set("jobs.release.steps.2.run",
                       f"{PUBLISH} -- --via registry --from-platform-tags linux/amd64"),
         "job-steps"),
    "images on pull requests": (CI, _delete("jobs.image.if"), "if"),
}
# fmt: on


def _check(wf: Workflow, apps: frozenset[str], branch: str) -> list[Problem]:
    return check_ci(wf, apps, branch) if wf.path == CI else check_release(wf, apps)


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_the_checker_reports_a_broken_rule(case: str, apps: frozenset[str], branch: str) -> None:
    path, mutate, rule = MUTATIONS[case]
    original = load(path)
    broken = replace(original, doc=copy.deepcopy(original.doc))
    mutate(broken.doc)
    rules = {problem.rule for problem in _check(broken, apps, branch)}
    assert rule in rules, f"{case}: expected [{rule}], got {sorted(rules)}"
    assert not _check(original, apps, branch), "the mutation must not touch the loaded original"


def test_the_checker_reports_a_missing_version_comment(apps: frozenset[str]) -> None:
    original = load(RELEASE)
    pin = PINS[CHECKOUT]
    raw = original.raw.replace(f"@{pin.commit} # {pin.version}", f"@{pin.commit}", 1)
    assert raw != original.raw
    rules = {problem.rule for problem in check_release(replace(original, raw=raw), apps)}
    assert rules == {"uses-comment"}


def test_the_checker_reads_on_as_a_key_not_a_boolean() -> None:
    doc = load(CI).doc
    assert all(isinstance(key, str) for key in doc)
    assert "push" in doc["on"]


# The linters, run the way .ci/run and `nix flake check` run them. Each also gets one broken
# workflow, to prove the invocation really lints (and is not, say, collecting no files).

BROKEN = """\
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.head_commit.message }}"
"""
BROKEN_SCHEMA = BROKEN.replace("    runs-on:", "    bogus: 1\n    runs-on:")


def _workflow_files() -> list[str]:
    return [str(path) for path in sorted(WORKFLOWS.glob("*.y*ml"))]


def _lint(*argv: str) -> tuple[int, str, str]:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    return done.returncode, done.stdout, done.stderr


def _actionlint(files: list[str]) -> tuple[int, list[Any], str]:
    code, out, err = _lint("actionlint", "-no-color", "-format", "{{json .}}", *files)
    return code, json.loads(out or "[]"), err


# --offline: no network here or in the Nix sandbox; --strict-collection: a file zizmor cannot
# read fails the run; --no-ignores: a finding is fixed, never silenced by a comment or config;
# pedantic: code smells count too (the auditor persona also reports nothing today).
ZIZMOR = (
    "zizmor", "--offline", "--strict-collection", "--no-ignores", "--persona=pedantic",
    "--format=json", "--no-progress", "--color=never",
)  # fmt: skip


def _zizmor(target: str) -> tuple[int, list[Any], str]:
    code, out, err = _lint(*ZIZMOR, target)
    return code, json.loads(out or "[]"), err


def _schema(files: list[str]) -> tuple[int, dict[str, Any], str]:
    code, out, err = _lint(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", "-o", "json", *files
    )
    return code, json.loads(out), err


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "broken.yml").write_text(BROKEN, encoding="utf-8")
    return folder


def test_actionlint_reports_nothing(tmp_path: Path) -> None:
    require_tool("actionlint")
    code, findings, err = _actionlint(_workflow_files())
    assert (code, findings) == (0, []), json.dumps(findings, indent=1) + err
    bad = tmp_path / "bad.yml"
    bad.write_text(BROKEN_SCHEMA, encoding="utf-8")
    code, findings, _ = _actionlint([str(bad)])
    assert code != 0
    assert any("bogus" in finding["message"] for finding in findings)


def test_zizmor_reports_nothing(broken: Path) -> None:
    require_tool("zizmor")
    code, findings, err = _zizmor(str(WORKFLOWS))
    assert (code, findings) == (0, []), json.dumps(findings, indent=1) + err
    code, findings, _ = _zizmor(str(broken))
    assert code != 0
    found = {finding["ident"] for finding in findings}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= found


def test_check_jsonschema_passes(tmp_path: Path) -> None:
    require_tool("check-jsonschema")
    code, report, err = _schema(_workflow_files())
    assert (code, report["status"]) == (0, "ok"), json.dumps(report, indent=1) + err
    bad = tmp_path / "bad.yml"
    bad.write_text(BROKEN_SCHEMA, encoding="utf-8")
    code, report, _ = _schema([str(bad)])
    assert (code, report["status"]) == (1, "fail")


@pytest.mark.parametrize(
    ("tag", "triggers"),
    [("v1.2.3", True), ("v1.3.0rc1", True), ("v2.0.0.dev5", True), ("v2026.8.17", True),
     ("v24.2", True), ("v2", False), ("vnext", False), ("1.2.3", False)],
)
def test_the_release_trigger_matches_the_projects_release_tags(tag: str, triggers: bool) -> None:
    [glob] = load(RELEASE).doc["on"]["push"]["tags"]
    # GitHub's filter `*` matches any characters but `/`; `[0-9]` one digit (as fnmatch).
    assert fnmatch.fnmatchcase(tag, glob) is triggers
