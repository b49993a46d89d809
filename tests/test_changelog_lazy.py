"""The changelog model builds each section and link definition when it is first asked for
(`Changelog.sections` is a `Sections`, the definitions a `Refs`): in whatever order they are
asked for, they are the very ones built in file order, and what is answered without building any
(`reaches`, `missing_sections`, the version indexes, mistletoe's lookups) agrees with them.

Compared on the same changelogs as tests/test_extract_one_section.py: the shapes, the fixtures,
and a few hundred put together from blocks that hide or fake headings and definitions.
"""

from __future__ import annotations

import random
import re

import pytest

from release.core.changelog import missing_sections, parse
from release.core.changelog.extract import definitions
from release.core.changelog.model import LinkRef, Sections
from release.errors import ChangelogError
from tests.test_changelog import _reference
from tests.test_extract_one_section import TEXTS, _generated, _queries

ALL = [*TEXTS, *_generated(200)]
IDS = [f"text-{n}" for n in range(len(ALL))]


@pytest.mark.parametrize("text", ALL, ids=IDS)
def test_sections_asked_in_any_order_are_the_ones_built_in_file_order(text: str) -> None:
    in_order = parse(text)
    assert isinstance(in_order.sections, Sections)
    built = tuple(in_order.sections)
    assert list(in_order.sections.heads) == [(s.version, s.also, s.line) for s in built]
    shuffled = parse(text)
    order = list(range(len(built)))
    random.Random(len(text)).shuffle(order)
    for n in order:
        assert shuffled.sections[n] == built[n]
        assert shuffled.sections[n - len(built)] is shuffled.sections[n]
    assert shuffled.sections == built
    assert shuffled.sections[1:3] == built[1:3]
    assert shuffled == in_order
    assert hash(shuffled.sections) == hash(built)


@pytest.mark.parametrize("text", ALL, ids=IDS)
def test_each_label_finds_its_first_definition(text: str) -> None:
    """The first in the file, as mistletoe reads the whole file: a definition inside a list
    item or a quote above a top-level one of the same label wins, as in CommonMark."""
    changelog = parse(text)
    first: dict[str, LinkRef] = {}
    for ref in changelog.link_refs:  # file order, then those inside list items and quotes
        first.setdefault(ref.key, ref)
    assert list(changelog._refs) == list(first)
    _, expected = _reference(text)
    first = {key: changelog._refs[key] for key in first}
    assert {key: (ref.dest, ref.title) for key, ref in first.items()} == expected
    for key, ref in first.items():
        assert changelog._refs[key] is ref
        assert changelog._refs.get(key) is ref
        assert changelog.ref(ref.label) is ref
    assert changelog._refs.get("no such label") is None
    lookup = definitions(changelog)  # what mistletoe resolves references against
    for key, ref in first.items():
        assert key in lookup
        assert lookup.get(key) == (ref.dest, ref.title)
    assert "no such label" not in lookup
    assert lookup.get("no such label") is None


@pytest.mark.parametrize("text", ALL, ids=IDS)
def test_reaches_answers_what_matches_finds(text: str) -> None:
    changelog = parse(text)
    queries = _queries(text)
    found = []
    for query in queries:
        try:
            sections, _name = parse(text).matches(query)  # a fresh model: nothing built yet
        except ChangelogError:
            sections = []
        assert changelog.reaches(query) is bool(sections), query
        found.append(bool(sections))
    assert missing_sections(parse(text), queries) == [
        q for q, reached in zip(queries, found, strict=True) if not reached
    ]


def test_a_lazy_pattern_answers_as_the_compiled_one_and_compiles_when_first_used() -> None:
    from release.core.pattern import LazyPattern

    source, flags = r"(?P<v>\d+)\.(?P<w>\d+)", re.IGNORECASE
    lazy, compiled = LazyPattern(source, flags), re.compile(source, flags)
    assert lazy._compiled is None  # nothing compiled at import
    text = "v1.2 and 3.4, not 5"
    for method in ("match", "search", "fullmatch"):
        got, want = getattr(lazy, method)(text, 1), getattr(compiled, method)(text, 1)
        assert (got and got.span()) == (want and want.span())
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub(r"\g<w>.\g<v>", text, 1) == compiled.sub(r"\g<w>.\g<v>", text, 1)
    assert lazy.flags == compiled.flags
    assert lazy.pattern == source
