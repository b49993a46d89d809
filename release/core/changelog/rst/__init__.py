"""reStructuredText changelogs (`CHANGES.rst`, towncrier's `NEWS.rst`): read with docutils into
the values the Markdown model uses, a section's notes as written or as Markdown, rolled forward
in the file's own style, and checked.

- parse: sections from the docutils tree, bodies as exact slices of the file
- markdown: a section as GitHub-flavoured Markdown
- roll: a new release section in the file's style
- check: `--check`'s problems, docutils' own messages among them
"""

from __future__ import annotations

from release.core.changelog.model import Section
from release.core.changelog.rst.markdown import Links, to_markdown
from release.core.changelog.rst.model import RstChangelog, RstSection
from release.core.changelog.rst.parse import parse

def markdown(section: Section, repository: str | None = None) -> str:
    """The section's notes as Markdown; `repository` is the web URL `:issue:` links go to."""
    assert isinstance(section, RstSection)
    if section.node is None or not section.body.strip():
        return ""
    skip = 1 if section.status is not None else 0
    return to_markdown(section.node, skip=skip, level=3, links=Links(repository))


__all__ = ["Links", "RstChangelog", "RstSection", "markdown", "parse"]
