"""reStructuredText changelogs: sections from docutils, bodies as exact slices, the release
heading shapes the reST world writes, the Markdown form checked by rendering, and the roll
forward in the file's own style.

The fixtures are written here in the shapes real projects use (Pallets' `Version X` over a
`Released`/`Unreleased` line, zest.releaser's `X (unreleased)`, towncrier's and scriv's output,
labels before titles, overlined titles, any adornment character); none is copied from one.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from release.core import changelog
from release.core.changelog.rst import model as rst
from release.core.changelog.rst.markdown import section_markdown
from release.core.changelog.rst.model import RstChangelog
from release.errors import ChangelogError
from tests.support.apps import extract_notes_main
from tests.support.rendering import same_rendering


def _parse(text: str) -> RstChangelog:
    parsed = changelog.read(textwrap.dedent(text), "CHANGES.rst")
    assert isinstance(parsed, RstChangelog)
    return parsed


def _sections(text: str) -> list[tuple[str, str | None, str]]:
    return [(s.name, s.date, s.body) for s in _parse(text).sections]


PALLETS = """\
    Version 3.1.0
    -------------

    Unreleased

    -   Drop support for Python 3.8. :pr:`5623`
    -   Fix the ``--key`` option. :issue:`5649`

    Version 3.0.3
    -------------

    Released 2024-04-07

    -   The default ``hashlib.sha1`` may not be available.
        :issue:`5448`
"""


SHAPES: dict[str, tuple[str, list[tuple[str, str | None, str]]]] = {
    "pallets": (PALLETS, [
        ("Unreleased", None, "-   Drop support for Python 3.8. :pr:`5623`\n"
         "-   Fix the ``--key`` option. :issue:`5649`"),
        ("3.0.3", "2024-04-07", "-   The default ``hashlib.sha1`` may not be available.\n"
         "    :issue:`5448`"),
    ]),
    "zest.releaser": ("""\
        Changelog
        =========

        1.4.1 (unreleased)
        ------------------

        - Nothing changed yet.


        1.4.0 (2024-02-03)
        ------------------

        - Support Python 3.12.
          [maurits]
        """, [
        ("Unreleased", None, "- Nothing changed yet."),
        ("1.4.0", "2024-02-03", "- Support Python 3.12.\n  [maurits]"),
    ]),
    "towncrier": ("""\
        Release notes
        =============

        .. towncrier release notes start

        demo 2.1.0 (2025-03-01)
        =======================

        Features
        --------

        - Parallel frobnication. (`#41 <https://github.com/acme/demo/issues/41>`_)


        Bugfixes
        --------

        - No crash on empty input. (`#40 <https://github.com/acme/demo/issues/40>`_)


        demo 2.0.0 (2025-01-10)
        =======================

        No significant changes.
        """, [
        ("2.1.0", "2025-03-01", "Features\n--------\n\n- Parallel frobnication. "
         "(`#41 <https://github.com/acme/demo/issues/41>`_)\n\n\nBugfixes\n--------\n\n"
         "- No crash on empty input. (`#40 <https://github.com/acme/demo/issues/40>`_)"),
        ("2.0.0", "2025-01-10", "No significant changes."),
    ]),
    "scriv, labels, overlines": ("""\
        =========
        Changelog
        =========

        .. scriv-start-here

        .. _changelog-1.2.0:

        1.2.0 — 2024-06-01
        ==================

        Added
        -----

        - A ``--fast`` flag.

        .. _changelog-1.1.0:

        1.1.0 — 2024-05-01
        ==================

        Fixed
        -----

        - Typo.
        """, [
        ("1.2.0", "2024-06-01", "Added\n-----\n\n- A ``--fast`` flag."),
        ("1.1.0", "2024-05-01", "Fixed\n-----\n\n- Typo."),
    ]),
    "v prefix, dash dates, odd characters, PEP 440": ("""\
        ~~~~~~~
        History
        ~~~~~~~

        v2.0.0rc1 - 2024-01-02
        ++++++++++++++++++++++

        * Pre-release.

        v1.0.post1 - 2023-12-01
        +++++++++++++++++++++++

        * Packaging fix.

        Details
        ^^^^^^^

        * Inside.
        """, [
        ("2.0.0rc1", "2024-01-02", "* Pre-release."),
        ("1.0.post1", "2023-12-01", "* Packaging fix.\n\nDetails\n^^^^^^^\n\n* Inside."),
    ]),
    "bold unreleased, kombu dates": ("""\
        **UNRELEASED**
        --------------

        - Coming.

        .. _version-5.3.0:

        5.3.0
        -----
        :release-date: 2023-06-06 2:00 P.M GMT+2
        :release-by: Someone

        - Done.
        """, [
        ("Unreleased", None, "- Coming."),
        ("5.3.0", "2023-06-06", ":release-date: 2023-06-06 2:00 P.M GMT+2\n"
         ":release-by: Someone\n\n- Done."),
    ]),
    "markup in titles": ("""\
        `v2.1.0`_ - 2024-05-06
        ----------------------
        - Linked title.

        **2.0.0** (2024-01-02)
        ----------------------
        - Bold title.

        .. _v2.1.0: https://github.com/acme/demo/compare/v2.0.0...v2.1.0
        """, [
        ("2.1.0", "2024-05-06", "- Linked title."),
        ("2.0.0", "2024-01-02", "- Bold title.\n\n"
         ".. _v2.1.0: https://github.com/acme/demo/compare/v2.0.0...v2.1.0"),
    ]),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_release_sections_in_the_shapes_the_rst_world_writes(name: str) -> None:
    text, expected = SHAPES[name]
    assert _sections(text) == expected


def test_titles_in_literal_blocks_comments_and_directives_are_not_sections() -> None:
    parsed = _parse("""\
        1.1.0
        =====

        - An example::

            1.0.5
            =====

        ..
            1.0.4
            =====

        .. note::

            See the ``1.0.3`` notes.

        .. code-block:: rst

            1.0.2
            =====

        1.0.0
        =====

        - First.
        """)
    assert [s.name for s in parsed.sections] == ["1.1.0", "1.0.0"]
    assert "1.0.2\n    =====" in parsed.find("1.1.0").body


def test_levels_follow_the_file_s_own_order_of_adornment_styles() -> None:
    # `-` is the top level here (first seen), `=` below it: a `=` title is a subsection.
    parsed = _parse("""\
        1.1.0
        -----

        Bugs
        ====

        - Fixed.

        1.0.0
        -----

        - First.
        """)
    assert [s.name for s in parsed.sections] == ["1.1.0", "1.0.0"]
    assert parsed.find("1.1.0").body == "Bugs\n====\n\n- Fixed."


def test_labels_belong_to_the_next_section_and_bodies_are_exact_slices() -> None:
    text = ".. _v1-1-0:\r\n\r\n1.1.0\r\n-----\r\n\r\n- B.\r\n\r\n.. _v1-0-0:\r\n\r\n" \
        "1.0.0\r\n-----\r\n\r\n- A.\r\n\r\n.. _link: https://example.org\r\n"
    parsed = changelog.read(text, "NEWS.rst")
    new, old = parsed.sections
    assert new.body == "- B."
    assert old.body == "- A.\r\n\r\n.. _link: https://example.org"  # a URL target: body
    assert text[new.start :].startswith(".. _v1-1-0:")
    assert text[old.start :].startswith(".. _v1-0-0:")
    for section in parsed.sections:
        assert text[section.body_start : section.body_end] == section.body


def test_pending_version_is_found_by_its_version_and_as_unreleased() -> None:
    parsed = _parse(PALLETS)
    assert parsed.find_any("3.1.0") is parsed.find("Unreleased")
    with pytest.raises(ChangelogError, match=r"no section for 3\.1\.0"):
        parsed.find("3.1.0")  # what release checks: it has no section yet
    assert parsed.find("latest").name == "3.0.3"
    with pytest.raises(ChangelogError, match=r"no section for 9\.9\.9"):
        parsed.find_any("9.9.9")


RICH = """\
    1.2.0 (2024-05-01)
    ==================

    Released with *emphasis*, **strong**, ``literal`` and a `link <https://example.org/a>`_.

    - Fix :func:`acme.frob` and :class:`~acme.sub.Widget`, ``*args`` and \\*\\*kwargs.
      :issue:`12`, :pr:`13` by :user:`octo`; see `the guide`_ and :ref:`upgrading <upgrade-label>`.

      - Nested one, with :unknown:`kept words`.
      - Nested two.

    #. First.
    #. Second.

    Example::

        $ acme --fast
        done

    .. code-block:: python

        frob(x=1)

    .. warning::

        Backwards incompatible.

    Details
    -------

    A paragraph in a subsection.

    1.1.0 (2024-04-01)
    ==================

    - Older.

    .. _the guide: https://example.org/guide
"""


def test_markdown_form_renders_the_same_as_the_rst_section() -> None:
    parsed = _parse(RICH)
    section = parsed.find("1.2.0")
    repository = "https://github.com/acme/demo"
    markdown = section_markdown(section, repository)
    assert same_rendering(section, markdown, repository) == []  # type: ignore[arg-type]
    assert "```python\nfrob(x=1)\n```" in markdown
    assert "### Details" in markdown
    assert "[the guide](https://example.org/guide)" in markdown  # a target elsewhere
    assert "[#12](https://github.com/acme/demo/issues/12)" in markdown
    assert "> [!WARNING]" in markdown
    assert "kept words" in markdown


def test_the_rendering_check_fails_on_a_wrong_markdown_form() -> None:
    section = _parse(RICH).find("1.2.0")
    good = section_markdown(section, None)
    for broken in (
        good.replace("  - Nested two.", "- Nested two."),  # list structure
        good.replace("frob(x=1)", "frob(x=2)"),  # a code block
        good.replace("https://example.org/guide", "https://example.org/other"),  # a link
        good.replace("Backwards incompatible.", ""),  # words
    ):
        assert broken != good
        assert same_rendering(section, broken, None) != []  # type: ignore[arg-type]


def test_issue_roles_without_a_repository_are_github_references() -> None:
    section = _parse("1.0.0\n=====\n\n- Fix. :issue:`7` :pr:`8` :user:`octo`\n").find("1.0.0")
    assert section_markdown(section) == "- Fix. #7 #8 [@octo](https://github.com/octo)"


ROLLS = {
    "pallets: the pending version's Unreleased line says the date": (
        PALLETS, "3.1.0",
        PALLETS.replace("    Unreleased\n", "    Released 2024-11-08\n", 1),
    ),
    "zest.releaser: the date in place of (unreleased), underline fitted": (
        """\
        1.4.1 (unreleased)
        ------------------

        - Fix.


        1.4.0 (2024-02-03)
        ------------------

        - Old.
        """, "1.4.1", """\
        1.4.1 (2024-11-08)
        ------------------

        - Fix.


        1.4.0 (2024-02-03)
        ------------------

        - Old.
        """,
    ),
    "a marker section stays, emptied, above the new release; labels and date format": (
        """\
        =========
        Changelog
        =========

        Unreleased
        ==========

        - New thing.

        .. _v1-9-0:

        v1.9.0 - 12 March 2024
        ======================

        - Old thing.
        """, "1.10.0", """\
        =========
        Changelog
        =========

        Unreleased
        ==========

        .. _v1-10-0:

        v1.10.0 - 8 November 2024
        =========================

        - New thing.

        .. _v1-9-0:

        v1.9.0 - 12 March 2024
        ======================

        - Old thing.
        """,
    ),
}


@pytest.mark.parametrize("name", list(ROLLS))
def test_roll_forward_in_the_file_s_own_style(name: str) -> None:
    before, version, after = (textwrap.dedent(t) for t in ROLLS[name])
    rolled = changelog.roll_forward(changelog.read(before, "CHANGES.rst"), version, "2024-11-08")
    assert rolled.text == after
    again = _parse(rolled.text)
    assert again.find(version).body == _parse(before).unreleased_sections[0].body
    assert again.messages == ()  # still valid reST: no underline too short


def test_roll_forward_with_given_notes_and_no_unreleased_section() -> None:
    before = "Changes\n=======\n\n1.0.0 (2024-01-02)\n------------------\n\n- First.\n"
    rolled = changelog.roll_forward(
        changelog.read(before, "CHANGES.rst"), "1.0.1", "2024-11-08", notes="- Fixed.\n"
    )
    assert rolled.text == (
        "Changes\n=======\n\n1.0.1 (2024-11-08)\n------------------\n\n- Fixed.\n\n"
        "1.0.0 (2024-01-02)\n------------------\n\n- First.\n"
    )


def test_roll_forward_refuses_an_empty_unreleased_section_and_a_released_version() -> None:
    empty = changelog.read("Unreleased\n----------\n\n1.0.0\n-----\n\n- A.\n", "CHANGES.rst")
    with pytest.raises(ChangelogError, match="nothing to release"):
        changelog.roll_forward(empty, "1.1.0", "2024-11-08")
    with pytest.raises(ChangelogError, match=r"already has a section for 3\.0\.3 \(line 9\)"):
        changelog.roll_forward(_parse(PALLETS), "3.0.3", "2024-11-08")


def test_check_reports_duplicates_order_labels_and_docutils_messages() -> None:
    parsed = _parse("""\
        Changes
        =======

        1.2.0 (2024-01-01)
        -----

        - x

        .. _v1:

        1.1.0
        -----

        - y

        .. _v1:

        1.3.0
        -----

        - z :unknownrole:`kept`

        1.2.0
        -----

        - w
        """)
    found = [(p.severity.value, p.line, p.message) for p in changelog.check(parsed)]
    assert found == [
        ("warning", 5, "docutils: Title underline too short: make the adornment at least as "
         "long as the title text"),
        ("warning", 16, 'docutils: Duplicate explicit target name: "v1": give one of the two '
         "`.. _name:` labels another name"),
        ("warning", 18, "1.3.0 is below 1.1.0 (line 11) but newer: keep the releases newest "
         "first"),
        ("warning", 21, 'docutils: Unknown interpreted text role "unknownrole": a Sphinx '
         "extension's role, shown as its text in the Markdown form; fine if Sphinx knows it"),
        ("error", 23, "2 sections for 1.2.0 (lines 4, 23): merge them into one"),
    ]
    assert changelog.check(_parse(PALLETS)) == []


def test_an_empty_pending_section_takes_the_given_notes_and_keeps_the_gap() -> None:
    before = "Version 1.1.0\n-------------\n\nUnreleased\n\n\nVersion 1.0.0\n-------------\n\n" \
        "Released 2024-01-02\n\n-   First.\n"
    rolled = changelog.roll_forward(
        changelog.read(before, "CHANGES.rst"), "1.1.0", "2024-11-08", notes="-   Fixed.\n"
    )
    assert rolled.text == before.replace("Unreleased\n", "Released 2024-11-08\n\n-   Fixed.\n")


def test_a_hostile_file_is_one_error_not_a_crash(tmp_path: Path) -> None:
    deep = "1.0.0\n=====\n\n" + "".join("  " * i + "- x\n\n" for i in range(400))
    with pytest.raises(ChangelogError, match="nests lists or quotes too deeply"):
        changelog.read(deep, "CHANGES.rst")
    included = "1.0.0\n=====\n\n.. include:: /etc/passwd\n\n.. raw:: html\n\n   <b>x</b>\n"
    section = _parse(included).find("1.0.0")
    assert "root:" not in section_markdown(section)
    assert "<b>" not in section_markdown(section)
    (tmp_path / "docutils.conf").write_text("[general]\nhalt_level: 1\n")
    (tmp_path / "CHANGES.rst").write_text(deep[:2000])
    assert extract_notes_main(["--check", "--changelog", str(tmp_path / "CHANGES.rst")]) == 0


@pytest.mark.parametrize("name", [n for n in ROLLS if not n.startswith("a marker")])
def test_a_fresh_unreleased_section_in_the_file_s_shape(name: str) -> None:
    before, version, after = (textwrap.dedent(t) for t in ROLLS[name])
    old = _parse(before)
    pending = old.unreleased_sections[0]
    assert isinstance(pending, rst.RstSection)
    nxt = version[:-1] + str(int(version[-1]) + 1)
    opened = changelog.open_unreleased(_parse(after), nxt, like=old)
    again = _parse(opened)
    fresh = again.unreleased_sections[0]
    assert isinstance(fresh, rst.RstSection)
    assert (fresh.pending, fresh.body) == (nxt, "")
    assert fresh.template == pending.template
    assert fresh.adornment == pending.adornment
    assert opened.endswith(after[again.releases[0].start - len(opened) + len(after):])
    assert again.messages == ()
