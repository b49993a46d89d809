"""The GitHub Release client against a local GitHub API checked by GitHub's OpenAPI description."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from release.shell.github import (
    Action,
    ExistingRelease,
    ReleaseResult,
    ReleaseSpec,
    ReleaseStatus,
    decide,
    upsert_release,
)
from release.shell.github_api import (
    GitHubError,
    GitHubUnavailable,
    PermissionDenied,
    RepositoryNotFound,
    RetryPolicy,
    TokenRejected,
)
from release.shell.retry import Backoff
from tests.support import openapi
from tests.support.github_fake import REPOSITORY, FakeGitHub
from tests.support.tools import REQUIRE_ENV

# Small waits so fault tests take well under a second; the bounds are the same code as in CI.
FAST = RetryPolicy(
    backoff=Backoff(attempts=3, first_delay=0.02, max_delay=0.05),
    max_wait=0.1,
    timeout=1,
    seconds_between_requests=None,
    seconds_between_writes=None,
)
BODY = "### Added\n\n- Image publishing.\n"


def spec(
    tag: str = "v1.2.3", body: str = BODY, *, prerelease: bool = False, repository: str = REPOSITORY
) -> ReleaseSpec:
    return ReleaseSpec(repository=repository, tag=tag, title=tag, body=body, prerelease=prerelease)


def upsert(
    api: FakeGitHub,
    wanted: ReleaseSpec,
    *,
    dry_run: bool = False,
    token: str | None = None,
    policy: RetryPolicy = FAST,
) -> ReleaseResult:
    return upsert_release(
        wanted,
        token=api.token if token is None else token,
        api_url=api.url,
        dry_run=dry_run,
        policy=policy,
    )


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # PyGithub and urllib3 log requests at DEBUG: capture them so the token check sees them.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="github"):
        yield


def test_creates_a_missing_release(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.CREATED
    [release] = github_api.find("v1.2.3")
    assert (release["name"], release["body"], release["prerelease"], release["draft"]) == (
        "v1.2.3",
        BODY,
        False,
        False,
    )
    assert (result.url, result.id) == (release["html_url"], release["id"])
    [post] = github_api.writes
    assert (post.method, post.path) == ("POST", f"/repos/{REPOSITORY}/releases")
    assert post.body["tag_name"] == "v1.2.3"
    line = f"step=release tag=v1.2.3 url={release['html_url']} status=created"
    assert line in capsys.readouterr().err


def test_prerelease_version_makes_a_prerelease_not_marked_latest(github_api: FakeGitHub) -> None:
    upsert(github_api, spec("v2.0.0-rc.1", prerelease=True))

    [release] = github_api.find("v2.0.0-rc.1")
    assert release["prerelease"] is True
    assert github_api.writes[0].body["make_latest"] == "false"


def test_backport_is_not_marked_latest(github_api: FakeGitHub) -> None:
    wanted = ReleaseSpec(
        repository=REPOSITORY,
        tag="v1.4.1",
        title="v1.4.1",
        body=BODY,
        prerelease=False,
        latest=False,
    )
    upsert(github_api, wanted)

    assert github_api.writes[0].body["make_latest"] == "false"


def test_rerun_with_same_content_sends_no_write(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    first = upsert(github_api, spec())
    capsys.readouterr()
    sent = len(github_api.requests)

    again = upsert(github_api, spec())

    assert again == ReleaseResult(ReleaseStatus.UNCHANGED, first.url, first.id)
    assert len(github_api.writes) == 1  # the first run's POST only
    assert all(call.method == "GET" for call in github_api.requests[sent:])
    assert "status=unchanged" in capsys.readouterr().err


def test_changed_body_is_patched_in_place(github_api: FakeGitHub) -> None:
    seeded = github_api.add_release("v1.2.3", body="old notes", prerelease=False)

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.UPDATED
    assert result.id == seeded["id"]
    [patch] = github_api.writes
    assert (patch.method, patch.path) == ("PATCH", f"/repos/{REPOSITORY}/releases/{seeded['id']}")
    assert (patch.body["name"], patch.body["body"]) == ("v1.2.3", BODY)
    [release] = github_api.find("v1.2.3")
    assert (release["id"], release["body"], release["draft"]) == (seeded["id"], BODY, False)


def test_changed_title_is_patched(github_api: FakeGitHub) -> None:
    github_api.add_release("v1.2.3", name="Release 1.2.3", body=BODY)

    assert upsert(github_api, spec()).status is ReleaseStatus.UPDATED
    assert github_api.find("v1.2.3")[0]["name"] == "v1.2.3"


def test_prerelease_flag_of_an_existing_release_is_kept_and_reported(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github_api.add_release("v1.2.3", body="old", prerelease=True)

    upsert(github_api, spec(prerelease=False))

    assert github_api.find("v1.2.3")[0]["prerelease"] is True
    assert github_api.writes[0].body["prerelease"] is True
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step=release")]
    assert "status=updated prerelease=true note=" in line
    assert "kept prerelease=true although the version says false" in line


def test_draft_is_found_among_several_pages_and_stays_a_draft(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # The by-tag endpoint does not show drafts; the oldest release is on page 3 of 100.
    draft = github_api.add_release("v1.2.3", body="draft notes", draft=True)
    for n in range(1, 231):
        github_api.add_release(f"v0.{n}.0")

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.UPDATED
    assert result.id == draft["id"]
    assert len(github_api.find("v1.2.3")) == 1
    assert draft["draft"] is True
    assert draft["body"] == BODY
    listed = [
        parse_qs(urlsplit(u).query)
        for u in github_api.urls
        if urlsplit(u).path == f"/repos/{REPOSITORY}/releases"
    ]
    assert [(q["per_page"], q.get("page")) for q in listed] == [
        (["100"], None),
        (["100"], ["2"]),
        (["100"], ["3"]),
    ]
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step=release")]
    assert "status=updated draft=true note=" in line


def test_link_header_is_formatted_as_github_does(github_api: FakeGitHub) -> None:
    for n in range(1, 8):
        github_api.add_release(f"v0.{n}.0")
    base = f"{github_api.url}/repos/{REPOSITORY}/releases"
    auth = {"Authorization": f"Bearer {github_api.token}"}

    middle = requests.get(base, params={"per_page": 3, "page": 2}, headers=auth, timeout=5)

    assert middle.headers["Link"] == (
        f'<{base}?per_page=3&page=1>; rel="prev", <{base}?per_page=3&page=3>; rel="next", '
        f'<{base}?per_page=3&page=3>; rel="last", <{base}?per_page=3&page=1>; rel="first"'
    )
    assert [r["tag_name"] for r in middle.json()] == ["v0.4.0", "v0.3.0", "v0.2.0"]
    last = requests.get(base, params={"per_page": 3, "page": 3}, headers=auth, timeout=5)
    assert 'rel="next"' not in last.headers["Link"]


def test_create_race_with_already_exists_updates_the_other_release(github_api: FakeGitHub) -> None:
    # Another job creates the release between our lookup and our create: GitHub answers 422.
    github_api.before_next("POST", lambda fake: fake.add_release("v1.2.3", body="theirs"))

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.UPDATED
    [release] = github_api.find("v1.2.3")
    assert release["body"] == BODY
    assert [c.method for c in github_api.writes] == ["POST", "PATCH"]


def test_create_race_with_same_content_is_unchanged(github_api: FakeGitHub) -> None:
    github_api.before_next("POST", lambda fake: fake.add_release("v1.2.3", body=BODY))

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.UNCHANGED
    assert [c.method for c in github_api.writes] == ["POST"]
    assert len(github_api.find("v1.2.3")) == 1


def test_server_errors_are_retried(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github_api.fail_next(502, times=2)

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.CREATED
    assert len(github_api.find("v1.2.3")) == 1
    first = [c for c in github_api.requests if c.path == f"/repos/{REPOSITORY}"]
    assert len(first) == 3  # two 502s, then the real answer
    assert capsys.readouterr().err.count("step=github retry=") == 2


def test_failed_create_is_retried_without_a_duplicate(github_api: FakeGitHub) -> None:
    github_api.before_next("POST", lambda fake: fake.fail_next(503))

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.CREATED
    assert [c.method for c in github_api.writes] == ["POST", "POST"]
    assert len(github_api.find("v1.2.3")) == 1


def test_create_whose_answer_was_lost_is_not_duplicated(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # The POST takes effect but its answer is a 502: GitHub is read again, and the release
    # found there, before any second POST.
    github_api.before_next("POST", lambda fake: fake.fail_next(502, after=True))

    result = upsert(github_api, spec())

    assert result.status is ReleaseStatus.UNCHANGED
    [release] = github_api.find("v1.2.3")
    assert (result.id, release["body"]) == (release["id"], BODY)
    assert [c.method for c in github_api.writes] == ["POST"]
    assert 'note="it existed when created' in capsys.readouterr().err


def test_connection_reset_and_timeout_are_retried(github_api: FakeGitHub) -> None:
    github_api.reset_next()
    github_api.stall_next(2.0)  # longer than FAST.timeout

    assert upsert(github_api, spec()).status is ReleaseStatus.CREATED
    assert len(github_api.find("v1.2.3")) == 1


def test_persistent_server_errors_give_up_after_bounded_attempts(github_api: FakeGitHub) -> None:
    github_api.fail_next(503, times=100)

    with pytest.raises(GitHubUnavailable) as caught:
        upsert(github_api, spec())

    message = str(caught.value)
    assert "503" in message
    assert f"after {FAST.backoff.attempts} attempts" in message
    assert "re-run" in message
    assert "\n" not in message
    assert len(github_api.requests) == FAST.backoff.attempts
    assert github_api.releases == []


def test_persistent_connection_resets_give_up(github_api: FakeGitHub) -> None:
    github_api.reset_next(times=100)

    with pytest.raises(GitHubUnavailable, match="could not reach GitHub"):
        upsert(github_api, spec())

    assert len(github_api.requests) == FAST.backoff.attempts


def test_unreachable_api_gives_up_and_says_so(github_api: FakeGitHub) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wanted = spec()

    with pytest.raises(GitHubUnavailable) as caught:
        upsert_release(
            wanted, token=github_api.token, api_url=f"http://127.0.0.1:{port}", policy=FAST
        )

    assert "connection refused after 3 attempts" in str(caught.value)


def test_bad_token_fails_at_once(github_api: FakeGitHub) -> None:
    with pytest.raises(TokenRejected) as caught:
        upsert(github_api, spec(), token="ghp_wrongwrongwrong")

    message = str(caught.value)
    assert "invalid or expired" in message
    assert "401" in message
    assert "\n" not in message
    assert len(github_api.requests) == 1


@pytest.mark.parametrize("answer_says", [True, False], ids=["permissions", "no-permissions"])
def test_missing_permission_names_contents_write(github_api: FakeGitHub, answer_says: bool) -> None:
    """Where GitHub's repository answer carries the token's `permissions`, nothing is written;
    where it does not (some installation tokens), the 403 on the write says the same."""
    github_api.contents_permission = "read"
    github_api.permissions_in_answer = answer_says

    with pytest.raises(PermissionDenied) as caught:
        upsert(github_api, spec())

    message = str(caught.value)
    assert "permissions: contents: write" in message
    assert ("permissions.push=false" if answer_says else "403") in message
    assert "\n" not in message
    # Not retried; not even tried when the answer says so.
    assert [c.method for c in github_api.writes] == ([] if answer_says else ["POST"])
    assert github_api.releases == []


RATE_LIMITED = "API rate limit exceeded for installation ID 4242."


def test_rate_limit_is_waited_out_within_bounds(github_api: FakeGitHub) -> None:
    github_api.fail_next(403, times=1, message=RATE_LIMITED)

    assert upsert(github_api, spec()).status is ReleaseStatus.CREATED


def test_lasting_rate_limit_gives_up_and_says_so(github_api: FakeGitHub) -> None:
    github_api.fail_next(403, times=100, message=RATE_LIMITED)

    with pytest.raises(PermissionDenied) as caught:
        upsert(github_api, spec())

    assert "rate limit" in str(caught.value)
    assert "contents: write" not in str(caught.value)
    assert len(github_api.requests) == FAST.backoff.attempts


def test_release_deleted_while_updating_says_re_run(github_api: FakeGitHub) -> None:
    github_api.add_release("v1.2.3", body="old")
    github_api.before_next("PATCH", lambda fake: fake.releases.clear())

    with pytest.raises(GitHubError, match=r"deleted while updating release v1\.2\.3"):
        upsert(github_api, spec())


def test_empty_token_is_refused_before_any_request(github_api: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="GITHUB_TOKEN"):
        upsert(github_api, spec(), token="")
    assert github_api.requests == []


def test_unknown_repository_says_name_or_visibility(github_api: FakeGitHub) -> None:
    with pytest.raises(RepositoryNotFound) as caught:
        upsert(github_api, spec(repository="octo-org/no-such-repo"))

    message = str(caught.value)
    assert "'octo-org/no-such-repo'" in message
    assert "cannot see it" in message
    assert "\n" not in message
    assert github_api.writes == []


@pytest.mark.parametrize("bad", ["dojo", "octo-org/", "/dojo", "a/b/c"])
def test_repository_must_be_owner_slash_name(github_api: FakeGitHub, bad: str) -> None:
    with pytest.raises(GitHubError, match="owner/name"):
        upsert(github_api, spec(repository=bad))
    assert github_api.requests == []


def test_dry_run_reports_and_writes_nothing(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = upsert(github_api, spec(), dry_run=True)
    github_api.add_release("v1.0.0", body="old")
    stale = upsert(github_api, spec("v1.0.0"), dry_run=True)

    assert missing == ReleaseResult(ReleaseStatus.CREATED, "", None)
    assert stale.status is ReleaseStatus.UPDATED
    assert github_api.writes == []
    assert github_api.find("v1.2.3") == []
    assert github_api.find("v1.0.0")[0]["body"] == "old"
    err = capsys.readouterr().err
    assert "step=release tag=v1.2.3 status=created dry_run=true" in err


LEAKS: dict[str, Callable[[FakeGitHub], object]] = {
    "ok": lambda api: None,
    "5xx": lambda api: api.fail_next(500, times=100),
    "reset": lambda api: api.reset_next(times=100),
    "403": lambda api: setattr(api, "contents_permission", "read"),
    "404": lambda api: setattr(api, "repository", "octo-org/elsewhere"),
    "race": lambda api: api.before_next("POST", lambda f: f.add_release("v1.2.3", body="x")),
}


@pytest.mark.parametrize("scenario", sorted(LEAKS))
def test_token_never_appears_in_logs_or_errors(
    github_api: FakeGitHub,
    scenario: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    LEAKS[scenario](github_api)
    texts: list[str] = []
    try:
        upsert(github_api, spec())
    except GitHubError as exc:
        error: BaseException | None = exc
        while error is not None:  # the whole chain, as a traceback would show it
            texts += [str(error), repr(error)]
            error = error.__cause__ or error.__context__
    out, err = capsys.readouterr()
    texts += [out, err, caplog.text]
    if scenario != "reset":  # PyGithub logged each answered request, headers masked
        assert "'Authorization': 'token (oauth token removed)'" in caplog.text
    assert all(github_api.token not in text for text in texts)


@pytest.mark.parametrize(
    ("existing", "wanted", "action"),
    [
        (None, spec(), Action.CREATE),
        (ExistingRelease(1, "u", "v1.2.3", BODY, False, False), spec(), Action.NOTHING),
        (
            ExistingRelease(1, "u", "v1.2.3", BODY.replace("\n", "\r\n") + "\n\n", False, False),
            spec(),
            Action.NOTHING,
        ),
        (ExistingRelease(1, "u", "v1.2.3", BODY, True, True), spec(), Action.NOTHING),
        (ExistingRelease(1, "u", "v1.2.3", "other", False, False), spec(), Action.UPDATE),
        (ExistingRelease(1, "u", "1.2.3", BODY, False, False), spec(), Action.UPDATE),
        (ExistingRelease(1, "u", "v1.2.3", "", False, False), spec(), Action.UPDATE),
    ],
)
def test_decide(existing: ExistingRelease | None, wanted: ReleaseSpec, action: Action) -> None:
    assert decide(existing, wanted) is action


def test_fake_rejects_responses_that_break_the_schema(github_api: FakeGitHub) -> None:
    # The OpenAPI check can fail: a seeded release without required fields is caught.
    github_api.releases.append({"tag_name": "v9.9.9", "draft": False, "name": "v9.9.9"})
    response = requests.get(
        f"{github_api.url}/repos/{REPOSITORY}/releases/tags/v9.9.9",
        headers={"Authorization": f"token {github_api.token}"},
        timeout=5,
    )
    bad_request = requests.post(
        f"{github_api.url}/repos/{REPOSITORY}/releases",
        json={"tag_name": 7, "make_latest": "maybe"},
        headers={"Authorization": f"token {github_api.token}"},
        timeout=5,
    )
    found = list(github_api.violations)
    github_api.violations.clear()  # expected here; anywhere else they fail the test

    assert response.status_code == 200
    assert bad_request.status_code == 422
    assert any("'id' is a required property" in v for v in found)
    assert any("7 is not of type 'string'" in v for v in found)
    assert any("'maybe' is not one of" in v for v in found)


def test_stderr_carries_only_step_lines(github_api: FakeGitHub) -> None:
    # In a fresh interpreter, as the CLI runs it: PyGithub's own console logging stays quiet.
    github_api.fail_next(502)
    github_api.contents_permission = "read"
    script = textwrap.dedent(
        f"""
        import os
        from release.shell.github import upsert_release
        from release.shell.github_api import GitHubError
        from tests.test_github import FAST, spec
        try:
            upsert_release(spec(), token=os.environ["TOKEN"], api_url={github_api.url!r},
                           policy=FAST)
        except GitHubError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "TOKEN": github_api.token},
        cwd=Path(__file__).parents[1],
        timeout=60,
        check=True,
    )

    assert "permissions: contents: write" in done.stdout
    lines = done.stderr.splitlines()
    assert lines == ["step=github retry=1 reason=502 wait=0s"]


def test_missing_openapi_description_skips_or_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(openapi.SPEC_ENV, str(tmp_path / "absent.json"))
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="@octokit/openapi"):
        openapi.require_spec()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="@octokit/openapi"):
        openapi.require_spec()
