"""Release assets and GitHub's immutable releases: draft, upload every asset, publish; each
step failed in turn and the run resumed. The fake GitHub answers 422 to an upload to a
published immutable release, as GitHub documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from release.shell.github import Asset, ReleaseSpec, ReleaseStatus, upsert_release
from release.shell.github_api import GitHubError, GitHubUnavailable
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


# Each step of the sequence fails for good (every retry too), then a second run resumes it:
# after the draft is made, after the first upload, before publishing.
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
            fake.fail_next(503, times=FAST.backoff.attempts)
        else:
            fake.before_next("POST" if writes < 3 else "PATCH", count)

    github_api.before_next("POST", count)
    with pytest.raises(GitHubUnavailable):
        run(github_api, spec(files))
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
