"""mistletoe, imported without the half second its import spends on one table.

`mistletoe.core_tokens` builds the set of Unicode punctuation characters at import by asking
`unicodedata.category` about each of the 1,114,112 code points: 0.5 s of CPU, more than
`extract-notes` spends on a 5 MB changelog, paid by every command that reads Markdown. mistletoe
only ever asks whether one character is in that set (emphasis flanking rules), so here the module
is imported with the code point range cut to ASCII, and the set is then replaced by one that
answers the same question per character, from the same `unicodedata`.

Every use of mistletoe in `release/` imports it from here (tests/test_architecture.py checks),
so the fast import is the first one in the process.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Any

_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


class Punctuation:
    """CommonMark's punctuation characters: ASCII punctuation, and every character whose
    Unicode general category is P* (what `mistletoe.core_tokens.punctuation` holds)."""

    def __contains__(self, char: object) -> bool:
        if not isinstance(char, str) or len(char) != 1:
            return False
        return char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P")


def _import_core_tokens() -> Any:
    loaded: Any = sys.modules.get("mistletoe.core_tokens")
    if loaded is None:
        maxunicode = sys.maxunicode
        sys.maxunicode = 0x7F  # the table's loop runs over ASCII only
        try:
            import mistletoe.core_tokens as loaded  # noqa: PLC0415 (inside the patch)
        finally:
            sys.maxunicode = maxunicode
    loaded.punctuation = Punctuation()
    return loaded


core_tokens: Any = _import_core_tokens()

import mistletoe.block_token  # noqa: E402 (after the fast import of core_tokens)
import mistletoe.block_tokenizer  # noqa: E402
import mistletoe.span_token  # noqa: E402
import mistletoe.token  # noqa: E402
from mistletoe.block_token import Document, Heading, List, SetextHeading  # noqa: E402

# mistletoe's functions carry no annotations; it is used through these names.
block_token: Any = mistletoe.block_token
block_tokenizer: Any = mistletoe.block_tokenizer
span_token: Any = mistletoe.span_token
token: Any = mistletoe.token

__all__ = [
    "Document", "Heading", "List", "Punctuation", "SetextHeading", "block_token",
    "block_tokenizer", "core_tokens", "span_token", "token",
]
