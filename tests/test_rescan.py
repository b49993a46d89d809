"""`parse(new, like=old)`: the read-back of an edited changelog that takes the old scan of the
part both share reads exactly what a parse of the whole new text reads: every section, link
definition, heading that is no release, and fence that never closes. Rolls of generated big
changelogs (fences and comments holding `## ` lines, setext headings, CRLF, a BOM, duplicate
and nested definitions), and hostile edits at either end: a fence or an HTML block opened
above the shared part, a definition of a label the middle defines, headings removed."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.core.changelog import Changelog, parse, roll_forward
from release.core.changelog.rescan import rescan

KINDS = ("Added", "Changed", "Fixed", "Removed")


def changelog(seed: int, *, versions: int = 400, eol: str = "\n", bom: bool = False,
              nested: bool = False, duplicate: bool = False) -> str:
    """A Keep a Changelog file of about 150 KB, newest release first."""
    rng = random.Random(seed)
    out = ["# Changelog\n\nAll notable changes.\n\n## [Unreleased]\n\n### Added\n\n- Next\n\n"]
    for n in range(versions, 0, -1):
        name = f"{n // 100}.{n // 10 % 10}.{n % 10}"
        if n % 37 == 0:
            out.append(f"{name} - 2020-01-01\n{'-' * 18}\n\n")  # setext
        else:
            out.append(f"## [{name}] - 2020-01-{n % 28 + 1:02d}\n\n")
        for kind in rng.sample(KINDS, 2):
            out.append(f"### {kind}\n\n")
            out += [f"- Item {k} of {name}, with `code` and [a link][{name}]\n"
                    for k in range(rng.randint(2, 6))]
            out.append("\n")
        if n % 13 == 0:
            out.append(f"```console\n$ tool\n## [{name}] - inside a fence\n```\n\n")
        if n % 17 == 0:
            out.append(f"<!--\n## [{name}] - inside a comment\n-->\n\n")
        if nested and n % 50 == 0:
            out.append(f"- a list item\n\n  [nested-{n}]: https://e.org/nested/{n}\n\n")
        if duplicate and n % 60 == 0:
            out.append(f"[shared]: https://e.org/middle/{n}\n\n")
    out.append("[unreleased]: https://e.org/compare/v4.0.0...HEAD\n")
    out += [f"[{n // 100}.{n // 10 % 10}.{n % 10}]: https://e.org/v{n}\n"
            for n in range(versions, 0, -1)]
    text = "".join(out)
    return ("\ufeff" if bom else "") + text.replace("\n", eol)


def same(whole: Changelog, reused: Changelog) -> None:
    assert tuple(reused.sections) == tuple(whole.sections)
    assert tuple(reused.link_refs) == tuple(whole.link_refs)
    assert reused._others == whole._others
    assert reused._unclosed == whole._unclosed
    assert dict(reused._refs.root.footnotes) == dict(whole._refs.root.footnotes)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "shape",
    [{}, {"eol": "\r\n"}, {"bom": True}, {"duplicate": True}, {"nested": True},
     {"eol": "\r\n", "bom": True, "duplicate": True}],
    ids=["plain", "crlf", "bom", "duplicate", "nested", "all"],
)
def test_a_rolled_changelog_reads_back_the_same_with_the_old_scan(shape: dict[str, object]) -> None:
    text = changelog(1, **shape)  # type: ignore[arg-type]
    old = parse(text)
    new = roll_forward(old, "4.1.0", "2026-12-03", previous="4.0.0",
                       repo_url="https://e.org").text
    same(parse(new), parse(new, like=old))
    used = rescan(old._refs, new)  # type: ignore[arg-type]
    # Definitions inside list items are recorded without their lines: such a file reads whole.
    assert (used is None) == bool(shape.get("nested"))


EDITS = [
    "```\n",  # a fence above the shared part that never closes: it hides every heading
    "<div>\n",  # an HTML block that runs to the next blank line
    "[4.0.0]: https://e.org/redefined\n\n",  # defined before the middle's definition
    "[shared]: https://e.org/top\n\n",
    "- item\n  ## not a heading\n",
    "Title\n=====\n\n",
    "## [9.9.9] - 2026-01-01\n\n- New\n\n",
    "",
]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 1000),
    top=st.sampled_from(EDITS),
    bottom=st.sampled_from(EDITS),
    cut=st.integers(0, 6),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_an_edit_at_either_end_reads_back_the_same(
    seed: int, top: str, bottom: str, cut: int, eol: str
) -> None:
    text = changelog(seed, eol=eol, duplicate=seed % 2 == 0)
    old = parse(text)
    lines = text.split(eol)
    at = text.index("## [Unreleased]")
    head = text[:at] + top.replace("\n", eol) + text[at:]
    tail_at = len(head) - len(eol.join(lines[-cut - 2 :]))
    new = head[:tail_at] + bottom.replace("\n", eol) + head[tail_at:]
    same(parse(new), parse(new, like=old))


def test_small_files_and_unrelated_texts_are_read_whole() -> None:
    small = changelog(2, versions=20)
    assert rescan(parse(small)._refs, small + "\n") is None  # type: ignore[arg-type]
    big = changelog(3)
    other = changelog(4).replace("Item", "Entry")
    assert rescan(parse(big)._refs, other) is None  # type: ignore[arg-type]
    same(parse(other), parse(other, like=parse(big)))
