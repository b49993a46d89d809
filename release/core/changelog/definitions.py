"""Link reference definitions, as the scan reads them: mistletoe's reader, taken a window of
lines at a time, and the plain one-line definitions that fill a changelog's bottom read a block
at a time (what mistletoe would find in them, without its character loop)."""

from __future__ import annotations

import itertools
import operator
import re
from typing import TYPE_CHECKING, Any

from release.core import markdown
from release.core.changelog.model import normalize_label
from release.core.pattern import LazyPattern

if TYPE_CHECKING:
    from release.core.changelog.lines import Lines

# mistletoe's functions carry no annotations; it is used through these names only.
block_token: Any = markdown.block_token
block_tokenizer: Any = markdown.block_tokenizer
token: Any = markdown.token

CHUNK = 16  # lines of link definitions handed to mistletoe at a time
# A definition that mistletoe reads as written: one line, a label without brackets or escapes,
# a destination without escapes, angle brackets, parentheses, quotes or entities, no title.
# The label is blanks, then one character that is none (the label is not blank), then any;
# possessive quantifiers: no character one of them takes could match what follows it.
_PLAIN_DEFINITION = re.compile(
    r" {0,3}+\[(?P<label>[^\S\n]*+[^\\\[\]\s][^\\\[\]\n]*+)\]:[ \t]*+"
    r"(?P<dest>[^\s\\<>()\"'&\x00-\x1f\x7f]++)[ \t]*+\n"
)
# A block of plain definitions, matched whole (for `Run`: nothing is made of its lines).
_PLAIN_RUN = LazyPattern(f"(?:{_PLAIN_DEFINITION.pattern})++")
# The end of a block: a line `str.strip` leaves empty follows (`\s` is what `str.strip` strips).
_BLANK_AFTER = LazyPattern(r"\n[^\S\n]*+\n")
# ASCII labels that mistletoe's normalize_label only lowercases: no tab or other control
# blank, no two spaces in a row, no space at either end (a label per line).
_UNEVEN_SPACING = LazyPattern(r"[\t\r\x0b\x0c\x1c-\x1f]|  |^ | $", re.MULTILINE)
_WHITESPACE = LazyPattern(r"[ \t\n\r\x0b\x0c]*")  # mistletoe's whitespace


class Definitions(block_token.Footnote):  # type: ignore[misc]
    """mistletoe's link reference definitions, read at most `CHUNK` lines at a time.

    mistletoe matches a run of definitions with `string[offset:]` per definition, which is
    quadratic: the 7,000 definitions at the bottom of a big changelog took seconds. Definitions
    are line-based, so reading the run in windows finds the same ones (a window that ends inside
    a definition backtracks to it, and the next window starts there).
    """

    @classmethod
    def read(cls, lines: Any) -> Any:
        start = lines.get_pos()
        footnotes = token._root_node.footnotes
        known = len(footnotes)  # what mistletoe held before this read defined more
        window = block_tokenizer.FileWrapper(lines.lines[start + 1 : start + 1 + CHUNK])
        result = super().read(window)
        after = start + 1 + window.get_pos() + 1
        if len(window.lines) == CHUNK and after < len(lines.lines):
            # A title can go on past the window (`[a]: /a` then `  "a title` ...): when what
            # follows the run is neither a blank line nor another definition, read it whole,
            # with what the window's read defined undone (its last one lacked that title).
            following = lines.lines[after].lstrip()
            if following and not following.startswith("["):
                for key in list(itertools.islice(reversed(footnotes), len(footnotes) - known)):
                    del footnotes[key]
                window = block_tokenizer.FileWrapper(lines.lines[start + 1 :])
                result = super().read(window)
        lines.set_pos(start + window.get_pos() + 1)
        return Matches(result, window.get_pos() + 1) if result else result

    @classmethod
    def match_reference(cls, string: str, offset: int) -> Any:
        """mistletoe's matcher, answered without its character loop for the plain one-line
        definition (`[1.2.0]: https://...`) that fills the bottom of a changelog."""
        plain = _PLAIN_DEFINITION.match(string, offset)
        if plain is not None:
            # mistletoe reads a title on the next line (`"a title"`) as this definition's.
            after = plain.end() + len(_WHITESPACE.match(string, plain.end())[0])  # type: ignore[index]
            if after == len(string) or string[after] not in "\"'(":
                return plain.end(), (plain["label"], plain["dest"], "", "uri", None)
        return super().match_reference(string, offset)


class Matches(list[Any]):
    """The definitions one read found, how many lines it took, and (a plain run) their labels
    normalized."""

    def __init__(self, matches: list[Any], lines: int, keys: list[str] | None = None) -> None:
        super().__init__(matches)
        self.lines = lines
        self.keys = keys


def plain_run(lines: Lines, lo: int, hi: int, *, lazy: bool = False) -> Matches | Run | None:
    """The definitions of a block of plain one-line definitions at `lo` that ends with a blank
    line (or at `hi`), as mistletoe's reader finds them (None for any other block): a
    changelog's bottom holds thousands, and mistletoe reads each one a character at a time.

    One split of the block by the definition pattern reads them all: the block is plain when
    nothing is left between them. `lazy`: the block is only matched whole, and given as a
    `Run`, whose definitions are read where a label is looked up."""
    if lines.line(lo)[:4].lstrip(" ")[:1] != "[":  # not even the first line is one
        return None
    ptext, start, stop = lines.ptext, lines.poffset(lo), lines.poffset(hi)
    blank = _BLANK_AFTER.search(ptext, start, stop)
    end = blank.start() + 1 if blank is not None else stop
    if ptext.find("|", start, end) >= 0:  # `|`: a line may open a table
        return None
    if lazy:
        if _PLAIN_RUN.fullmatch(ptext, start, end) is None:  # a line that is no plain one
            return None
        return Run(lines, lo, ptext.count("\n", start, end), start, end)
    pieces = _PLAIN_DEFINITION.split(ptext[start:end])  # [between, label, dest, between, ...]
    if len(pieces) == 1 or any(pieces[::3]):  # a line that is no plain definition
        return None
    labels, dests = pieces[1::3], pieces[2::3]
    return Matches(list(zip(labels, dests, itertools.repeat(""))), len(labels), keys(labels))


class Run:
    """A block of plain one-line link definitions, lines [first, first + count), whose
    definitions are read only where a label is looked up (`find`): extract-notes looks up the
    few a section uses among the thousands at the bottom of a big changelog."""

    def __init__(self, lines: Lines, first: int, count: int, start: int, end: int) -> None:
        self.lines = lines
        self.first = first
        self.count = count
        self.start = start  # its offsets in `lines.ptext`
        self.end = end
        self._folded: str | None = None  # the block, lowercased
        self._bracketed = True  # every label's first word right after its `[`

    def __len__(self) -> int:
        return self.count

    def find(self, key: str) -> tuple[int, int] | None:
        """The line of the block's first definition whose label `normalize_label` folds to
        `key`, and where it starts in `lines.ptext`; `Unfolded` when the block is not ASCII
        (its labels fold by Unicode's rules)."""
        folded = self._folded
        if folded is None:
            block = self.lines.ptext[self.start : self.end]
            if not block.isascii():
                raise Unfolded
            folded = self._folded = block.lower()  # casefold() is lower() in ASCII
            self._bracketed = _BLANK_AFTER_BRACKET.search(folded) is None
        if not key.isascii() or not key.strip() or any(c in key for c in "[]\\"):
            return None  # no plain label folds to it
        words = key.split(" ")
        rest = re.compile(  # the label's words after the first, apart as `str.split` parts them
            "".join(f"{_LABEL_SPACE}+{re.escape(word)}" for word in words[1:])
            + f"{_LABEL_SPACE}*\\]:"
        )
        # Each place the first word is (after a `[`, when no label starts with a blank), until
        # one is a label's start.
        first = "[" + words[0] if self._bracketed else words[0]
        at = folded.find(first)
        while at >= 0:
            word = at + len(first) - len(words[0])
            start = folded.rfind("\n", 0, at) + 1
            if _LABEL_HEAD.fullmatch(folded, start, word) and rest.match(folded, at + len(first)):
                return self.first + folded.count("\n", 0, start), self.start + start
            at = folded.find(first, at + 1)
        return None

    def match(self, at: int) -> tuple[str, str, str]:
        """The definition that starts at `at` in `lines.ptext` (one of the block's), as
        mistletoe reads it."""
        found = _PLAIN_DEFINITION.match(self.lines.ptext, at)
        assert found is not None  # the block matched whole
        return found["label"], found["dest"], ""


class Unfolded(Exception):
    """A `Run` whose labels cannot be found by lowercasing the block."""


# What `str.split` takes for whitespace in an ASCII label (mistletoe's normalize_label splits
# the label there and joins its words with one space), and what comes before a label's first
# word on its line.
_LABEL_SPACE = r"[ \t\r\x0b\x0c\x1c-\x1f]"
_LABEL_HEAD = LazyPattern(rf" {{0,3}}\[{_LABEL_SPACE}*")
_BLANK_AFTER_BRACKET = LazyPattern(rf"\[{_LABEL_SPACE}")


def keys(labels: list[str]) -> list[str]:
    """`normalize_label` of each label; for ASCII labels spaced evenly (most), a lowercasing of
    them all at once."""
    joined = "\n".join(labels)
    if labels and joined.isascii() and _UNEVEN_SPACING.search(joined) is None:
        return joined.lower().split("\n")  # casefold() is lower() in ASCII
    return [normalize_label(label) for label in labels]


def record(run: Matches, footnotes: dict[str, tuple[str, str]]) -> None:
    """What mistletoe's append_footnotes does with a plain run (nothing to unescape or strip):
    each label defined unless defined already, in file order."""
    assert run.keys is not None
    dests = zip(map(operator.itemgetter(1), run), itertools.repeat(""), strict=False)
    targets = dict(zip(run.keys, dests, strict=True))
    if len(targets) == len(run) and footnotes.keys().isdisjoint(targets):
        footnotes.update(targets)  # no label twice: the usual case, at once
        return
    for key, match in zip(run.keys, run, strict=True):
        footnotes.setdefault(key, (match[1], ""))
