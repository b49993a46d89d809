"""docutils, set up for reading a changelog someone else wrote: no file inclusion, no raw
passthrough, no configuration files from the working directory, no output on stderr, and the
Sphinx roles changelogs use (`:issue:`, `:func:`, ...) known, so they parse into nodes instead
of errors."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import docutils.core
import docutils.utils
from docutils import nodes
from docutils.parsers.rst import Directive, directives, roles

from release.errors import ChangelogError

SETTINGS: dict[str, Any] = {
    "_disable_config": True,  # a docutils.conf in the project is not ours to read
    "file_insertion_enabled": False,  # `.. include:: /etc/passwd`
    "raw_enabled": False,
    "doctitle_xform": False,  # the file's first title stays a section
    "sectsubtitle_xform": False,
    "syntax_highlight": "none",
    "report_level": 2,  # warnings and up are kept in the tree, for --check
    "halt_level": 5,  # never raise: a broken file is reported, not fatal
    "input_encoding": "unicode",
    "line_length_limit": 1_000_000,
}


class role_ref(nodes.Inline, nodes.TextElement):
    """An interpreted text role docutils itself does not know: its name, its text, and the
    target it names (`:ref:`text <target>``), kept for the Markdown writer."""


# Roles of Sphinx and of the extensions changelogs use (sphinx-issues, sphinx.ext.extlinks
# spellings): read into `role_ref` nodes. Any other unknown role is docutils' error, shown as
# its text.
SPHINX_ROLES = (
    "issue", "issues", "pr", "pull", "user", "commit", "cve", "cwe", "gh", "ghissue", "ghpull",
    "bug", "bpo", "pypi", "ref", "doc", "any", "term", "envvar", "option", "command", "program",
    "file", "samp", "kbd", "guilabel", "menuselection", "mimetype", "makevar", "dfn", "abbr",
    "download", "numref", "keyword", "token", "confval", "setting", "mod", "func", "class",
    "meth", "attr", "data", "exc", "obj", "const", "type", "deco", "fixture", "py:mod", "py:func",
    "py:class", "py:meth", "py:attr", "py:data", "py:exc", "py:obj", "py:const", "c:func",
    "c:macro", "c:type", "c:member", "c:data", "pep", "rfc",
)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


def _sphinx_role(  # noqa: PLR0917 (docutils' role signature)
    name: str, rawtext: str, text: str, lineno: int, inliner: Any,
    options: dict[str, Any] | None = None, content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    raw = docutils.utils.unescape(text)
    found = _EXPLICIT.match(raw)
    shown, target = (found["text"], found["target"]) if found else (raw, raw)
    node = role_ref(rawtext, shown, role=name.lower(), target=target.strip(),
                    explicit=found is not None)
    return [node], []


class _Generic(Directive):
    """A Sphinx directive (`versionadded`, `deprecated`, `changelog`, ...): its content is
    parsed as body elements, under a container naming it."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = None

    def run(self) -> list[nodes.Node]:
        node = nodes.container(classes=["directive", self.name])
        node["argument"] = self.arguments[0] if self.arguments else ""
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


SPHINX_DIRECTIVES = (
    "versionadded", "versionchanged", "deprecated", "versionremoved", "seealso", "only",
    "changelog", "towncrier-draft-entries", "toctree", "autoclass", "autofunction", "automodule",
)
_ready = False


def _register() -> None:
    global _ready  # noqa: PLW0603 (docutils keeps its registries module-global too)
    if _ready:
        return
    for name in SPHINX_ROLES:
        roles.register_local_role(name, _sphinx_role)  # type: ignore[arg-type]
    for name in SPHINX_DIRECTIVES:
        directives.register_directive(name, _Generic)
    _ready = True


@dataclass(frozen=True)
class Message:
    """One of docutils' system messages: severity (2 warning, 3 error, 4 severe), line and
    text."""

    level: int
    line: int | None
    text: str


def doctree(text: str) -> tuple[nodes.document, list[Message]]:
    """`text` parsed by docutils, and its system messages (warnings and up), in file order."""
    _register()
    settings = dict(SETTINGS, warning_stream=io.StringIO())
    try:
        document: nodes.document = docutils.core.publish_doctree(
            text, settings_overrides=settings
        )
    except RecursionError:
        raise ChangelogError(
            "docutils cannot read it: it nests lists or quotes too deeply; flatten them"
        ) from None
    except Exception as exc:  # docutils failing on odd input: one line, not a traceback
        raise ChangelogError(
            f"docutils cannot read it ({type(exc).__name__}: {exc}): fix the reStructuredText "
            "(`python -m docutils` on the file shows where)"
        ) from None
    messages = []
    for found in document.findall(nodes.system_message):
        line = found.get("line")
        body = found.children[0].astext() if found.children else found.astext()
        if int(found["level"]) >= 2:
            messages.append(Message(int(found["level"]), int(line) if line else None, body))
    messages.sort(key=lambda m: m.line or 0)
    return document, messages
