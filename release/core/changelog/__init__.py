"""The changelog model: find, extract, check and roll forward version sections. Pure: text in,
values and text out. The public API, re-exported from the modules that hold it:

- model: the values (Changelog, Section, LinkRef, HeadingStyle, Extracted)
- scan: the fast scan of headings and link definitions (mistletoe where needed)
- lines: the text's lines, each found when asked for (the scan places the lines it meets)
- definitions: the scan's reader of link definitions (mistletoe's, and a block of plain ones
  at once)
- parse: sections and link definitions from text (each section built when first asked for)
- refs: the link definitions, each made a LinkRef when asked for
- extract: a section's notes
- problems: `--check`'s problems (`check`)
- roll: roll [Unreleased] forward (`Rolled`); open a fresh unreleased section (back to
  development)
- heading: the heading-text grammar (`read_title`, `learn_style`), pure over a title string,
  shared by every markup
- rst: the same for a reStructuredText changelog (docutils), and its Markdown form:
  rst.parse (sections), rst.markdown (a section as Markdown), rst.roll, rst.check
"""

from typing import TYPE_CHECKING, Any

from release.core.changelog.extract import extract, extract_read, notes
from release.core.changelog.model import (
    Changelog,
    Extracted,
    HeadingStyle,
    LinkRef,
    Section,
)
from release.core.changelog.parse import parse, require_markdown
from release.errors import ChangelogError

if TYPE_CHECKING:
    from release.core.changelog.problems import Problem, Severity, check, missing_sections
    from release.core.changelog.roll import Rolled, open_unreleased, roll_forward

# Loaded when first asked for: rolling forward is for `release` alone, the check for `--check`
# and `release`; `extract-notes` of one section starts without either.
_LATER = {
    "open_unreleased": "roll", "roll_forward": "roll", "Rolled": "roll",
    "Problem": "problems", "Severity": "problems", "check": "problems",
    "missing_sections": "problems",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is not None:
        import importlib  # noqa: PLC0415

        found = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = found  # asked once
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RST_SUFFIXES = (".rst", ".rest")


def is_rst(name: str) -> bool:
    """Whether the changelog file `name` is reStructuredText (`CHANGES.rst`), by its name."""
    return name.lower().endswith(RST_SUFFIXES)


def read(text: str, name: str, like: Changelog | None = None) -> Changelog:
    """The changelog in `text`, read in the syntax its file name says (reST for `.rst`);
    `like`: the changelog `text` was edited from, whose reading of what they share is reused."""
    if is_rst(name):
        from release.core.changelog.rst.parse import parse as parse_rst  # noqa: PLC0415

        return parse_rst(text)  # docutils is imported only for a reST changelog
    return parse(text, like)

__all__ = [
    "Changelog",
    "ChangelogError",
    "Extracted",
    "HeadingStyle",
    "LinkRef",
    "Problem",
    "Rolled",
    "Section",
    "Severity",
    "check",
    "extract",
    "extract_read",
    "is_rst",
    "missing_sections",
    "notes",
    "open_unreleased",
    "parse",
    "read",
    "require_markdown",
    "roll_forward",
]
