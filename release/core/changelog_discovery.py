"""Which file is the changelog when pyproject.toml does not name it. Pure: the caller passes
`exists` and `read` over one tree (a commit, or the work tree).

In order: the file a `[project.urls]` Changelog (History, Release Notes, ...) link names, either
a repository link (`.../blob/main/docs/CHANGES.md`) or the rendered page of a documentation site
(`https://demo.readthedocs.io/en/latest/changelog.html`, `https://demo.example.org/release-notes/`)
mapped onto the source it is built from; then the usual names, Markdown first; then a mkdocs
`nav` entry or a Sphinx `toctree` entry named like a changelog; then the usual names under
`docs/`, then any file named like a changelog (`ChangeLog.markdown`, `docs/versions.rst`). A
documentation page that only includes another file (`.. include:: ../CHANGES.rst`,
`--8<-- "CHANGELOG.md"`, ```` ```{include} ../CHANGELOG.md ````) stands for that file.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

Exists = Callable[[str], bool]
Read = Callable[[str], str | None]

# Markdown first: when a project keeps both, the Markdown one is the changelog.
MARKDOWN_NAMES = (
    "CHANGELOG.md", "CHANGES.md", "HISTORY.md", "NEWS.md", "RELEASE_NOTES.md", "RELEASES.md",
    "changelog.md", "docs/changelog.md", "docs/CHANGELOG.md", "docs/changes.md",
    "docs/history.md", "docs/news.md",
)
OTHER_NAMES = (
    "CHANGELOG.rst", "CHANGES.rst", "HISTORY.rst", "NEWS.rst", "CHANGELOG", "CHANGES", "HISTORY",
    "NEWS", "CHANGELOG.txt", "CHANGES.txt", "HISTORY.txt", "NEWS.txt", "ChangeLog",
    "docs/changelog.rst", "docs/changes.rst",
)
CHANGELOG_NAMES = MARKDOWN_NAMES + OTHER_NAMES
# Documentation-site layouts, looked for last ({name}: the project's name).
DOCS_NAMES = (
    "docs/release-notes.md", "docs/about/release-notes.md", "docs/about/changelog.md",
    "docs/en/docs/release-notes.md", "docs/history/{name}.md", "docs/versionhistory.md",
    "docs/releases.md", "docs/whatsnew.md", "doc/changelog.md", "doc/history.md",
    "docs/versionhistory.rst", "docs/history.rst", "docs/news.rst", "docs/releases.rst",
    "docs/release-notes.rst", "docs/whatsnew.rst", "docs/source/changelog.rst",
    "docs/source/changes.rst", "docs/source/history.rst", "docs/project/changelog.rst",
    "doc/changelog.rst", "doc/history.rst", "doc/news.rst", "doc/source/changelog.rst",
)
# Any other file named like a changelog, looked for last: these stems with these extensions
# (Markdown first), in these folders.
_STEMS = (
    "CHANGELOG", "changelog", "Changelog", "ChangeLog", "CHANGES", "changes", "Changes",
    "HISTORY", "history", "History", "NEWS", "news", "News", "RELEASE_NOTES", "RELEASE-NOTES",
    "release-notes", "release_notes", "ReleaseNotes", "RELEASES", "releases", "Releases",
    "VERSIONS", "versions", "versionhistory", "version-history", "WHATSNEW", "whatsnew",
)
_EXTS = ((".md", ".markdown", ".mkd"), (".rst", ".txt", ""))
_FOLDERS = ("", "docs", "doc", "docs/source", "doc/source")
# What a link's key or a navigation entry is called when it is the changelog.
_WORDS = {
    "changelog", "changelogs", "changes", "change log", "history", "release notes", "releases",
    "news", "what s new", "whats new", "version history", "release history", "changes log",
    "versions", "change history",
}
# `https://github.com/o/r/blob/main/docs/CHANGES.md` (GitHub, GitLab, Gitea, Bitbucket): the file.
_REPO_FILE = re.compile(r"^https?://[^/]+/[^/]+/[^/]+/(?:-/)?(?:blob|tree|raw|src)/[^/]+/([^?#]+)")
# A forge's releases page: the notes live there, not in a file.
_RELEASES_PAGE = re.compile(r"^https?://[^/]+/[^/]+/[^/]+/(?:-/)?releases(?:/|$)")
_SOURCE_EXTS = (".md", ".rst", ".txt", ".markdown", "")
_MKDOCS = ("mkdocs.yml", "mkdocs.yaml", "docs/mkdocs.yml", "docs/en/mkdocs.yml")
_SPHINX_ROOTS = ("docs", "doc", "docs/source", "doc/source", "docs/src", "")
_DOC_ROOTS = ("docs", "doc", "docs/source", "doc/source", "docs/src", "docs/en/docs", "")
# A page that includes another file: reST, MyST, mkdocs snippets, markdown-include, Jinja.
_INCLUDE = re.compile(
    r"^\s*(?:\.\.\s+(?:include|mdinclude)::\s*(?P<rst>\S+)"
    r"|`{3,}\s*\{include\}\s*(?P<myst>\S+)"
    r"|-{1,2}8<-{1,2}\s*[\"'](?P<snippet>[^\"']+)[\"']"
    r"|\{!\s*(?P<mdinc>[^!]+?)\s*!\}"
    r"|\{%\s*include(?:-markdown)?\s+[\"'](?P<jinja>[^\"']+)[\"'].*%\})\s*$",
    re.M,
)
_STUB_LINES = 8  # a page with more lines of its own than this is a changelog itself


def words(text: str) -> str:
    """`Release-Notes`, `release_notes`, `What's New` as the lowercase words they spell."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def is_changelog_name(text: str) -> bool:
    return words(text) in _WORDS


def lookalikes(paths: Iterable[str]) -> list[str]:
    """The files among `paths` named like a changelog (`ChangeLog.markdown`, `HISTORY.adoc`,
    `docs/release-notes.txt`): a project that keeps one under a name not looked for."""
    return sorted(
        path for path in paths
        if is_changelog_name(posixpath.basename(path).split(".", 1)[0])
    )


def changelog_urls(urls: Mapping[str, Any]) -> tuple[str, ...]:
    """The `[project.urls]` values whose key names a changelog, in their order."""
    return tuple(str(value) for key, value in urls.items() if is_changelog_name(str(key)))


def releases_page(urls: Iterable[str]) -> str | None:
    """The forge releases page a changelog link points at (the notes live in GitHub Releases)."""
    return next((url for url in urls if _RELEASES_PAGE.match(url)), None)


def find(urls: Iterable[str], name: str, exists: Exists, read: Read) -> str | None:
    """The changelog's path (relative, POSIX), or None when the tree has none."""
    for found in _candidates(tuple(urls), name, exists, read):
        if exists(found):
            return _included(found, exists, read)
    return None


def _candidates(urls: tuple[str, ...], name: str, exists: Exists, read: Read) -> Iterator[str]:
    for url in urls:
        linked = _REPO_FILE.match(url)
        if linked:
            yield linked.group(1).rstrip("/")
        elif not _RELEASES_PAGE.match(url):
            yield from _page_sources(url, _doc_roots(exists, read))
    yield from MARKDOWN_NAMES
    yield from _mkdocs_nav(exists, read)
    yield from _toctree(exists, read)
    yield from OTHER_NAMES
    yield from (n.format(name=name) for n in DOCS_NAMES)
    for exts in _EXTS:
        for folder in _FOLDERS:
            for stem in _STEMS:
                yield from (posixpath.join(folder, stem + ext) for ext in exts)


def _page_sources(url: str, roots: tuple[str, ...]) -> Iterator[str]:
    """The files a documentation page could be built from: the URL's path, with its leading
    parts (a language, a version: `/en/latest/`) dropped one by one, under each docs root."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if parts and re.search(r"\.html?$", parts[-1]):
        parts[-1] = re.sub(r"\.html?$", "", parts[-1])
    if parts and parts[-1] == "index":
        parts.pop()
    for start in range(len(parts)):
        page = "/".join(parts[start:])
        for root in roots:
            for ext in _SOURCE_EXTS:
                yield posixpath.join(root, page + ext) if ext else posixpath.join(root, page)
            for ext in _SOURCE_EXTS[:2]:
                yield posixpath.join(root, page, "index" + ext)


def _doc_roots(exists: Exists, read: Read) -> tuple[str, ...]:
    """mkdocs' docs_dir for each mkdocs.yml, then the usual documentation folders."""
    roots = [root for _, root, _ in _mkdocs_configs(exists, read)]
    return tuple(dict.fromkeys((*roots, *_DOC_ROOTS)))


@functools.cache
def _yaml() -> tuple[Any, type[Exception]]:
    """PyYAML and a loader for mkdocs.yml with its `!!python/name:` and `!ENV` tags read as
    nothing (never run); imported when a mkdocs.yml is there, not on every start-up."""
    import yaml  # noqa: PLC0415

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return functools.partial(yaml.load, Loader=Loader), yaml.YAMLError


def _mkdocs_configs(exists: Exists, read: Read) -> Iterator[tuple[str, str, Any]]:
    """(mkdocs.yml path, its docs_dir relative to the root, its nav) for each one there is."""
    for path in _MKDOCS:
        text = read(path) if exists(path) else None
        if text is None:
            continue
        load, error = _yaml()
        try:
            config = load(text)
        except error:
            continue
        if not isinstance(config, dict):
            continue
        docs_dir = config.get("docs_dir", "docs")
        if not isinstance(docs_dir, str):
            continue
        root = posixpath.normpath(posixpath.join(posixpath.dirname(path), docs_dir))
        yield path, "" if root == "." else root, config.get("nav")


def _mkdocs_nav(exists: Exists, read: Read) -> Iterator[str]:
    """The pages a mkdocs nav entry named like a changelog (by title or file name) points at."""
    for _, root, nav in _mkdocs_configs(exists, read):
        for title, page in _nav_entries(nav):
            stem = posixpath.splitext(posixpath.basename(page))[0]
            if "://" not in page and (is_changelog_name(title) or is_changelog_name(stem)):
                yield posixpath.normpath(posixpath.join(root, page))


def _nav_entries(nav: Any) -> Iterator[tuple[str, str]]:
    if isinstance(nav, str):
        yield "", nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_entries(item)
    elif isinstance(nav, dict):
        for title, value in nav.items():
            if isinstance(value, str):
                yield str(title), value
            else:
                yield from _nav_entries(value)


def _toctree(exists: Exists, read: Read) -> Iterator[str]:
    """The documents a Sphinx toctree entry named like a changelog points at, from the master
    document of each Sphinx project (a folder with conf.py) and the indexes it lists."""
    for root in _SPHINX_ROOTS:
        if not exists(posixpath.join(root, "conf.py")):
            continue
        for index in ("index", "contents"):
            entries = _toctree_entries(root, index, exists, read)
            for entry in entries:
                if is_changelog_name(posixpath.basename(entry)):
                    yield from _document(root, entry)
            for entry in entries:
                if posixpath.basename(entry) == "index":
                    for inner in _toctree_entries(root, entry, exists, read):
                        if is_changelog_name(posixpath.basename(inner)):
                            yield from _document(root, inner)


def _document(root: str, docname: str) -> Iterator[str]:
    for ext in (".rst", ".md", ".txt"):
        yield posixpath.normpath(posixpath.join(root, docname + ext))


def _toctree_entries(root: str, docname: str, exists: Exists, read: Read) -> list[str]:
    """The documents the toctrees of `docname` list, as paths relative to `root`."""
    for path in _document(root, docname):
        text = read(path) if exists(path) else None
        if text is not None:
            base = posixpath.dirname(docname)
            return [
                posixpath.normpath(entry[1:] if entry.startswith("/") else
                                   posixpath.join(base, entry))
                for entry in _toctree_lines(text)
            ]
    return []


def _toctree_lines(text: str) -> Iterator[str]:
    """The entries of every `.. toctree::` (reST) or ```` ```{toctree} ```` (MyST) block."""
    inside = fenced = False
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(r"^\.\.\s+toctree::", stripped) or re.match(r"^`{3,}\s*\{toctree\}", stripped):
            inside, fenced = True, stripped.startswith("`")
            continue
        if not inside:
            continue
        ended = stripped.startswith("```") if fenced else bool(stripped) and not line[:1].isspace()
        if ended:
            inside = False
        elif stripped and not stripped.startswith(":"):
            entry = re.search(r"<([^>]+)>\s*$", stripped)
            name = entry.group(1) if entry else stripped
            if "://" not in name and name != "self" and "*" not in name:
                yield name


def _included(path: str, exists: Exists, read: Read) -> str:
    """`path`, or the file it only includes (a documentation stub), followed twice at most."""
    for _ in range(2):
        text = read(path)
        if text is None:
            return path
        target = _stub_target(text)
        if target is None:
            return path
        for joined in (posixpath.join(posixpath.dirname(path), target), target):
            candidate = posixpath.normpath(joined.lstrip("/"))
            if not candidate.startswith("../") and candidate != path and exists(candidate):
                path = candidate
                break
        else:
            return path
    return path


def _stub_target(text: str) -> str | None:
    """The file a page includes when it is nothing but that include (a title, labels, the
    directive's options)."""
    found = _INCLUDE.search(text)
    if found is None:
        return None
    own = [
        line for line in text.splitlines()
        if line.strip() and not re.match(r"^\s*(#|\.\. _|:|\(.*\)=|[=\-~^*`]{3,}|---)", line)
    ]
    if len(own) > _STUB_LINES:
        return None
    return next(value for value in found.groupdict().values() if value).strip()
