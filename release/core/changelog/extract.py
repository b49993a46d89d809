"""A section's notes: its body plus the link definitions it uses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from release.core.changelog.model import Changelog, Extracted, Section, normalize_label
from release.core.changelog.parse import parse_one
from release.core.changelog.refs import Refs
from release.core.changelog.scan import (
    Root,
    block_token,
    span_token,
    using_mistletoe,
    without_gc,
)
from release.errors import ChangelogError

_CODE = (
    block_token.CodeFence, block_token.BlockCode, span_token.InlineCode, block_token.HtmlBlock,
    span_token.HtmlSpan,
)


def _walk(tokens: Sequence[Any]) -> Iterator[Any]:
    for item in tokens:
        yield item
        children = getattr(item, "children", None)
        if children:
            yield from _walk(list(children))


def _plain(item: Any) -> str:
    content = getattr(item, "content", None)
    if isinstance(content, str) and not getattr(item, "children", None):
        return content
    return "".join(_plain(child) for child in getattr(item, "children", None) or ())


def definitions(changelog: Changelog) -> dict[str, tuple[str, str]]:
    """The file's link definitions as mistletoe holds them, for `tokenize`."""
    refs = changelog._refs
    if isinstance(refs, Refs):  # without making a LinkRef of each
        return refs.definitions()
    return {key: (ref.dest, ref.title) for key, ref in refs.items()}


def tokenize(body: str, defined: dict[str, tuple[str, str]]) -> list[Any]:
    """`body` parsed by mistletoe, its references resolved against `defined` (the whole file's
    definitions: shared, not copied, so checking every section stays linear)."""
    root = Root()
    root.footnotes = defined
    lines = body.replace("\r\n", "\n").splitlines(keepends=True)
    with using_mistletoe(root):
        tokens: list[Any] = block_token.tokenize(
            [ln if ln.endswith("\n") else ln + "\n" for ln in lines]
        )
    return tokens


def prose(tokens: Sequence[Any]) -> Iterator[str]:
    """The plain text of `tokens`, code and raw HTML left out."""
    for item in tokens:
        if isinstance(item, _CODE):
            continue
        if isinstance(item, span_token.RawText):
            yield str(item.content)
        children = getattr(item, "children", None)
        if children:
            yield from prose(list(children))


def _used(body: str, changelog: Changelog) -> list[str]:
    """Keys of the definitions that reference links in `body` resolve to."""
    defined = definitions(changelog)
    tokens = tokenize(body, defined)
    keys: list[str] = []
    by_target: dict[tuple[str, str], list[str]] = {}
    for item in _walk(tokens):
        kind = getattr(item, "dest_type", None)
        if not isinstance(item, span_token.Link | span_token.Image) or kind not in (
            "full", "collapsed", "shortcut"
        ):
            continue
        label = item.label if kind == "full" else _plain(item)
        key = normalize_label(label) if label else ""
        if key in changelog._refs:
            keys.append(key)
        else:  # link text with markup: fall back to the definition it resolved to
            if not by_target:
                for found, ref in changelog._refs.items():
                    by_target.setdefault((ref.dest, ref.title), []).append(found)
            target = str(getattr(item, "target", None) or getattr(item, "src", ""))
            keys.extend(by_target.get((target, str(item.title)), []))
    return keys


def notes(changelog: Changelog, section: Section) -> str:
    """The section's body plus the link definitions it uses that live elsewhere in the file,
    so it renders the same on its own (a GitHub Release page)."""
    body = section.body
    if changelog.syntax == "rst":  # its targets are defined by name, anywhere: as written
        return body
    if not body or "[" not in body:
        return body
    wanted = set(_used(body, changelog))
    extra: list[str] = []
    refs = changelog._refs
    if isinstance(refs, Refs):  # the few it uses, in file order, not every definition
        at = {key: refs.position(key) for key in wanted if key in refs}
        used = [refs[key] for key in sorted(at, key=lambda k: at[k] or 0)]
    else:
        used = [r for r in changelog.link_refs if r.key in wanted and refs.get(r.key) is r]
    for ref in used:
        if ref.line is not None and section.body_start <= ref.start < section.body_end:
            continue  # defined in the body itself
        if ref.line is not None:
            extra.append(changelog.text[ref.start : ref.end].rstrip("\r\n"))
        else:
            title = f' "{ref.title}"' if ref.title else ""
            extra.append(f"[{ref.label}]: {ref.dest}{title}")
    if not extra:
        return body
    eol = changelog.eol
    return body + eol + eol + eol.join(extra)


@without_gc
def extract(
    text: str, query: str, *, allow_empty: bool = False, include_prereleases: bool = False,
    name: str = "CHANGELOG.md", markdown: bool = False, repository: str | None = None,
) -> Extracted:
    """The section `query` names (see `Changelog.find`), with its notes as the body. A
    changelog whose file `name` is reStructuredText gives its body as written, or with
    `markdown` as Markdown (`:issue:` roles linking into `repository`, a web URL)."""
    from release.core.changelog import is_rst, read  # noqa: PLC0415 (the package's front door)

    # Markdown: only the section asked for is built, when the headings alone tell which.
    one = None if is_rst(name) else parse_one(text, query, include_prereleases=include_prereleases)
    if one is not None:
        changelog, section = one
    else:
        changelog = read(text, name)
        section = _find(changelog, query, include_prereleases)
    return _extracted(changelog, section, allow_empty, markdown, repository)


def extract_read(
    changelog: Changelog, query: str, *, allow_empty: bool = False,
    include_prereleases: bool = False,
) -> Extracted:
    """What `extract(changelog.text, query, ...)` gives, from the changelog as read already."""
    section = _find(changelog, query, include_prereleases)
    return _extracted(changelog, section, allow_empty, False, None)


def _find(changelog: Changelog, query: str, include_prereleases: bool) -> Section:
    find = getattr(changelog, "find_any", changelog.find)  # reST: a pending version too
    section: Section = find(query, include_prereleases=include_prereleases)
    return section


def _extracted(
    changelog: Changelog, section: Section, allow_empty: bool, markdown: bool,
    repository: str | None,
) -> Extracted:
    if not section.body.strip() and not allow_empty:
        raise ChangelogError(
            f"the changelog section for {section.name} (line {section.line}) is empty: "
            "write its notes under the heading (or allow an empty section: --allow-empty)"
        )
    body = notes(changelog, section)
    if changelog.syntax == "rst" and markdown:
        from release.core.changelog.rst.markdown import section_markdown  # noqa: PLC0415

        body = section_markdown(section, repository)
    return Extracted(
        version=section.version or getattr(section, "pending", None),
        date=section.date,
        title=section.title,
        body=body,
        url=section.url,
    )
