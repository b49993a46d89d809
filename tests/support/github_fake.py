"""A local GitHub REST API for the release endpoints, checked against GitHub's OpenAPI description.

`github_api` starts a `ThreadingHTTPServer` on 127.0.0.1 for one test. It answers what the
release flow calls (`GET /repos/{owner}/{repo}/releases/tags/{tag}`, `GET .../releases` with
`per_page`/`page` and GitHub's `Link` header, `POST .../releases`, `GET`/`PATCH .../releases/{id}`,
`GET /repos/{owner}/{repo}`) the way GitHub documents it: 404 `Not Found` for a missing release
or repository, 422 `already_exists` on a duplicate tag, 401 `Bad credentials`, 403 `Resource not
accessible by integration` when the token only has `contents: read`.

Every request (path, method, parameters, JSON body) and every response body is checked against
`@octokit/openapi` (see `tests.support.openapi`); a mismatch fails the test that caused it, at
teardown. Faults are injected with `fail_next(status, times, message, after=, starter=)`
(`after`: the request takes effect but its answer is lost; `starter`: an upload leaves the empty
asset in state `starter` GitHub documents for a failed upload), `reset_next(times, after=)`
(connection reset), `stall_next(seconds, times)` (an answer slower than the client's timeout),
`before_next(method, hook)` (change the state just before a request, for races) and
`hold_next(method, path)` (keep a request unanswered until the test, say, kills the client).

Release assets: upload (`POST /uploads/.../assets?name=`), list (`GET .../releases/{id}/assets`),
delete (`DELETE .../releases/assets/{id}`); drafts are deleted with `DELETE .../releases/{id}`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pygit2
import pytest

from tests.support.openapi import GitHubOpenAPI, Operation, require_spec

WEB = "https://github.com"
DOCS = "https://docs.github.com/rest"
OWNER = "octo-org"
REPOSITORY = f"{OWNER}/dojo"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


class Call(NamedTuple):
    """One request as the server received it (path without the query string)."""

    method: str
    path: str
    body: Any


@dataclass
class _Fault:
    kind: str  # "status", "reset" or "stall"
    status: int = 0
    seconds: float = 0.0
    message: str | None = None
    after: bool = False
    starter: bool = False


@dataclass
class Hold:
    """A request kept unanswered: `arrived` is set once it is received (and, with `effect`,
    handled); the handler then waits for `release` and closes the connection, answering
    nothing."""

    method: str
    path: str  # a prefix of the request's path
    effect: bool
    skip: int = 0  # matching requests let through first
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


# GitHub's prose documents a state its schema's enum (`uploaded`, `open`) lacks: "When an upstream
# failure occurs, you will receive a `502 Bad Gateway` status. This may leave an empty asset with
# a state of `starter`" (upload-a-release-asset). Answers are checked with it read as `open`.
STARTER = "starter"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(base: str, login: str = "github-actions[bot]", user_id: int = 41898282) -> dict[str, Any]:
    api = f"{base}/users/{quote(login)}"
    return {
        "login": login,
        "id": user_id,
        "node_id": base64.b64encode(f"04:User{user_id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/in/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{WEB}/apps/github-actions",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Bot",
        "site_admin": False,
    }


def _error(status: int, message: str, doc: str = DOCS, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": doc, **extra, "status": str(status)}


@dataclass
class FakeGitHub:
    """Server state and controls; `releases` is oldest first, as tests seed it."""

    url: str = ""
    # Shaped like an Actions installation token; new for every test.
    token: str = field(default_factory=lambda: "ghs_" + secrets.token_hex(18))
    repository: str = REPOSITORY
    # "write" as the workflow needs; "read" makes every write answer 403 like GitHub does.
    contents_permission: str = "write"
    # Whether the repository answer carries the token's `permissions` (a user's token does).
    permissions_in_answer: bool = True
    # GitHub's immutable releases (a repository setting): a published release takes no assets.
    immutable_releases: bool = True
    releases: list[dict[str, Any]] = field(default_factory=list)
    # Git refs as GitHub holds them: "tags/v1.2.3" or "heads/master" -> (object type, sha), and
    # annotated tag objects by their sha -> (tag name, object type, sha). Seed with `set_ref`.
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    tag_objects: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    requests: list[Call] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    spec: GitHubOpenAPI | None = None
    _faults: list[_Fault] = field(default_factory=list)
    _hooks: list[tuple[str, Callable[[FakeGitHub], object]]] = field(default_factory=list)
    _holds: list[Hold] = field(default_factory=list)
    _next_id: int = 1000
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- controls for tests --------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        times: int = 1,
        message: str | None = None,
        *,
        after: bool = False,
        starter: bool = False,
    ) -> None:
        """Answer the next `times` requests with `status` and a GitHub error body (`message`).

        `after=True` handles the request first (a create still creates): a lost answer.
        `starter=True` (an upload) leaves the empty `starter` asset of a failed upload.
        """
        with self.lock:
            self._faults += [
                _Fault("status", status, message=message, after=after, starter=starter)
                for _ in range(times)
            ]

    def reset_next(self, times: int = 1, *, after: bool = False) -> None:
        """Reset the connection (TCP RST, no response) on the next `times` requests; `after`:
        once the request took effect."""
        with self.lock:
            self._faults += [_Fault("reset", after=after) for _ in range(times)]

    def hold_next(self, method: str, path: str, *, effect: bool = False, skip: int = 0) -> Hold:
        """Keep the next `method` request whose path starts with `path` (after `skip` such) from
        being answered; `effect=True` handles it first (the change is made, the answer lost)."""
        hold = Hold(method.upper(), path, effect, skip)
        with self.lock:
            self._holds.append(hold)
        return hold

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering the next `times` requests (client timeouts)."""
        with self.lock:
            self._faults += [_Fault("stall", seconds=seconds) for _ in range(times)]

    def clear_faults(self) -> None:
        """Drop the faults not yet used (GitHub is back)."""
        with self.lock:
            self._faults.clear()

    def before_next(self, method: str, hook: Callable[[FakeGitHub], object]) -> None:
        """Run `hook(self)` just before handling the next `method` request (races)."""
        with self.lock:
            self._hooks.append((method.upper(), hook))

    def add_release(
        self,
        tag: str,
        *,
        name: str | None = None,
        body: str | None = "",
        draft: bool = False,
        prerelease: bool = False,
    ) -> dict[str, Any]:
        """Seed a release as GitHub would return it, and return it."""
        with self.lock:
            release = self._new_release(
                {
                    "tag_name": tag,
                    "name": tag if name is None else name,
                    "body": body,
                    "draft": draft,
                    "prerelease": prerelease,
                }
            )
            self.releases.append(release)
            return release

    def set_ref(self, ref: str, commit: str, *, annotated: bool = False) -> None:
        """Point `ref` ("tags/v1.2.3", "heads/master") at `commit` (40 hex digits); an annotated
        tag gets a tag object of its own that names the commit."""
        with self.lock:
            if annotated:
                tag_sha = secrets.token_hex(20)
                self.tag_objects[tag_sha] = (ref.removeprefix("tags/"), "commit", commit)
                self.refs[ref] = ("tag", tag_sha)
            else:
                self.refs[ref] = ("commit", commit)

    def mirror(self, git_dir: Path) -> None:
        """Hold the branches and tags of the repository at `git_dir` (the test's bare remote),
        as GitHub holds what was pushed to it; annotated tags keep their own objects."""
        repo = pygit2.Repository(str(git_dir))
        with self.lock:
            for name in repo.references:
                if not name.startswith(("refs/heads/", "refs/tags/")):
                    continue
                obj = repo.get(repo.references[name].target)
                ref = name.removeprefix("refs/")
                if isinstance(obj, pygit2.Tag):
                    target = obj.peel(pygit2.Commit)
                    self.tag_objects[str(obj.id)] = (obj.name, "commit", str(target.id))
                    self.refs[ref] = ("tag", str(obj.id))
                elif isinstance(obj, pygit2.Commit):
                    self.refs[ref] = ("commit", str(obj.id))

    def find(self, tag: str) -> list[dict[str, Any]]:
        """Every stored release (drafts too) whose tag is `tag`."""
        with self.lock:
            return [r for r in self.releases if r["tag_name"] == tag]

    @property
    def writes(self) -> list[Call]:
        """The requests that would change something on GitHub."""
        return [c for c in self.requests if c.method in ("POST", "PATCH", "PUT", "DELETE")]

    # -- GitHub's behaviour ----------------------------------------------------------------------
    def _repo_api(self) -> str:
        return f"{self.url}/repos/{self.repository}"

    def _new_release(self, data: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        rid = self._next_id
        tag = str(data["tag_name"])
        draft = bool(data.get("draft", False))
        api = f"{self._repo_api()}/releases/{rid}"
        web_tag = f"untagged-{rid:020x}" if draft else tag
        now = _now()
        return {
            "url": api,
            "assets_url": f"{api}/assets",
            "upload_url": f"{self.url}/uploads{api.removeprefix(self.url)}/assets{{?name,label}}",
            "html_url": f"{WEB}/{self.repository}/releases/tag/{quote(web_tag)}",
            "id": rid,
            "author": _user(self.url),
            "node_id": "RE_" + base64.b64encode(struct.pack(">Q", rid)).decode().rstrip("="),
            "tag_name": tag,
            "target_commitish": str(data.get("target_commitish", "master")),
            "name": data.get("name"),
            "draft": draft,
            "immutable": not draft and self.immutable_releases,
            "prerelease": bool(data.get("prerelease", False)),
            "created_at": now,
            "updated_at": now,
            "published_at": None if draft else now,
            "assets": [],
            "tarball_url": f"{self._repo_api()}/tarball/{quote(tag)}",
            "zipball_url": f"{self._repo_api()}/zipball/{quote(tag)}",
            "body": data.get("body"),
            "mentions_count": 0,
        }

    def _repository_object(self) -> dict[str, Any]:
        owner, name = self.repository.split("/")
        api = self._repo_api()
        web = f"{WEB}/{self.repository}"
        now = _now()
        links = {
            "archive": "/{archive_format}{/ref}",
            "assignees": "/assignees{/user}",
            "blobs": "/git/blobs{/sha}",
            "branches": "/branches{/branch}",
            "collaborators": "/collaborators{/collaborator}",
            "comments": "/comments{/number}",
            "commits": "/commits{/sha}",
            "compare": "/compare/{base}...{head}",
            "contents": "/contents/{+path}",
            "contributors": "/contributors",
            "deployments": "/deployments",
            "downloads": "/downloads",
            "events": "/events",
            "forks": "/forks",
            "git_commits": "/git/commits{/sha}",
            "git_refs": "/git/refs{/sha}",
            "git_tags": "/git/tags{/sha}",
            "hooks": "/hooks",
            "issue_comment": "/issues/comments{/number}",
            "issue_events": "/issues/events{/number}",
            "issues": "/issues{/number}",
            "keys": "/keys{/key_id}",
            "labels": "/labels{/name}",
            "languages": "/languages",
            "merges": "/merges",
            "milestones": "/milestones{/number}",
            "notifications": "/notifications{?since,all,participating}",
            "pulls": "/pulls{/number}",
            "releases": "/releases{/id}",
            "stargazers": "/stargazers",
            "statuses": "/statuses/{sha}",
            "subscribers": "/subscribers",
            "subscription": "/subscription",
            "tags": "/tags",
            "teams": "/teams",
            "trees": "/git/trees{/sha}",
        }
        counts = (
            "forks",
            "forks_count",
            "open_issues",
            "open_issues_count",
            "stargazers_count",
            "watchers",
            "watchers_count",
            "network_count",
            "subscribers_count",
        )
        return {
            "id": 4242,
            "node_id": "R_kgDOAAAQkg",
            "name": name,
            "full_name": self.repository,
            "owner": _user(self.url, owner, 4243) | {"type": "Organization"},
            "private": False,
            "html_url": web,
            "description": "Dojo",
            "fork": False,
            "url": api,
            **{f"{key}_url": f"{api}{suffix}" for key, suffix in links.items()},
            "clone_url": f"{web}.git",
            "git_url": f"git://github.com/{self.repository}.git",
            "ssh_url": f"git@github.com:{self.repository}.git",
            "svn_url": web,
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "size": 108,
            "default_branch": "master",
            # What the token may do here, as GitHub answers an authenticated GET.
            **({"permissions": {
                "admin": False,
                "maintain": False,
                "push": self.contents_permission == "write",
                "triage": False,
                "pull": True,
            }} if self.permissions_in_answer else {}),
            **dict.fromkeys(counts, 0),
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "license": None,
            "pushed_at": now,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": now,
        }

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, dict[str, str], Any]:
        """Answer one request: (status, extra headers, JSON body)."""
        scheme, _, presented = (auth or "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or presented != self.token:
            return 401, {}, _error(401, "Bad credentials")
        # uploads.github.com's paths, served here under /uploads as GitHub Enterprise does.
        uploading = path.startswith("/uploads/")
        parts = [unquote(p) for p in path.removeprefix("/uploads").strip("/").split("/")]
        if len(parts) < 3 or parts[0] != "repos":
            return 404, {}, _error(404, "Not Found")
        if f"{parts[1]}/{parts[2]}".lower() != self.repository.lower():
            return 404, {}, _error(404, "Not Found")
        rest = parts[3:]
        write = method in ("POST", "PATCH", "PUT", "DELETE")
        if write and self.contents_permission != "write":
            return (
                403,
                {},
                _error(403, "Resource not accessible by integration", f"{DOCS}/releases/releases"),
            )
        match method, rest:
            case "GET", []:
                return 200, {}, self._repository_object()
            case "GET", ["releases", "tags", tag]:
                for release in reversed(self.releases):
                    if release["tag_name"] == tag and not release["draft"]:
                        return 200, {}, release
                return (
                    404,
                    {},
                    _error(404, "Not Found", f"{DOCS}/releases/releases#get-a-release-by-tag-name"),
                )
            case "GET", ["releases"]:
                return self._list(path, query)
            case "GET", ["git", "ref", *ref] if ref:
                return self._ref("/".join(ref))
            case "GET", ["git", "tags", sha]:
                return self._tag_object(sha)
            case "POST", ["releases"]:
                return self._create(body)
            case "POST", ["releases", rid, "assets"] if rid.isdigit() and uploading:
                return self._upload(int(rid), query, body)
            case "GET", ["releases", rid, "assets"] if rid.isdigit():
                release = self._release(int(rid))
                if release is None:
                    return 404, {}, _error(404, "Not Found")
                return self._page(path, query, release["assets"])
            case "DELETE", ["releases", "assets", aid] if aid.isdigit():
                return self._delete_asset(int(aid))
            case "DELETE", ["releases", rid] if rid.isdigit():
                release = self._release(int(rid))
                if release is None:
                    return 404, {}, _error(404, "Not Found")
                self.releases.remove(release)
                return 204, {}, None
            case "PATCH", ["releases", rid] if rid.isdigit():
                return self._update(int(rid), body)
            case "GET", ["releases", rid] if rid.isdigit():
                for release in self.releases:
                    if release["id"] == int(rid):
                        return 200, {}, release
                return 404, {}, _error(404, "Not Found")
        self.violations.append(f"{method} {path}: the fake GitHub API does not implement this")
        return 404, {}, _error(404, "Not Found")

    def _git_url(self, kind: str, sha: str) -> str:
        return f"{self._repo_api()}/git/{kind}/{sha}"

    def _ref(self, ref: str) -> tuple[int, dict[str, str], Any]:
        if ref not in self.refs:
            return 404, {}, _error(404, "Not Found", f"{DOCS}/git/refs#get-a-reference")
        kind, sha = self.refs[ref]
        return 200, {}, {
            "ref": f"refs/{ref}",
            "node_id": "REF_" + base64.b64encode(ref.encode()).decode().rstrip("="),
            "url": f"{self._repo_api()}/git/refs/{quote(ref)}",
            "object": {"type": kind, "sha": sha, "url": self._git_url(f"{kind}s", sha)},
        }

    def _tag_object(self, sha: str) -> tuple[int, dict[str, str], Any]:
        if sha not in self.tag_objects:
            return 404, {}, _error(404, "Not Found", f"{DOCS}/git/tags#get-a-tag")
        name, kind, target = self.tag_objects[sha]
        return 200, {}, {
            "node_id": "TAG_" + base64.b64encode(sha.encode()).decode().rstrip("="),
            "tag": name,
            "sha": sha,
            "url": self._git_url("tags", sha),
            "message": f"Release {name}\n",
            "tagger": {"name": "Dojo", "email": "dojo@example.com", "date": _now()},
            "object": {"type": kind, "sha": target, "url": self._git_url(f"{kind}s", target)},
            "verification": {
                "verified": False, "reason": "unsigned", "signature": None, "payload": None,
                "verified_at": None,
            },
        }

    def _release(self, rid: int) -> dict[str, Any] | None:
        return next((r for r in self.releases if r["id"] == rid), None)

    def _delete_asset(self, aid: int) -> tuple[int, dict[str, str], Any]:
        doc = f"{DOCS}/releases/assets#delete-a-release-asset"
        for release in self.releases:
            for asset in release["assets"]:
                if asset["id"] == aid:
                    if release["immutable"]:
                        return 422, {}, _error(422, "Cannot modify an immutable release.", doc)
                    release["assets"].remove(asset)
                    return 204, {}, None
        return 404, {}, _error(404, "Not Found", doc)

    def _list(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        return self._page(path, query, list(reversed(self.releases)))

    def _page(
        self, path: str, query: dict[str, list[str]], everything: list[dict[str, Any]]
    ) -> tuple[int, dict[str, str], Any]:
        """One page of `everything`, with GitHub's `Link` header."""
        per_page = min(int(query.get("per_page", [str(DEFAULT_PER_PAGE)])[-1]), MAX_PER_PAGE)
        page = max(int(query.get("page", ["1"])[-1]), 1)
        newest_first = everything
        last = max((len(newest_first) + per_page - 1) // per_page, 1)
        items = newest_first[(page - 1) * per_page : page * per_page]
        kept = [(k, v[-1]) for k, v in query.items() if k != "page"]

        def link(number: int) -> str:
            return f"<{self.url}{path}?{urlencode([*kept, ('page', number)])}>"

        # GitHub's order: prev, next, last, first; only the relations that exist.
        rels = []
        if page > 1:
            rels.append(f'{link(page - 1)}; rel="prev"')
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        return 200, ({"Link": ", ".join(rels)} if rels else {}), items

    def _create(self, body: Any) -> tuple[int, dict[str, str], Any]:
        if not isinstance(body, dict) or not isinstance(body.get("tag_name"), str):
            return 422, {}, _error(422, "Invalid request.", f"{DOCS}/releases/releases")
        draft = bool(body.get("draft", False))
        taken = any(r["tag_name"] == body["tag_name"] and not r["draft"] for r in self.releases)
        if taken and not draft:
            return (
                422,
                {},
                {
                    "message": "Validation Failed",
                    "errors": [
                        {"resource": "Release", "code": "already_exists", "field": "tag_name"}
                    ],
                    "documentation_url": f"{DOCS}/releases/releases#create-a-release",
                    "status": "422",
                },
            )
        release = self._new_release(body)
        self.releases.append(release)
        return 201, {"Location": release["url"]}, release

    def _upload(
        self, rid: int, query: dict[str, list[str]], body: Any, *, starter: bool = False
    ) -> tuple[int, dict[str, str], Any]:
        doc = f"{DOCS}/releases/assets#upload-a-release-asset"
        release = next((r for r in self.releases if r["id"] == rid), None)
        if release is None:
            return 404, {}, _error(404, "Not Found", doc)
        if release["immutable"]:
            # GitHub's documented rule: assets only before an immutable release is published.
            return 422, {}, _error(422, "Cannot upload assets to an immutable release.", doc)
        name = (query.get("name") or [""])[-1]
        if not name:
            return 422, {}, _error(422, "Validation Failed", doc)
        if any(a["name"] == name for a in release["assets"]):
            return 422, {}, {
                "message": "Validation Failed",
                "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}],
                "documentation_url": doc,
                "status": "422",
            }
        data = body if isinstance(body, bytes) and not starter else b""
        self._next_id += 1
        now = _now()
        asset = {
            "url": f"{self._repo_api()}/releases/assets/{self._next_id}",
            "browser_download_url": (
                f"{WEB}/{self.repository}/releases/download/{quote(release['tag_name'])}/"
                f"{quote(name)}"
            ),
            "id": self._next_id,
            "node_id": "RA_" + base64.b64encode(struct.pack(">Q", self._next_id)).decode(),
            "name": name,
            "label": (query.get("label") or [""])[-1],
            "state": STARTER if starter else "uploaded",
            "content_type": "application/octet-stream",
            "size": len(data),
            "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "download_count": 0,
            "created_at": now,
            "updated_at": now,
            "uploader": _user(self.url),
        }
        release["assets"].append(asset)
        return 201, {}, asset

    def starter_upload(self, path: str, query: dict[str, list[str]]) -> None:
        """What a failed upload can leave: the asset, empty, in state `starter`."""
        parts = path.strip("/").split("/")
        if "releases" in parts and parts[-1] == "assets":
            rid = parts[parts.index("releases") + 1]
            if rid.isdigit():
                self._upload(int(rid), query, b"", starter=True)

    def _update(self, rid: int, body: Any) -> tuple[int, dict[str, str], Any]:
        for release in self.releases:
            if release["id"] == rid:
                break
        else:
            return 404, {}, _error(404, "Not Found", f"{DOCS}/releases/releases#update-a-release")
        changes = body if isinstance(body, dict) else {}
        for key in ("tag_name", "target_commitish", "name", "body", "prerelease"):
            if key in changes:
                release[key] = changes[key]
        if "draft" in changes:
            if release["draft"] and not changes["draft"]:
                release["published_at"] = _now()
                tag = quote(release["tag_name"])
                release["html_url"] = f"{WEB}/{self.repository}/releases/tag/{tag}"
                release["immutable"] = self.immutable_releases
            release["draft"] = bool(changes["draft"])
        release["updated_at"] = _now()
        return 200, {}, release

    # -- plumbing ----------------------------------------------------------------------------------
    def take_hold(self, method: str, path: str) -> Hold | None:
        with self.lock:
            for hold in self._holds:
                if hold.method == method and path.startswith(hold.path):
                    if hold.skip:
                        hold.skip -= 1
                        return None
                    self._holds.remove(hold)
                    return hold
            return None

    def take_fault(self, method: str) -> _Fault | None:
        with self.lock:
            for index, (hook_method, hook) in enumerate(self._hooks):
                if hook_method == method:
                    del self._hooks[index]
                    hook(self)
                    break
            return self._faults.pop(0) if self._faults else None

    def record(self, method: str, path: str, query: str, body: Any) -> None:
        with self.lock:
            self.requests.append(Call(method, path, body))
            self.urls.append(f"{path}?{query}" if query else path)

    def check_request(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> Operation | None:
        if self.spec is None:
            return None
        operation, problems = self.spec.check_request(method, path, query, body)
        with self.lock:
            self.violations += problems
        return operation

    def check_response(self, operation: Operation | None, status: int, body: Any) -> None:
        if self.spec is None or operation is None:
            return
        problems = self.spec.check_response(operation, status, _documented(body))
        with self.lock:
            self.violations += problems


def _documented(body: Any) -> Any:
    """`body` with the `starter` asset state read as `open` (see STARTER) for the schema check."""
    if isinstance(body, list):
        return [_documented(item) for item in body]
    if isinstance(body, dict):
        if body.get("state") == STARTER and "browser_download_url" in body:
            return {**body, "state": "open"}
        return {key: _documented(value) for key, value in body.items()}
    return body


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GitHub.com"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read `fake.requests`

        def _serve(self) -> None:
            split = urlsplit(self.path)
            query = parse_qs(split.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            bad_json = False
            uploading = split.path.startswith("/uploads/")
            if uploading:
                body = raw  # an asset's raw bytes, not JSON
            elif raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    bad_json = True
            fake.record(self.command, split.path, split.query, body)
            hold = fake.take_hold(self.command, split.path)
            if hold is not None:
                if hold.effect:
                    with fake.lock:
                        fake.handle(
                            self.command, split.path, query, body, self.headers.get("Authorization")
                        )
                hold.arrived.set()
                hold.release.wait(timeout=120)
                self.close_connection = True
                return
            fault = fake.take_fault(self.command)
            if fault is not None and fault.kind == "reset":
                if fault.after:
                    with fake.lock:
                        fake.handle(
                            self.command, split.path, query, body, self.headers.get("Authorization")
                        )
                # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and fault.kind == "stall":
                time.sleep(fault.seconds)
            operation = fake.check_request(
                self.command, split.path.removeprefix("/uploads"), query,
                None if uploading else body,
            )
            headers: dict[str, str] = {}
            if fault is not None and fault.kind == "status":
                if fault.starter and uploading:
                    with fake.lock:
                        fake.starter_upload(split.path, query)
                elif fault.after:
                    with fake.lock:
                        fake.handle(
                            self.command, split.path, query, body, self.headers.get("Authorization")
                        )
                status = fault.status
                default = "Server Error" if status >= 500 else "Injected fault"
                answer: Any = _error(status, fault.message or default)
                if "rate limit" in answer["message"].lower():
                    # What GitHub sends with a primary rate limit: the window and its reset.
                    headers = {
                        "X-RateLimit-Limit": "5000",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Used": "5000",
                        "X-RateLimit-Reset": str(int(time.time()) + 60),
                        "X-RateLimit-Resource": "core",
                    }
            elif bad_json:
                status, answer = 400, _error(400, "Problems parsing JSON")
            else:
                with fake.lock:
                    status, headers, answer = fake.handle(
                        self.command, split.path, query, body, self.headers.get("Authorization")
                    )
                    answer = json.loads(json.dumps(answer))  # a snapshot, not live state
            fake.check_response(operation, status, answer)
            payload = b"" if status == 204 else json.dumps(answer).encode()
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


@pytest.fixture
def github_api() -> Iterator[FakeGitHub]:
    """A fake GitHub API on 127.0.0.1, checked against GitHub's OpenAPI description."""
    fake = FakeGitHub(spec=require_spec())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    if fake.violations:
        shown = "\n  ".join(dict.fromkeys(fake.violations))
        pytest.fail(f"traffic that does not follow GitHub's OpenAPI description:\n  {shown}")
