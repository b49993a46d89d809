"""Release assets and GitHub's immutable releases: draft, upload every asset, publish; each
step failed in turn and the run resumed. The fake GitHub answers 422 to an upload to a
published immutable release, as GitHub documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from release.apps.publish.assets import release_assets
from release.errors import DojoError
from release.shell.github import ReleaseSpec, ReleaseStatus, check_release, upsert_release
from release.shell.github_api import GitHubError, GitHubUnavailable
from release.shell.github_assets import Asset
from tests.support.github_fake import REPOSITORY, FakeGitHub
from tests.test_github import BODY, FAST


def assets(tmp_path: Path) -> tuple[Asset, ...]:
    made = []
    for name, data in (("sbom.cdx.json", b'{"bomFormat": "CycloneDX"}\n'),
                       ("dojo.tar.gz", bytes(range(256)) * 40)):
        path = tmp_path / name
        path.write_bytes(data)
        made.append(Asset(path=path, name=name, size=len(data)))
    return tuple(made)


def spec(files: tuple[Asset, ...]) -> ReleaseSpec:
    return ReleaseSpec(repository=REPOSITORY, tag="v1.2.3", title="v1.2.3", body=BODY,
                       prerelease=False, assets=files)


def run(api: FakeGitHub, wanted: ReleaseSpec) -> ReleaseStatus:
    return upsert_release(wanted, token=api.token, api_url=api.url, policy=FAST).status


def uploads(api: FakeGitHub) -> list[str]:
    return [u for u in api.urls if u.startswith("/uploads/")]


def check_published(api: FakeGitHub, files: tuple[Asset, ...]) -> None:
    [release] = api.find("v1.2.3")
    assert release["draft"] is False
    assert release["immutable"] is True
    assert release["body"] == BODY
    got = {a["name"]: a["size"] for a in release["assets"]}
    assert got == {a.name: a.size for a in files}


def test_assets_make_a_draft_uploaded_to_then_published(
    github_api: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = assets(tmp_path)
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    [create, *rest] = github_api.writes
    assert create.method == "POST"
    assert create.body["draft"] is True
    assert [c.method for c in rest] == ["POST", "POST", "PATCH"]
    assert rest[-1].body["draft"] is False
    [upload] = [c for c in rest if c.path.startswith("/uploads/")][:1]
    assert upload.body == files[0].path.read_bytes()
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step=release")]
    assert "status=created" in line
    assert "uploaded=2" in line


# Each step of the sequence fails for good (GitHub down from there on, every retry and look-up
# too), then a second run resumes it: after the draft is made, after the first upload, before
# publishing.
@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_failure_at_any_step_is_resumed_by_the_next_run(
    github_api: FakeGitHub, tmp_path: Path, fail_at: int
) -> None:
    files = assets(tmp_path)
    writes = 0

    def count(fake: FakeGitHub) -> None:
        nonlocal writes
        writes += 1
        if writes == fail_at + 1:
            fake.fail_next(503, times=100)
        else:
            fake.before_next("POST" if writes < 3 else "PATCH", count)

    github_api.before_next("POST", count)
    with pytest.raises(GitHubUnavailable):
        run(github_api, spec(files))
    github_api.clear_faults()
    [draft] = github_api.find("v1.2.3")
    assert draft["draft"] is True
    assert len(draft["assets"]) == fail_at - 1
    before = len(uploads(github_api))

    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    # Only what the draft lacked went up again; no second draft was made.
    assert len(uploads(github_api)) - before == len(files) - (fail_at - 1)


def test_an_upload_whose_answer_was_lost_is_not_uploaded_again(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    files = assets(tmp_path)
    # The first upload lands but its answer is lost for every attempt: the run fails there.
    github_api.before_next(
        "POST", lambda f: f.before_next(
            "POST", lambda g: g.fail_next(422, message="Validation Failed", after=True)))
    with pytest.raises(GitHubError):
        run(github_api, spec(files))
    [draft] = github_api.find("v1.2.3")
    assert [a["name"] for a in draft["assets"]] == [files[0].name]
    before = len(uploads(github_api))
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    assert len(uploads(github_api)) - before == 1


def test_a_draft_asset_of_another_size_stops_with_the_fix(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    files = assets(tmp_path)
    github_api.before_next("PATCH", lambda f: f.fail_next(503, times=FAST.backoff.attempts))
    with pytest.raises(GitHubUnavailable):
        run(github_api, spec(files))
    files[0].path.write_bytes(b"{}")
    changed = (Asset(files[0].path, files[0].name, 2), files[1])
    with pytest.raises(GitHubError) as caught:
        run(github_api, spec(changed))
    assert "already has an asset sbom.cdx.json" in str(caught.value)
    assert "delete it on the draft's page" in str(caught.value)
    assert github_api.find("v1.2.3")[0]["draft"] is True


def test_a_published_release_gets_its_body_only_and_lacking_assets_named(
    github_api: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = assets(tmp_path)
    github_api.add_release("v1.2.3", body="old notes")
    assert run(github_api, spec(files)) is ReleaseStatus.UPDATED
    [release] = github_api.find("v1.2.3")
    assert (release["body"], release["assets"], release["draft"]) == (BODY, [], False)
    assert uploads(github_api) == []
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step=release")]
    assert "missing_assets=sbom.cdx.json,dojo.tar.gz" in line


def test_the_fake_refuses_an_upload_to_a_published_immutable_release(
    github_api: FakeGitHub,
) -> None:
    release = github_api.add_release("v1.2.3")
    url = release["upload_url"].split("{")[0]
    answer = requests.post(url, params={"name": "x.txt"}, data=b"x", timeout=5, headers={
        "Authorization": f"token {github_api.token}", "Content-Type": "application/octet-stream"})
    assert answer.status_code == 422
    assert "immutable" in answer.json()["message"]
    assert release["assets"] == []


def writes_of(api: FakeGitHub, since: int = 0) -> list[str]:
    """The write requests from the `since`-th request on, as `METHOD kind` (release, asset)."""
    kinds = []
    for call in api.requests[since:]:
        if call.method not in ("POST", "PATCH", "DELETE"):
            continue
        kind = "upload" if call.path.startswith("/uploads/") else (
            "asset" if "/releases/assets/" in call.path else "release")
        kinds.append(f"{call.method} {kind}")
    return kinds


@pytest.mark.parametrize("lost", ["502", "reset"])
def test_a_draft_create_whose_answer_was_lost_leaves_one_draft(
    github_api: FakeGitHub, tmp_path: Path, lost: str
) -> None:
    """The create takes effect at GitHub, the answer never arrives: publish reads GitHub again,
    finds that draft and carries on with it; no second POST, no second draft."""
    files = assets(tmp_path)
    if lost == "502":
        github_api.before_next("POST", lambda f: f.fail_next(502, after=True))
    else:
        github_api.before_next("POST", lambda f: f.reset_next(after=True))
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    assert writes_of(github_api) == ["POST release", "POST upload", "POST upload", "PATCH release"]


def test_a_draft_that_lands_after_the_create_was_sent_again_is_the_one_kept(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    """The first create fails, the look-up finds nothing, and the first create's draft shows up
    only once the second was sent: the draft just made is deleted, the older one published."""
    files = assets(tmp_path)
    late: list[int] = []

    def land(fake: FakeGitHub) -> None:
        late.append(fake.add_release("v1.2.3", body=BODY, draft=True)["id"])

    def fail_then_land(fake: FakeGitHub) -> None:
        fake.fail_next(503)
        fake.before_next("POST", land)

    github_api.before_next("POST", fail_then_land)
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    assert [r["id"] for r in github_api.find("v1.2.3")] == late
    assert writes_of(github_api)[:3] == ["POST release", "POST release", "DELETE release"]


def test_a_starter_asset_left_by_a_failed_upload_is_replaced_in_the_same_run(
    github_api: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = assets(tmp_path)
    # The first upload answers 502 and leaves an empty `starter` asset under its name.
    github_api.before_next("POST", lambda f: f.before_next(
        "POST", lambda g: g.fail_next(502, starter=True)))
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    [release] = github_api.find("v1.2.3")
    assert {a["state"] for a in release["assets"]} == {"uploaded"}
    assert writes_of(github_api) == [
        "POST release", "POST upload", "DELETE asset", "POST upload", "POST upload",
        "PATCH release",
    ]
    assert "step=asset" in capsys.readouterr().err


def leave_a_draft(api: FakeGitHub, files: tuple[Asset, ...], *, starter: bool) -> None:
    """A first run that dies after the first upload: that upload went up whole, or (`starter`)
    left an empty starter asset; GitHub is down from there on."""
    # A hook runs just before the request it is set for: the create, then each upload.
    if starter:
        api.before_next("POST", lambda f: f.before_next(
            "POST", lambda g: g.fail_next(502, starter=True, times=100)))
    else:
        api.before_next("POST", lambda f: f.before_next("POST", lambda g: g.before_next(
            "POST", lambda h: h.fail_next(503, times=100))))
    with pytest.raises(GitHubError):
        run(api, spec(files))
    api.clear_faults()


def test_a_starter_asset_a_failed_run_left_is_replaced_by_the_next_run(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    files = assets(tmp_path)
    leave_a_draft(github_api, files, starter=True)
    [draft] = github_api.find("v1.2.3")
    assert [(a["name"], a["state"], a["size"]) for a in draft["assets"]] == [
        (files[0].name, "starter", 0)]
    since = len(github_api.requests)
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    assert writes_of(github_api, since) == [
        "DELETE asset", "POST upload", "POST upload", "PATCH release"]


@pytest.mark.parametrize("starter", [False, True])
def test_a_dry_run_against_a_leftover_draft_says_what_the_run_would_do(
    github_api: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], starter: bool
) -> None:
    files = assets(tmp_path)
    leave_a_draft(github_api, files, starter=starter)
    capsys.readouterr()
    since = len(github_api.requests)
    result = upsert_release(spec(files), token=github_api.token, api_url=github_api.url,
                            dry_run=True, policy=FAST)
    assert writes_of(github_api, since) == []
    assert result.status is ReleaseStatus.CREATED
    upload = ",".join(a.name for a in files) if starter else files[1].name
    assert result.detail.startswith("publish the draft an earlier run left")
    assert f"upload {upload}" in result.detail
    assert ("delete the starter asset(s) sbom.cdx.json first" in result.detail) is starter
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step=release")]
    assert "dry_run=true" in line
    assert "draft=publish" in line
    assert f"upload={upload}" in line
    assert ("replace=sbom.cdx.json" in line) is starter
    # What it said is what the run does.
    assert run(github_api, spec(files)) is ReleaseStatus.CREATED
    check_published(github_api, files)
    expected = ["POST upload"] * (2 if starter else 1)
    assert writes_of(github_api, since) == [
        *(["DELETE asset"] if starter else []), *expected, "PATCH release"]


def test_a_dry_run_with_assets_and_no_release_says_draft_then_publish(
    github_api: FakeGitHub, tmp_path: Path
) -> None:
    files = assets(tmp_path)
    result = upsert_release(spec(files), token=github_api.token, api_url=github_api.url,
                            dry_run=True, policy=FAST)
    assert result.status is ReleaseStatus.CREATED
    assert result.detail == "as a draft, upload sbom.cdx.json,dojo.tar.gz, then publish it"
    assert github_api.writes == []


@pytest.mark.parametrize("carried", [True, False])
def test_a_repository_answer_without_permissions_is_said_in_one_line(
    github_api: FakeGitHub, capsys: pytest.CaptureFixture[str], carried: bool
) -> None:
    """GitHub may leave `permissions` out of the repository answer: the check before any push
    then cannot see a missing write permission, and says so rather than passing silently."""
    github_api.permissions_in_answer = carried
    wanted = spec(())
    result = check_release(wanted, token=github_api.token, api_url=github_api.url, policy=FAST)
    assert result.status is ReleaseStatus.CREATED
    lines = [x for x in capsys.readouterr().err.splitlines() if "permissions=unknown" in x]
    assert len(lines) == (0 if carried else 1)
    assert github_api.writes == []


@pytest.mark.parametrize(
    ("name", "kept"),
    [("dojo-1.2.3.tar.gz", True), ("SHA256SUMS", True), ("dojo_1.2.3-x86_64-linux.cdx.json", True),
     ("dojo 1.2.3.zip", False), (".hidden", False), ("notes.", False), ("naïve.txt", False),
     ("a+b.txt", False)],
)
def test_an_asset_name_github_would_rename_is_refused(
    tmp_path: Path, name: str, kept: bool
) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    if kept:
        [asset] = release_assets([path], None)
        assert (asset.name, asset.size) == (name, 1)
        return
    with pytest.raises(DojoError) as caught:
        release_assets([path], None)
    assert "GitHub renames" in str(caught.value)
    assert "rename the file" in str(caught.value)
