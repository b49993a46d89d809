"""The changelog model: find, extract, check and roll forward version sections. Pure: text in,
values and text out. The public API, re-exported from the modules that hold it:

- model: the values (Changelog, Section, LinkRef, HeadingStyle, Extracted, Rolled)
- scan: the fast scan of headings and link definitions (mistletoe where needed)
- parse: sections and link definitions from text
- extract: a section's notes
- check: `--check`'s problems
- roll: roll [Unreleased] forward; open a fresh unreleased section (back to development)
- heading: the heading-text grammar (`read_title`, `learn_style`), pure over a title string,
  shared by every markup
"""

from release.core.changelog.check import Problem, Severity, check, missing_sections
from release.core.changelog.extract import extract, notes
from release.core.changelog.model import (
    Changelog,
    Extracted,
    HeadingStyle,
    LinkRef,
    Rolled,
    Section,
)
from release.core.changelog.parse import parse, require_markdown
from release.core.changelog.roll import open_unreleased, roll_forward
from release.errors import ChangelogError

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
    "missing_sections",
    "notes",
    "open_unreleased",
    "parse",
    "require_markdown",
    "roll_forward",
]
