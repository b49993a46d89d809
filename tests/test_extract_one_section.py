"""extract-notes builds only the section it is asked for (`parse_one`); the whole model
(`parse` + `Changelog.find`) must agree with it on every changelog, byte for byte.

Compared on the changelog shapes of the other tests, the fixtures in tests/data, and a few
hundred changelogs put together from blocks that hide or fake headings (fences, HTML comments
and blocks, setext underlines, indented code, quotes and list items holding `#` lines, link
definitions of every form, tabs, CRLF, a BOM, no final newline): for every query (each version
as written and respelled, `latest`, `Unreleased`, versions that are not there), either the fast
path gives the very section and notes the whole model gives, or it leaves the answer to it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from release.core.changelog import extract, notes, parse
from release.core.changelog.parse import parse_one
from release.errors import ChangelogError
from tests.test_changelog_shapes import SHAPES

DATA = Path(__file__).parent / "data" / "changelogs"

# Blocks a changelog is made of, the tricky ones many times over ({v}: a version).
BLOCKS = (
    "## [{v}] - 2024-01-02\n", "## {v}\n", "### {v} (2024-02-03)\n", "# {v}\n", "#### {v}\n",
    "## [Unreleased]\n", "## [{v}]({url}) (2024-03-04)\n", "## v{v} [YANKED]\n",
    "## {v} and {w}\n", "## widget {v} (2024-01-01)\n", "## 2024-01-01: widget {v}\n",
    "## Version {v}\n", "## {v} (unreleased)\n", "Unreleased\n", "## {v} upgrade guide\n",
    "{v}\n=====\n", "{v} / 2020-01-01\n------------------\n", "Text paragraph\n",
    "text then\n---\n", "### Added\n", "## Added\n", "- item [#12]\n", "- item [guide][added]\n",
    "- item [nowhere][missing]\n", "  - nested\n", "* [{v}] link\n", "***\n", "\n", "\n", "\n",
    "```\n## [{v}] - in a fence\n```\n", "```console\n## {v} never closed\n",
    "~~~\n# {v}\n~~~\n", "    ## {v} indented code\n", "<!--\n## [{v}] - in a comment\n-->\n",
    "<!-- one line -->\n", "<details>\n## {v}\n</details>\n", "<div>\n\n## {v}\n\n</div>\n",
    "> ## {v} in a quote\n", "- ## {v} in a list item\n", "1. [x]: /in-a-list\n",
    "[{v}]: https://example.org/{v}\n", "[#12]: https://example.org/12\n",
    "[added]: /guide \"Title\"\n", "[guide]:\n  /on-the-next-line\n", "[a|b]: /pipe\n",
    "[x]: /x\n[y]: /y\n[z]: /z\n", "  [w]: /w\n", "[e]: /a\\_b\n", "[amp]: /a&amp;b\n",
    "| a | b |\n|---|---|\n| [x]: y | z |\n", "\t## {v} after a tab\n", "##\t{v}\ttabbed\n",
    "## {v} ##\n", "   # {v}\n", "<!-- links -->\n",
    # blocks of definitions extract-notes looks labels up in without reading them (LazyRefs),
    # and the references that look them up
    "[X]: /upper-x\n[Two  Spaces]: /uneven\n", " [#12]: /indented-12\n[{v}]: /again-{v}\n",
    "[d]: https://e.org/[x]:y\n[x]: /after-a-dest-holding-x\n", "[\u00dcn\u00ef]: /u\n",
    "- [x] and [X] and [two spaces] and [\u00fcn\u00ef] and [d][x] and [{v}]\n",
    "## [{v}][x] - 2024-05-06\n",
)


def _generated(count: int) -> list[str]:
    rng = random.Random(17)
    texts = []
    for _ in range(count):
        names = [f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}" for _ in range(6)]
        parts = [
            rng.choice(BLOCKS).format(
                v=rng.choice(names), w=rng.choice(names), url="https://example.org/c"
            )
            for _ in range(rng.randint(4, 50))
        ]
        text = "".join(parts)
        shape = rng.random()
        if shape < 0.15:
            text = text.replace("\n", "\r\n")
        elif shape < 0.25:
            text = "\ufeff" + text
        elif shape < 0.3:
            text = text.rstrip("\n")
        texts.append(text)
    return texts


def _queries(text: str) -> list[str]:
    try:
        sections = parse(text).sections
    except ChangelogError:
        return ["1.0.0", "latest"]
    asked = {"latest", "Unreleased", "unreleased", "9.9.9", "refs/tags/v9.9.9", "not a version"}
    for section in sections:
        for version in (section.version, *section.also):
            if version is None:
                continue
            asked |= {version, f"v{version}", f"V{version}", f"refs/tags/v{version}",
                      version.upper(), version.removesuffix(".0"), version + ".0"}
    return sorted(asked)


def _agree(text: str) -> int:
    """How many queries the fast path answered; fails on the first disagreement."""
    whole = parse(text)
    answered = 0
    for query in _queries(text):
        for prereleases in (False, True):
            one = parse_one(text, query, include_prereleases=prereleases)
            try:
                expected = whole.find(query, include_prereleases=prereleases)
            except ChangelogError:
                assert one is None, (query, text)
                continue
            if one is None:
                continue
            changelog, section = one
            assert section == expected, (query, text)
            assert notes(changelog, section) == notes(whole, expected), (query, text)
            answered += 1
    return answered


TEXTS = [
    *(shape.text for shape in SHAPES),
    *(path.read_text(encoding="utf-8") for path in sorted(DATA.glob("*.md"))),
]


@pytest.mark.parametrize("text", TEXTS, ids=[f"fixture-{n}" for n in range(len(TEXTS))])
def test_the_one_section_is_the_whole_models(text: str) -> None:
    assert _agree(text) > 0  # the fast path answers plain version queries


def test_the_one_section_agrees_on_changelogs_that_hide_and_fake_headings() -> None:
    texts = _generated(200)
    answered = sum(_agree(text) for text in texts)
    assert answered > 700  # the fast path is taken, not always left to the whole model


def test_extract_takes_the_one_section_path_and_prints_the_same() -> None:
    text = (
        "# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2024-02-01\n\n- b ([#2])\n\n"
        "```\n## [1.0.0] - not a heading\n```\n\n## [1.0.0] - 2024-01-01\n\n- a\n\n"
        "[#2]: https://example.org/2\n[1.1.0]: https://example.org/1.1.0\n"
    )
    assert parse_one(text, "v1.1.0") is not None
    assert parse_one(text, "Unreleased") is None  # the whole model answers that one
    got = extract(text, "v1.1.0")
    assert got.body == (
        "- b ([#2])\n\n```\n## [1.0.0] - not a heading\n```\n\n[#2]: https://example.org/2"
    )
    assert got.url == "https://example.org/1.1.0"
    assert extract(text, "1.0.0").body == "- a"
