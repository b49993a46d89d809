"""`release.core.unchanged`: the diff of two large texts made without their shared middle is
the diff libgit2 makes of the whole texts, hunk headers (numbers, function context) and blob
ids included, for edits near the ends, in the middle, of repeated text and of CRLF text."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from release.core import unchanged
from release.shell import diff

SHAPES = (
    "- Fix {n}: the parser reads the {n}th option as documented (#{n})",
    "## [{n}.0.0] - 2026-01-01",
    "### Added",
    "",
    "Notes on {n}: prose that starts with a letter, which git shows as a hunk's context",
    "  - nested bullet {n}",
    "_private_{n} = {n}",
    "$ tool run {n}",
    "[{n}.0.0]: https://example.org/compare/v{n}",
)


def _text(rng: random.Random, lines: int, eol: str) -> str:
    return "".join(rng.choice(SHAPES).format(n=n) + eol for n in range(lines))


def _edit(rng: random.Random, text: str, eol: str, where: str) -> str:
    lines = text.split(eol)
    for _ in range(rng.randint(1, 4)):
        span = {"top": (0, 30), "bottom": (len(lines) - 30, len(lines) - 1),
                "middle": (len(lines) // 2 - 200, len(lines) // 2 + 200)}[where]
        at = rng.randint(*span)
        kind = rng.choice(("insert", "delete", "replace"))
        if kind == "insert":
            lines[at:at] = [f"Added line {rng.random()}", "", "- more"]
        elif kind == "delete":
            del lines[at : at + rng.randint(1, 3)]
        else:
            lines[at] = f"- replaced {rng.random()}"
    return eol.join(lines)


def _full(old: str | None, new: str) -> str:
    return diff._patch_text(old, new, "CHANGELOG.md")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    eol=st.sampled_from(["\n", "\r\n"]),
    where=st.lists(st.sampled_from(["top", "bottom", "middle"]), min_size=1, max_size=3),
)
def test_the_diff_without_the_middle_is_the_diff_of_the_whole_texts(
    seed: int, eol: str, where: list[str]
) -> None:
    rng = random.Random(seed)
    old = _text(rng, 4000, eol)
    new = old
    for place in where:
        new = _edit(rng, new, eol, place)
    assert diff.diff_texts(old, new, "CHANGELOG.md") == _full(old, new)


def test_a_roll_s_edits_at_both_ends_are_diffed_without_the_middle() -> None:
    """The shape `release` diffs: a section added at the top, a definition at the bottom;
    the run found covers all but the ends, and the diff is still the whole texts' one."""
    rng = random.Random(3)
    old = _text(rng, 6000, "\n")
    new = _edit(rng, _edit(rng, old, "\n", "top"), "\n", "bottom")
    middle = unchanged.Middle.find(old, new)
    assert middle is not None
    assert middle.lines > 5000
    assert unchanged.stand_in(old, new, middle) is not None
    assert diff.diff_texts(old, new, "CHANGELOG.md") == _full(old, new)


def test_repeated_text_pairs_each_occurrence_of_the_probe_with_its_own() -> None:
    """A generated changelog repeats whole sections: the middle's probe occurs many times in
    both texts, and the n-th in the old one is the n-th in the new one."""
    block = "".join(f"- Fix {n} of the release: a bug that bit someone\n" for n in range(60))
    old = "# Changelog\n\n## [Unreleased]\n\n" + block * 50 + "[unreleased]: https://e.org\n"
    new = old.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n## [1.1.0] - 2026-03-04\n\n")
    new = new.replace("[unreleased]: https://e.org\n", "[unreleased]: https://e.org/2\n")
    assert unchanged.Middle.find(old, new) is not None
    assert diff.diff_texts(old, new, "CHANGELOG.md") == _full(old, new)


def test_small_texts_and_texts_without_a_shared_middle_are_diffed_whole() -> None:
    rng = random.Random(5)
    small = _text(rng, 100, "\n")
    assert unchanged.Middle.find(small, small + "x\n") is None
    big = _text(rng, 6000, "\n")
    other = _text(random.Random(6), 6000, "\n")
    assert unchanged.Middle.find(big, other) is None
    assert diff.diff_texts(big, other, "CHANGELOG.md") == _full(big, other)
    assert diff.diff_texts(None, big, "CHANGELOG.md") == _full(None, big)


def test_the_stand_in_is_the_last_line_git_would_show_as_context() -> None:
    text = "a\n" + "- x\n" * 50 + "Last prose\n" + "- y\n" * 50
    assert unchanged._context_line(text, 2, len(text)) == "Last prose\n"
    assert unchanged._context_line(text, 2, text.index("Last")) == "\n"
