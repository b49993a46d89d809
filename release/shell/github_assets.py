"""A GitHub Release's assets: what a draft lacks, and each asset uploaded exactly once.

GitHub shows an asset in state `uploaded`, `open` (being uploaded) or `starter` (the empty asset
a failed upload can leave, which its docs say can be safely deleted). An upload is a create: it
is never sent again blindly (`github_api.created_once`), since one whose answer was lost may be
on the release already.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from github import GithubException
from github.GitRelease import GitRelease
from github.GitReleaseAsset import GitReleaseAsset

from release.shell import http
from release.shell.github_api import GitHubError, RetryPolicy, created_once

STARTER = "starter"


@dataclass(frozen=True)
class Asset:
    """A file to attach to the release under `name`; `size` in bytes, read when planned."""

    path: Path
    name: str
    size: int


@dataclass(frozen=True)
class AssetThere:
    """An asset GitHub shows on a release."""

    id: int
    name: str
    size: int
    state: str


@dataclass(frozen=True)
class DraftWork:
    """What finishing a draft takes: the starter assets to delete, the assets to upload."""

    replace: tuple[AssetThere, ...]
    upload: tuple[Asset, ...]


def asset_there(data: dict[str, object]) -> AssetThere:
    """One asset of a release answer (GitHub's JSON)."""
    aid, size = data.get("id"), data.get("size")
    if not isinstance(aid, int) or not isinstance(size, int):
        raise http.BadAnswer("GitHub's answer lists an asset without an `id` or `size`")
    return AssetThere(aid, str(data.get("name") or ""), size, str(data.get("state") or ""))


def draft_work(there: tuple[AssetThere, ...], wanted: tuple[Asset, ...], where: str) -> DraftWork:
    """What the draft (`where`, holding `there`) lacks of `wanted` (pure: no I/O). The same
    name and size uploaded is there; a starter asset is replaced; anything else under the name
    stops the run with the fix, since it is not ours to delete."""
    have = {a.name: a for a in there}
    replace, upload = [], []
    for asset in wanted:
        found = have.get(asset.name)
        if found is None:
            upload.append(asset)
        elif found.state == STARTER:
            replace.append(found)
            upload.append(asset)
        elif (found.state, found.size) != ("uploaded", asset.size):
            raise _conflict(where, asset, found)
    return DraftWork(tuple(replace), tuple(upload))


def _conflict(where: str, asset: Asset, found: AssetThere) -> GitHubError:
    if found.state == "open":
        return GitHubError(
            f"{where} has an asset {asset.name} being uploaded (state open), by another run: "
            "re-run the job when that run is done"
        )
    return GitHubError(
        f"{where} already has an asset {asset.name} of {found.size} bytes ({found.state}), not "
        f"{asset.size}: delete it on the draft's page on GitHub and re-run the job"
    )


def _named(draft: GitRelease, name: str) -> tuple[GitReleaseAsset, AssetThere] | None:
    for asset in draft.get_assets():
        if asset.name == name:
            # Its attributes, not `raw_data`: that would GET the asset once more.
            found = AssetThere(int(asset.id), str(asset.name), int(asset.size), str(asset.state))
            return asset, found
    return None


def delete_asset(draft: GitRelease, there: AssetThere) -> None:
    """Delete the asset `there` from the draft; one already gone is fine."""
    found = _named(draft, there.name)
    if found is None:
        return  # gone already (a DELETE whose answer was lost and was retried)
    asset, _ = found
    try:
        asset.delete_asset()
    except GithubException as exc:
        if exc.status != 404:
            raise


def upload(draft: GitRelease, asset: Asset, where: str, policy: RetryPolicy) -> str:
    """Upload `asset` to the draft once: "uploaded", or "there" when a lost answer's upload is
    found on the draft. A starter asset a failed attempt left is deleted before the next."""

    def send() -> str:
        draft.upload_asset(
            str(asset.path), name=asset.name, content_type="application/octet-stream"
        )
        return "uploaded"

    def look() -> str | None:
        found = _named(draft, asset.name)
        if found is None:
            return None
        _, there = found
        if (there.state, there.size) == ("uploaded", asset.size):
            return "there"
        if there.state != STARTER:
            raise _conflict(where, asset, there)
        delete_asset(draft, there)
        return None

    status, _found = created_once(send, look, policy=policy, what=f"asset {asset.name}")
    return status
