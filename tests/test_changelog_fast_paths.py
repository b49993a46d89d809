"""The shortcuts the parse takes on a big changelog answer what the slower path they skip
answers: the bracketed release heading read without the heading patterns, a block of plain link
definitions split at once and its labels normalized in one lowercasing, and a run of lines that
start with `[` found by the scan as one match."""

from __future__ import annotations

import gc
import importlib
import os
import weakref

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from release.core.changelog import definitions, heading, parse
from release.core.changelog import lines as changelog_lines
from release.core.changelog import scan as changelog_scan
from release.core.changelog.extract import notes
from release.core.changelog.heading import read_version, read_version_fast
from release.core.changelog.model import VERSION_QUERY, normalize_label
from tests.test_changelog import _reference

changelog_parse = importlib.import_module("release.core.changelog.parse")  # `parse`: the function

EXAMPLES = int(os.environ.get("DOJO_SCAN_EXAMPLES", "300"))

DIGITS = st.sampled_from(["0", "1", "2", "10", "2026", "\u0661", "\u0967"])  # Arabic, Devanagari
NUMBERS = st.lists(DIGITS, min_size=1, max_size=4).map(".".join)
AFTER = st.sampled_from([
    "", " - 2026-12-03", "] - 2026-12-03", "]", "] ", "](https://e.org/c) (2020-01-01)",
    "][v1]", "] and 1.2.4", "]rc1", "rc1]", "-rc.1]", ".]", "] [YANKED]", "] (unreleased)",
    "]: tool 1.0", "]\u2013 date", " ]", "]x", "]]",
])
BEFORE = st.sampled_from(["[", "[ ", "", "[v", "[[", "[tool ", "[2026-01-02 "])
PRODUCTS = st.sampled_from([None, "", "tool", "Tool", "1", "1.2", "2026", "[tool"])


@settings(max_examples=EXAMPLES, deadline=None)
@given(BEFORE, NUMBERS, AFTER, PRODUCTS)
def test_a_bracketed_version_is_read_as_read_version_reads_it(
    before: str, number: str, after: str, product: str | None
) -> None:
    title = before + number + after
    assert read_version_fast(title, product) == read_version(title, product)


LABEL_CHARS = st.sampled_from([*"aZ#1 .-_\t\u00a0\u00e9\u00df\u0130\x1c", "  "])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.lists(LABEL_CHARS, min_size=1, max_size=6).map("".join), max_size=12))
def test_labels_are_normalized_as_mistletoe_normalizes_each(labels: list[str]) -> None:
    labels = [label for label in labels if label.strip()]
    assert definitions.keys(labels) == [normalize_label(label) for label in labels]


DEFINITION_LINES = st.sampled_from([
    "[a]: https://e.org/a", "[A]: https://e.org/A", "[Unreleased]: https://e.org/u",
    "[ spaced ]: /s", "[two  spaces]: /2", "[tab\there]: /t", "[\u00dcn\u00efcode]: /u",
    "[STRASSE]: /s1", "[stra\u00dfe]: /s2", "[#12]: https://e.org/12", " [one]: /1",
    "[x]: /x 'title'", "[y]:", "  /y-next", "not a definition", "",
    "[a|b]: /pipe", "[z]: /z  ", "[e]: /a\\_b", "[amp]: /a&amp;b", '"a title"',
])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(DEFINITION_LINES, min_size=1, max_size=40).map("\n".join))
@example('   [three]: /3\n[a]: https://e.org/a\n\n[a]: https://e.org/a\n"a title"')
# A title on the line after the window of definitions mistletoe reads at a time: the window's
# read, which defined the label without it, is undone before the whole block is read.
@example("[a]: https://e.org/a\n" * 15 + '[Unreleased]: https://e.org/u\n"a title"')
def test_blocks_of_plain_definitions_are_read_as_mistletoe_reads_them(text: str) -> None:
    # (at the top level: after the list item, a line indented three spaces would be in it, and
    # the parse answers a label with its top-level definition before one in a list item)
    text = "## [Unreleased]\n\n- x\n\n" + text
    _, definitions = _reference(text)
    parsed = parse(text)
    # The first definition of a label wins, as in CommonMark, also when it is inside a list item
    # above a top-level one.
    found = {ref.key: (ref.dest, ref.title) for ref in map(parsed.ref, definitions) if ref}
    assert found == definitions
    assert {ref.key for ref in parsed.link_refs} == set(definitions)
    root = changelog_scan.Root()
    with changelog_scan.using_mistletoe(root):
        changelog_scan.scan_lines(changelog_lines.Lines.split(text))
    assert root.footnotes == definitions
    assert list(root.footnotes) == list(definitions)  # in the order mistletoe defines them


PLAIN_LINES = st.sampled_from([
    "[a]: https://e.org/a", "[A]: /A", "   [a]: /indented", "[b]: /b", "[#12]: /12",
    "[1.2.0]: https://e.org/compare/v1.1.0...v1.2.0", "[d]: https://e.org/[a]:x", "[a b]: /ab",
    "[A B]: /AB", "[a  b]: /uneven", "[ a]: /lead", "[a ]: /trail", "[a\tb]: /tab",
    "[\u00e9]: /e", "[STRASSE]: /s", "[x]: /x", "[a]b]: /not-plain",
])
KEYS = st.sampled_from([
    "a", "b", "#12", "1.2.0", "a b", "x", "d", "\u00e9", "strasse", "stra\u00dfe", "a]b", "[a",
    "", " ", "zzz", "a\\b",
])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(PLAIN_LINES, min_size=1, max_size=30).map("\n".join), st.lists(KEYS, max_size=8))
@example("[d]: https://e.org/[a]:x\n[a]: /a", ["a"])
@example("[A]: /A\n[a]: /a", ["a"])
def test_a_block_left_unread_finds_each_label_as_its_reading_does(
    block: str, asked: list[str]
) -> None:
    """A block of plain definitions left unread (`Run`) finds a label's first definition where
    reading the block finds it, or says it cannot (`Unfolded`)."""
    text = "## [1.0.0]\n\n- x\n\n" + block + "\n"
    lines = changelog_lines.Lines.split(text)
    first = 4
    read = definitions.plain_run(lines, first, len(lines))
    run = definitions.plain_run(lines, first, len(lines), lazy=True)
    if read is None:
        assert run is None
        return
    assert isinstance(read, definitions.Matches)
    assert isinstance(run, definitions.Run)
    assert len(run) == len(read)
    for key in [*asked, *map(normalize_label, (match[0] for match in read))]:
        want = next((n for n, k in enumerate(read.keys or ()) if k == key), None)
        try:
            found = run.find(key)
        except definitions.Unfolded:
            assert not block.isascii()  # the one block lowercasing cannot fold
            return
        if want is None:
            assert found is None, key
            continue
        assert found is not None, key
        line, at = found
        assert line == first + want
        assert at == lines.poffset(line)
        assert run.match(at) == tuple(read[want])


def test_one_section_reads_no_definition_it_does_not_use() -> None:
    """Extracting one section of a changelog with thousands of definitions at its bottom makes
    a LinkRef of the ones its notes use, and reads no other."""
    versions = [f"1.{n}.0" for n in range(300, 0, -1)]
    text = "# Changelog\n\n" + "".join(
        f"## [{v}] - 2024-01-01\n\n- fix ([#{n}])\n\n" for n, v in enumerate(versions)
    ) + "".join(f"[#{n}]: https://e.org/{n}\n" for n in range(len(versions))) + "".join(
        f"[{v}]: https://e.org/v{v}\n" for v in versions
    )
    one = changelog_parse.parse_one(text, "1.7.0")
    assert one is not None
    changelog, section = one
    assert isinstance(changelog._refs, changelog_parse.LazyRefs)
    assert notes(changelog, section) == notes(parse(text), parse(text).find("1.7.0"))
    assert section.url == "https://e.org/v1.7.0"
    assert changelog._refs._read is None  # the whole file was not read again
    assert len(changelog.link_refs) == 2 * len(versions)  # what needs them all reads them


# Lines that start with `[` in a row, and blocks that may end in the middle of such a run (a
# comment closed on a `[` line, a fence, a paragraph that a definition cannot interrupt).
RUN_LINES = st.sampled_from([
    "[a]: /a", "[b]: /b", "[c] text", "[d]", "[x] -->", "[y] ```", "<!--", "```", "-->",
    "## 1.0.0", "## [1.0.1] - 2020-01-01", "# Title", "text", "", "", "- item", "  [n]: /n",
    "[s]\n===", "---", "<div>", "</div>", "> [q]: /q", "[t]: /t 'T'", "[u]:", "  /u",
])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(RUN_LINES, max_size=40).map("\n".join))
def test_runs_of_bracketed_lines_are_scanned_as_mistletoe_reads_them(text: str) -> None:
    headings, definitions = _reference(text)
    root = changelog_scan.Root()
    with changelog_scan.using_mistletoe(root):
        scan = changelog_scan.scan_lines(changelog_lines.Lines.split(text))
    assert [(h.index, h.level) for h in scan.headings] == headings
    assert root.footnotes == definitions


@settings(max_examples=EXAMPLES, deadline=None)
@given(BEFORE, NUMBERS, AFTER)
def test_a_bracketed_version_is_where_the_heading_pattern_finds_it(
    before: str, number: str, after: str
) -> None:
    title = before + number + after
    fast = heading.BRACKETED.match(title)
    if fast is None:
        return
    found = heading._HEAD.match(title)
    assert found is not None
    assert (found.start("ver"), found.end("ver"), found["lead"], found["v"]) == (
        1, fast.end(1), "[", None
    )
    assert not heading.UNRELEASED.match(title)
    assert heading._MAYBE.search(title)
    assert heading._WORDS.match(title) is None  # no product name is learned from it
    assert heading._ALSO.match(title, fast.end(1)) is None


TITLE_PIECES = st.sampled_from([
    "Added", "Bug Fixes", "tool", "Apollo Client", " ", "/", "(", ")", "[", "]", "v", "V",
    "1.2.3", "2.0", "20260102", "2026-01-02", ": ", " - ", "and", "&", ",", "+", "=", ".", "-",
    "rc1", "\u0661.\u0662", "unreleased", "Unreleased",
])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(TITLE_PIECES, max_size=6).map("".join))
def test_titles_passed_over_are_titles_the_patterns_turn_away(title: str) -> None:
    if heading.BRACKETED.match(title) or not heading._NUMBERED.search(title):
        assert heading._WORDS.match(title) is None
    for end in range(len(title) + 1):
        if title[end : end + 1] in heading._NO_MORE:
            assert heading._ALSO.match(title, end) is None
    if title in heading._UNRELEASED_TITLES:
        assert heading.UNRELEASED.match(title)
        assert heading._MAYBE.search(title)
    written = title[1:] if title[:1] in "vV" else title
    if heading.PLAIN_VERSION.fullmatch(written):
        assert heading.UNRELEASED.match(title) is None
        assert VERSION_QUERY.fullmatch(written) is not None


def test_unreleased_titles_are_read_as_the_pattern_reads_them() -> None:
    for title in heading._UNRELEASED_TITLES:
        assert heading.UNRELEASED.match(title)
        assert heading._MAYBE.search(title)
        assert read_version(title) == (None, ())


TEXT_LINES = st.sampled_from([
    "## [1.0.0] - 2020-01-01", "### Added", "- item", "", "[a]: /a", "[b]: /b", "```", "text",
    "<!--", "-->", "\u00e9t\u00e9 \u2028 sep", "tab\there", "x\x85y", "   ",
])


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.lists(TEXT_LINES, max_size=30), st.sampled_from(["\n", "\r\n"]), st.booleans(),
    st.booleans(), st.lists(st.integers(0, 40), max_size=8),
)
def test_a_line_starts_where_every_lines_offsets_say(
    parts: list[str], eol: str, bom: bool, final: bool, asked: list[int]
) -> None:
    text = ("\ufeff" if bom else "") + eol.join(parts) + (eol if final and parts else "")
    whole = changelog_lines.Lines.split(text)
    lines = changelog_lines.Lines.split(text)
    with changelog_scan.using_mistletoe(changelog_scan.Root()):
        changelog_scan.scan_lines(lines)  # places the lines of note
    count = len(lines)
    for index in [*(n % (count + 1) for n in asked), *range(count + 1)]:  # some asked first
        assert lines.offset(index) == whole.offsets[index]
        assert lines.poffset(index) == whole.poffsets[index]
    for index in range(count):
        assert lines.content_end(index) == whole.content_end(index)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.lists(TEXT_LINES, max_size=60), st.sampled_from(["\n", "\r\n"]), st.booleans(),
    st.booleans(), st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)), max_size=12),
)
def test_lines_asked_for_one_at_a_time_are_the_lines_split_at_once(
    parts: list[str], eol: str, bom: bool, final: bool, asked: list[tuple[int, int]]
) -> None:
    """`line`, `chunk` and mistletoe's view of them (`LineSequence`), asked in any order
    (forward, back, far), give what splitting every line gives, other line breaks included."""
    text = ("\ufeff" if bom else "") + eol.join(parts) + (eol if final and parts else "")
    whole = changelog_lines.Lines.split(text).plines
    lines = changelog_lines.Lines.split(text)
    with changelog_scan.using_mistletoe(changelog_scan.Root()):
        changelog_scan.scan_lines(lines)  # places the lines of note
    view = changelog_lines.LineSequence(lines)
    assert len(lines) == len(view) == len(whole)
    for lo, hi in asked:
        assert lines.chunk(lo, hi) == whole[lo:hi] == view[lo:hi]
        if lo < len(whole):
            assert lines.line(lo) == whole[lo] == view[lo]
            assert lines.line(-1 - lo) == whole[-1 - lo]
        else:
            with pytest.raises(IndexError):
                lines.line(lo)
    assert [view[n] for n in range(len(view))] == whole  # as mistletoe's reader walks them


def test_extracting_one_section_splits_no_line_it_does_not_read() -> None:
    """The scan, the skeleton and the one section built read the lines they need: a big
    changelog's 92,000 line strings are never made (they were a tenth of extract-notes)."""
    blocks = "".join(
        f"## [1.{n}.0] - 2020-01-01\n\n### Fixed\n\n- a fix ([#{n}])\n- more\n"
        + ("\n```console\n## not a heading\n```\n" if n % 3 == 0 else "")
        + ("\n<!--\n## [9.9.9] - a draft\n-->\n" if n % 5 == 0 else "")
        + "\n"
        for n in range(60, 0, -1)
    )
    text = "# Changelog\n\n" + blocks + "".join(f"[#{n}]: /issues/{n}\n" for n in range(60))
    made: list[changelog_lines.Lines] = []
    split = changelog_lines.Lines.split

    def recording(text: str) -> changelog_lines.Lines:
        made.append(split(text))
        return made[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changelog_lines.Lines, "split", recording)
        found = changelog_parse.parse_one(text, "v1.33.0")
    assert found is not None
    fence = "```console\n## not a heading\n```"
    assert found[1].body == f"### Fixed\n\n- a fix ([#33])\n- more\n\n{fence}"
    assert [("plines" in m.__dict__, "poffsets" in m.__dict__) for m in made] == [(False, False)]
    assert found[0].text == text
    assert notes(*found).endswith("[#33]: /issues/33")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.lists(TITLE_PIECES, max_size=5).map("".join), max_size=6))
def test_titles_that_name_no_product_are_told_at_once(titles: list[str]) -> None:
    one_by_one = [
        t for t in titles if not heading.BRACKETED.match(t) and heading._NUMBERED.search(t)
    ]
    assert (heading._NAMING.search("\n".join(dict.fromkeys(titles))) is None) == (not one_by_one)
    if not one_by_one:
        assert all(heading._WORDS.match(t) is None for t in titles)


def test_a_big_pause_leaves_what_it_made_old_and_its_cycles_collectable() -> None:
    """After a pause that made many objects (a big scan), none is left in the young generation
    for the next collection to walk; a cycle made in it is still freed by a full collection."""
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle

    @changelog_scan.without_gc
    def make() -> tuple[list[list[int]], weakref.ref[Node]]:
        return [[n] for n in range(20_000)], weakref.ref(Node())

    gc.collect()
    made, cycle = make()
    assert gc.isenabled()
    assert gc.get_count()[0] < 1_000
    assert gc.is_tracked(made[-1])
    assert any(item is made[-1] for item in gc.get_objects(2))
    assert cycle() is not None  # not freed by refcounting
    gc.collect()
    assert cycle() is None
