"""A reST section as GitHub-flavoured Markdown (a GitHub Release body), from docutils' tree.

Written here because no maintained converter reads what changelogs write: pandoc turns the
Sphinx roles (`:issue:`, `:pr:`, `:user:`, `:func:`) into bare code spans and `:ref:` into its
raw `text <target>`; the small converters on PyPI drop or garble roles, directives and code
blocks. docutils has already resolved the file's named references (`` `Named`_ `` and its
`.. _Named: url` target elsewhere in the file), so a link points where the reST one does.

Paragraphs are unwrapped (GitHub shows a Release body's line breaks as breaks); subsections are
headings below the release's level; roles become links where their target is known, else
readable text, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from docutils import nodes

from release.core.changelog.model import Section
from release.core.changelog.rst.doctree import role_ref
from release.core.changelog.rst.model import RstSection

_ALERTS = {
    "note": "NOTE", "seealso": "NOTE", "hint": "TIP", "tip": "TIP", "important": "IMPORTANT",
    "attention": "IMPORTANT", "warning": "WARNING", "caution": "CAUTION", "danger": "CAUTION",
    "error": "CAUTION",
}
_ESCAPE = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])(?=\s|$)")
_UNKNOWN_ROLE = re.compile(r"^:(?P<role>[\w.:+-]+):`(?P<text>.*)`$", re.DOTALL)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_CODE_ROLES = {
    "mod", "func", "class", "meth", "attr", "data", "exc", "obj", "const", "type", "deco",
    "fixture", "envvar", "option", "command", "program", "file", "samp", "kbd", "makevar",
    "mimetype", "confval", "setting", "token", "keyword",
}
_CALLS = {"func", "meth", "py:func", "py:meth", "c:func", "deco"}


@dataclass(frozen=True)
class Links:
    """Where roles point: the repository's web URL (`https://github.com/o/r`), if known."""

    repository: str | None = None

    def issue(self, number: str, kind: str) -> str:
        written = number.strip()
        shown = written if not written.isdigit() else f"#{written}"
        if "#" in written and "/" in written.split("#")[0]:  # `org/repo#12`
            repo, _, num = written.partition("#")
            return f"[{written}](https://github.com/{repo}/{kind}/{num})"
        if self.repository is None or not written.isdigit():
            return _escape(shown)
        return f"[{shown}]({self.repository}/{kind}/{written})"


def section_markdown(section: Section, repository: str | None = None) -> str:
    """A reST changelog section's notes as Markdown; `repository` is the web URL `:issue:`
    links go to."""
    assert isinstance(section, RstSection)
    if section.node is None or not section.body.strip():
        return ""
    skip = 1 if section.status is not None else 0
    return to_markdown(section.node, skip=skip, level=3, links=Links(repository))


def to_markdown(section: nodes.section, *, skip: int = 0, level: int = 3,
                links: Links | None = None) -> str:
    """The section's body (its children after the title and `skip` more: a status line) as
    Markdown, subsections as headings from `level` down."""
    writer = _Writer(links or Links(), level)
    children = [c for c in section.children if not isinstance(c, nodes.title)][skip:]
    return writer.blocks(children).strip("\n")


def _escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def _code(text: str) -> str:
    text = " ".join(text.split("\n"))
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") else ""
    return "`" * ticks + pad + text + pad + "`" * ticks


def _indent(text: str, prefix: str, first: str | None = None) -> str:
    out = []
    for n, line in enumerate(text.split("\n")):
        lead = first if n == 0 and first is not None else prefix
        out.append(lead + line if line.strip() else lead.rstrip())
    return "\n".join(out)


class _Writer:
    def __init__(self, links: Links, level: int) -> None:
        self.links = links
        self.level = level
        self.depth = 0  # subsection depth below the release

    # ---- blocks ----
    def blocks(self, children: Iterable[nodes.Node]) -> str:
        parts = [self.block(child) for child in children]
        return "\n\n".join(p for p in parts if p.strip())

    def block(self, node: nodes.Node) -> str:
        handler: Callable[[nodes.Node], str] | None = getattr(
            self, "b_" + node.__class__.__name__, None
        )
        if handler is not None:
            return handler(node)
        if isinstance(node, nodes.Admonition) and isinstance(node, nodes.Element):
            return self._admonition(node)
        if isinstance(node, nodes.Invisible | nodes.system_message):
            return ""
        if isinstance(node, nodes.TextElement):
            return self.inline_of(node)
        if isinstance(node, nodes.Element):
            return self.blocks(node.children)
        return _escape(node.astext())

    def b_paragraph(self, node: nodes.Node) -> str:
        text = self.inline_of(node)
        return _LINE_START.sub(lambda m: m[1] + "\\" + m[2], text)

    def b_section(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.section)
        self.depth += 1
        title = next((c for c in node.children if isinstance(c, nodes.title)), None)
        hashes = "#" * min(6, self.level + self.depth - 1)
        head = f"{hashes} {self.inline_of(title)}" if title is not None else ""
        body = self.blocks(c for c in node.children if c is not title)
        self.depth -= 1
        return head + ("\n\n" + body if body else "")

    def b_bullet_list(self, node: nodes.Node) -> str:
        return self._list(node, lambda _n: "-")

    def b_enumerated_list(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        start = int(node.get("start", 1))
        return self._list(node, lambda n: f"{start + n}.")

    def _list(self, node: nodes.Node, marker: Callable[[int], str]) -> str:
        items = []
        for n, item in enumerate(c for c in node.children if isinstance(c, nodes.list_item)):
            mark = marker(n) + " "
            body = self._item(item.children)
            items.append(_indent(body, " " * len(mark), mark))
        loose = any(
            sum(isinstance(c, nodes.paragraph) for c in item.children) > 1
            for item in node.children if isinstance(item, nodes.Element)
        )
        return ("\n\n" if loose else "\n").join(items)

    def _item(self, children: list[nodes.Node]) -> str:
        """A list item's blocks; a list right under its paragraph keeps the list tight."""
        out = ""
        previous: nodes.Node | None = None
        for child in children:
            text = self.block(child)
            if not text.strip():
                continue
            tight = isinstance(previous, nodes.paragraph) and isinstance(
                child, nodes.bullet_list | nodes.enumerated_list
            )
            out += ("\n" if tight else "\n\n") + text if out else text
            previous = child
        return out

    def b_definition_list(self, node: nodes.Node) -> str:
        parts = []
        for item in node.children:
            if not isinstance(item, nodes.definition_list_item):
                continue
            terms = [self.inline_of(c) for c in item.children if isinstance(c, nodes.term)]
            body = self.blocks(c for c in item.children if isinstance(c, nodes.definition))
            parts.append(f"**{' '.join(terms)}**" + ("\n\n" + body if body else ""))
        return "\n\n".join(parts)

    def b_field_list(self, node: nodes.Node) -> str:
        lines = []
        for field in node.children:
            if isinstance(field, nodes.field) and len(field.children) == 2:
                name, body = field.children
                lines.append(f"**{_escape(name.astext())}:** {self.blocks(body.children)}")
        return "\\\n".join(lines)

    def b_literal_block(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        found: list[str] = list(node.get("classes", []))
        classes = [c for c in found if c != "code"]
        language = classes[0] if classes else ""
        return _fence(node.astext(), language)

    def b_doctest_block(self, node: nodes.Node) -> str:
        return _fence(node.astext(), "pycon")

    def b_line_block(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        lines = [self.inline_of(c) if isinstance(c, nodes.line) else self.block(c)
                 for c in node.children]
        return "\\\n".join(line for line in lines if line)

    def b_block_quote(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        return _indent(self.blocks(node.children), "> ")

    def b_transition(self, node: nodes.Node) -> str:
        return "---"

    def b_comment(self, node: nodes.Node) -> str:
        return ""

    def b_target(self, node: nodes.Node) -> str:
        return ""

    def b_substitution_definition(self, node: nodes.Node) -> str:
        return ""

    def b_container(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        classes: list[str] = list(node.get("classes", []))
        body = self.blocks(node.children)
        if "directive" in classes and len(classes) > 1:  # `.. versionadded:: 2.0`
            name = classes[1]
            words = {"versionadded": "Added in version", "versionchanged": "Changed in version",
                     "deprecated": "Deprecated since version",
                     "versionremoved": "Removed in version"}
            if name in words:
                head = f"*{words[name]} {_escape(node.get('argument', ''))}*"
                return head + (": " + body if body and "\n" not in body else
                               ("\n\n" + body if body else ""))
            if name == "seealso":
                return _indent("**See also**\n\n" + body, "> ")
        return body

    def b_table(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        rows: list[list[str]] = []
        header = 0
        for part in node.findall(nodes.row):
            cells = [self.blocks(e.children).replace("\n\n", "<br>").replace("\n", " ")
                     .replace("|", "\\|") for e in part.children]
            rows.append(cells)
            if isinstance(part.parent, nodes.thead):
                header += 1
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        head = rows[0] if header else [""] * width
        body = rows[1:] if header else rows
        out = ["| " + " | ".join(head) + " |", "|" + " --- |" * width]
        out += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(out)

    def b_footnote(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Element)
        label = next((c.astext() for c in node.children if isinstance(c, nodes.label)), "")
        body = self.blocks(c for c in node.children if not isinstance(c, nodes.label))
        return f"\\[{label}\\] {body}"

    b_citation = b_footnote

    def b_image(self, node: nodes.Node) -> str:
        return self.inline(node)

    def _admonition(self, node: nodes.Element) -> str:
        kind = node.__class__.__name__
        title = next((c for c in node.children if isinstance(c, nodes.title)), None)
        body = self.blocks(c for c in node.children if c is not title)
        if kind in _ALERTS:
            return _indent(f"[!{_ALERTS[kind]}]\n" + body, "> ")
        head = f"**{self.inline_of(title)}**" if title is not None else ""
        return _indent(head + ("\n\n" + body if body else ""), "> ")

    # ---- inline ----
    def inline_of(self, node: nodes.Node | None) -> str:
        if node is None:
            return ""
        return "".join(self.inline(c) for c in node.children).strip()

    def inline(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Text):
            return _escape(node.astext().replace("\n", " "))
        assert isinstance(node, nodes.Element)
        inner = "".join(self.inline(c) for c in node.children)
        if isinstance(node, nodes.emphasis | nodes.title_reference):
            return _wrap(inner, "*")
        if isinstance(node, nodes.strong):
            return _wrap(inner, "**")
        if isinstance(node, nodes.literal):
            return _code(node.astext())
        if isinstance(node, nodes.reference):
            uri = node.get("refuri")
            if not uri:
                return inner
            if node.astext() == uri and uri.startswith(("http://", "https://")):
                return f"<{uri}>"
            return f"[{inner}]({_dest(uri)})"
        if isinstance(node, nodes.image):
            return f"![{_escape(node.get('alt', ''))}]({_dest(node.get('uri', ''))})"
        if isinstance(node, nodes.footnote_reference | nodes.citation_reference):
            return f"\\[{_escape(node.astext())}\\]"
        if isinstance(node, role_ref):
            return self.role(node)
        if isinstance(node, nodes.problematic):
            return self.unknown_role(node.astext())
        if isinstance(node, nodes.subscript):
            return f"<sub>{inner}</sub>"
        if isinstance(node, nodes.superscript):
            return f"<sup>{inner}</sup>"
        if isinstance(node, nodes.system_message | nodes.Invisible):
            return ""
        return inner

    def unknown_role(self, raw: str) -> str:
        found = _UNKNOWN_ROLE.match(raw)
        if found is None:
            return _escape(raw)
        text = found["text"]
        explicit = _EXPLICIT.match(text)
        return _escape(explicit["text"] if explicit else text)

    def role(self, node: role_ref) -> str:
        name = str(node["role"])
        bare = name.removeprefix("py:").removeprefix("c:")
        text, target = node.astext(), str(node["target"])
        if bare in {"issue", "issues", "ghissue", "pr", "pull", "ghpull"}:
            kind = "pull" if bare in {"pr", "pull", "ghpull"} else "issues"
            numbers = [self.links.issue(n, kind) for n in target.split(",") if n.strip()]
            return ", ".join(numbers) if not node["explicit"] else (
                f"[{_escape(text)}]({self.links.repository}/{kind}/{target})"
                if self.links.repository and target.isdigit() else _escape(text)
            )
        if bare == "user":
            user = target.lstrip("@")
            shown = text if node["explicit"] else f"@{user}"
            return f"[{_escape(shown)}](https://github.com/{user})"
        if bare == "commit" and self.links.repository:
            return f"[{_code(target[:7])}]({self.links.repository}/commit/{target})"
        if bare == "pep" and target.isdigit():
            shown = text if node["explicit"] else f"PEP {target}"
            return f"[{_escape(shown)}](https://peps.python.org/pep-{int(target):04d}/)"
        if bare == "rfc" and target.isdigit():
            shown = text if node["explicit"] else f"RFC {target}"
            return f"[{_escape(shown)}](https://datatracker.ietf.org/doc/html/rfc{target})"
        if bare == "pypi":
            return f"[{_escape(text)}](https://pypi.org/project/{target}/)"
        if bare == "cve":
            return f"[{_escape(text)}](https://www.cve.org/CVERecord?id={target})"
        if bare in _CODE_ROLES or name in _CODE_ROLES:
            shown = text
            if not node["explicit"]:
                shown = shown.lstrip("!")
                if shown.startswith("~"):
                    shown = shown[1:].rsplit(".", 1)[-1]
                if bare in _CALLS and not shown.endswith(")"):
                    shown += "()"
            return _code(shown)
        return _escape(text)


def _wrap(inner: str, mark: str) -> str:
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{mark}{stripped}{mark}{trail}"


def _dest(uri: str) -> str:
    return f"<{uri}>" if re.search(r"[\s()<>]", uri) else uri


def _fence(code: str, language: str) -> str:
    ticks = max((len(m) for m in re.findall(r"^\s*(`{3,})", code, re.M)), default=2) + 1
    fence = "`" * max(3, ticks)
    return f"{fence}{language}\n{code}\n{fence}"
