"""rst-survey: measure extract-notes on real reStructuredText changelogs, section by section, in
both formats. Run `bash bench/rst_survey/corpus.sh` first; then
`PYTHONPATH=. python bench/rst_survey/check.py [--file NAME] [--show N]`.

The oracle shares no code with the project's reST reader: it parses each file with docutils
itself, takes the sections whose title holds a version (or says unreleased) at the level most
of them sit at, and expects

- `--format rst`: the lines between the title's underline and the next title at that level or
  above (its overline and the `.. _label:` lines before it excluded), blank lines around them
  stripped; a one-line first paragraph (`Released 2024-01-02`, `Unreleased`) may be left out;
- `--format markdown`: the same words, list structure, code blocks and link targets as
  docutils' HTML of that section, once mistletoe renders the Markdown to HTML (roles shown as
  their text, `~a.b.C` as `C`, Sphinx' way; `#`, `@` and `()` that a role adds are ignored).

A version that two sections name is skipped (extract-notes refuses it, by design). The last
line is `rst-survey: rst N/M, markdown K/M sections in F changelogs`.
"""

from __future__ import annotations

import argparse
import collections
import html.parser
import io
import os
import re
import sys
from pathlib import Path

import docutils.core
import docutils.utils
import mistletoe
from docutils import nodes
from docutils.writers import html5_polyglot

from release.core import changelog
from release.core.changelog.rst.markdown import section_markdown
from release.core.changelog.rst.model import RstChangelog
from release.errors import ChangelogError

CACHE = Path(os.environ.get("RST_SURVEY_CACHE", Path.home() / ".cache" / "rst-survey"))
_VERSION = re.compile(r"(?<![\w.])[vV]?(\d+(?:\.\d+)+(?:[-.]?(?:a|b|c|rc|post|dev)\d*)*)(?![\w.])")
_ADORN = re.compile(r"^([!-/:-@\[-`{-~])\1*\s*$")
_LABEL = re.compile(r"^\.\. _[^:]+:\s*$")
_ROLE_LINK = re.compile(
    r"https://github\.com/[\w-]+/?$|https://pypi\.org/project/|https://peps\.python\.org/"
    r"|https://datatracker\.ietf\.org/doc/html/rfc|https://www\.cve\.org/"
)
SETTINGS = {
    "_disable_config": True, "file_insertion_enabled": False, "raw_enabled": False,
    "doctitle_xform": False, "sectsubtitle_xform": False, "syntax_highlight": "none",
    "report_level": 5, "halt_level": 5, "warning_stream": io.StringIO(),
    "input_encoding": "unicode",
}


def _level(section: nodes.Node) -> int:
    level, node = 0, section
    while node is not None:
        level += isinstance(node, nodes.section)
        node = node.parent
    return level


def oracle(text: str) -> list[tuple[str, str, nodes.section]]:
    """(version or "Unreleased", expected rst body, the docutils section) per release."""
    lines = text.replace("\r\n", "\n").split("\n")
    document = docutils.core.publish_doctree(text, settings_overrides=SETTINGS)
    titles = []
    for section in document.findall(nodes.section):
        if section.line is None:
            continue
        under = section.line - 1
        title = section[0].astext()
        first = under - 1
        if first > 0 and _ADORN.match(lines[first - 1]) and lines[first - 1].strip() == \
                lines[under].strip():
            first -= 1
        titles.append((_level(section), under, first, lines[under - 1].strip(), title, section))
    found = [t for t in titles if _VERSION.search(t[3]) or "unreleased" in t[3].lower()]
    if not found:
        return []
    usual = collections.Counter(t[0] for t in found).most_common(1)[0][0]
    out = []
    for n, (level, under, _first, raw, _title, section) in enumerate(titles):
        if level != usual or not (_VERSION.search(raw) or "unreleased" in raw.lower()):
            continue
        stop = len(lines)
        for later in titles[n + 1 :]:
            if later[0] <= level:
                stop = later[2]
                while stop > 0 and (not lines[stop - 1].strip() or _LABEL.match(lines[stop - 1])):
                    stop -= 1
                break
        body = lines[under + 1 : stop]
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        version = _VERSION.search(raw)
        name = version[1] if version and "unreleased" not in raw.lower() else "Unreleased"
        out.append((name, "\n".join(body), section))
    return out


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.lists: list[str] = []
        self.code: list[str] = []
        self.links: list[str] = []
        self.pre = 0
        self.skip: list[bool] = []
        self.buffer = ""
        self.link_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "hr", "col", "input"}:
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        self.skip.append(bool(classes & {"admonition-title", "system-message"}))
        if any(self.skip):
            return
        if tag == "pre":
            self.pre += 1
            self.buffer = ""
        if tag in {"ul", "ol", "li"}:
            self.lists.append(tag)
        href = values.get("href") or ""
        if tag == "a" and href and not href.startswith("#"):
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"br", "img", "hr", "col", "input"}:
            return
        skipped = any(self.skip)
        if self.skip:
            self.skip.pop()
        if skipped:
            return
        if tag == "pre":
            self.pre -= 1
            self.code.append(self.buffer.strip("\n"))
        if tag in {"ul", "ol", "li"}:
            self.lists.append("/")

    def handle_data(self, data: str) -> None:
        if any(self.skip):
            return
        if self.pre:
            self.buffer += data
        else:
            self.words += [w.strip("#@").removesuffix("()") for w in data.split()]


def _collect(markup: str) -> _Collect:
    parser = _Collect()
    parser.feed(markup)
    parser.close()
    parser.words = [w for w in parser.words if w and not re.fullmatch(r"\[!\w+\]", w)]
    return parser


def _role_text(raw: str) -> str:
    found = re.fullmatch(r":[\w.:+-]+:`(.*)`", raw, re.DOTALL)
    if not found:
        return raw
    text = found[1]
    explicit = re.fullmatch(r"(.*?)\s*<[^<>]+>", text, re.DOTALL)
    if explicit:
        return explicit[1]
    text = text.lstrip("!")
    return text[1:].rsplit(".", 1)[-1] if text.startswith("~") else text


def docutils_html(section: nodes.section, skip_first: bool) -> str:
    children = [c for c in section.children if not isinstance(c, nodes.title)]
    if skip_first and children and isinstance(children[0], nodes.paragraph):
        children = children[1:]
    assert section.document is not None
    holder = docutils.utils.new_document("<s>", section.document.settings)
    for child in children:
        holder += child.deepcopy()
    # Roles docutils does not know (Sphinx'), as their text: problematic nodes, or whatever
    # node a role registered in this process makes (the raw `:role:`text`` is kept in it).
    for problem in [n for n in holder.findall(nodes.Element)
                    if isinstance(n, nodes.problematic) or n.tagname == "role_ref"]:
        problem.parent.replace(problem, nodes.Text(_role_text(problem.rawsource or
                                                              problem.astext())))
    for message in list(holder.findall(nodes.system_message)):
        message.parent.remove(message)
    writer = html5_polyglot.Writer()
    settings = {k: v for k, v in SETTINGS.items() if k != "input_encoding"}
    docutils.core.publish_from_doctree(
        holder, writer=writer, settings_overrides={**settings, "output_encoding": "unicode"}
    )
    return str(writer.parts["body"])


def compare(expected: _Collect, ours: _Collect) -> str | None:
    # A `:user:` role becomes a link to the user's GitHub page: not in docutils' HTML.
    def people(found: list[str]) -> list[str]:
        """Without the links a role gets in the Markdown form (`:user:`, `:pypi:`, `:pep:`),
        which docutils' HTML of an unknown role cannot have."""
        return [u for u in found if not _ROLE_LINK.match(u)]

    links, theirs = people(ours.links), people(expected.links)
    text, their_text = "".join(ours.words), "".join(expected.words)  # spacing aside
    if text != their_text:
        at = next((i for i, (x, y) in enumerate(zip(their_text, text, strict=False)) if x != y),
                  min(len(text), len(their_text)))
        return f"text differs at {at}: {their_text[at - 20 : at + 40]!r} vs " \
            f"{text[at - 20 : at + 40]!r}"
    for name, a, b in (("lists", expected.lists, ours.lists),
                       ("code", expected.code, ours.code), ("links", theirs, links)):
        if a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                      min(len(a), len(b)))
            return f"{name} differ at {at}: {a[at:at + 6]!r} vs {b[at:at + 6]!r}"
    return None


def check_file(path: Path, show: int) -> tuple[int, int, int]:
    text = path.read_text(encoding="utf-8")
    expected = oracle(text)
    counts = collections.Counter(name for name, _, _ in expected)
    parsed = changelog.read(text, path.name)
    assert isinstance(parsed, RstChangelog)
    good_rst = good_md = total = 0
    shown = 0
    for name, body, section in expected:
        if counts[name] > 1:
            continue
        total += 1
        try:
            found = parsed.find_any(name)
        except ChangelogError as exc:
            if shown < show:
                print(f"{path.stem} {name}: not found: {exc}")
                shown += 1
            continue
        ours = found.body.replace("\r\n", "\n")
        first_dropped = False
        if ours == body:
            good_rst += 1
        elif "\n\n" in body and ours == body.split("\n\n", 1)[1].lstrip("\n") and \
                "\n" not in body.split("\n\n", 1)[0]:
            good_rst += 1
            first_dropped = True
        elif shown < show:
            print(f"{path.stem} {name}: rst body differs:\n  ours  {ours[:160]!r}\n"
                  f"  wants {body[:160]!r}")
            shown += 1
        markdown = section_markdown(found)
        problem = compare(_collect(docutils_html(section, first_dropped)),
                          _collect(str(mistletoe.markdown(markdown))))
        if problem is None:
            good_md += 1
        elif shown < show:
            print(f"{path.stem} {name}: markdown: {problem}")
            shown += 1
    return good_rst, good_md, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="one corpus file (its name without .rst)")
    parser.add_argument("--show", type=int, default=3, help="mismatches shown per file")
    args = parser.parse_args()
    files = sorted((CACHE / "corpus").glob("*.rst"))
    if args.file:
        files = [f for f in files if f.stem == args.file]
    if not files:
        print("rst-survey: no corpus: run bench/rst_survey/corpus.sh first", file=sys.stderr)
        return 1
    rst_ok = md_ok = total = 0
    for path in files:
        a, b, c = check_file(path, args.show)
        print(f"{path.stem}: rst {a}/{c}, markdown {b}/{c}")
        rst_ok, md_ok, total = rst_ok + a, md_ok + b, total + c
    print(f"rst-survey: rst {rst_ok}/{total}, markdown {md_ok}/{total} sections "
          f"in {len(files)} changelogs")
    return 0 if rst_ok == md_ok == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
