"""Checking a Markdown form by rendering, not by string comparison: the reST section as
docutils renders it to HTML and the Markdown as a CommonMark/GFM renderer (mistletoe) renders
it must show the same words, list structure, code blocks and link targets.

docutils knows no Sphinx role, so the HTML here writes the roles the way Sphinx' extensions
do on a rendered page (sphinx-issues: `#123` linking to the issue, `@name` to the user; code
roles as code, `func` with `()`); that table is this oracle's own, not the converter's.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field
from typing import Any

import docutils.core
import docutils.utils
import mistletoe
from docutils import nodes
from docutils.writers import html5_polyglot

from release.core.changelog.rst.doctree import SETTINGS, role_ref
from release.core.changelog.rst.model import RstSection


@dataclass
class Rendered:
    words: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)  # ul( li( ) ... nesting, in order
    code: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class _Collect(html.parser.HTMLParser):
    SKIP_CLASSES = frozenset({"admonition-title", "system-message"})

    def __init__(self) -> None:
        super().__init__()
        self.out = Rendered()
        self.pre = 0
        self.skip = 0
        self.stack: list[bool] = []  # whether each open element is skipped
        self.buffer = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = bool(set((values.get("class") or "").split()) & self.SKIP_CLASSES)
        if tag in {"br", "img", "hr", "input", "meta", "col"}:
            return
        self.stack.append(skipped)
        self.skip += skipped
        if self.skip:
            return
        if tag == "pre":
            self.pre += 1
            self.buffer = ""
        if tag in {"ul", "ol", "li"}:
            self.out.lists.append(tag + "(")
        href = values.get("href")
        if tag == "a" and href and not href.startswith("#"):
            self.out.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"br", "img", "hr", "input", "meta", "col"}:
            return
        skipped = self.stack.pop() if self.stack else False
        if not self.skip:
            if tag == "pre":
                self.pre -= 1
                self.out.code.append(self.buffer.strip("\n"))
            if tag in {"ul", "ol", "li"}:
                self.out.lists.append(")")
        self.skip -= skipped

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            self.buffer += data
        else:
            self.out.words += data.split()


def collect(html_text: str) -> Rendered:
    parser = _Collect()
    parser.feed(html_text)
    parser.close()
    rendered = parser.out
    rendered.words = [w for w in rendered.words if not re.fullmatch(r"\[!\w+\]", w)]
    return rendered


ISSUE_ROLES = {"issue": "issues", "pr": "pull"}
CODE_ROLES = {"func", "meth", "class", "attr", "mod", "exc", "data", "obj", "const", "envvar",
              "option", "command", "file"}


class _Translator(html5_polyglot.HTMLTranslator):
    repository: str | None = None

    def visit_role_ref(self, node: role_ref) -> None:
        role, target, text = node["role"], node["target"], node.astext()
        if role in ISSUE_ROLES and self.repository:
            href = f"{self.repository}/{ISSUE_ROLES[role]}/{target}"
            self.body.append(f'<a href="{href}">#{text}</a>')
        elif role == "user":
            self.body.append(f'<a href="https://github.com/{target}">@{text}</a>')
        elif role in CODE_ROLES:  # Sphinx: `~a.b.C` shows `C`, functions get `()`
            call = "()" if role in {"func", "meth"} else ""
            shown = text[1:].rsplit(".", 1)[-1] if text.startswith("~") else text
            self.body.append(f"<code>{self.encode(shown)}{call}</code>")
        else:
            self.body.append(self.encode(text))
        raise nodes.SkipNode


def docutils_html(section: RstSection, repository: str | None) -> str:
    """The section's body (title and status line left out) as docutils renders it."""
    assert section.node is not None
    node = section.node
    children = [c for c in node.children if not isinstance(c, nodes.title)]
    if section.status is not None:
        children = children[1:]
    assert node.document is not None
    holder = docutils.utils.new_document("<section>", node.document.settings)
    for child in children:
        holder += child.deepcopy()
    for problem in list(holder.findall(nodes.problematic)):
        # An unknown role, shown as its text (`:foo:`text`` reads `text`)
        found = re.fullmatch(r":[\w.:+-]+:`(.*)`", problem.astext(), re.DOTALL)
        problem.parent.replace(problem, nodes.Text(found[1] if found else problem.astext()))
    writer = html5_polyglot.Writer()
    translator = type("T", (_Translator,), {"repository": repository})
    writer.translator_class = translator
    settings: dict[str, Any] = dict(SETTINGS)
    settings.pop("input_encoding")
    docutils.core.publish_from_doctree(
        holder, writer=writer, settings_overrides={**settings, "output_encoding": "unicode"}
    )
    return str(writer.parts["body"])


def markdown_html(markdown: str) -> str:
    return str(mistletoe.markdown(markdown))


def same_rendering(section: RstSection, markdown: str, repository: str | None = None) -> list[str]:
    """What differs between the reST section and its Markdown form once both are rendered
    (empty: they show the same)."""
    ours = collect(markdown_html(markdown))
    theirs = collect(docutils_html(section, repository))
    problems = []
    for name in ("words", "lists", "code", "links"):
        a, b = getattr(theirs, name), getattr(ours, name)
        if a != b:
            problems.append(f"{name}: reST {a!r} != Markdown {b!r}")
    return problems
